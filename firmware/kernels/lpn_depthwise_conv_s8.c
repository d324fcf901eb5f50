/* DEPTHWISE_CONV_2D int8, per-channel requantization: TFLite's
 * reference_integer_ops::DepthwiseConvPerChannel (reference C). */
#include "lpn/fixed_point.h"
#include "lpn/kernels.h"
#include "lpn_depthwise_conv_check.h"

int32_t lpn_depthwise_conv_s8_get_buffer_size(const lpn_dw_conv_params *params, const lpn_dims *input_dims,
                                              const lpn_dims *filter_dims, const lpn_dims *output_dims) {
    return lpn_no_scratch(params, input_dims, filter_dims, output_dims);
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
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t ch_mult = params->ch_mult;
    for (int32_t b = 0; b < output_dims->n; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t in_y0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t in_x0 = ox * params->stride.w - params->padding.w;
                for (int32_t ic = 0; ic < in_c; ++ic) {
                    for (int32_t m = 0; m < ch_mult; ++m) {
                        const int32_t oc = ic * ch_mult + m;
                        int32_t acc = 0;
                        for (int32_t ky = 0; ky < k_h; ++ky) {
                            const int32_t in_y = in_y0 + params->dilation.h * ky;
                            if (in_y < 0 || in_y >= in_h) {
                                continue;
                            }
                            for (int32_t kx = 0; kx < k_w; ++kx) {
                                const int32_t in_x = in_x0 + params->dilation.w * kx;
                                if (in_x < 0 || in_x >= in_w) {
                                    continue;
                                }
                                const int32_t in_val = input[((b * in_h + in_y) * in_w + in_x) * in_c + ic];
                                const int32_t f_val = filter[(ky * k_w + kx) * out_c + oc];
                                acc = lpn_add_wrap(acc, f_val * (in_val + params->input_offset));
                            }
                        }
                        if (bias != 0) {
                            acc = lpn_add_wrap(acc, bias[oc]);
                        }
                        acc = lpn_multiply_by_quantized_multiplier(acc, quant->multiplier[oc], quant->shift[oc]);
                        acc = lpn_add_wrap(acc, params->output_offset);
                        acc = lpn_clamp(acc, params->activation.min, params->activation.max);
                        output[((b * out_h + oy) * out_w + ox) * out_c + oc] = (int8_t)acc;
                    }
                }
            }
        }
    }
    return LPN_OK;
}
