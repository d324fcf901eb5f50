/* FULLY_CONNECTED adapter: FullyConnectedOptions + tensors -> lpn_fully_connected[_per_channel]_s8. */
#include "op_common.h"

/* FullyConnectedOptions field ids. */
enum { ACTIVATION = 0, WEIGHTS_FORMAT = 1 };

typedef struct {
    lpn_fc_params params;
    lpn_dims input, filter, output;
    lpn_per_tensor_quant quant; /* per-tensor filters */
    int32_t *multiplier;        /* [units], per-channel filters; NULL otherwise */
    int32_t *shift;
} fc_data_t;

static lpn_rt_status_t prepare(lpn_runtime_t *rt, lpn_op_t *op) {
    int present;
    uint8_t act, weights_format;
    if (lpn_check_arity(rt, op, 2, 3, 1, 0u) || lpn_options(rt, op, LPN_OPTIONS_FULLY_CONNECTED, 1, &present)) {
        return rt->error.status;
    }
    act = 0u;
    weights_format = 0u;
    if (present && (lpn_fb_scalar_u8(rt, &op->options, ACTIVATION, 0u, &act) ||
                    lpn_fb_scalar_u8(rt, &op->options, WEIGHTS_FORMAT, 0u, &weights_format))) {
        return rt->error.status;
    }
    if (weights_format != 0u) { /* only DEFAULT (no shuffled int8 weights) */
        return lpn_fail(rt, LPN_RT_ERR_OP_OPTIONS, op->options.pos, (int32_t)(op - rt->ops), -1, weights_format);
    }
    const lpn_tensor_t *x = lpn_op_input(rt, op, 0), *w = lpn_op_input(rt, op, 1), *b = lpn_op_input(rt, op, 2);
    const lpn_tensor_t *y = lpn_op_output(rt, op, 0);
    const int32_t units = w->dims[0], depth = w->rank == 2 ? w->dims[1] : 0;
    const uint32_t x_elems = lpn_tensor_elements(x);
    const int per_channel = w->n_scales > 1u;
    if (lpn_check_tensor(rt, op, w,
                         w->type == LPN_TYPE_INT8 && w->data != 0 && w->rank == 2 && w->n_scales >= 1u &&
                             (!per_channel || (w->n_scales == (uint32_t)units && w->quantized_dimension == 0)),
                         0) ||
        lpn_check_tensor(rt, op, x, lpn_is_int8_per_tensor(x) && x_elems % (uint32_t)depth == 0u, depth) ||
        lpn_check_tensor(rt, op, y,
                         lpn_is_int8_per_tensor(y) && y->rank >= 1 && y->dims[y->rank - 1] == units &&
                             lpn_tensor_elements(y) == x_elems / (uint32_t)depth * (uint32_t)units,
                         units) ||
        (b != 0 && lpn_check_tensor(rt, op, b,
                                    b->type == LPN_TYPE_INT32 && b->data != 0 &&
                                        lpn_tensor_elements(b) == (uint32_t)units,
                                    0))) {
        return rt->error.status;
    }
    const int32_t batches = (int32_t)(x_elems / (uint32_t)depth);
    fc_data_t local;
    fc_data_t *d = lpn_persistent_alloc(rt, (uint32_t)sizeof(fc_data_t) + (per_channel ? 8u * (uint32_t)units : 0u));
    int32_t *mult = 0, *shift = 0;
    if (d != 0 && per_channel) {
        mult = (int32_t *)(void *)(d + 1);
        shift = mult + units;
    }
    if (d == 0) {
        d = &local;
    }
    d->params.input_offset = -x->zero_point;
    d->params.filter_offset = -w->zero_point;
    d->params.output_offset = y->zero_point;
    if (lpn_activation_range(rt, op, act, y, &d->params.activation)) {
        return rt->error.status;
    }
    const uint32_t sx = lpn_tensor_scale(rt, x, 0u), sy = lpn_tensor_scale(rt, y, 0u);
    for (uint32_t c = 0; c < w->n_scales; ++c) {
        int32_t m, s;
        if (lpn_op_multiplier(rt, op, sx, lpn_tensor_scale(rt, w, c), sy, 0, &m, &s) != LPN_RT_OK) {
            return rt->error.status;
        }
        if (mult != 0) {
            mult[c] = m;
            shift[c] = s;
        }
        d->quant.multiplier = m;
        d->quant.shift = s;
    }
    d->multiplier = mult;
    d->shift = shift;
    d->input = (lpn_dims){batches, 1, 1, depth};
    d->filter = (lpn_dims){units, 1, 1, depth};
    d->output = (lpn_dims){batches, 1, 1, units};
    const int32_t scratch = per_channel ? lpn_fully_connected_per_channel_s8_get_buffer_size(&d->filter)
                                        : lpn_fully_connected_s8_get_buffer_size(&d->filter);
    op->macs = (uint64_t)batches * (uint64_t)units * (uint64_t)depth;
    return lpn_prepare_done(rt, op, y, scratch, d, &local);
}

static lpn_rt_status_t eval(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch) {
    const fc_data_t *d = (const fc_data_t *)op->data;
    const lpn_tensor_t *b = lpn_op_input(rt, op, 2);
    const lpn_context ctx = {scratch, (int32_t)op->scratch_bytes};
    const int8_t *x = lpn_tensor_data(rt, lpn_op_input(rt, op, 0));
    const int8_t *w = lpn_tensor_data(rt, lpn_op_input(rt, op, 1));
    const int32_t *bias = b != 0 ? lpn_tensor_data(rt, b) : 0;
    int8_t *y = lpn_tensor_data(rt, lpn_op_output(rt, op, 0));
    if (d->multiplier != 0) {
        const lpn_per_channel_quant quant = {d->multiplier, d->shift};
        return lpn_kernel_status(rt, op,
                                 lpn_fully_connected_per_channel_s8(&ctx, &d->params, &quant, &d->input, x, &d->filter,
                                                                    w, bias, &d->output, y));
    }
    return lpn_kernel_status(
        rt, op, lpn_fully_connected_s8(&ctx, &d->params, &d->quant, &d->input, x, &d->filter, w, bias, &d->output, y));
}

const lpn_kernel_t lpn_kernel_fully_connected = {LPN_OP_FULLY_CONNECTED, 0, "FULLY_CONNECTED", 1, 12, prepare, eval};
