/* SOFTMAX adapter (int8 -> int8, output scale 1/256, zero point -128): TFLite's reference integer form. */
#include "op_common.h"

/* SoftmaxOptions field ids. */
enum { BETA = 0 };

/* float32 1/256, the only output scale TFLite accepts for int8 softmax. */
#define OUTPUT_SCALE_BITS 0x3b800000u
/* TFLite's kScaledDiffIntegerBits for int8 softmax. */
#define SCALED_DIFF_INTEGER_BITS 5

typedef struct {
    lpn_softmax_params params;
    int32_t rows, row_size;
} softmax_data_t;

static lpn_rt_status_t prepare(lpn_runtime_t *rt, lpn_op_t *op) {
    int present;
    uint32_t beta_pos;
    if (lpn_check_arity(rt, op, 1, 1, 1, 0u) || lpn_options(rt, op, LPN_OPTIONS_SOFTMAX, 0, &present) ||
        lpn_fb_field(rt, &op->options, BETA, 4u, &beta_pos)) {
        return rt->error.status;
    }
    const uint32_t beta = beta_pos != 0u ? lpn_fb_u32(rt->model + beta_pos) : 0u; /* schema default 0.0 */
    const lpn_tensor_t *x = lpn_op_input(rt, op, 0), *y = lpn_op_output(rt, op, 0);
    if (lpn_check_tensor(rt, op, x, lpn_is_int8_per_tensor(x) && x->rank >= 1, 0) ||
        lpn_check_tensor(rt, op, y,
                         lpn_is_int8_per_tensor(y) && y->bytes == x->bytes && y->zero_point == -128 &&
                             lpn_tensor_scale(rt, y, 0u) == OUTPUT_SCALE_BITS,
                         0)) {
        return rt->error.status;
    }
    const int32_t op_index = (int32_t)(op - rt->ops);
    /* beta must be a positive finite float32 */
    if (beta == 0u || (beta >> 31) != 0u || ((beta >> 23) & 0xffu) == 0xffu) {
        return lpn_fail(rt, LPN_RT_ERR_OP_OPTIONS, beta_pos != 0u ? beta_pos : op->options.pos, op_index, -1,
                        (int64_t)beta);
    }
    softmax_data_t local;
    softmax_data_t *d = lpn_persistent_alloc(rt, (uint32_t)sizeof(softmax_data_t));
    if (d == 0) {
        d = &local;
    }
    const uint32_t sx = lpn_tensor_scale(rt, x, 0u);
    /* PreprocessSoftmaxScaling: min(beta * input_scale * 2^(31 - 5), 2^31 - 1), then
     * QuantizeMultiplierGreaterThanOne (left shift >= 0). The clamp would give a left shift of 31, which
     * TFLite's fixed-point code cannot shift by: rejected like a too-small (negative shift) product. */
    if (lpn_scale_product_at_least(beta, sx, 31 - SCALED_DIFF_INTEGER_BITS, 0x7fffffffu)) {
        return lpn_fail(rt, LPN_RT_ERR_MULTIPLIER, x->table_pos, op_index, -1, 31);
    }
    int32_t multiplier, left_shift;
    if (lpn_op_multiplier(rt, op, beta, sx, LPN_FLOAT_ONE_BITS, 31 - SCALED_DIFF_INTEGER_BITS, &multiplier,
                          &left_shift)) {
        return rt->error.status;
    }
    if (left_shift < 0) {
        return lpn_fail(rt, LPN_RT_ERR_MULTIPLIER, x->table_pos, op_index, -1, left_shift);
    }
    d->params.input_multiplier = multiplier;
    d->params.input_left_shift = left_shift;
    /* -CalculateInputRadius(5, left_shift, 31) = -floor((2^5 - 1) * 2^26 / 2^left_shift) */
    d->params.diff_min = -(int32_t)((((uint32_t)1 << SCALED_DIFF_INTEGER_BITS) - 1u)
                                        << (31 - SCALED_DIFF_INTEGER_BITS) >> left_shift);
    d->row_size = x->dims[x->rank - 1];
    d->rows = (int32_t)(x->bytes / (uint32_t)d->row_size);
    const int32_t scratch = lpn_softmax_s8_get_buffer_size(d->row_size);
    return lpn_prepare_done(rt, op, y, scratch, d, &local);
}

static lpn_rt_status_t eval(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch) {
    const softmax_data_t *d = (const softmax_data_t *)op->data;
    (void)scratch;
    return lpn_kernel_status(rt, op,
                             lpn_softmax_s8(&d->params, d->rows, d->row_size,
                                            lpn_tensor_data(rt, lpn_op_input(rt, op, 0)),
                                            lpn_tensor_data(rt, lpn_op_output(rt, op, 0))));
}

const lpn_kernel_t lpn_kernel_softmax = {LPN_OP_SOFTMAX, 0, "SOFTMAX", 1, 3, prepare, eval};
