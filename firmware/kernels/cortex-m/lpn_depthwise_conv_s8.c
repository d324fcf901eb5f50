/*
 * DEPTHWISE_CONV_2D int8, per-channel requantization, optimized for Cortex-M4/M7/M33 (DSP extension):
 * bit-exact with firmware/kernels/lpn_depthwise_conv_s8.c.
 *
 * Per output pixel the in-bounds tap window is computed once (no per-tap bounds checks). With depth
 * multiplier 1, four channels advance together: one word of inputs and one of weights per tap, SXTB16 +
 * SADD16 to int16 lanes, SMLABB/SMLATT into four register accumulators. Other multipliers use the scalar
 * loop over the same window. No scratch memory.
 */
#include "lpn/fixed_point.h"
#include "lpn/kernels.h"
#include "lpn_cm_simd.h"
#include "lpn_depthwise_conv_check.h"

int32_t lpn_depthwise_conv_s8_get_buffer_size(const lpn_dw_conv_params *params, const lpn_dims *input_dims,
                                              const lpn_dims *filter_dims, const lpn_dims *output_dims) {
    (void)params;
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
}

/* Taps k in [*start, *end) with 0 <= origin + dilation * k < size. */
static void lpn_dw_window(int32_t origin, int32_t dilation, int32_t taps, int32_t size, int32_t *start, int32_t *end) {
    int32_t s = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
    int32_t e = origin < size ? (size - 1 - origin) / dilation + 1 : 0;
    e = e < taps ? e : taps;
    *start = s;
    *end = e > s ? e : s;
}

static int8_t lpn_dw_requantize(const lpn_dw_conv_params *p, const lpn_per_channel_quant *q, int32_t oc,
                                int32_t acc) {
    acc = lpn_add_wrap(lpn_cm_requantize(acc, q->multiplier[oc], q->shift[oc]), p->output_offset);
    return (int8_t)lpn_clamp(acc, p->activation.min, p->activation.max);
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
    const int32_t out_c = output_dims->c, ch_mult = params->ch_mult;
    const int32_t dil_h = params->dilation.h, dil_w = params->dilation.w;
    const uint32_t offset2 = lpn_cm_dup16(params->input_offset);
    const int32_t in_x_step = dil_w * in_c, in_y_step = dil_h * in_w * in_c, f_y_step = k_w * out_c;
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *image = input + b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t in_y0 = oy * params->stride.h - params->padding.h;
            int32_t ky0, ky1;
            lpn_dw_window(in_y0, dil_h, k_h, in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t in_x0 = ox * params->stride.w - params->padding.w;
                int32_t kx0, kx1;
                lpn_dw_window(in_x0, dil_w, k_w, in_w, &kx0, &kx1);
                int8_t *out = output + ((b * output_dims->h + oy) * output_dims->w + ox) * out_c;
                int32_t oc = 0;
                if (ch_mult == 1) {
                    for (; oc + 4 <= out_c; oc += 4) {
                        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                        if (bias != 0) {
                            a0 = bias[oc];
                            a1 = bias[oc + 1];
                            a2 = bias[oc + 2];
                            a3 = bias[oc + 3];
                        }
                        const int8_t *in_tap0 = image + ((in_y0 + dil_h * ky0) * in_w + in_x0 + dil_w * kx0) * in_c + oc;
                        const int8_t *f_tap0 = filter + (ky0 * k_w + kx0) * out_c + oc;
                        for (int32_t ky = ky0; ky < ky1; ++ky) {
                            const int8_t *in_tap = in_tap0;
                            const int8_t *f_tap = f_tap0;
                            for (int32_t kx = kx0; kx < kx1; ++kx) {
                                const uint32_t x = lpn_cm_read_u32(in_tap);
                                const uint32_t w = lpn_cm_read_u32(f_tap);
                                in_tap += in_x_step;
                                f_tap += out_c;
                                const uint32_t xe = lpn_cm_sadd16(lpn_cm_sxtb16(x), offset2);
                                const uint32_t xo = lpn_cm_sadd16(lpn_cm_sxtb16_ror8(x), offset2);
                                const uint32_t we = lpn_cm_sxtb16(w), wo = lpn_cm_sxtb16_ror8(w);
                                a0 = lpn_cm_smlabb(we, xe, a0);
                                a2 = lpn_cm_smlatt(we, xe, a2);
                                a1 = lpn_cm_smlabb(wo, xo, a1);
                                a3 = lpn_cm_smlatt(wo, xo, a3);
                            }
                            in_tap0 += in_y_step;
                            f_tap0 += f_y_step;
                        }
                        out[oc] = lpn_dw_requantize(params, quant, oc, a0);
                        out[oc + 1] = lpn_dw_requantize(params, quant, oc + 1, a1);
                        out[oc + 2] = lpn_dw_requantize(params, quant, oc + 2, a2);
                        out[oc + 3] = lpn_dw_requantize(params, quant, oc + 3, a3);
                    }
                }
                for (; oc < out_c; ++oc) {
                    const int32_t ic = oc / ch_mult;
                    int32_t acc = bias != 0 ? bias[oc] : 0;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int32_t in_y = in_y0 + dil_h * ky;
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            const int32_t in_val = image[(in_y * in_w + in_x0 + dil_w * kx) * in_c + ic];
                            const int32_t f_val = filter[(ky * k_w + kx) * out_c + oc];
                            acc = lpn_add_wrap(acc, f_val * (in_val + params->input_offset));
                        }
                    }
                    out[oc] = lpn_dw_requantize(params, quant, oc, acc);
                }
            }
        }
    }
    return LPN_OK;
}
