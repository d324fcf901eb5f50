/* ADD adapter (int8): TFLite's OpData for quantized ADD (left_shift 20) -> lpn_add_s8 with broadcasting. */
#include "op_common.h"

/* AddOptions field ids. */
enum { ACTIVATION = 0 };

typedef struct {
    lpn_add_params params;
    lpn_dims input1, input2, output;
} add_data_t;

/* One output dimension is the broadcast of the two input dimensions. */
static int broadcast(int32_t a, int32_t b, int32_t out) {
    return (a == out || a == 1) && (b == out || b == 1) && (a == out || b == out);
}

static lpn_rt_status_t prepare(lpn_runtime_t *rt, lpn_op_t *op) {
    int present;
    uint8_t act = 0u;
    if (lpn_check_arity(rt, op, 2, 2, 1, 0u) || lpn_options(rt, op, LPN_OPTIONS_ADD, 1, &present) ||
        (present && lpn_fb_scalar_u8(rt, &op->options, ACTIVATION, 0u, &act))) {
        return rt->error.status;
    }
    const lpn_tensor_t *x1 = lpn_op_input(rt, op, 0), *x2 = lpn_op_input(rt, op, 1), *y = lpn_op_output(rt, op, 0);
    const lpn_dims d1 = lpn_nhwc(x1), d2 = lpn_nhwc(x2), out = lpn_nhwc(y);
    if (lpn_check_tensor(rt, op, x1, lpn_is_int8_per_tensor(x1) && x1->rank <= 4, 0) ||
        lpn_check_tensor(rt, op, x2, lpn_is_int8_per_tensor(x2) && x2->rank <= 4, 0) ||
        lpn_check_tensor(rt, op, y,
                         lpn_is_int8_per_tensor(y) && y->rank <= 4 && broadcast(d1.n, d2.n, out.n) &&
                             broadcast(d1.h, d2.h, out.h) && broadcast(d1.w, d2.w, out.w) &&
                             broadcast(d1.c, d2.c, out.c),
                         0)) {
        return rt->error.status;
    }
    add_data_t local;
    add_data_t *d = lpn_persistent_alloc(rt, (uint32_t)sizeof(add_data_t));
    if (d == 0) {
        d = &local;
    }
    const uint32_t s1 = lpn_tensor_scale(rt, x1, 0u), s2 = lpn_tensor_scale(rt, x2, 0u);
    const uint32_t sy = lpn_tensor_scale(rt, y, 0u);
    const uint32_t max_scale = s1 > s2 ? s1 : s2; /* positive float32: bit order is numeric order */
    lpn_add_params *p = &d->params;
    p->input1_offset = -x1->zero_point;
    p->input2_offset = -x2->zero_point;
    p->output_offset = y->zero_point;
    p->left_shift = 20;
    /* s_i / (2 * max) and (2 * max) / (2^20 * s_y), in TFLite's double arithmetic. */
    if (lpn_op_multiplier(rt, op, s1, LPN_FLOAT_ONE_BITS, max_scale, -1, &p->input1_multiplier, &p->input1_shift) ||
        lpn_op_multiplier(rt, op, s2, LPN_FLOAT_ONE_BITS, max_scale, -1, &p->input2_multiplier, &p->input2_shift) ||
        lpn_op_multiplier(rt, op, max_scale, LPN_FLOAT_ONE_BITS, sy, 1 - p->left_shift, &p->output_multiplier,
                          &p->output_shift) ||
        lpn_activation_range(rt, op, act, y, &p->activation)) {
        return rt->error.status;
    }
    if (p->input1_shift > 0 || p->input2_shift > 0 || p->output_shift > 0) { /* SmallerThanOneExp */
        return lpn_fail(rt, LPN_RT_ERR_MULTIPLIER, op->table_pos, (int32_t)(op - rt->ops), -1, p->output_shift);
    }
    d->input1 = d1;
    d->input2 = d2;
    d->output = out;
    const int32_t scratch = lpn_add_s8_get_buffer_size(&out);
    return lpn_prepare_done(rt, op, y, scratch, d, &local);
}

static lpn_rt_status_t eval(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch) {
    const add_data_t *d = (const add_data_t *)op->data;
    (void)scratch;
    return lpn_kernel_status(rt, op,
                             lpn_add_s8(&d->params, &d->input1, lpn_tensor_data(rt, lpn_op_input(rt, op, 0)),
                                        &d->input2, lpn_tensor_data(rt, lpn_op_input(rt, op, 1)), &d->output,
                                        lpn_tensor_data(rt, lpn_op_output(rt, op, 0))));
}

const lpn_kernel_t lpn_kernel_add = {LPN_OP_ADD, 0, "ADD", 1, 5, prepare, eval};
