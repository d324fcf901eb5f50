/*
 * LPN_CONV_2D (int8 filter, LPN requantization with output grid, docs/custom-ops.md) optimized for
 * Cortex-M4/M7/M33: bit-exact with firmware/kernels/lpn_conv_lpn_s8.c.
 *
 * The loop of the optimized LPN_SHIFT_CONV_2D (lpn_cm_shift_conv, lpn_cm_shift_decode.h) with the int8
 * filter rows expanded (SXTB16, reordered, zero-padded) into int16 rows block by block instead of decoded:
 * im2col of two pixels, 2 channels x 2 pixels with SMLAD (12 instructions per 16 MACs, no scalar tail),
 * then lpn_shift_requantize. Scratch: columns, one block of int16 rows (lpn_cm_shift_conv_scratch).
 */
#include "lpn_cm_shift_decode.h"
#include "lpn_shift_check.h"
#include "lpn_shift_common.h"

int32_t lpn_conv_lpn_s8_get_buffer_size(const lpn_shift_conv_params *params, const lpn_dims *input_dims,
                                        const lpn_dims *filter_dims, const lpn_dims *output_dims) {
    (void)params;
    (void)input_dims;
    (void)output_dims;
    return filter_dims == 0 ? 0 : lpn_cm_shift_conv_scratch(filter_dims, 0);
}

/* lpn_cm_shift_rows_fn of an int8 filter (aux unused). */
LPN_CM_INLINE void lpn_conv_lpn_expand_row(const void *filter, const void *aux, int32_t k0, int32_t n, int16_t *dst,
                                           int32_t stride) {
    (void)aux;
    lpn_cm_expand_reordered((const int8_t *)filter + k0, n, 0, dst);
    for (int32_t k = n; k < stride; ++k) {
        dst[k] = 0;
    }
}

lpn_status lpn_conv_lpn_s8(const lpn_context *ctx, const lpn_shift_conv_params *params, const lpn_shift_quant *quant,
                           const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                           const int8_t *filter, const int32_t *bias, const lpn_dims *output_dims, int8_t *output) {
    lpn_shift_conv_params copy;
    const lpn_status status = lpn_shift_conv_check(LPN_CM_INT8_WEIGHTS_PARAMS(params, copy), quant, input_dims, input,
                                                   filter_dims, (const uint8_t *)(const void *)filter, output_dims,
                                                   output);
    if (status != LPN_OK) {
        return status;
    }
    if (!lpn_scratch_ok(ctx, lpn_conv_lpn_s8_get_buffer_size(params, input_dims, filter_dims, output_dims))) {
        return LPN_ERR_BUFFER;
    }
    lpn_cm_shift_conv(ctx, 0, params, quant, input_dims, input, filter_dims, filter, lpn_conv_lpn_expand_row, 0, bias,
                      output_dims, output);
    return LPN_OK;
}
