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
#include "lpn_cm_conv_core.h"
#include "lpn_cm_simd.h"
#include "lpn_fully_connected_check.h"

static inline int32_t lpn_fully_connected_cm_buffer_size(const lpn_dims *filter_dims) {
    if (filter_dims == 0) {
        return 0;
    }
    const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
    return ((depth + 1) & ~1) * (int32_t)sizeof(int16_t);
}

/* The requantization of one accumulator of unit `unit` (ctx: the kernel's parameters). */
typedef int8_t (*lpn_cm_fc_requant_fn)(const void *ctx, int32_t unit, int32_t acc);

/* Words (even lanes, odd lanes) of weights d .. d + 3 of a row: int8 in order, or int16 reordered. */
LPN_CM_INLINE void lpn_cm_fc_weights4(const void *row, int32_t wide, int32_t d, uint32_t *even, uint32_t *odd) {
    if (wide) {
        *even = lpn_cm_read_u32((const int16_t *)row + d);
        *odd = lpn_cm_read_u32((const int16_t *)row + d + 2);
    } else {
        const uint32_t w = lpn_cm_read_u32((const int8_t *)row + d);
        *even = lpn_cm_sxtb16(w);
        *odd = lpn_cm_sxtb16_ror8(w);
    }
}

/*
 * Units [u_begin, u_end) of one input row already expanded (row: depth int16, input offset added,
 * reordered): out[u] = requant(ctx, u, acc0 + bias[u] + dot(weight row u, row)), weight row u at element
 * (u - u_begin) * stride of weights (int8 in order, or int16 reordered when `wide`: LPN_SHIFT_FULLY_CONNECTED's
 * decoded rows).
 */
LPN_CM_INLINE void lpn_cm_fc_units(const int16_t *row, int32_t depth, const void *weights, int32_t wide,
                                   int32_t stride, int32_t u_begin, int32_t u_end, int32_t acc0, const int32_t *bias,
                                   int8_t *out, lpn_cm_fc_requant_fn requant, const void *ctx) {
    const int32_t bytes = (wide ? 2 : 1) * stride;
    int32_t u = u_begin;
    for (; u + 2 <= u_end; u += 2) {
        const void *f0 = (const uint8_t *)weights + (u - u_begin) * bytes;
        const void *f1 = (const uint8_t *)f0 + bytes;
        int32_t a0 = lpn_add_wrap(acc0, bias != 0 ? bias[u] : 0);
        int32_t a1 = lpn_add_wrap(acc0, bias != 0 ? bias[u + 1] : 0);
        int32_t d = 0;
        for (; d + 4 <= depth; d += 4) {
            uint32_t e0, o0, e1, o1;
            lpn_cm_fc_weights4(f0, wide, d, &e0, &o0);
            lpn_cm_fc_weights4(f1, wide, d, &e1, &o1);
            const uint32_t x = lpn_cm_read_u32(row + d), y = lpn_cm_read_u32(row + d + 2);
            a0 = lpn_cm_smlad(o0, y, lpn_cm_smlad(e0, x, a0));
            a1 = lpn_cm_smlad(o1, y, lpn_cm_smlad(e1, x, a1));
        }
        for (; d < depth; ++d) {
            a0 = lpn_add_wrap(a0, lpn_cm_weight_at(f0, wide, d) * row[d]);
            a1 = lpn_add_wrap(a1, lpn_cm_weight_at(f1, wide, d) * row[d]);
        }
        const int8_t y0 = requant(ctx, u, a0), y1 = requant(ctx, u + 1, a1);
        out[u] = y0;
        out[u + 1] = y1;
    }
    for (; u < u_end; ++u) {
        const void *f0 = (const uint8_t *)weights + (u - u_begin) * bytes;
        int32_t a0 = lpn_add_wrap(acc0, bias != 0 ? bias[u] : 0);
        int32_t d = 0;
        for (; d + 4 <= depth; d += 4) {
            uint32_t e0, o0;
            lpn_cm_fc_weights4(f0, wide, d, &e0, &o0);
            a0 = lpn_cm_smlad(o0, lpn_cm_read_u32(row + d + 2), lpn_cm_smlad(e0, lpn_cm_read_u32(row + d), a0));
        }
        for (; d < depth; ++d) {
            a0 = lpn_add_wrap(a0, lpn_cm_weight_at(f0, wide, d) * row[d]);
        }
        out[u] = requant(ctx, u, a0);
    }
}

typedef struct {
    const lpn_fc_params *params;
    const int32_t *multiplier, *shift;
    int32_t quant_step;
} lpn_fully_connected_cm_epilogue;

LPN_CM_INLINE int8_t lpn_fully_connected_cm_out(const void *ctx, int32_t unit, int32_t acc) {
    const lpn_fully_connected_cm_epilogue *e = (const lpn_fully_connected_cm_epilogue *)ctx;
    const int32_t q = unit * e->quant_step;
    acc = lpn_add_wrap(lpn_multiply_by_quantized_multiplier_single_round(acc, e->multiplier[q], e->shift[q]),
                       e->params->output_offset);
    return (int8_t)lpn_clamp(acc, e->params->activation.min, e->params->activation.max);
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
    const lpn_fully_connected_cm_epilogue epilogue = {params, multiplier, shift, quant_step};
    int16_t *row = (int16_t *)ctx->buf;
    for (int32_t b = 0; b < batches; ++b) {
        lpn_cm_expand_reordered(input + b * depth, depth, params->input_offset, row);
        int32_t row_sum = 0;
        if (params->filter_offset != 0) {
            for (int32_t d = 0; d < depth; ++d) {
                row_sum += row[d];
            }
            row_sum *= params->filter_offset;
        }
        lpn_cm_fc_units(row, depth, filter, 0, depth, 0, units, row_sum, bias, output + b * units,
                        lpn_fully_connected_cm_out, &epilogue);
    }
    return LPN_OK;
}

#endif
