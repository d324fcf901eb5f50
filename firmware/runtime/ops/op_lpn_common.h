/*
 * Shared by the LPN custom-op adapters (op_shift_*.c, op_quant_norm.c): the flexbuffer options of
 * docs/custom-ops.md and the checks of their constant parameter tensors (packed codes, mantissas, shifts).
 */
#ifndef LPN_RUNTIME_OP_LPN_COMMON_H
#define LPN_RUNTIME_OP_LPN_COMMON_H

#include "lpn/lpn_ops.h"
#include "op_common.h"
#include "../lpn_custom.h"

/* Checks the arity of LPN op `which` (an lpn_custom_op: lpn_custom_specs[which].inputs inputs, the bias of a
 * shift op optional, one output; else LPN_RT_ERR_OP_ARITY), then reads and validates its options with
 * lpn_custom_options_parse (../lpn_custom.h). Options failures are LPN_RT_ERR_OP_OPTIONS at the byte of the
 * custom options at fault, detail the value refused or -(lpn_options_status); an unknown key (detail -3)
 * also puts the key into error.name. */
lpn_rt_status_t lpn_custom_options(lpn_runtime_t *rt, const lpn_op_t *op, int32_t which, lpn_custom_options_t *o);
/* The constant parameters of a shift op (input 1 packed codes of `count` weights, input 2 optional bias,
 * inputs 3, 4 mantissas and shifts of `channels` output channels): lpn_check_codes, lpn_check_bias and
 * lpn_check_shift_quant with the op's exponent_bits and mantissa_bits. */
lpn_rt_status_t lpn_check_shift_params(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_custom_options_t *o,
                                       uint64_t count, int32_t channels);
/* The constant parameters of an int8-weight LPN conv (LPN_CONV_2D, LPN_DEPTHWISE_CONV_2D): input 1 an int8
 * filter of rank 4 and `count` elements, optional bias, mantissas and shifts of `channels` channels. */
lpn_rt_status_t lpn_check_int8_filter_params(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_custom_options_t *o,
                                             uint64_t count, int32_t channels);
/* What a shift op's kernel reads and writes at eval: input 0, output 0, packed codes (or, as `filter`, the int8
 * filter of LPN_CONV_2D / LPN_DEPTHWISE_CONV_2D), bias (NULL when absent), requantization onto output grid
 * `grid` (option grid), and the op's scratch (op->scratch_bytes at `scratch`). */
typedef struct {
    const int8_t *input;
    int8_t *output;
    const uint8_t *codes;
    const int8_t *filter;
    const int32_t *bias;
    lpn_shift_quant quant;
    lpn_context ctx;
} lpn_shift_args_t;
lpn_shift_args_t lpn_shift_args(const lpn_runtime_t *rt, const lpn_op_t *op, int32_t grid, void *scratch);
/* Mantissa (int16 [channels], |m| <= 2^(mantissa_bits-1) - 1) and shift (int8 [channels], 0..62) tensors. */
lpn_rt_status_t lpn_check_shift_quant(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *mantissa,
                                      const lpn_tensor_t *shift, int32_t channels, int32_t mantissa_bits);
/* Packed codes (uint8): exactly lpn_shift_codes_bytes(count, exponent_bits) bytes, padding bits zero. */
lpn_rt_status_t lpn_check_codes(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *codes, uint32_t count,
                                int32_t exponent_bits);
/* An optional int32 bias with `channels` entries (NULL passes). */
lpn_rt_status_t lpn_check_bias(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *bias, int32_t channels);

#endif
