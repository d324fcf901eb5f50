/* LPN_SHIFT_DEPTHWISE_CONV_2D adapter (docs/custom-ops.md) -> lpn_shift_depthwise_conv_s8; and
 * LPN_DEPTHWISE_CONV_2D (the same with an int8 filter tensor) -> lpn_depthwise_conv_lpn_s8. */
#include "op_lpn_common.h"

typedef struct {
    lpn_shift_dw_conv_params params;
    lpn_dims input, filter, output;
    int32_t int8_filter; /* LPN_DEPTHWISE_CONV_2D */
    int32_t grid;
} shift_dw_data_t;

static lpn_rt_status_t prepare_kind(lpn_runtime_t *rt, lpn_op_t *op, int32_t which) {
    lpn_custom_options_t o;
    if (lpn_custom_options(rt, op, which, &o)) {
        return rt->error.status;
    }
    const int32_t int8_filter = which == LPN_CUSTOM_DEPTHWISE_CONV_2D;
    const lpn_tensor_t *x = lpn_op_input(rt, op, 0), *y = lpn_op_output(rt, op, 0);
    const lpn_dims in = lpn_nhwc(x), out = lpn_nhwc(y);
    const lpn_dims fo = {o.filter_shape[0], o.filter_shape[1], o.filter_shape[2], o.filter_shape[3]};
    const lpn_dims fd = int8_filter ? lpn_nhwc(lpn_op_input(rt, op, 1)) : fo;
    const int32_t cout = fd.c;
    const uint64_t count = (uint64_t)fd.h * (uint64_t)fd.w * (uint64_t)cout;
    if (lpn_check_tensor(rt, op, x,
                         lpn_is_int8_per_tensor(x) && x->rank == 4 && fd.n == 1 &&
                             (int64_t)in.c * o.depth_multiplier == cout,
                         cout) ||
        lpn_check_tensor(rt, op, y, lpn_is_int8_per_tensor(y) && y->rank == 4 && out.c == cout, cout) ||
        (int8_filter ? lpn_check_int8_filter_params(rt, op, &o, count, cout)
                     : lpn_check_shift_params(rt, op, &o, count, cout))) {
        return rt->error.status;
    }
    shift_dw_data_t local;
    shift_dw_data_t *d = lpn_persistent_alloc(rt, (uint32_t)sizeof(shift_dw_data_t));
    if (d == 0) {
        d = &local;
    }
    d->params.input_offset = -x->zero_point;
    d->params.output_offset = y->zero_point;
    d->params.exponent_bits = o.exponent_bits;
    d->int8_filter = int8_filter;
    d->grid = o.grid;
    d->params.ch_mult = o.depth_multiplier;
    d->params.stride.h = o.stride_h;
    d->params.stride.w = o.stride_w;
    d->params.activation.min = o.act_min;
    d->params.activation.max = o.act_max;
    if (lpn_window(rt, op, (uint8_t)o.padding, o.stride_h, o.stride_w, 1, 1, &in, fd.h, fd.w, &out,
                   &d->params.padding)) {
        return rt->error.status;
    }
    d->input = in;
    d->filter = fd;
    d->output = out;
    const int32_t scratch = lpn_shift_depthwise_conv_s8_get_buffer_size(&d->params, &in, &fd, &out);
    op->macs = (uint64_t)out.n * (uint64_t)out.h * (uint64_t)out.w * count; /* = outputs * KH * KW */
    return lpn_prepare_done(rt, op, y, scratch, d, &local);
}

static lpn_rt_status_t eval(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch) {
    const shift_dw_data_t *d = (const shift_dw_data_t *)op->data;
    const lpn_shift_args_t a = lpn_shift_args(rt, op, d->grid, scratch);
    return lpn_kernel_status(
        rt, op,
        d->int8_filter ? lpn_depthwise_conv_lpn_s8(&a.ctx, &d->params, &a.quant, &d->input, a.input, &d->filter,
                                                   a.filter, a.bias, &d->output, a.output)
                       : lpn_shift_depthwise_conv_s8(&a.ctx, &d->params, &a.quant, &d->input, a.input, &d->filter,
                                                     a.codes, a.bias, &d->output, a.output));
}

static lpn_rt_status_t prepare_shift(lpn_runtime_t *rt, lpn_op_t *op) {
    return prepare_kind(rt, op, LPN_CUSTOM_SHIFT_DEPTHWISE_CONV_2D);
}

static lpn_rt_status_t prepare_int8(lpn_runtime_t *rt, lpn_op_t *op) {
    return prepare_kind(rt, op, LPN_CUSTOM_DEPTHWISE_CONV_2D);
}

const lpn_kernel_t lpn_kernel_shift_depthwise_conv_2d = {
    LPN_OP_CUSTOM, "LPN_SHIFT_DEPTHWISE_CONV_2D", "LPN_SHIFT_DEPTHWISE_CONV_2D", 1, 1, prepare_shift, eval};
const lpn_kernel_t lpn_kernel_lpn_depthwise_conv_2d = {
    LPN_OP_CUSTOM, "LPN_DEPTHWISE_CONV_2D", "LPN_DEPTHWISE_CONV_2D", 1, 1, prepare_int8, eval};
