/* CONV_2D adapter: Conv2DOptions + tensors -> lpn_conv_s8 (per-channel requantization, TFLite semantics). */
#include "op_common.h"

/* Conv2DOptions field ids. */
enum { PADDING = 0, STRIDE_W = 1, STRIDE_H = 2, ACTIVATION = 3, DILATION_W = 4, DILATION_H = 5 };

typedef struct {
    lpn_conv_params params;
    lpn_dims input, filter, output;
    int32_t *multiplier; /* [output channels] */
    int32_t *shift;
} conv_data_t;

static lpn_rt_status_t prepare(lpn_runtime_t *rt, lpn_op_t *op) {
    int present;
    uint8_t padding, act;
    int32_t stride_w, stride_h, dil_w, dil_h;
    if (lpn_check_arity(rt, op, 2, 3, 1, 0u) || lpn_options(rt, op, LPN_OPTIONS_CONV_2D, 0, &present)) {
        return rt->error.status;
    }
    const lpn_tensor_t *x = lpn_op_input(rt, op, 0), *w = lpn_op_input(rt, op, 1), *b = lpn_op_input(rt, op, 2);
    const lpn_tensor_t *y = lpn_op_output(rt, op, 0);
    if (lpn_fb_scalar_u8(rt, &op->options, PADDING, 0u, &padding) ||
        lpn_fb_scalar_i32(rt, &op->options, STRIDE_W, 0, &stride_w) ||
        lpn_fb_scalar_i32(rt, &op->options, STRIDE_H, 0, &stride_h) ||
        lpn_fb_scalar_u8(rt, &op->options, ACTIVATION, 0u, &act) ||
        lpn_fb_scalar_i32(rt, &op->options, DILATION_W, 1, &dil_w) ||
        lpn_fb_scalar_i32(rt, &op->options, DILATION_H, 1, &dil_h)) {
        return rt->error.status;
    }
    const lpn_dims in = lpn_nhwc(x), fd = lpn_nhwc(w), out = lpn_nhwc(y);
    const int32_t cout = fd.n;
    if (lpn_check_tensor(rt, op, x, lpn_is_int8_per_tensor(x) && x->rank == 4, 0) ||
        lpn_check_tensor(rt, op, y, lpn_is_int8_per_tensor(y) && y->rank == 4 && out.c == cout, 0) ||
        lpn_check_tensor(rt, op, w,
                         w->type == LPN_TYPE_INT8 && w->data != 0 && w->rank == 4 && w->zero_point == 0 &&
                             (w->n_scales == 1u || (w->n_scales == (uint32_t)cout && w->quantized_dimension == 0)) &&
                             in.c % fd.c == 0 && cout % (in.c / fd.c) == 0,
                         0) ||
        (b != 0 && lpn_check_tensor(rt, op, b,
                                    b->type == LPN_TYPE_INT32 && b->data != 0 &&
                                        lpn_tensor_elements(b) == (uint32_t)cout,
                                    0))) {
        return rt->error.status;
    }
    conv_data_t local;
    conv_data_t *d = lpn_persistent_alloc(rt, (uint32_t)sizeof(conv_data_t) + 8u * (uint32_t)cout);
    int32_t *mult = 0, *shift = 0;
    if (d != 0) {
        mult = (int32_t *)(void *)(d + 1);
        shift = mult + cout;
    } else {
        d = &local;
    }
    d->params.input_offset = -x->zero_point;
    d->params.output_offset = y->zero_point;
    d->params.stride.h = stride_h;
    d->params.stride.w = stride_w;
    d->params.dilation.h = dil_h;
    d->params.dilation.w = dil_w;
    if (lpn_window(rt, op, padding, stride_h, stride_w, dil_h, dil_w, &in, fd.h, fd.w, &out, &d->params.padding) ||
        lpn_activation_range(rt, op, act, y, &d->params.activation)) {
        return rt->error.status;
    }
    if (lpn_per_channel_multipliers(rt, op, x, w, y, cout, mult, shift)) {
        return rt->error.status;
    }
    d->multiplier = mult;
    d->shift = shift;
    d->input = in;
    d->filter = fd;
    d->output = out;
    const int32_t scratch = lpn_conv_s8_get_buffer_size(&d->params, &in, &fd, &out);
    op->macs = (uint64_t)out.n * (uint64_t)out.h * (uint64_t)out.w * (uint64_t)cout * (uint64_t)fd.h *
               (uint64_t)fd.w * (uint64_t)fd.c;
    return lpn_prepare_done(rt, op, y, scratch, d, &local);
}

static lpn_rt_status_t eval(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch) {
    const conv_data_t *d = (const conv_data_t *)op->data;
    const lpn_tensor_t *b = lpn_op_input(rt, op, 2);
    const lpn_context ctx = {scratch, (int32_t)op->scratch_bytes};
    const lpn_per_channel_quant quant = {d->multiplier, d->shift};
    return lpn_kernel_status(
        rt, op,
        lpn_conv_s8(&ctx, &d->params, &quant, &d->input, lpn_tensor_data(rt, lpn_op_input(rt, op, 0)), &d->filter,
                    lpn_tensor_data(rt, lpn_op_input(rt, op, 1)), b != 0 ? lpn_tensor_data(rt, b) : 0, &d->output,
                    lpn_tensor_data(rt, lpn_op_output(rt, op, 0))));
}

const lpn_kernel_t lpn_kernel_conv_2d = {LPN_OP_CONV_2D, 0, "CONV_2D", 1, 8, prepare, eval};
