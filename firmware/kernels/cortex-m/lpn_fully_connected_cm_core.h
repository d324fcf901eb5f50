/*
 * The fully connected loop of the optimized Cortex-M kernels (per-tensor and per-channel share it;
 * quant_step 0 reuses multiplier[0]/shift[0]). Bit-exact with firmware/kernels/lpn_fully_connected_core.h.
 *
 * Each input row is expanded once to int16 with the input offset added (reordered for SXTB16 lanes, in the
 * scratch buffer); units then go two at a time: per 4 MACs of each, one word of each weight row, two
 * SXTB16 each, one word pair of the row and 4 SMLADs. A non-zero filter offset adds
 * filter_offset * sum(input + input_offset), which equals the reference's per-term product exactly.
 * Requantization: single rounding, as the reference. Scratch: depth int16, rounded up to a whole word
 * (internal).
 */
#ifndef LPN_FULLY_CONNECTED_CM_CORE_H
#define LPN_FULLY_CONNECTED_CM_CORE_H

#include "lpn/fixed_point.h"
#include "lpn_cm_simd.h"
#include "lpn_fully_connected_check.h"

static inline int32_t lpn_fully_connected_cm_buffer_size(const lpn_dims *filter_dims) {
    if (filter_dims == 0) {
        return 0;
    }
    const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
    return ((depth + 1) & ~1) * (int32_t)sizeof(int16_t);
}

static inline int8_t lpn_fully_connected_cm_out(const lpn_fc_params *p, int32_t multiplier, int32_t shift,
                                                int32_t acc) {
    acc = lpn_add_wrap(lpn_multiply_by_quantized_multiplier_single_round(acc, multiplier, shift), p->output_offset);
    return (int8_t)lpn_clamp(acc, p->activation.min, p->activation.max);
}

static inline lpn_status lpn_fully_connected_cm(const lpn_context *ctx, const lpn_fc_params *params,
                                                const int32_t *multiplier, const int32_t *shift, int32_t quant_step,
                                                const lpn_dims *input_dims, const int8_t *input,
                                                const lpn_dims *filter_dims, const int8_t *filter,
                                                const int32_t *bias, const lpn_dims *output_dims, int8_t *output) {
    const lpn_status status =
        lpn_fully_connected_check(params, multiplier, shift, quant_step == 0 ? 1 : filter_dims->n, input_dims, input,
                                  filter_dims, filter, output_dims, output);
    if (status != LPN_OK) {
        return status;
    }
    if (ctx == 0 || ctx->buf == 0 || ctx->size < lpn_fully_connected_cm_buffer_size(filter_dims)) {
        return LPN_ERR_BUFFER;
    }
    const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
    const int32_t units = filter_dims->n;
    const int32_t batches = output_dims->n * output_dims->h * output_dims->w;
    int16_t *row = (int16_t *)ctx->buf;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in = input + b * depth;
        lpn_cm_expand_reordered(in, depth, params->input_offset, row);
        int32_t row_sum = 0;
        if (params->filter_offset != 0) {
            for (int32_t d = 0; d < depth; ++d) {
                row_sum += row[d];
            }
            row_sum *= params->filter_offset;
        }
        int8_t *out = output + b * units;
        int32_t u = 0;
        for (; u + 2 <= units; u += 2) {
            const int8_t *f0 = filter + u * depth;
            const int8_t *f1 = f0 + depth;
            int32_t a0 = lpn_add_wrap(row_sum, bias != 0 ? bias[u] : 0);
            int32_t a1 = lpn_add_wrap(row_sum, bias != 0 ? bias[u + 1] : 0);
            int32_t d = 0;
            for (; d + 4 <= depth; d += 4) {
                const uint32_t w0 = lpn_cm_read_u32(f0 + d), w1 = lpn_cm_read_u32(f1 + d);
                const uint32_t x = lpn_cm_read_u32(row + d), y = lpn_cm_read_u32(row + d + 2);
                a0 = lpn_cm_smlad(lpn_cm_sxtb16(w0), x, a0);
                a0 = lpn_cm_smlad(lpn_cm_sxtb16_ror8(w0), y, a0);
                a1 = lpn_cm_smlad(lpn_cm_sxtb16(w1), x, a1);
                a1 = lpn_cm_smlad(lpn_cm_sxtb16_ror8(w1), y, a1);
            }
            for (; d < depth; ++d) {
                a0 += f0[d] * row[d];
                a1 += f1[d] * row[d];
            }
            out[u] = lpn_fully_connected_cm_out(params, multiplier[u * quant_step], shift[u * quant_step], a0);
            out[u + 1] =
                lpn_fully_connected_cm_out(params, multiplier[(u + 1) * quant_step], shift[(u + 1) * quant_step], a1);
        }
        for (; u < units; ++u) {
            const int8_t *f0 = filter + u * depth;
            int32_t a0 = lpn_add_wrap(row_sum, bias != 0 ? bias[u] : 0);
            int32_t d = 0;
            for (; d + 4 <= depth; d += 4) {
                const uint32_t w0 = lpn_cm_read_u32(f0 + d);
                a0 = lpn_cm_smlad(lpn_cm_sxtb16(w0), lpn_cm_read_u32(row + d), a0);
                a0 = lpn_cm_smlad(lpn_cm_sxtb16_ror8(w0), lpn_cm_read_u32(row + d + 2), a0);
            }
            for (; d < depth; ++d) {
                a0 += f0[d] * row[d];
            }
            out[u] = lpn_fully_connected_cm_out(params, multiplier[u * quant_step], shift[u * quant_step], a0);
        }
    }
    return LPN_OK;
}

#endif
