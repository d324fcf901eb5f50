/*
 * LPN_SHIFT_CONV_2D optimized for Cortex-M4/M7/M33: bit-exact with firmware/kernels/lpn_shift_conv_s8.c.
 *
 * Output channels go in blocks: the packed codes of a block are decoded once into int16 rows (reordered
 * for SMLAD, each padded to a multiple of 4) in the scratch buffer -- |w| <= 128 for exponent_bits <= 3 --
 * and every pixel pair of the image then runs the convolution core of the int8 kernel
 * (lpn_cm_conv_core.h: im2col, 2 channels x 2 pixels with SMLAD, its int16-weight form) on the block,
 * followed by the LPN requantization (lpn_shift_requantize): lpn_cm_shift_conv (lpn_cm_shift_decode.h)
 * with the decoder as row filler. Block size: as many channels as fit LPN_CM_SHIFT_BLOCK_BYTES of decoded
 * rows (at least 2), so the im2col of a pixel pair is repeated once per block. Wider codes
 * (exponent_bits >= 4) run the portable kernel, compiled in below under another name. Scratch: byte-pair
 * table, columns, one block of rows.
 */
#include "lpn_cm_shift_decode.h"
#include "lpn_shift_check.h"
#include "lpn_shift_common.h"

/* The portable kernel, for codes whose weights do not fit int8. */
#define lpn_shift_conv_s8 lpn_shift_conv_s8_portable
#define lpn_shift_conv_s8_get_buffer_size lpn_shift_conv_s8_portable_buffer_size
#include "../lpn_shift_conv_s8.c"
#undef lpn_shift_conv_s8
#undef lpn_shift_conv_s8_get_buffer_size

int32_t lpn_shift_conv_s8_get_buffer_size(const lpn_shift_conv_params *params, const lpn_dims *input_dims,
                                          const lpn_dims *filter_dims, const lpn_dims *output_dims) {
    (void)input_dims;
    (void)output_dims;
    if (params == 0 || filter_dims == 0 || params->exponent_bits > LPN_CM_SHIFT_WIDE_EXPONENT_BITS) {
        return 0;
    }
    return lpn_cm_shift_conv_scratch(filter_dims, LPN_CM_SHIFT_TABLE_BYTES); /* the byte-pair table first */
}

/* lpn_cm_shift_rows_fn of packed codes (aux: the byte-pair table). */
LPN_CM_INLINE void lpn_shift_conv_decode_row(const void *codes, const void *table, int32_t k0, int32_t n,
                                             int16_t *dst, int32_t stride) {
    lpn_cm_shift_decode((const uint8_t *)codes, k0, n, (const uint32_t *)table, dst, stride);
}

lpn_status lpn_shift_conv_s8(const lpn_context *ctx, const lpn_shift_conv_params *params,
                             const lpn_shift_quant *quant, const lpn_dims *input_dims, const int8_t *input,
                             const lpn_dims *filter_dims, const uint8_t *codes, const int32_t *bias,
                             const lpn_dims *output_dims, int8_t *output) {
    const lpn_status status =
        lpn_shift_conv_check(params, quant, input_dims, input, filter_dims, codes, output_dims, output);
    if (status != LPN_OK || params->exponent_bits > LPN_CM_SHIFT_WIDE_EXPONENT_BITS) {
        return status != LPN_OK ? status
                                : lpn_shift_conv_s8_portable(ctx, params, quant, input_dims, input, filter_dims, codes,
                                                             bias, output_dims, output);
    }
    if (!lpn_scratch_ok(ctx, lpn_shift_conv_s8_get_buffer_size(params, input_dims, filter_dims, output_dims))) {
        return LPN_ERR_BUFFER;
    }
    uint32_t *table = (uint32_t *)ctx->buf;
    lpn_cm_shift_pair_table(params->exponent_bits, table);
    lpn_cm_shift_conv(ctx, LPN_CM_SHIFT_TABLE_BYTES, params, quant, input_dims, input, filter_dims, codes,
                      lpn_shift_conv_decode_row, table, bias, output_dims, output);
    return LPN_OK;
}
