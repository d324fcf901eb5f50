/*
 * The depthwise convolution loop of the optimized Cortex-M kernels (internal), shared by
 * DEPTHWISE_CONV_2D int8 (int8 weights read in place) and LPN_SHIFT_DEPTHWISE_CONV_2D (codes decoded once
 * per call into int16 weights in the scratch buffer, each tap's row of c_out reordered as
 * lpn_cm_shift_decode.h stores it: `wide`); the requantization is the caller's epilogue, inlined through
 * a constant function pointer.
 *
 * Per output pixel the in-bounds tap window is computed once (no per-tap bounds checks). With depth
 * multiplier 1, four channels advance together: one word of inputs and one of weights per tap, SXTB16 +
 * SADD16 to int16 lanes, SMLABB/SMLATT into four register accumulators. Other multipliers use the scalar
 * loop over the same window.
 */
#ifndef LPN_CM_DEPTHWISE_CORE_H
#define LPN_CM_DEPTHWISE_CORE_H

#include "lpn/fixed_point.h"
#include "lpn/kernels.h"
#include "lpn_cm_conv_core.h"

/* The requantization of one accumulator of output channel `channel` (ctx: the kernel's parameters). */
typedef int8_t (*lpn_cm_requant1_fn)(const void *ctx, int32_t channel, int32_t acc);

/* Shapes and window of a depthwise convolution; weights are [kh, kw, out_c] int8. */
typedef struct {
    lpn_dims input, output;
    int32_t k_h, k_w, ch_mult;
    int32_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
    int32_t input_offset;
} lpn_cm_depthwise_geometry;

/* Taps k in [*start, *end) with 0 <= origin + dilation * k < size. */
static inline void lpn_cm_dw_window(int32_t origin, int32_t dilation, int32_t taps, int32_t size, int32_t *start,
                                    int32_t *end) {
    int32_t s = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
    int32_t e = origin < size ? (size - 1 - origin) / dilation + 1 : 0;
    e = e < taps ? e : taps;
    *start = s;
    *end = e > s ? e : s;
}

/* Weight of channel oc in the tap row starting at element `tap` (c_out weights, reordered when wide). */
LPN_CM_INLINE int32_t lpn_cm_dw_weight(const void *filter, int32_t wide, int32_t tap, int32_t oc, int32_t out_c) {
    return wide ? ((const int16_t *)filter)[tap + lpn_cm_reordered_index(oc, out_c)] : ((const int8_t *)filter)[tap + oc];
}

LPN_CM_INLINE void lpn_cm_depthwise(const lpn_cm_depthwise_geometry *g, const int8_t *input, const void *filter,
                                    int32_t wide, const int32_t *bias, int8_t *output, lpn_cm_requant1_fn requant,
                                    const void *ctx) {
    const int32_t in_h = g->input.h, in_w = g->input.w, in_c = g->input.c;
    const int32_t k_h = g->k_h, k_w = g->k_w;
    const int32_t out_c = g->output.c, ch_mult = g->ch_mult;
    const int32_t dil_h = g->dil_h, dil_w = g->dil_w;
    const uint32_t offset2 = lpn_cm_dup16(g->input_offset);
    const int32_t in_x_step = dil_w * in_c, in_y_step = dil_h * in_w * in_c, f_y_step = k_w * out_c;
    for (int32_t b = 0; b < g->output.n; ++b) {
        const int8_t *image = input + b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < g->output.h; ++oy) {
            const int32_t in_y0 = oy * g->stride_h - g->pad_h;
            int32_t ky0, ky1;
            lpn_cm_dw_window(in_y0, dil_h, k_h, in_h, &ky0, &ky1);
            for (int32_t ox = 0; ox < g->output.w; ++ox) {
                const int32_t in_x0 = ox * g->stride_w - g->pad_w;
                int32_t kx0, kx1;
                lpn_cm_dw_window(in_x0, dil_w, k_w, in_w, &kx0, &kx1);
                int8_t *out = output + ((b * g->output.h + oy) * g->output.w + ox) * out_c;
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
                        int32_t f_tap0 = (ky0 * k_w + kx0) * out_c + oc; /* element index */
                        for (int32_t ky = ky0; ky < ky1; ++ky) {
                            const int8_t *in_tap = in_tap0;
                            int32_t f_tap = f_tap0;
                            for (int32_t kx = kx0; kx < kx1; ++kx) {
                                const uint32_t x = lpn_cm_read_u32(in_tap);
                                uint32_t we, wo;
                                if (wide) {
                                    we = lpn_cm_read_u32((const int16_t *)filter + f_tap);
                                    wo = lpn_cm_read_u32((const int16_t *)filter + f_tap + 2);
                                } else {
                                    const uint32_t w = lpn_cm_read_u32((const int8_t *)filter + f_tap);
                                    we = lpn_cm_sxtb16(w);
                                    wo = lpn_cm_sxtb16_ror8(w);
                                }
                                in_tap += in_x_step;
                                f_tap += out_c;
                                const uint32_t xe = lpn_cm_sadd16(lpn_cm_sxtb16(x), offset2);
                                const uint32_t xo = lpn_cm_sadd16(lpn_cm_sxtb16_ror8(x), offset2);
                                a0 = lpn_cm_smlabb(we, xe, a0);
                                a2 = lpn_cm_smlatt(we, xe, a2);
                                a1 = lpn_cm_smlabb(wo, xo, a1);
                                a3 = lpn_cm_smlatt(wo, xo, a3);
                            }
                            in_tap0 += in_y_step;
                            f_tap0 += f_y_step;
                        }
                        const int8_t y0 = requant(ctx, oc, a0), y1 = requant(ctx, oc + 1, a1);
                        const int8_t y2 = requant(ctx, oc + 2, a2), y3 = requant(ctx, oc + 3, a3);
                        out[oc] = y0;
                        out[oc + 1] = y1;
                        out[oc + 2] = y2;
                        out[oc + 3] = y3;
                    }
                }
                for (; oc < out_c; ++oc) {
                    const int32_t ic = oc / ch_mult;
                    int32_t acc = bias != 0 ? bias[oc] : 0;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int32_t in_y = in_y0 + dil_h * ky;
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            const int32_t in_val = image[(in_y * in_w + in_x0 + dil_w * kx) * in_c + ic];
                            const int32_t f_val = lpn_cm_dw_weight(filter, wide, (ky * k_w + kx) * out_c, oc, out_c);
                            acc = lpn_add_wrap(acc, f_val * (in_val + g->input_offset));
                        }
                    }
                    out[oc] = requant(ctx, oc, acc);
                }
            }
        }
    }
}

#endif
