/* LPN_SHIFT_FULLY_CONNECTED on packed shift codes (docs/custom-ops.md), portable C99 reference. */
#include "lpn_shift_check.h"
#include "lpn_shift_common.h"

int32_t lpn_shift_fully_connected_s8_get_buffer_size(const lpn_dims *filter_dims) {
    (void)filter_dims;
    return 0;
}

lpn_status lpn_shift_fully_connected_s8(const lpn_context *ctx, const lpn_shift_fc_params *params,
                                        const lpn_shift_quant *quant, const lpn_dims *input_dims,
                                        const int8_t *input, const lpn_dims *filter_dims, const uint8_t *codes,
                                        const int32_t *bias, const lpn_dims *output_dims, int8_t *output) {
    (void)ctx; /* no scratch memory */
    LPN_SHIFT_FC_CHECKS();
    const int32_t depth = filter_dims->c;
    const int32_t units = filter_dims->n;

    const int32_t s = params->exponent_bits;
    int32_t table[32];
    lpn_shift_weight_table(s <= LPN_SHIFT_TABLE_MAX_EXPONENT_BITS ? s : 0, table);
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *x = input + (int64_t)b * depth;
        for (int32_t o = 0; o < units; ++o) {
            uint32_t acc = bias != 0 ? (uint32_t)bias[o] : 0u;
            acc += lpn_shift_dot(x, params->input_offset, codes, o * depth, depth, s, table);
            output[(int64_t)b * units + o] = lpn_shift_requantize(lpn_shift_u32_to_s32(acc), quant, o,
                                                                  params->output_offset, &params->activation);
        }
    }
    return LPN_OK;
}
