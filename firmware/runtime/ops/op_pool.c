/* AVERAGE_POOL_2D and MAX_POOL_2D adapters: Pool2DOptions + tensors -> lpn_avg_pool_s8 / lpn_max_pool_s8. */
#include "op_common.h"

/* Pool2DOptions field ids. */
enum { PADDING = 0, STRIDE_W = 1, STRIDE_H = 2, FILTER_W = 3, FILTER_H = 4, ACTIVATION = 5 };

typedef struct {
    lpn_pool_params params;
    lpn_dims input, filter, output;
} pool_data_t;

static lpn_rt_status_t prepare(lpn_runtime_t *rt, lpn_op_t *op, int is_max) {
    int present;
    uint8_t padding, act;
    int32_t stride_w, stride_h, filter_w, filter_h;
    if (lpn_check_arity(rt, op, 1, 1, 1, 0u) || lpn_options(rt, op, LPN_OPTIONS_POOL_2D, 0, &present) ||
        lpn_fb_scalar_u8(rt, &op->options, PADDING, 0u, &padding) ||
        lpn_fb_scalar_i32(rt, &op->options, STRIDE_W, 0, &stride_w) ||
        lpn_fb_scalar_i32(rt, &op->options, STRIDE_H, 0, &stride_h) ||
        lpn_fb_scalar_i32(rt, &op->options, FILTER_W, 0, &filter_w) ||
        lpn_fb_scalar_i32(rt, &op->options, FILTER_H, 0, &filter_h) ||
        lpn_fb_scalar_u8(rt, &op->options, ACTIVATION, 0u, &act)) {
        return rt->error.status;
    }
    const lpn_tensor_t *x = lpn_op_input(rt, op, 0), *y = lpn_op_output(rt, op, 0);
    const lpn_dims in = lpn_nhwc(x), out = lpn_nhwc(y);
    /* Pools do not requantize: input and output share scale and zero point. */
    if (lpn_check_tensor(rt, op, x, lpn_is_int8_per_tensor(x) && x->rank == 4, 0) ||
        lpn_check_tensor(rt, op, y,
                         lpn_is_int8_per_tensor(y) && y->rank == 4 && out.c == in.c &&
                             y->zero_point == x->zero_point &&
                             lpn_tensor_scale(rt, y, 0u) == lpn_tensor_scale(rt, x, 0u),
                         0)) {
        return rt->error.status;
    }
    if (filter_w < 1 || filter_h < 1) {
        return lpn_fail(rt, LPN_RT_ERR_OP_OPTIONS, op->options.pos, (int32_t)(op - rt->ops), -1,
                        filter_w < 1 ? filter_w : filter_h);
    }
    pool_data_t local;
    pool_data_t *d = lpn_persistent_alloc(rt, (uint32_t)sizeof(pool_data_t));
    if (d == 0) {
        d = &local;
    }
    d->params.stride.h = stride_h;
    d->params.stride.w = stride_w;
    if (lpn_window(rt, op, padding, stride_h, stride_w, 1, 1, &in, filter_h, filter_w, &out, &d->params.padding) ||
        lpn_activation_range(rt, op, act, y, &d->params.activation)) {
        return rt->error.status;
    }
    d->input = in;
    d->filter = (lpn_dims){1, filter_h, filter_w, 1};
    d->output = out;
    const int32_t scratch =
        is_max ? lpn_max_pool_s8_get_buffer_size(&in, &out) : lpn_avg_pool_s8_get_buffer_size(&in, &out);
    return lpn_prepare_done(rt, op, y, scratch, d, &local);
}

static lpn_rt_status_t prepare_avg(lpn_runtime_t *rt, lpn_op_t *op) { return prepare(rt, op, 0); }

static lpn_rt_status_t prepare_max(lpn_runtime_t *rt, lpn_op_t *op) { return prepare(rt, op, 1); }

static lpn_rt_status_t eval_avg(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch) {
    const pool_data_t *d = (const pool_data_t *)op->data;
    const lpn_context ctx = {scratch, (int32_t)op->scratch_bytes};
    return lpn_kernel_status(rt, op,
                             lpn_avg_pool_s8(&ctx, &d->params, &d->input, lpn_tensor_data(rt, lpn_op_input(rt, op, 0)),
                                             &d->filter, &d->output, lpn_tensor_data(rt, lpn_op_output(rt, op, 0))));
}

static lpn_rt_status_t eval_max(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch) {
    const pool_data_t *d = (const pool_data_t *)op->data;
    const lpn_context ctx = {scratch, (int32_t)op->scratch_bytes};
    return lpn_kernel_status(rt, op,
                             lpn_max_pool_s8(&ctx, &d->params, &d->input, lpn_tensor_data(rt, lpn_op_input(rt, op, 0)),
                                             &d->filter, &d->output, lpn_tensor_data(rt, lpn_op_output(rt, op, 0))));
}

const lpn_kernel_t lpn_kernel_average_pool_2d = {LPN_OP_AVERAGE_POOL_2D, 0, "AVERAGE_POOL_2D", 1, 8, prepare_avg,
                                                  eval_avg};
const lpn_kernel_t lpn_kernel_max_pool_2d = {LPN_OP_MAX_POOL_2D, 0, "MAX_POOL_2D", 1, 8, prepare_max, eval_max};
