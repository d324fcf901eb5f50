/* The loops of the LPN convolutions (internal), shared by the packed-shift-code kernels
 * (lpn_shift_conv_s8, lpn_shift_depthwise_conv_s8) and the int8-weight kernels with LPN requantization
 * (lpn_conv_lpn_s8, lpn_depthwise_conv_lpn_s8): the weight format `s` is the exponent_bits of packed codes,
 * or LPN_WEIGHTS_INT8 for an int8 filter in the same layout. The conv and depthwise loop nests stay two: one
 * nest for both (depthwise as a dot of length 1) ran 29-72 % more instructions for the depthwise kernels and
 * 9-12 % more for the conv ones with wide or int8 weights on Cortex-M4 (QEMU instruction counts). */
#ifndef LPN_SHIFT_CONV_CORE_H
#define LPN_SHIFT_CONV_CORE_H

#include "lpn_shift_check.h"
#include "lpn_shift_common.h"

static inline lpn_status lpn_shift_conv_core(const lpn_shift_conv_params *params, int32_t s,
                                             const lpn_shift_quant *quant, const lpn_dims *input_dims,
                                             const int8_t *input, const lpn_dims *filter_dims, const uint8_t *codes,
                                             const int32_t *bias, const lpn_dims *output_dims, int8_t *output) {
    LPN_SHIFT_CONV_CHECKS(s < 0 ? 0 : s);
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t filter_per_out = k_h * k_w * in_c;
    int32_t table[32];
    lpn_shift_weight_table(s >= 0 && s <= LPN_SHIFT_TABLE_MAX_EXPONENT_BITS ? s : 0, table);

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t iy0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t ix0 = ox * params->stride.w - params->padding.w;
                int8_t *out = output + (((int64_t)b * out_h + oy) * out_w + ox) * out_c;
                for (int32_t o = 0; o < out_c; ++o) {
                    uint32_t acc = bias != 0 ? (uint32_t)bias[o] : 0u;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        const int32_t iy = iy0 + ky;
                        if (iy < 0 || iy >= in_h) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < k_w; ++kx) {
                            const int32_t ix = ix0 + kx;
                            if (ix < 0 || ix >= in_w) {
                                continue;
                            }
                            const int8_t *px = input + (((int64_t)b * in_h + iy) * in_w + ix) * in_c;
                            const int32_t k0 = o * filter_per_out + (ky * k_w + kx) * in_c;
                            acc += lpn_shift_dot(px, params->input_offset, codes, k0, in_c, s, table);
                        }
                    }
                    out[o] = lpn_shift_requantize(lpn_shift_u32_to_s32(acc), quant, o, params->output_offset,
                                                  &params->activation);
                }
            }
        }
    }
    return LPN_OK;
}

static inline lpn_status lpn_shift_depthwise_core(const lpn_shift_dw_conv_params *params, int32_t s,
                                                  const lpn_shift_quant *quant, const lpn_dims *input_dims,
                                                  const int8_t *input, const lpn_dims *filter_dims,
                                                  const uint8_t *codes, const int32_t *bias,
                                                  const lpn_dims *output_dims, int8_t *output) {
    LPN_SHIFT_DW_CHECKS(s < 0 ? 0 : s);

    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t mult = params->ch_mult;
    const int32_t code_bits = s + 1;
    const int use_table = s >= 0 && s <= LPN_SHIFT_TABLE_MAX_EXPONENT_BITS;
    const int8_t *int8_weights = (const int8_t *)(const void *)codes; /* s == LPN_WEIGHTS_INT8 */
    int32_t table[32];
    lpn_shift_weight_table(use_table ? s : 0, table);

    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t iy0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t ix0 = ox * params->stride.w - params->padding.w;
                int8_t *out = output + (((int64_t)b * out_h + oy) * out_w + ox) * out_c;
                for (int32_t o = 0; o < out_c; ++o) {
                    const int32_t i = o / mult; /* output channel o = i * M + m reads input channel i */
                    uint32_t acc = bias != 0 ? (uint32_t)bias[o] : 0u;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        const int32_t iy = iy0 + ky;
                        if (iy < 0 || iy >= in_h) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < k_w; ++kx) {
                            const int32_t ix = ix0 + kx;
                            if (ix < 0 || ix >= in_w) {
                                continue;
                            }
                            const int32_t v = input[(((int64_t)b * in_h + iy) * in_w + ix) * in_c + i] +
                                              params->input_offset;
                            const int32_t k = (ky * k_w + kx) * out_c + o;
                            if (s < 0) {
                                acc += (uint32_t)v * (uint32_t)(int32_t)int8_weights[k];
                                continue;
                            }
                            const uint32_t code = lpn_shift_code_at(codes, k, code_bits);
                            acc += use_table ? (uint32_t)v * (uint32_t)table[code & 0x1Fu] : lpn_shift_term(v, code, s);
                        }
                    }
                    out[o] = lpn_shift_requantize(lpn_shift_u32_to_s32(acc), quant, o, params->output_offset,
                                                  &params->activation);
                }
            }
        }
    }
    return LPN_OK;
}

#endif
