/* LPN_QUANT_NORM: per-channel integer affine map (docs/custom-ops.md), portable C99 reference. */
#include "lpn_shift_common.h"

int32_t lpn_quant_norm_s8_get_buffer_size(const lpn_dims *dims) {
    (void)dims;
    return 0;
}

lpn_status lpn_quant_norm_s8(const lpn_quant_norm_params *params, const lpn_shift_quant *quant,
                             const lpn_dims *dims, const int8_t *input, const int32_t *bias, int8_t *output) {
    if (params == 0 || input == 0 || bias == 0 || output == 0 || !lpn_activation_ok(&params->activation) ||
        !lpn_shift_offsets_ok(params->input_offset, params->output_offset, 0)) {
        return LPN_ERR_ARGUMENT;
    }
    if (!lpn_dims_ok(dims)) {
        return LPN_ERR_SHAPE;
    }
    const int32_t channels = dims->c;
    const lpn_status quant_status = lpn_shift_check_quant(quant, channels);
    if (quant_status != LPN_OK) {
        return quant_status;
    }
    const int32_t rows = dims->n * dims->h * dims->w;
    for (int32_t r = 0; r < rows; ++r) {
        const int64_t base = (int64_t)r * channels;
        for (int32_t c = 0; c < channels; ++c) {
            const int64_t v = (int64_t)input[base + c] + params->input_offset;
            const int64_t p = v * quant->mantissa[c] + bias[c];
            output[base + c] = lpn_shift_finish(lpn_shift_round_grid(p, quant->shift[c], quant->grid), params->output_offset,
                                                &params->activation);
        }
    }
    return LPN_OK;
}
