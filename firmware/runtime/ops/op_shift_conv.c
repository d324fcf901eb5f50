/* LPN_SHIFT_CONV_2D adapter (docs/custom-ops.md): flexbuffer options + packed codes -> lpn_shift_conv_s8. */
#include "op_lpn_common.h"

typedef struct {
    lpn_shift_conv_params params;
    lpn_dims input, filter, output;
} shift_conv_data_t;

static lpn_rt_status_t prepare(lpn_runtime_t *rt, lpn_op_t *op) {
    lpn_custom_options_t o;
    if (lpn_custom_options(rt, op, LPN_CUSTOM_SHIFT_CONV_2D, &o)) {
        return rt->error.status;
    }
    const lpn_tensor_t *x = lpn_op_input(rt, op, 0), *y = lpn_op_output(rt, op, 0);
    const lpn_dims in = lpn_nhwc(x), out = lpn_nhwc(y);
    const lpn_dims fd = {o.filter_shape[0], o.filter_shape[1], o.filter_shape[2], o.filter_shape[3]};
    const uint64_t count = (uint64_t)fd.n * (uint64_t)fd.h * (uint64_t)fd.w * (uint64_t)fd.c;
    if (lpn_check_tensor(rt, op, x, lpn_is_int8_per_tensor(x) && x->rank == 4 && in.c == fd.c, fd.c) ||
        lpn_check_tensor(rt, op, y, lpn_is_int8_per_tensor(y) && y->rank == 4 && out.c == fd.n, fd.n) ||
        lpn_check_shift_params(rt, op, &o, count, fd.n)) {
        return rt->error.status;
    }
    shift_conv_data_t local;
    shift_conv_data_t *d = lpn_persistent_alloc(rt, (uint32_t)sizeof(shift_conv_data_t));
    if (d == 0) {
        d = &local;
    }
    d->params.input_offset = -x->zero_point;
    d->params.output_offset = y->zero_point;
    d->params.exponent_bits = o.exponent_bits;
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
    const int32_t scratch = lpn_shift_conv_s8_get_buffer_size(&d->params, &in, &fd, &out);
    op->macs = (uint64_t)out.n * (uint64_t)out.h * (uint64_t)out.w * count; /* = outputs * KH * KW * I */
    return lpn_prepare_done(rt, op, y, scratch, d, &local);
}

static lpn_rt_status_t eval(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch) {
    const shift_conv_data_t *d = (const shift_conv_data_t *)op->data;
    const lpn_context ctx = {scratch, (int32_t)op->scratch_bytes};
    const lpn_shift_args_t a = lpn_shift_args(rt, op);
    return lpn_kernel_status(rt, op,
                             lpn_shift_conv_s8(&ctx, &d->params, &a.quant, &d->input,
                                               lpn_tensor_data(rt, lpn_op_input(rt, op, 0)), &d->filter,
                                               a.codes, a.bias, &d->output,
                                               lpn_tensor_data(rt, lpn_op_output(rt, op, 0))));
}

const lpn_kernel_t lpn_kernel_shift_conv_2d = {LPN_OP_CUSTOM, "LPN_SHIFT_CONV_2D", "LPN_SHIFT_CONV_2D", 1, 1,
                                                prepare, eval};
