/* MEAN adapter (int8, over H and W of an NHWC tensor): picks TFLite's integer form -> lpn_mean_s8. */
#include "op_common.h"

/* ReducerOptions field ids. */
enum { KEEP_DIMS = 0 };

typedef struct {
    lpn_mean_params params;
    lpn_dims input, output;
} mean_data_t;

static lpn_rt_status_t prepare(lpn_runtime_t *rt, lpn_op_t *op) {
    int present;
    uint8_t keep_dims = 0u;
    if (lpn_check_arity(rt, op, 2, 2, 1, 0u) || lpn_options(rt, op, LPN_OPTIONS_REDUCER, 1, &present) ||
        (present && lpn_fb_scalar_u8(rt, &op->options, KEEP_DIMS, 0u, &keep_dims))) {
        return rt->error.status;
    }
    const lpn_tensor_t *x = lpn_op_input(rt, op, 0), *axis = lpn_op_input(rt, op, 1), *y = lpn_op_output(rt, op, 0);
    if (lpn_check_tensor(rt, op, x, lpn_is_int8_per_tensor(x) && x->rank == 4, 0) ||
        lpn_check_tensor(rt, op, axis,
                         axis->type == LPN_TYPE_INT32 && axis->data != 0 && lpn_tensor_elements(axis) == 2u, 0)) {
        return rt->error.status;
    }
    int32_t a[2];
    int32_t normalized[2];
    for (int32_t i = 0; i < 2; ++i) {
        a[i] = (int32_t)lpn_fb_u32(axis->data + 4 * i);
        normalized[i] = a[i] < 0 ? a[i] + 4 : a[i];
    }
    const int hw = (normalized[0] == 1 && normalized[1] == 2) || (normalized[0] == 2 && normalized[1] == 1);
    const lpn_dims in = lpn_nhwc(x);
    const int y_ok = keep_dims ? (y->rank == 4 && y->dims[0] == in.n && y->dims[1] == 1 && y->dims[2] == 1 &&
                                  y->dims[3] == in.c)
                               : (y->rank == 2 && y->dims[0] == in.n && y->dims[1] == in.c);
    if (lpn_check_tensor(rt, op, axis, hw, a[0]) || lpn_check_tensor(rt, op, y, lpn_is_int8_per_tensor(y) && y_ok, 0)) {
        return rt->error.status;
    }
    mean_data_t local;
    mean_data_t *d = lpn_persistent_alloc(rt, (uint32_t)sizeof(mean_data_t));
    if (d == 0) {
        d = &local;
    }
    const uint32_t sx = lpn_tensor_scale(rt, x, 0u), sy = lpn_tensor_scale(rt, y, 0u);
    /* LiteRT 2.3's reference MEAN and TFLite Micro both compute QuantizedMeanOrSum (1/count folded into
     * the multiplier) for every int8 MEAN, equal input/output quantization and keep_dims included
     * (golden cases in tests/test_kernels_golden.py; docs/integer-spec.md). */
    d->params.form = LPN_MEAN_FOLDED;
    d->params.input_offset = -x->zero_point;
    d->params.output_offset = y->zero_point;
    if (lpn_op_multiplier(rt, op, sx, LPN_FLOAT_ONE_BITS, sy, 0, &d->params.multiplier, &d->params.shift)) {
        return rt->error.status;
    }
    d->input = in;
    d->output = (lpn_dims){in.n, 1, 1, in.c};
    const int32_t scratch = lpn_mean_s8_get_buffer_size(&in);
    return lpn_prepare_done(rt, op, y, scratch, d, &local);
}

static lpn_rt_status_t eval(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch) {
    const mean_data_t *d = (const mean_data_t *)op->data;
    (void)scratch;
    return lpn_kernel_status(rt, op,
                             lpn_mean_s8(&d->params, &d->input, lpn_tensor_data(rt, lpn_op_input(rt, op, 0)),
                                         &d->output, lpn_tensor_data(rt, lpn_op_output(rt, op, 0))));
}

const lpn_kernel_t lpn_kernel_mean = {LPN_OP_MEAN, 0, "MEAN", 1, 8, prepare, eval};
