/*
 * LPN_DEPTHWISE_CONV_2D (int8 filter, LPN requantization with output grid, docs/custom-ops.md) optimized
 * for Cortex-M4/M7/M33: bit-exact with firmware/kernels/lpn_depthwise_conv_lpn_s8.c.
 *
 * The depthwise core of the int8 kernel (lpn_cm_depthwise_core.h: four channels per SIMD step with depth
 * multiplier 1, the in-bounds window computed once per pixel) on the int8 filter read in place, with the
 * LPN requantization (lpn_shift_requantize) as epilogue: lpn_cm_shift_depthwise (lpn_cm_shift_decode.h).
 * No scratch memory.
 */
#include "lpn_cm_shift_decode.h"
#include "lpn_shift_check.h"
#include "lpn_shift_common.h"

int32_t lpn_depthwise_conv_lpn_s8_get_buffer_size(const lpn_shift_dw_conv_params *params,
                                                  const lpn_dims *input_dims, const lpn_dims *filter_dims,
                                                  const lpn_dims *output_dims) {
    return lpn_no_scratch(params, input_dims, filter_dims, output_dims);
}

lpn_status lpn_depthwise_conv_lpn_s8(const lpn_context *ctx, const lpn_shift_dw_conv_params *params,
                                     const lpn_shift_quant *quant, const lpn_dims *input_dims, const int8_t *input,
                                     const lpn_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                     const lpn_dims *output_dims, int8_t *output) {
    (void)ctx; /* no scratch memory */
    lpn_shift_dw_conv_params copy;
    const lpn_status status = lpn_shift_dw_check(LPN_CM_INT8_WEIGHTS_PARAMS(params, copy), quant, input_dims, input,
                                                 filter_dims, (const uint8_t *)(const void *)filter, output_dims,
                                                 output);
    if (status != LPN_OK) {
        return status;
    }
    lpn_cm_shift_depthwise(params, quant, input_dims, input, filter_dims, filter, 0, bias, output_dims, output);
    return LPN_OK;
}
