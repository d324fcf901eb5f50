/*
 * LPN_SHIFT_DEPTHWISE_CONV_2D optimized for Cortex-M4/M7/M33: bit-exact with
 * firmware/kernels/lpn_shift_depthwise_conv_s8.c.
 *
 * The packed codes of the whole filter ([kh, kw, c_out], a few hundred to a few thousand weights) are
 * decoded once per call into int16 weights in the scratch buffer (|w| <= 128 for exponent_bits <= 3, each
 * tap's row reordered for the SIMD lanes); the loop is then the depthwise core of the int8 kernel
 * (lpn_cm_depthwise_core.h, its int16-weight form), with the LPN requantization (lpn_shift_requantize) as
 * epilogue (lpn_cm_shift_depthwise). Wider codes run the portable kernel, compiled in below under
 * another name. Scratch: byte-pair table, then kh * kw * c_out int16.
 */
#include "lpn_cm_shift_decode.h"
#include "lpn_shift_check.h"
#include "lpn_shift_common.h"

/* The portable kernel, for codes whose weights do not fit int8. */
#define lpn_shift_depthwise_conv_s8 lpn_shift_depthwise_conv_s8_portable
#define lpn_shift_depthwise_conv_s8_get_buffer_size lpn_shift_depthwise_conv_s8_portable_buffer_size
#include "../lpn_shift_depthwise_conv_s8.c"
#undef lpn_shift_depthwise_conv_s8
#undef lpn_shift_depthwise_conv_s8_get_buffer_size

int32_t lpn_shift_depthwise_conv_s8_get_buffer_size(const lpn_shift_dw_conv_params *params,
                                                    const lpn_dims *input_dims, const lpn_dims *filter_dims,
                                                    const lpn_dims *output_dims) {
    (void)input_dims;
    (void)output_dims;
    if (params == 0 || filter_dims == 0 || params->exponent_bits > LPN_CM_SHIFT_WIDE_EXPONENT_BITS) {
        return 0;
    }
    return LPN_CM_SHIFT_TABLE_BYTES + ((filter_dims->h * filter_dims->w * filter_dims->c + 1) & ~1) * 2;
}

lpn_status lpn_shift_depthwise_conv_s8(const lpn_context *ctx, const lpn_shift_dw_conv_params *params,
                                       const lpn_shift_quant *quant, const lpn_dims *input_dims,
                                       const int8_t *input, const lpn_dims *filter_dims, const uint8_t *codes,
                                       const int32_t *bias, const lpn_dims *output_dims, int8_t *output) {
    const lpn_status status =
        lpn_shift_dw_check(params, quant, input_dims, input, filter_dims, codes, output_dims, output);
    if (status != LPN_OK || params->exponent_bits > LPN_CM_SHIFT_WIDE_EXPONENT_BITS) {
        return status != LPN_OK ? status
                                : lpn_shift_depthwise_conv_s8_portable(ctx, params, quant, input_dims, input,
                                                                       filter_dims, codes, bias, output_dims, output);
    }
    if (!lpn_scratch_ok(ctx, lpn_shift_depthwise_conv_s8_get_buffer_size(params, input_dims, filter_dims,
                                                                          output_dims))) {
        return LPN_ERR_BUFFER;
    }
    uint32_t *table = (uint32_t *)ctx->buf;
    int16_t *weights = (int16_t *)((uint8_t *)ctx->buf + LPN_CM_SHIFT_TABLE_BYTES);
    lpn_cm_shift_pair_table(params->exponent_bits, table);
    const int32_t out_c = filter_dims->c;
    for (int32_t tap = 0; tap < filter_dims->h * filter_dims->w; ++tap) {
        lpn_cm_shift_decode(codes, tap * out_c, out_c, table, weights + tap * out_c, out_c);
    }
    lpn_cm_shift_depthwise(params, quant, input_dims, input, filter_dims, weights, 1, bias, output_dims, output);
    return LPN_OK;
}
