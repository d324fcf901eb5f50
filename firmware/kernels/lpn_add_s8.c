/* ADD int8: TFLite's reference_integer_ops::Add / BroadcastAdd4DSlow (reference C). */
#include "lpn/fixed_point.h"
#include "lpn/kernels.h"
#include "lpn_kernel_util.h"

int32_t lpn_add_s8_get_buffer_size(const lpn_dims *output_dims) {
    (void)output_dims;
    return 0;
}

static int32_t lpn_add_one(const lpn_add_params *p, int32_t a, int32_t b) {
    const int32_t shifted1 = lpn_shift_left_wrap(a + p->input1_offset, p->left_shift);
    const int32_t shifted2 = lpn_shift_left_wrap(b + p->input2_offset, p->left_shift);
    const int32_t scaled1 =
        lpn_multiply_by_quantized_multiplier_smaller_than_one(shifted1, p->input1_multiplier, p->input1_shift);
    const int32_t scaled2 =
        lpn_multiply_by_quantized_multiplier_smaller_than_one(shifted2, p->input2_multiplier, p->input2_shift);
    const int32_t raw = lpn_multiply_by_quantized_multiplier_smaller_than_one(scaled1 + scaled2, p->output_multiplier,
                                                                              p->output_shift) +
                        p->output_offset;
    return lpn_clamp(raw, p->activation.min, p->activation.max);
}

static int lpn_broadcastable(const lpn_dims *in, const lpn_dims *out) {
    return (in->n == out->n || in->n == 1) && (in->h == out->h || in->h == 1) && (in->w == out->w || in->w == 1) &&
           (in->c == out->c || in->c == 1);
}

static int lpn_same_dims(const lpn_dims *a, const lpn_dims *b) {
    return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c;
}

/* Flat index into a broadcast input for output coordinates (n, h, w, c). */
static int32_t lpn_broadcast_index(const lpn_dims *d, int32_t n, int32_t h, int32_t w, int32_t c) {
    const int32_t bn = d->n == 1 ? 0 : n, bh = d->h == 1 ? 0 : h, bw = d->w == 1 ? 0 : w, bc = d->c == 1 ? 0 : c;
    return ((bn * d->h + bh) * d->w + bw) * d->c + bc;
}

lpn_status lpn_add_s8(const lpn_add_params *params, const lpn_dims *input1_dims, const int8_t *input1,
                      const lpn_dims *input2_dims, const int8_t *input2, const lpn_dims *output_dims,
                      int8_t *output) {
    if (params == 0 || input1 == 0 || input2 == 0 || output == 0) {
        return LPN_ERR_ARGUMENT;
    }
    if (!lpn_activation_ok(&params->activation) || params->left_shift < 0 || params->left_shift > 30 ||
        params->input1_shift > 0 || params->input2_shift > 0 || params->output_shift > 0 ||
        params->input1_shift < -31 || params->input2_shift < -31 || params->output_shift < -31) {
        return LPN_ERR_ARGUMENT;
    }
    if (!lpn_dims_ok(input1_dims) || !lpn_dims_ok(input2_dims) || !lpn_dims_ok(output_dims) ||
        !lpn_broadcastable(input1_dims, output_dims) || !lpn_broadcastable(input2_dims, output_dims)) {
        return LPN_ERR_SHAPE;
    }
    if (lpn_same_dims(input1_dims, output_dims) && lpn_same_dims(input2_dims, output_dims)) {
        const int32_t count = lpn_dims_count(output_dims);
        for (int32_t i = 0; i < count; ++i) {
            output[i] = (int8_t)lpn_add_one(params, input1[i], input2[i]);
        }
        return LPN_OK;
    }
    int32_t out_index = 0;
    for (int32_t n = 0; n < output_dims->n; ++n) {
        for (int32_t h = 0; h < output_dims->h; ++h) {
            for (int32_t w = 0; w < output_dims->w; ++w) {
                for (int32_t c = 0; c < output_dims->c; ++c) {
                    const int32_t a = input1[lpn_broadcast_index(input1_dims, n, h, w, c)];
                    const int32_t b = input2[lpn_broadcast_index(input2_dims, n, h, w, c)];
                    output[out_index++] = (int8_t)lpn_add_one(params, a, b);
                }
            }
        }
    }
    return LPN_OK;
}
