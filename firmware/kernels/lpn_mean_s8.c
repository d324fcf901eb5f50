/* MEAN int8 over H and W: the three integer forms of TFLite's reduce.cc (reference C), see lpn_mean_form. */
#include "lpn/fixed_point.h"
#include "lpn/kernels.h"
#include "lpn_kernel_util.h"

int32_t lpn_mean_s8_get_buffer_size(const lpn_dims *input_dims) {
    (void)input_dims;
    return 0;
}

/* floor(log2(x)) for x >= 1. */
static int32_t lpn_floor_log2(uint32_t x) {
    int32_t result = -1;
    while (x != 0u) {
        x >>= 1;
        ++result;
    }
    return result;
}

lpn_status lpn_mean_s8(const lpn_mean_params *params, const lpn_dims *input_dims, const int8_t *input,
                       const lpn_dims *output_dims, int8_t *output) {
    if (params == 0 || input == 0 || output == 0) {
        return LPN_ERR_ARGUMENT;
    }
    if (params->form < LPN_MEAN_RESCALE_DIVIDE || params->form > LPN_MEAN_SAME_QUANT || !lpn_shift_ok(params->shift) ||
        params->multiplier < 0) {
        return LPN_ERR_ARGUMENT;
    }
    if (!lpn_dims_ok(input_dims) || !lpn_dims_ok(output_dims) || output_dims->n != input_dims->n ||
        output_dims->h != 1 || output_dims->w != 1 || output_dims->c != input_dims->c) {
        return LPN_ERR_SHAPE;
    }
    const int32_t count = input_dims->h * input_dims->w;
    const int32_t depth = input_dims->c;
    /* LPN_MEAN_FOLDED: QuantizedMeanOrSum folds 1/count into the multiplier. */
    int32_t fold = lpn_floor_log2((uint32_t)count);
    fold = fold < 32 ? fold : 32;
    fold = fold < 31 + params->shift ? fold : 31 + params->shift;
    const int32_t folded_multiplier = (int32_t)(((int64_t)params->multiplier << fold) / count);
    const int32_t folded_shift = params->shift - fold;
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *plane = input + b * count * depth;
        for (int32_t c = 0; c < depth; ++c) {
            int32_t sum = 0;
            for (int32_t i = 0; i < count; ++i) {
                sum += plane[i * depth + c];
            }
            int32_t acc;
            if (params->form == LPN_MEAN_SAME_QUANT) {
                acc = sum / count;
            } else if (params->form == LPN_MEAN_FOLDED) {
                acc = sum + params->input_offset * count;
                acc = lpn_multiply_by_quantized_multiplier(acc, folded_multiplier, folded_shift) + params->output_offset;
            } else {
                acc = sum + params->input_offset * count;
                acc = lpn_multiply_by_quantized_multiplier(acc, params->multiplier, params->shift);
                acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                acc += params->output_offset;
            }
            output[b * depth + c] = (int8_t)lpn_clamp(acc, -128, 127);
        }
    }
    return LPN_OK;
}
