/* Argument validation shared by the pooling kernels (internal). */
#ifndef LPN_POOL_CHECK_H
#define LPN_POOL_CHECK_H

#include "lpn_kernel_util.h"

static inline lpn_status lpn_pool_check(const lpn_pool_params *params, const lpn_dims *input_dims, const int8_t *input,
                                        const lpn_dims *filter_dims, const lpn_dims *output_dims,
                                        const int8_t *output) {
    if (params == 0 || input == 0 || output == 0 || filter_dims == 0) {
        return LPN_ERR_ARGUMENT;
    }
    if (!lpn_tile_ok(&params->stride, 1) || !lpn_tile_ok(&params->padding, 0) ||
        !lpn_activation_ok(&params->activation) || filter_dims->h < 1 || filter_dims->w < 1) {
        return LPN_ERR_ARGUMENT;
    }
    if (!lpn_dims_ok(input_dims) || !lpn_dims_ok(output_dims) || output_dims->n != input_dims->n ||
        output_dims->c != input_dims->c) {
        return LPN_ERR_SHAPE;
    }
    return LPN_OK;
}

/* The window of one output coordinate along one axis, clipped to the input: [*start, *end). */
static inline void lpn_pool_window(int32_t origin, int32_t filter, int32_t in_size, int32_t *start, int32_t *end) {
    *start = origin < 0 ? -origin : 0;
    *end = in_size - origin < filter ? in_size - origin : filter;
}

#endif
