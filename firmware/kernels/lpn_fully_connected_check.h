/* Argument validation of the fully connected kernels (per-tensor and per-channel, reference and
 * Cortex-M). quant_count is 1 for per-tensor requantization, else the number of units (internal). */
#ifndef LPN_FULLY_CONNECTED_CHECK_H
#define LPN_FULLY_CONNECTED_CHECK_H

#include "lpn_kernel_util.h"

static inline lpn_status lpn_fully_connected_check(const lpn_fc_params *params, const int32_t *multiplier,
                                                   const int32_t *shift, int32_t quant_count,
                                                   const lpn_dims *input_dims, const int8_t *input,
                                                   const lpn_dims *filter_dims, const int8_t *filter,
                                                   const lpn_dims *output_dims, const int8_t *output) {
    if (params == 0 || multiplier == 0 || shift == 0 || input == 0 || filter == 0 || output == 0) {
        return LPN_ERR_ARGUMENT;
    }
    if (!lpn_activation_ok(&params->activation)) {
        return LPN_ERR_ARGUMENT;
    }
    if (!lpn_dims_ok(input_dims) || !lpn_dims_ok(filter_dims) || !lpn_dims_ok(output_dims)) {
        return LPN_ERR_SHAPE;
    }
    const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
    const int32_t units = filter_dims->n;
    const int32_t batches = output_dims->n * output_dims->h * output_dims->w;
    if (output_dims->c != units || (int64_t)batches * depth != (int64_t)lpn_dims_count(input_dims)) {
        return LPN_ERR_SHAPE;
    }
    for (int32_t i = 0; i < quant_count; ++i) {
        if (!lpn_shift_ok(shift[i]) || multiplier[i] < 0) {
            return LPN_ERR_ARGUMENT;
        }
    }
    return LPN_OK;
}

#endif
