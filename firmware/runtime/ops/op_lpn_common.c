/* Shared by the LPN custom-op adapters: see op_lpn_common.h. */
#include "op_lpn_common.h"

#include "../flexbuffer.h"

static int32_t index_of(const lpn_runtime_t *rt, const lpn_op_t *op) { return (int32_t)(op - rt->ops); }

static lpn_rt_status_t options_error(lpn_runtime_t *rt, const lpn_op_t *op, uint32_t at, int64_t detail) {
    return lpn_fail(rt, LPN_RT_ERR_OP_OPTIONS, op->custom_pos + at, index_of(rt, op), -1, detail);
}

/* One required integer option within [lo, hi]. */
static lpn_rt_status_t int_option(lpn_runtime_t *rt, const lpn_op_t *op, lpn_flex_map_t *map, const char *key,
                                  int64_t lo, int64_t hi, int32_t *out) {
    int64_t v = 0;
    const lpn_flex_result r = lpn_flex_int(map, key, &v);
    if (r != LPN_FLEX_OK || v < lo || v > hi) {
        return options_error(rt, op, r == LPN_FLEX_BAD ? map->bad_at : 0u, r == LPN_FLEX_OK ? v : -(int64_t)r);
    }
    *out = (int32_t)v;
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_custom_options(lpn_runtime_t *rt, const lpn_op_t *op, uint32_t groups, uint32_t filter_rank,
                                   lpn_custom_options_t *o) {
    lpn_flex_map_t map;
    int32_t version;
    const lpn_custom_options_t none = {0, 0, 0, 0, 0, 0, 0, 0, {0, 0, 0, 0}, 0u};
    *o = none;
    if (op->custom_bytes == 0u || lpn_flex_root_map(rt->model + op->custom_pos, op->custom_bytes, &map)) {
        return options_error(rt, op, op->custom_bytes == 0u ? 0u : map.bad_at, (int64_t)op->custom_bytes);
    }
    if (int_option(rt, op, &map, "version", 1, 1, &version) ||
        int_option(rt, op, &map, "act_min", -128, 127, &o->act_min) ||
        int_option(rt, op, &map, "act_max", o->act_min, 127, &o->act_max) ||
        int_option(rt, op, &map, "mantissa_bits", 2, 16, &o->mantissa_bits)) {
        return rt->error.status;
    }
    if ((groups & LPN_OPTS_SHIFT) != 0u) {
        if (int_option(rt, op, &map, "exponent_bits", 0, LPN_SHIFT_MAX_EXPONENT_BITS, &o->exponent_bits)) {
            return rt->error.status;
        }
        const lpn_flex_result r = lpn_flex_int_vector(&map, "filter_shape", o->filter_shape, 4u, &o->filter_rank);
        if (r != LPN_FLEX_OK || o->filter_rank != filter_rank) {
            return options_error(rt, op, r == LPN_FLEX_BAD ? map.bad_at : 0u, (int64_t)o->filter_rank);
        }
        for (uint32_t d = 0; d < filter_rank; ++d) {
            if (o->filter_shape[d] < 1 || o->filter_shape[d] > 0xffff) {
                return options_error(rt, op, 0u, o->filter_shape[d]);
            }
        }
    }
    if ((groups & LPN_OPTS_CONV) != 0u &&
        (int_option(rt, op, &map, "padding", 0, 1, &o->padding) ||
         int_option(rt, op, &map, "stride_h", 1, LPN_MAX_WINDOW, &o->stride_h) ||
         int_option(rt, op, &map, "stride_w", 1, LPN_MAX_WINDOW, &o->stride_w))) {
        return rt->error.status;
    }
    if ((groups & LPN_OPTS_DEPTHWISE) != 0u &&
        int_option(rt, op, &map, "depth_multiplier", 1, 0xffff, &o->depth_multiplier)) {
        return rt->error.status;
    }
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_check_shift_quant(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *mantissa,
                                      const lpn_tensor_t *shift, int32_t channels, int32_t mantissa_bits) {
    if (lpn_check_tensor(rt, op, mantissa,
                         mantissa->type == LPN_TYPE_INT16 && mantissa->data != 0 &&
                             lpn_tensor_elements(mantissa) == (uint32_t)channels,
                         channels) ||
        lpn_check_tensor(rt, op, shift,
                         shift->type == LPN_TYPE_INT8 && shift->data != 0 &&
                             lpn_tensor_elements(shift) == (uint32_t)channels,
                         channels)) {
        return rt->error.status;
    }
    const int32_t limit = (1 << (mantissa_bits - 1)) - 1;
    for (int32_t c = 0; c < channels; ++c) {
        const int32_t m = (int16_t)(uint16_t)(mantissa->data[2 * c] | (mantissa->data[2 * c + 1] << 8));
        const int32_t k = (int8_t)shift->data[c];
        if (m < -limit || m > limit || k < 0 || k > LPN_SHIFT_MAX_REQUANT_SHIFT) {
            const lpn_tensor_t *t = (m < -limit || m > limit) ? mantissa : shift;
            return lpn_fail(rt, LPN_RT_ERR_MULTIPLIER, (uint32_t)(t->data - rt->model), index_of(rt, op),
                            (int32_t)(t - rt->tensors), t == mantissa ? m : k);
        }
    }
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_check_codes(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *codes, uint32_t count,
                                int32_t exponent_bits) {
    const int32_t expected = count > 0x7fffffffu ? -1 : lpn_shift_codes_bytes((int32_t)count, exponent_bits);
    if (lpn_check_tensor(rt, op, codes,
                         codes->type == LPN_TYPE_UINT8 && codes->data != 0 && expected >= 0 &&
                             codes->bytes == (uint32_t)expected,
                         expected)) {
        return rt->error.status;
    }
    const uint32_t code_bits = 1u + (uint32_t)exponent_bits;
    for (uint32_t j = 0; j < codes->bytes; ++j) {
        const uint32_t byte = codes->data[j];
        int ok;
        if (code_bits <= 4u) {
            const uint32_t high_used = 2u * j + 1u < count; /* an odd count leaves the last high nibble 0 */
            ok = (byte & 0xfu) >> code_bits == 0u && (high_used ? (byte >> 4) >> code_bits == 0u : (byte >> 4) == 0u);
        } else {
            ok = byte >> code_bits == 0u;
        }
        if (!ok) {
            return lpn_fail(rt, LPN_RT_ERR_OP_TENSORS, (uint32_t)(codes->data + j - rt->model), index_of(rt, op),
                            (int32_t)(codes - rt->tensors), (int64_t)byte);
        }
    }
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_check_bias(lpn_runtime_t *rt, const lpn_op_t *op, const lpn_tensor_t *bias, int32_t channels) {
    if (bias == 0) {
        return LPN_RT_OK;
    }
    return lpn_check_tensor(rt, op, bias,
                            bias->type == LPN_TYPE_INT32 && bias->data != 0 &&
                                lpn_tensor_elements(bias) == (uint32_t)channels,
                            channels);
}
