/*
 * LPN_SHIFT_CONV_2D optimized for Cortex-M4/M7/M33: bit-exact with firmware/kernels/lpn_shift_conv_s8.c.
 *
 * Output channels go in blocks: the packed codes of a block are decoded once into int16 rows (reordered
 * for SMLAD, each padded to a multiple of 4) in the scratch buffer -- |w| <= 128 for exponent_bits <= 3 --
 * and every pixel pair of the image then runs the convolution core of the int8 kernel
 * (lpn_cm_conv_core.h: im2col, 2 channels x 2 pixels with SMLAD, its int16-weight form) on the block,
 * followed by the LPN requantization (lpn_shift_requantize). Block size: as many channels as fit
 * LPN_CM_SHIFT_BLOCK_BYTES of decoded rows (at least 2), so the im2col of a pixel pair is repeated once
 * per block. Wider codes (exponent_bits >= 4) run the portable kernel, compiled in below under another
 * name. Scratch: columns, byte-pair table, one block of rows.
 */
#include "lpn_cm_conv_core.h"
#include "lpn_cm_shift_decode.h"
#include "lpn_shift_check.h"
#include "lpn_shift_common.h"

/* The portable kernel, for codes whose weights do not fit int8. */
#define lpn_shift_conv_s8 lpn_shift_conv_s8_portable
#define lpn_shift_conv_s8_get_buffer_size lpn_shift_conv_s8_portable_buffer_size
#include "../lpn_shift_conv_s8.c"
#undef lpn_shift_conv_s8
#undef lpn_shift_conv_s8_get_buffer_size

/* Decoded weight bytes per output-channel block (a compile-time knob: RAM against repeated im2col). */
#ifndef LPN_CM_SHIFT_BLOCK_BYTES
#define LPN_CM_SHIFT_BLOCK_BYTES 16384
#endif

int32_t lpn_shift_conv_s8_get_buffer_size(const lpn_shift_conv_params *params, const lpn_dims *input_dims,
                                          const lpn_dims *filter_dims, const lpn_dims *output_dims) {
    (void)input_dims;
    (void)output_dims;
    if (params == 0 || filter_dims == 0 || params->exponent_bits > LPN_CM_SHIFT_WIDE_EXPONENT_BITS) {
        return 0;
    }
    const int32_t len = filter_dims->h * filter_dims->w * filter_dims->c;
    const int32_t stride = (len + 3) & ~3;
    return lpn_cm_conv_columns_bytes(len) + LPN_CM_SHIFT_TABLE_BYTES +
           lpn_cm_shift_block(filter_dims->n, stride, LPN_CM_SHIFT_BLOCK_BYTES) * stride * (int32_t)sizeof(int16_t);
}

LPN_CM_INLINE uint32_t lpn_shift_conv_requantize(const void *ctx, int32_t oc, int32_t acc0, int32_t acc1) {
    return (uint32_t)(uint8_t)lpn_cm_shift_requantize(ctx, oc, acc0) |
           ((uint32_t)(uint8_t)lpn_cm_shift_requantize(ctx, oc, acc1) << 8);
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
    const lpn_cm_conv_geometry g = {input_dims->h, input_dims->w, input_dims->c, filter_dims->h, filter_dims->w,
                                    filter_dims->c, params->stride.h, params->stride.w, params->padding.h,
                                    params->padding.w, 1, 1, params->input_offset, output_dims->n, output_dims->h,
                                    output_dims->w, output_dims->c};
    const lpn_cm_shift_epilogue epilogue = {quant, params->output_offset, params->activation};
    const int32_t len = lpn_cm_conv_len(&g);
    const int32_t stride = (len + 3) & ~3;
    const int32_t out_c = output_dims->c;
    const int32_t block = lpn_cm_shift_block(out_c, stride, LPN_CM_SHIFT_BLOCK_BYTES);
    int16_t *buf = (int16_t *)ctx->buf;
    uint32_t *table = (uint32_t *)((uint8_t *)ctx->buf + lpn_cm_conv_columns_bytes(len));
    int16_t *rows = (int16_t *)((uint8_t *)table + LPN_CM_SHIFT_TABLE_BYTES);
    lpn_cm_shift_pair_table(params->exponent_bits, table);
    for (int32_t oc0 = 0; oc0 < out_c; oc0 += block) {
        const int32_t oc1 = oc0 + block < out_c ? oc0 + block : out_c;
        for (int32_t oc = oc0; oc < oc1; ++oc) {
            lpn_cm_shift_decode(codes, oc * len, len, table, rows + (oc - oc0) * stride, stride);
        }
        lpn_cm_conv_pixels(&g, input, 0, rows, 1, stride, oc0, oc1, bias, output, buf, lpn_shift_conv_requantize,
                           &epilogue);
    }
    return LPN_OK;
}
