/*
 * DEPTHWISE_CONV_2D int8, per-channel requantization, optimized for Cortex-M4/M7/M33 (DSP extension):
 * bit-exact with firmware/kernels/lpn_depthwise_conv_s8.c. The loop is lpn_cm_depthwise_core.h (four
 * channels per SIMD step with depth multiplier 1); requantization with TFLite's double rounding. No
 * scratch memory.
 */
#include "lpn/fixed_point.h"
#include "lpn/kernels.h"
#include "lpn_cm_depthwise_core.h"
#include "lpn_depthwise_conv_check.h"

int32_t lpn_depthwise_conv_s8_get_buffer_size(const lpn_dw_conv_params *params, const lpn_dims *input_dims,
                                              const lpn_dims *filter_dims, const lpn_dims *output_dims) {
    (void)params;
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
}

typedef struct {
    const int32_t *multiplier, *shift;
    int32_t output_offset, act_min, act_max;
} lpn_dw_epilogue;

LPN_CM_INLINE int8_t lpn_dw_requantize(const void *ctx, int32_t oc, int32_t acc) {
    const lpn_dw_epilogue *e = (const lpn_dw_epilogue *)ctx;
    acc = lpn_add_wrap(lpn_cm_requantize(acc, e->multiplier[oc], e->shift[oc]), e->output_offset);
    return (int8_t)lpn_clamp(acc, e->act_min, e->act_max);
}

lpn_status lpn_depthwise_conv_s8(const lpn_context *ctx, const lpn_dw_conv_params *params,
                                 const lpn_per_channel_quant *quant, const lpn_dims *input_dims, const int8_t *input,
                                 const lpn_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                 const lpn_dims *output_dims, int8_t *output) {
    (void)ctx;
    const lpn_status status =
        lpn_depthwise_conv_check(params, quant, input_dims, input, filter_dims, filter, output_dims, output);
    if (status != LPN_OK) {
        return status;
    }
    const lpn_cm_depthwise_geometry g = {*input_dims,       *output_dims,      filter_dims->h,      filter_dims->w,
                                         params->ch_mult,   params->stride.h,  params->stride.w,    params->padding.h,
                                         params->padding.w, params->dilation.h, params->dilation.w, params->input_offset};
    const lpn_dw_epilogue epilogue = {quant->multiplier, quant->shift, params->output_offset, params->activation.min,
                                      params->activation.max};
    lpn_cm_depthwise(&g, input, filter, 0, bias, output, lpn_dw_requantize, &epilogue);
    return LPN_OK;
}
