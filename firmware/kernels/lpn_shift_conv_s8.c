/* LPN_SHIFT_CONV_2D on packed shift codes (docs/custom-ops.md), portable C99 reference. */
#include "lpn_shift_common.h"

int32_t lpn_shift_conv_s8_get_buffer_size(const lpn_shift_conv_params *params, const lpn_dims *input_dims,
                                          const lpn_dims *filter_dims, const lpn_dims *output_dims) {
    (void)params;
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
}

lpn_status lpn_shift_conv_s8(const lpn_context *ctx, const lpn_shift_conv_params *params,
                             const lpn_shift_quant *quant, const lpn_dims *input_dims, const int8_t *input,
                             const lpn_dims *filter_dims, const uint8_t *codes, const int32_t *bias,
                             const lpn_dims *output_dims, int8_t *output) {
    (void)ctx; /* no scratch memory */
    if (params == 0 || input == 0 || codes == 0 || output == 0) {
        return LPN_ERR_ARGUMENT;
    }
    if (!lpn_tile_ok(&params->stride, 1) || !lpn_tile_ok(&params->padding, 0) ||
        !lpn_activation_ok(&params->activation) ||
        !lpn_shift_offsets_ok(params->input_offset, params->output_offset, params->exponent_bits)) {
        return LPN_ERR_ARGUMENT;
    }
    if (!lpn_dims_ok(input_dims) || !lpn_dims_ok(filter_dims) || !lpn_dims_ok(output_dims)) {
        return LPN_ERR_SHAPE;
    }
    if (output_dims->n != input_dims->n || output_dims->c != filter_dims->n || filter_dims->c != input_dims->c) {
        return LPN_ERR_SHAPE;
    }
    const lpn_status quant_status = lpn_shift_check_quant(quant, output_dims->c);
    if (quant_status != LPN_OK) {
        return quant_status;
    }

    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t s = params->exponent_bits;
    const int32_t filter_per_out = k_h * k_w * in_c;
    int32_t table[32];
    lpn_shift_weight_table(s <= LPN_SHIFT_TABLE_MAX_EXPONENT_BITS ? s : 0, table);

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
