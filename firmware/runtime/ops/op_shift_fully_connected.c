/* LPN_SHIFT_FULLY_CONNECTED adapter (docs/custom-ops.md) -> lpn_shift_fully_connected_s8. */
#include "op_lpn_common.h"

typedef struct {
    lpn_shift_fc_params params;
    lpn_dims input, filter, output;
    int32_t grid;
} shift_fc_data_t;

static lpn_rt_status_t prepare(lpn_runtime_t *rt, lpn_op_t *op) {
    lpn_custom_options_t o;
    if (lpn_custom_options(rt, op, LPN_CUSTOM_SHIFT_FULLY_CONNECTED, &o)) {
        return rt->error.status;
    }
    const lpn_tensor_t *x = lpn_op_input(rt, op, 0), *y = lpn_op_output(rt, op, 0);
    const int32_t units = o.filter_shape[0], depth = o.filter_shape[1];
    const uint32_t x_elems = lpn_tensor_elements(x);
    const uint64_t count = (uint64_t)units * (uint64_t)depth;
    if (lpn_check_tensor(rt, op, x, lpn_is_int8_per_tensor(x) && x_elems % (uint32_t)depth == 0u, depth) ||
        lpn_check_tensor(rt, op, y,
                         lpn_is_int8_per_tensor(y) && y->rank >= 1 && y->dims[y->rank - 1] == units &&
                             lpn_tensor_elements(y) == x_elems / (uint32_t)depth * (uint32_t)units,
                         units) ||
        lpn_check_shift_params(rt, op, &o, count, units)) {
        return rt->error.status;
    }
    const int32_t batches = (int32_t)(x_elems / (uint32_t)depth);
    shift_fc_data_t local;
    shift_fc_data_t *d = lpn_persistent_alloc(rt, (uint32_t)sizeof(shift_fc_data_t));
    if (d == 0) {
        d = &local;
    }
    d->params.input_offset = -x->zero_point;
    d->params.output_offset = y->zero_point;
    d->params.exponent_bits = o.exponent_bits;
    d->grid = o.grid;
    d->params.activation.min = o.act_min;
    d->params.activation.max = o.act_max;
    d->input = (lpn_dims){batches, 1, 1, depth};
    d->filter = (lpn_dims){units, 1, 1, depth};
    d->output = (lpn_dims){batches, 1, 1, units};
    const int32_t scratch = lpn_shift_fully_connected_s8_get_buffer_size(&d->filter);
    op->macs = (uint64_t)batches * count;
    return lpn_prepare_done(rt, op, y, scratch, d, &local);
}

static lpn_rt_status_t eval(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch) {
    const shift_fc_data_t *d = (const shift_fc_data_t *)op->data;
    const lpn_shift_args_t a = lpn_shift_args(rt, op, d->grid, scratch);
    return lpn_kernel_status(rt, op,
                             lpn_shift_fully_connected_s8(&a.ctx, &d->params, &a.quant, &d->input, a.input, &d->filter,
                                                          a.codes, a.bias, &d->output, a.output));
}

const lpn_kernel_t lpn_kernel_shift_fully_connected = {
    LPN_OP_CUSTOM, "LPN_SHIFT_FULLY_CONNECTED", "LPN_SHIFT_FULLY_CONNECTED", 1, 1, prepare, eval};
