/* Argument checks shared by the kernels of firmware/kernels/ and firmware/kernels/cortex-m/ (internal). */
#ifndef LPN_KERNEL_UTIL_H
#define LPN_KERNEL_UTIL_H

#include <stdint.h>

#include "lpn/kernels.h"

/* Every dimension >= 1 and the element count fits in int32. */
static inline int lpn_dims_ok(const lpn_dims *d) {
    if (d == 0 || d->n < 1 || d->h < 1 || d->w < 1 || d->c < 1) {
        return 0;
    }
    const int64_t count = (int64_t)d->n * d->h * d->w * d->c;
    return count <= INT32_MAX;
}

static inline int32_t lpn_dims_count(const lpn_dims *d) {
    return d->n * d->h * d->w * d->c;
}

static inline int lpn_activation_ok(const lpn_activation *a) {
    return a->min >= -128 && a->max <= 127 && a->min <= a->max;
}

static inline int lpn_tile_ok(const lpn_tile *t, int32_t min_value) {
    return t->h >= min_value && t->w >= min_value;
}

/* Shift of a requantization: MultiplyByQuantizedMultiplier accepts [-31, 30]. */
static inline int lpn_shift_ok(int32_t shift) {
    return shift >= -31 && shift <= 30;
}

/* Whether ctx holds at least `need` bytes of scratch (else the kernel returns LPN_ERR_BUFFER). */
static inline int lpn_scratch_ok(const lpn_context *ctx, int32_t need) {
    return ctx != 0 && ctx->buf != 0 && ctx->size >= need;
}

/* The *_get_buffer_size of a kernel that needs no scratch: 0 for any arguments. */
static inline int32_t lpn_no_scratch(const void *params, const lpn_dims *input_dims, const lpn_dims *filter_dims,
                                     const lpn_dims *output_dims) {
    (void)params;
    (void)input_dims;
    (void)filter_dims;
    (void)output_dims;
    return 0;
}

#endif
