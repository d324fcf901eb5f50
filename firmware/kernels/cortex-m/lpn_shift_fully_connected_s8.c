/*
 * LPN_SHIFT_FULLY_CONNECTED optimized for Cortex-M4/M7/M33: bit-exact with
 * firmware/kernels/lpn_shift_fully_connected_s8.c.
 *
 * Units go in blocks: the packed codes of a block are decoded once into int16 rows (reordered, |w| <= 128
 * for exponent_bits <= 3) in the scratch buffer, after the int16 copy of the input row and the byte-pair
 * table; the fully connected core of the int8 kernel (lpn_fully_connected_cm_core.h: two units per step,
 * SMLAD, its int16-weight form) then runs every batch row on the block, with the LPN requantization
 * (lpn_shift_requantize) as epilogue. Wider codes run the portable kernel, compiled in below under another
 * name.
 */
#include "lpn_cm_shift_decode.h"
#include "lpn_fully_connected_cm_core.h"
#include "lpn_shift_check.h"
#include "lpn_shift_common.h"

/* The portable kernel, for codes whose weights do not fit int8. */
#define lpn_shift_fully_connected_s8 lpn_shift_fully_connected_s8_portable
#define lpn_shift_fully_connected_s8_get_buffer_size lpn_shift_fully_connected_s8_portable_buffer_size
#include "../lpn_shift_fully_connected_s8.c"
#undef lpn_shift_fully_connected_s8
#undef lpn_shift_fully_connected_s8_get_buffer_size

/* Decoded weight bytes per block of units. */
#ifndef LPN_CM_SHIFT_FC_BLOCK_BYTES
#define LPN_CM_SHIFT_FC_BLOCK_BYTES 4096
#endif

int32_t lpn_shift_fully_connected_s8_get_buffer_size(const lpn_dims *filter_dims) {
    if (filter_dims == 0) {
        return 0;
    }
    /* the int16 input row, then the decoded rows (exponent_bits is not an argument: sized for the fast path) */
    const int32_t stride = (filter_dims->c + 3) & ~3;
    return lpn_fully_connected_cm_buffer_size(filter_dims) + LPN_CM_SHIFT_TABLE_BYTES +
           lpn_cm_shift_block(filter_dims->n, stride, LPN_CM_SHIFT_FC_BLOCK_BYTES) * stride * (int32_t)sizeof(int16_t);
}

lpn_status lpn_shift_fully_connected_s8(const lpn_context *ctx, const lpn_shift_fc_params *params,
                                        const lpn_shift_quant *quant, const lpn_dims *input_dims,
                                        const int8_t *input, const lpn_dims *filter_dims, const uint8_t *codes,
                                        const int32_t *bias, const lpn_dims *output_dims, int8_t *output) {
    const lpn_status status =
        lpn_shift_fc_check(params, quant, input_dims, input, filter_dims, codes, output_dims, output);
    if (status != LPN_OK || params->exponent_bits > LPN_CM_SHIFT_WIDE_EXPONENT_BITS) {
        return status != LPN_OK ? status
                                : lpn_shift_fully_connected_s8_portable(ctx, params, quant, input_dims, input,
                                                                        filter_dims, codes, bias, output_dims, output);
    }
    if (!lpn_scratch_ok(ctx, lpn_shift_fully_connected_s8_get_buffer_size(filter_dims))) {
        return LPN_ERR_BUFFER;
    }
    const int32_t depth = filter_dims->c, units = filter_dims->n;
    const int32_t stride = (depth + 3) & ~3;
    const int32_t block = lpn_cm_shift_block(units, stride, LPN_CM_SHIFT_FC_BLOCK_BYTES);
    int16_t *row = (int16_t *)ctx->buf;
    uint32_t *table = (uint32_t *)((uint8_t *)ctx->buf + lpn_fully_connected_cm_buffer_size(filter_dims));
    int16_t *rows = (int16_t *)((uint8_t *)table + LPN_CM_SHIFT_TABLE_BYTES);
    lpn_cm_shift_pair_table(params->exponent_bits, table);
    const lpn_cm_shift_epilogue epilogue = lpn_cm_shift_epilogue_of(quant, params->output_offset, &params->activation);
    for (int32_t u0 = 0; u0 < units; u0 += block) {
        const int32_t u1 = u0 + block < units ? u0 + block : units;
        for (int32_t u = u0; u < u1; ++u) {
            lpn_cm_shift_decode(codes, u * depth, depth, table, rows + (u - u0) * stride, stride);
        }
        for (int32_t b = 0; b < input_dims->n; ++b) {
            lpn_cm_expand_reordered(input + b * depth, depth, params->input_offset, row);
            lpn_cm_fc_units(row, depth, rows, 1, stride, u0, u1, 0, bias, output + b * units, lpn_cm_shift_requantize,
                            &epilogue);
        }
    }
    return LPN_OK;
}
