/*
 * Shared by the LPN custom-op adapters (op_shift_*.c, op_quant_norm.c): the flexbuffer options of
 * docs/custom-ops.md and the checks of their constant parameter tensors (packed codes, mantissas, shifts).
 */
#ifndef LPN_RUNTIME_OP_LPN_COMMON_H
#define LPN_RUNTIME_OP_LPN_COMMON_H

#include "lpn/lpn_ops.h"
#include "op_common.h"

/* Options of every LPN op (the keys an op does not use keep 0). */
typedef struct {
    int32_t act_min, act_max;
    int32_t mantissa_bits;
    int32_t exponent_bits;    /* shift ops */
    int32_t padding;          /* conv ops: 0 SAME, 1 VALID */
    int32_t stride_h, stride_w;
    int32_t depth_multiplier; /* depthwise */
    int32_t filter_shape[4];  /* shift ops */
    uint32_t filter_rank;
} lpn_custom_options_t;

/* Which option groups an op requires. */
enum { LPN_OPTS_SHIFT = 1, LPN_OPTS_CONV = 2, LPN_OPTS_DEPTHWISE = 4 };

/* Reads and range-checks the options (version 1, act_min <= act_max within int8, mantissa_bits 2..16,
 * exponent_bits 0..7, padding 0/1, strides and depth multiplier in range, filter_shape rank). Failures are
 * LPN_RT_ERR_OP_OPTIONS at the byte of the custom options at fault. */
lpn_rt_status_t lpn_custom_options(lpn_runtime_t *rt, const lpn_op_t *op, uint32_t groups, uint32_t filter_rank,
                                   lpn_custom_options_t *o);
/* Mantissa (int16 [channels], |m| <= 2^(mantissa_bits-1) - 1) and shift (int8 [channels], 0..62) tensors. */
lpn_rt_status_t lpn_check_shift_quant(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *mantissa,
                                      const lpn_tensor_t *shift, int32_t channels, int32_t mantissa_bits);
/* Packed codes (uint8): exactly lpn_shift_codes_bytes(count, exponent_bits) bytes, padding bits zero. */
lpn_rt_status_t lpn_check_codes(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *codes, uint32_t count,
                                int32_t exponent_bits);
/* An optional int32 bias with `channels` entries (NULL passes). */
lpn_rt_status_t lpn_check_bias(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *bias, int32_t channels);

#endif
