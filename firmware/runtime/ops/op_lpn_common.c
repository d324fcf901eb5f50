/* Shared by the LPN custom-op adapters: see op_lpn_common.h. */
#include "op_lpn_common.h"

/* The options' stride limit is the window limit of lpn_window (C99 compile-time check). */
typedef char lpn_stride_limit_is_the_window_limit[LPN_CUSTOM_MAX_STRIDE == LPN_MAX_WINDOW ? 1 : -1];

static int32_t index_of(const lpn_runtime_t *rt, const lpn_op_t *op) { return (int32_t)(op - rt->ops); }

lpn_rt_status_t lpn_custom_options(lpn_runtime_t *rt, const lpn_op_t *op, int32_t which, lpn_custom_options_t *o) {
    const int32_t inputs = which >= 0 && which < LPN_CUSTOM_OP_COUNT ? lpn_custom_specs[which].inputs : 0;
    if (lpn_check_arity(rt, op, inputs, inputs, 1, which == LPN_CUSTOM_QUANT_NORM ? 0u : 1u << 2)) {
        return rt->error.status;
    }
    lpn_options_error e;
    const uint8_t *data = op->custom_bytes == 0u ? 0 : rt->model + op->custom_pos;
    const lpn_options_status s = lpn_custom_options_parse(which, data, op->custom_bytes, o, &e);
    if (s == LPN_OPTIONS_OK) {
        return LPN_RT_OK;
    }
    const int64_t detail = s == LPN_OPTIONS_VERSION || s == LPN_OPTIONS_INVALID ? e.value : -(int64_t)s;
    lpn_fail(rt, LPN_RT_ERR_OP_OPTIONS, op->custom_pos + e.at, index_of(rt, op), -1, detail);
    if (s == LPN_OPTIONS_UNKNOWN_KEY && rt->error.status == LPN_RT_ERR_OP_OPTIONS) {
        lpn_custom_printable(data, e.at, rt->error.name, LPN_ERROR_NAME_BYTES);
    }
    return rt->error.status;
}

lpn_rt_status_t lpn_check_shift_quant(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *mantissa,
                                      const lpn_tensor_t *shift, int32_t channels, int32_t mantissa_bits) {
    if (lpn_check_tensor(rt, op, mantissa,
                         mantissa->type == LPN_TYPE_INT16 && mantissa->data != 0 &&
                             lpn_tensor_elements(mantissa) == (uint32_t)channels,
                         channels) ||
        lpn_check_tensor(rt, op, shift,
                         shift->type == LPN_TYPE_INT8 && shift->data != 0 &&
                             lpn_tensor_elements(shift) == (uint32_t)channels,
                         channels)) {
        return rt->error.status;
    }
    int32_t mantissa_bad = 0, value = 0;
    const int32_t c = lpn_custom_bad_requant_channel(mantissa->data, (const int8_t *)shift->data, channels,
                                                     mantissa_bits, &mantissa_bad, &value);
    if (c >= 0) {
        const lpn_tensor_t *t = mantissa_bad ? mantissa : shift;
        return lpn_fail(rt, LPN_RT_ERR_MULTIPLIER, (uint32_t)(t->data + (mantissa_bad ? 2 * c : c) - rt->model),
                        index_of(rt, op), (int32_t)(t - rt->tensors), value);
    }
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_check_codes(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *codes, uint32_t count,
                                int32_t exponent_bits) {
    const int32_t expected = count > 0x7fffffffu ? -1 : lpn_shift_codes_bytes((int32_t)count, exponent_bits);
    if (lpn_check_tensor(rt, op, codes,
                         codes->type == LPN_TYPE_UINT8 && codes->data != 0 && expected >= 0 &&
                             codes->bytes == (uint32_t)expected,
                         expected)) {
        return rt->error.status;
    }
    const int64_t j = lpn_custom_bad_code_byte(codes->data, codes->bytes, count, exponent_bits);
    if (j >= 0) {
        return lpn_fail(rt, LPN_RT_ERR_OP_TENSORS, (uint32_t)(codes->data + j - rt->model), index_of(rt, op),
                        (int32_t)(codes - rt->tensors), (int64_t)codes->data[j]);
    }
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_check_shift_params(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_custom_options_t *o,
                                       uint64_t count, int32_t channels) {
    if (lpn_check_codes(rt, op, lpn_op_input(rt, op, 1), count > 0x7fffffffu ? 0xffffffffu : (uint32_t)count,
                        o->exponent_bits) ||
        lpn_check_bias(rt, op, lpn_op_input(rt, op, 2), channels) ||
        lpn_check_shift_quant(rt, op, lpn_op_input(rt, op, 3), lpn_op_input(rt, op, 4), channels, o->mantissa_bits)) {
        return rt->error.status;
    }
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_check_int8_filter_params(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_custom_options_t *o,
                                             uint64_t count, int32_t channels) {
    const lpn_tensor_t *filter = lpn_op_input(rt, op, 1);
    if (lpn_check_tensor(rt, op, filter,
                         filter->type == LPN_TYPE_INT8 && filter->data != 0 && filter->rank == 4 &&
                             (uint64_t)lpn_tensor_elements(filter) == count,
                         channels) ||
        lpn_check_bias(rt, op, lpn_op_input(rt, op, 2), channels) ||
        lpn_check_shift_quant(rt, op, lpn_op_input(rt, op, 3), lpn_op_input(rt, op, 4), channels, o->mantissa_bits)) {
        return rt->error.status;
    }
    return LPN_RT_OK;
}

lpn_shift_args_t lpn_shift_args(const lpn_runtime_t *rt, const lpn_op_t *op, int32_t grid, void *scratch) {
    const lpn_tensor_t *bias = lpn_op_input(rt, op, 2);
    lpn_shift_args_t a;
    a.input = lpn_tensor_data(rt, lpn_op_input(rt, op, 0));
    a.output = lpn_tensor_data(rt, lpn_op_output(rt, op, 0));
    a.codes = lpn_tensor_data(rt, lpn_op_input(rt, op, 1));
    a.filter = (const int8_t *)(const void *)a.codes;
    a.bias = bias != 0 ? lpn_tensor_data(rt, bias) : 0;
    a.quant.mantissa = lpn_tensor_data(rt, lpn_op_input(rt, op, 3));
    a.quant.shift = lpn_tensor_data(rt, lpn_op_input(rt, op, 4));
    a.quant.grid = grid;
    a.ctx.buf = scratch;
    a.ctx.size = (int32_t)op->scratch_bytes;
    return a;
}

lpn_rt_status_t lpn_check_bias(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *bias, int32_t channels) {
    if (bias == 0) {
        return LPN_RT_OK;
    }
    return lpn_check_tensor(rt, op, bias,
                            bias->type == LPN_TYPE_INT32 && bias->data != 0 &&
                                lpn_tensor_elements(bias) == (uint32_t)channels,
                            channels);
}
