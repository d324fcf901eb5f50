/* Shared helpers of the op adapters: see op_common.h. */
#include "op_common.h"

static int32_t op_index(const lpn_runtime_t *rt, const lpn_op_t *op) { return (int32_t)(op - rt->ops); }

lpn_rt_status_t lpn_check_arity(lpn_runtime_t *rt, const lpn_op_t *op, int32_t min_in, int32_t max_in,
                                int32_t n_out, uint32_t optional_mask) {
    if (op->n_inputs < min_in || op->n_inputs > max_in || op->n_outputs != n_out) {
        return lpn_fail(rt, LPN_RT_ERR_OP_ARITY, op->table_pos, op_index(rt, op), -1,
                        (int64_t)op->n_inputs * 100 + op->n_outputs);
    }
    for (int32_t i = 0; i < min_in; ++i) {
        if (op->inputs[i] < 0 && (optional_mask & (1u << i)) == 0u) { /* a required input marked absent */
            return lpn_fail(rt, LPN_RT_ERR_OP_ARITY, op->table_pos, op_index(rt, op), -1, i);
        }
    }
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_options(lpn_runtime_t *rt, const lpn_op_t *op, uint32_t tag, int optional, int *present) {
    *present = op->has_options && op->options_type == tag;
    if (*present || (optional && !op->has_options && op->options_type == 0u)) {
        return LPN_RT_OK;
    }
    return lpn_fail(rt, LPN_RT_ERR_OP_OPTIONS, op->table_pos, op_index(rt, op), -1, (int64_t)op->options_type);
}

lpn_rt_status_t lpn_check_tensor(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *t, int ok,
                                 int64_t detail) {
    if (ok) {
        return LPN_RT_OK;
    }
    return lpn_fail(rt, LPN_RT_ERR_OP_TENSORS, t->table_pos, op_index(rt, op), (int32_t)(t - rt->tensors), detail);
}

int lpn_is_int8_per_tensor(const lpn_tensor_t *t) { return t->type == LPN_TYPE_INT8 && t->n_scales == 1u; }

lpn_dims lpn_nhwc(const lpn_tensor_t *t) {
    int32_t d[4] = {1, 1, 1, 1};
    /* Adapters call this before their rank check: a rank > 4 tensor keeps its last four dims (and is then
     * refused by that check) instead of indexing d[] below 0 (found by firmware/fuzz). */
    for (int32_t i = t->rank > 4 ? t->rank - 4 : 0; i < t->rank; ++i) {
        d[4 - t->rank + i] = t->dims[i];
    }
    lpn_dims out = {d[0], d[1], d[2], d[3]};
    return out;
}

lpn_rt_status_t lpn_activation_range(lpn_runtime_t *rt, const lpn_op_t *op, int32_t act,
                                     const lpn_tensor_t *output, lpn_activation *range) {
    const uint32_t scale = lpn_tensor_scale(rt, output, 0u);
    const int64_t zp = output->zero_point;
    int32_t lo = 0, hi = 0;
    int64_t q_min = -128, q_max = 127;
    switch (act) {
    case 0: /* NONE */
        break;
    case 1: /* RELU */
        q_min = zp > q_min ? zp : q_min;
        break;
    case 2: /* RELU_N1_TO_1 */
        if (lpn_quantize_real(-1, scale, &lo) != LPN_RT_OK || lpn_quantize_real(1, scale, &hi) != LPN_RT_OK) {
            return lpn_fail(rt, LPN_RT_ERR_QUANTIZATION, output->table_pos, op_index(rt, op), -1, act);
        }
        q_min = zp + lo > q_min ? zp + lo : q_min;
        q_max = zp + hi < q_max ? zp + hi : q_max;
        break;
    case 3: /* RELU6 */
        if (lpn_quantize_real(6, scale, &hi) != LPN_RT_OK) {
            return lpn_fail(rt, LPN_RT_ERR_QUANTIZATION, output->table_pos, op_index(rt, op), -1, act);
        }
        q_min = zp > q_min ? zp : q_min;
        q_max = zp + hi < q_max ? zp + hi : q_max;
        break;
    default:
        return lpn_fail(rt, LPN_RT_ERR_OP_OPTIONS, op->table_pos, op_index(rt, op), -1, act);
    }
    if (q_min > q_max) {
        return lpn_fail(rt, LPN_RT_ERR_QUANTIZATION, output->table_pos, op_index(rt, op), -1, act);
    }
    range->min = (int32_t)q_min;
    range->max = (int32_t)q_max;
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_op_multiplier(lpn_runtime_t *rt, const lpn_op_t *op, uint32_t a, uint32_t b, uint32_t c,
                                  int32_t pow2, int32_t *multiplier, int32_t *shift) {
    lpn_rt_status_t s = lpn_quantize_multiplier(a, b, c, pow2, multiplier, shift);
    if (s != LPN_RT_OK || (*multiplier != 0 && (*shift < -31 || *shift > 30))) {
        return lpn_fail(rt, LPN_RT_ERR_MULTIPLIER, op->table_pos, op_index(rt, op), -1, *shift);
    }
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_per_channel_multipliers(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *x,
                                            const lpn_tensor_t *w, const lpn_tensor_t *y, int32_t channels,
                                            int32_t *multiplier, int32_t *shift) {
    const uint32_t sx = lpn_tensor_scale(rt, x, 0u), sy = lpn_tensor_scale(rt, y, 0u);
    for (int32_t c = 0; c < channels; ++c) {
        int32_t m, s;
        const uint32_t sw = lpn_tensor_scale(rt, w, w->n_scales == 1u ? 0u : (uint32_t)c);
        if (lpn_op_multiplier(rt, op, sx, sw, sy, 0, &m, &s) != LPN_RT_OK) {
            return rt->error.status;
        }
        if (multiplier != 0) {
            multiplier[c] = m;
            shift[c] = s;
        }
    }
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_prepare_done(lpn_runtime_t *rt, lpn_op_t *op, const lpn_tensor_t *y, int32_t scratch,
                                 void *data, const void *local) {
    if (lpn_check_tensor(rt, op, y, scratch >= 0, scratch)) {
        return rt->error.status;
    }
    op->scratch_bytes = (uint32_t)scratch;
    op->data = data == local ? 0 : data;
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_window(lpn_runtime_t *rt, const lpn_op_t *op, uint8_t padding, int32_t stride_h,
                           int32_t stride_w, int32_t dilation_h, int32_t dilation_w, const lpn_dims *in,
                           int32_t filter_h, int32_t filter_w, const lpn_dims *out, lpn_tile *pad) {
    /* TFLite Padding: SAME = 0, VALID = 1. The bounds keep (filter - 1) * dilation + 1 and every padding
     * computation far inside int32. */
    if (padding > 1u || stride_h < 1 || stride_w < 1 || dilation_h < 1 || dilation_w < 1 ||
        stride_h > LPN_MAX_WINDOW || stride_w > LPN_MAX_WINDOW || dilation_h > LPN_MAX_WINDOW ||
        dilation_w > LPN_MAX_WINDOW || filter_h > LPN_MAX_WINDOW || filter_w > LPN_MAX_WINDOW) {
        return lpn_fail(rt, LPN_RT_ERR_OP_OPTIONS, op->options.pos, op_index(rt, op), -1, padding);
    }
    const int32_t same = padding == 0u;
    const int32_t oh = lpn_compute_padding(in->h, filter_h, stride_h, dilation_h, same, &pad->h);
    const int32_t ow = lpn_compute_padding(in->w, filter_w, stride_w, dilation_w, same, &pad->w);
    if (oh != out->h || ow != out->w || out->n != in->n) {
        return lpn_fail(rt, LPN_RT_ERR_OP_TENSORS, op->table_pos, op_index(rt, op), op->outputs[0],
                        (int64_t)oh * 65536 + ow);
    }
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_kernel_status(lpn_runtime_t *rt, const lpn_op_t *op, lpn_status status) {
    if (status == LPN_OK) {
        return LPN_RT_OK;
    }
    return lpn_fail(rt, LPN_RT_ERR_KERNEL, op->table_pos, op_index(rt, op), -1, (int64_t)status);
}
