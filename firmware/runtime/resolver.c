/*
 * Op resolver: builtin codes and custom codes -> kernel adapters (runtime/ops/). To add an op, write an
 * adapter (prepare + eval, see internal.h) and add one line to the matching table below.
 */
#include "internal.h"

extern const lpn_kernel_t lpn_kernel_add;
extern const lpn_kernel_t lpn_kernel_average_pool_2d;
extern const lpn_kernel_t lpn_kernel_conv_2d;
extern const lpn_kernel_t lpn_kernel_depthwise_conv_2d;
extern const lpn_kernel_t lpn_kernel_fully_connected;
extern const lpn_kernel_t lpn_kernel_max_pool_2d;
extern const lpn_kernel_t lpn_kernel_mean;
extern const lpn_kernel_t lpn_kernel_reshape;
extern const lpn_kernel_t lpn_kernel_softmax;
extern const lpn_kernel_t lpn_kernel_shift_conv_2d;
extern const lpn_kernel_t lpn_kernel_shift_depthwise_conv_2d;
extern const lpn_kernel_t lpn_kernel_shift_fully_connected;
extern const lpn_kernel_t lpn_kernel_lpn_conv_2d;
extern const lpn_kernel_t lpn_kernel_lpn_depthwise_conv_2d;
extern const lpn_kernel_t lpn_kernel_quant_norm;

static const lpn_kernel_t *const builtin_kernels[] = {
    &lpn_kernel_add,
    &lpn_kernel_average_pool_2d,
    &lpn_kernel_conv_2d,
    &lpn_kernel_depthwise_conv_2d,
    &lpn_kernel_fully_connected,
    &lpn_kernel_max_pool_2d,
    &lpn_kernel_mean,
    &lpn_kernel_reshape,
    &lpn_kernel_softmax,
};

/* Custom ops by custom_code (docs/custom-ops.md); the NULL entry terminates the table. */
static const lpn_kernel_t *const custom_kernels[] = {
    &lpn_kernel_shift_conv_2d,
    &lpn_kernel_shift_depthwise_conv_2d,
    &lpn_kernel_shift_fully_connected,
    &lpn_kernel_lpn_conv_2d,
    &lpn_kernel_lpn_depthwise_conv_2d,
    &lpn_kernel_quant_norm,
    0,
};

const lpn_kernel_t *lpn_resolve_builtin(int32_t builtin_code) {
    for (uint32_t i = 0; i < sizeof builtin_kernels / sizeof builtin_kernels[0]; ++i) {
        if (builtin_kernels[i]->builtin_code == builtin_code) {
            return builtin_kernels[i];
        }
    }
    return 0;
}

const lpn_kernel_t *lpn_resolve_custom(const uint8_t *name, uint32_t name_bytes) {
    for (uint32_t i = 0; custom_kernels[i] != 0; ++i) {
        const char *code = custom_kernels[i]->custom_code;
        uint32_t n = 0;
        while (n < name_bytes && code[n] != '\0' && (uint8_t)code[n] == name[n]) {
            ++n;
        }
        if (n == name_bytes && code[n] == '\0') {
            return custom_kernels[i];
        }
    }
    return 0;
}
