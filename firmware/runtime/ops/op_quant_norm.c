/* LPN_QUANT_NORM adapter (docs/custom-ops.md): per-channel integer affine map -> lpn_quant_norm_s8. */
#include "op_lpn_common.h"

typedef struct {
    lpn_quant_norm_params params;
    lpn_dims dims;
    int32_t grid;
} quant_norm_data_t;

static lpn_rt_status_t prepare(lpn_runtime_t *rt, lpn_op_t *op) {
    lpn_custom_options_t o;
    if (lpn_custom_options(rt, op, LPN_CUSTOM_QUANT_NORM, &o)) {
        return rt->error.status;
    }
    const lpn_tensor_t *x = lpn_op_input(rt, op, 0), *bias = lpn_op_input(rt, op, 1);
    const lpn_tensor_t *mantissa = lpn_op_input(rt, op, 2), *shift = lpn_op_input(rt, op, 3);
    const lpn_tensor_t *y = lpn_op_output(rt, op, 0);
    const int32_t channels = x->rank >= 1 ? x->dims[x->rank - 1] : 1;
    if (lpn_check_tensor(rt, op, x, lpn_is_int8_per_tensor(x) && x->rank >= 1 && x->rank <= 4, 0) ||
        lpn_check_tensor(rt, op, y, lpn_is_int8_per_tensor(y) && y->bytes == x->bytes &&
                                        y->rank >= 1 && y->dims[y->rank - 1] == channels, channels) ||
        lpn_check_bias(rt, op, bias, channels) ||
        lpn_check_shift_quant(rt, op, mantissa, shift, channels, o.mantissa_bits)) {
        return rt->error.status;
    }
    quant_norm_data_t local;
    quant_norm_data_t *d = lpn_persistent_alloc(rt, (uint32_t)sizeof(quant_norm_data_t));
    if (d == 0) {
        d = &local;
    }
    d->params.input_offset = -x->zero_point;
    d->params.output_offset = y->zero_point;
    d->params.activation.min = o.act_min;
    d->params.activation.max = o.act_max;
    d->dims = lpn_nhwc(x);
    d->grid = o.grid;
    const int32_t scratch = lpn_quant_norm_s8_get_buffer_size(&d->dims);
    return lpn_prepare_done(rt, op, y, scratch, d, &local);
}

static lpn_rt_status_t eval(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch) {
    const quant_norm_data_t *d = (const quant_norm_data_t *)op->data;
    const lpn_shift_quant quant = {lpn_tensor_data(rt, lpn_op_input(rt, op, 2)),
                                   lpn_tensor_data(rt, lpn_op_input(rt, op, 3)), d->grid};
    (void)scratch;
    return lpn_kernel_status(rt, op,
                             lpn_quant_norm_s8(&d->params, &quant, &d->dims, lpn_tensor_data(rt, lpn_op_input(rt, op, 0)),
                                               lpn_tensor_data(rt, lpn_op_input(rt, op, 1)),
                                               lpn_tensor_data(rt, lpn_op_output(rt, op, 0))));
}

const lpn_kernel_t lpn_kernel_quant_norm = {LPN_OP_CUSTOM, "LPN_QUANT_NORM", "LPN_QUANT_NORM", 1, 1, prepare, eval};
