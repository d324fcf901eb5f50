/*
 * Shared helpers of the op adapters (runtime/ops/op_*.c): the glue between a validated TFLite operator
 * (options table, tensor descriptors) and a kernel's params/dims structs (lpn/kernels.h).
 */
#ifndef LPN_RUNTIME_OP_COMMON_H
#define LPN_RUNTIME_OP_COMMON_H

#include "../internal.h"
#include "../quantize.h"
#include "lpn/kernels.h"

/* Largest stride, dilation or filter size a windowed op may declare. */
#define LPN_MAX_WINDOW 4096

/* TFLite's float32 1.0f, used as a neutral factor in lpn_quantize_multiplier. */
#define LPN_FLOAT_ONE_BITS 0x3f800000u

/* Fails with LPN_RT_ERR_OP_ARITY unless the op has min_in..max_in inputs, exactly n_out outputs, and none
 * of the first min_in inputs is -1 (absent) except those whose bit is set in optional_mask. */
lpn_rt_status_t lpn_check_arity(lpn_runtime_t *rt, const lpn_op_t *op, int32_t min_in, int32_t max_in,
                                int32_t n_out, uint32_t optional_mask);
/* The op's builtin options table of union tag `tag`; LPN_RT_ERR_OP_OPTIONS if missing or of another type.
 * When `optional` and the options are absent, *present = 0 and LPN_RT_OK. */
lpn_rt_status_t lpn_options(lpn_runtime_t *rt, const lpn_op_t *op, uint32_t tag, int optional, int *present);
/* Fails with LPN_RT_ERR_OP_TENSORS naming the tensor (and `detail`) when `ok` is false. */
lpn_rt_status_t lpn_check_tensor(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *t, int ok,
                                 int64_t detail);
/* An int8 tensor with per-tensor quantization (exactly one scale). */
int lpn_is_int8_per_tensor(const lpn_tensor_t *t);
/* Dims of a rank <= 4 tensor as NHWC, right-aligned (a [b, c] tensor becomes {1, 1, b, c}); of a rank > 4
 * tensor, its last four dims (callers refuse rank > 4 after this call). */
lpn_dims lpn_nhwc(const lpn_tensor_t *t);
/* Inclusive int8 clamp for fused activation `act` (TFLite ActivationFunctionType: 0 NONE, 1 RELU,
 * 2 RELU_N1_TO_1, 3 RELU6) on `output`, as TFLite's CalculateActivationRangeQuantized. */
lpn_rt_status_t lpn_activation_range(lpn_runtime_t *rt, const lpn_op_t *op, int32_t act,
                                     const lpn_tensor_t *output, lpn_activation *range);
/* lpn_quantize_multiplier(a * b / c * 2^pow2) with a range check: shift in [-31, 30] or multiplier 0. */
lpn_rt_status_t lpn_op_multiplier(lpn_runtime_t *rt, const lpn_op_t *op, uint32_t a, uint32_t b, uint32_t c,
                                  int32_t pow2, int32_t *multiplier, int32_t *shift);
/* Per-output-channel multipliers of a conv-like op: M_c = s_x · s_w[c] / s_y (one s_w for per-tensor
 * weights), each checked by lpn_op_multiplier. `multiplier` and `shift` hold `channels` entries, or are
 * both 0 to validate only (no persistent memory: the op recomputes at eval). */
lpn_rt_status_t lpn_per_channel_multipliers(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *x,
                                            const lpn_tensor_t *w, const lpn_tensor_t *y, int32_t channels,
                                            int32_t *multiplier, int32_t *shift);
/* Ends a prepare: refuses a negative kernel scratch size (naming output `y`), records the scratch need and
 * the op's prepared data. `data` equal to `local` (the prepare's stack fallback when the descriptor region
 * is full, i.e. validation only) is not kept. */
lpn_rt_status_t lpn_prepare_done(lpn_runtime_t *rt, lpn_op_t *op, const lpn_tensor_t *y, int32_t scratch,
                                 void *data, const void *local);
/* Padding / stride / dilation of a windowed op, checked against the output's spatial size. */
lpn_rt_status_t lpn_window(lpn_runtime_t *rt, const lpn_op_t *op, uint8_t padding, int32_t stride_h,
                           int32_t stride_w, int32_t dilation_h, int32_t dilation_w, const lpn_dims *in,
                           int32_t filter_h, int32_t filter_w, const lpn_dims *out, lpn_tile *pad);
/* Maps a kernel's lpn_status to a runtime status (LPN_RT_ERR_KERNEL with the detail recorded). */
lpn_rt_status_t lpn_kernel_status(lpn_runtime_t *rt, const lpn_op_t *op, lpn_status status);

#endif
