/*
 * ADD int8 optimized for Cortex-M4/M7/M33: bit-exact with firmware/kernels/lpn_add_s8.c (TFLite's
 * reference_integer_ops::Add).
 *
 * Equal shapes take a fast loop. The scaled input of each int8 value, MultiplyByQuantizedMultiplier-
 * SmallerThanOneExp((x + offset) << left_shift), depends on x only: two 256-entry tables (2 KB of stack)
 * are filled once per call with the reference's own function, so that part is exact by construction. The
 * output stage of each element then runs in a few instructions: SaturatingRoundingDoublingHighMul(raw, m)
 * is one SMMULR of 2 raw (floor((2 raw m + 2^31) / 2^32) equals gemmlowp's nudged, truncated quotient for
 * every raw m; the tables are checked to keep |raw| <= 2^29, so neither the doubling nor the saturating
 * case can occur), and RoundingDivideByPOT(x, r) is (x + 2^(r-1) - [x < 0]) >> r (arithmetic, floor; no
 * overflow for |x| <= 2^29). Everything else -- broadcasting, larger tables, the argument checks -- is the
 * portable kernel, compiled in below under another name.
 */
#include "lpn/fixed_point.h"
#include "lpn/kernels.h"
#include "lpn_cm_simd.h"
#include "lpn_kernel_util.h"

#define lpn_add_s8 lpn_add_s8_portable
#define lpn_add_s8_get_buffer_size lpn_add_s8_portable_buffer_size
#include "../lpn_add_s8.c"
#undef lpn_add_s8
#undef lpn_add_s8_get_buffer_size

int32_t lpn_add_s8_get_buffer_size(const lpn_dims *output_dims) {
    (void)output_dims;
    return 0;
}

/* RoundingDivideByPOT(x, r) for |x| <= 2^30: x + half + (x >> 31 & neg_mask), shifted right by r, with
 * half = 2^(r-1) and neg_mask = -1 for r >= 1, both 0 for r = 0. */
typedef struct {
    int32_t r, half, neg_mask;
} lpn_add_divide;

static inline lpn_add_divide lpn_add_divider(int32_t shift) {
    const int32_t r = -shift;
    const lpn_add_divide d = {r, r > 0 ? (int32_t)(1u << (r - 1)) : 0, r > 0 ? -1 : 0};
    return d;
}

static inline int32_t lpn_add_divide_by_pot(int32_t x, lpn_add_divide d) {
    return (x + d.half + ((x >> 31) & d.neg_mask)) >> d.r;
}

/* Parameter and shape checks of the fast path (a subset of what the portable kernel accepts). */
static int lpn_add_fast(const lpn_add_params *p, const lpn_dims *d1, const int8_t *in1, const lpn_dims *d2,
                        const int8_t *in2, const lpn_dims *out, const int8_t *output) {
    return p != 0 && in1 != 0 && in2 != 0 && output != 0 && lpn_activation_ok(&p->activation) && p->left_shift >= 0 &&
           p->left_shift <= 30 && p->input1_shift <= 0 && p->input1_shift >= -31 && p->input2_shift <= 0 &&
           p->input2_shift >= -31 && p->output_shift <= 0 && p->output_shift >= -31 && lpn_dims_ok(out) &&
           lpn_dims_ok(d1) && lpn_dims_ok(d2) && lpn_same_dims(d1, out) && lpn_same_dims(d2, out);
}

/* table[x + 128] = the scaled value of int8 x; returns max |entry| (as uint32). */
static uint32_t lpn_add_table(int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift,
                              int32_t table[256]) {
    uint32_t largest = 0;
    for (int32_t x = -128; x < 128; ++x) {
        const int32_t v = lpn_multiply_by_quantized_multiplier_smaller_than_one(lpn_shift_left_wrap(x + offset, left_shift),
                                                                                multiplier, shift);
        const uint32_t magnitude = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
        largest = magnitude > largest ? magnitude : largest;
        table[x + 128] = v;
    }
    return largest;
}

lpn_status lpn_add_s8(const lpn_add_params *params, const lpn_dims *input1_dims, const int8_t *input1,
                      const lpn_dims *input2_dims, const int8_t *input2, const lpn_dims *output_dims,
                      int8_t *output) {
    int32_t table1[256], table2[256];
    if (!lpn_add_fast(params, input1_dims, input1, input2_dims, input2, output_dims, output) ||
        (uint64_t)lpn_add_table(params->input1_offset, params->left_shift, params->input1_multiplier,
                                params->input1_shift, table1) +
                lpn_add_table(params->input2_offset, params->left_shift, params->input2_multiplier,
                              params->input2_shift, table2) >
            ((uint64_t)1 << 29)) {
        return lpn_add_s8_portable(params, input1_dims, input1, input2_dims, input2, output_dims, output);
    }
    const int32_t mo = params->output_multiplier, out_off = params->output_offset;
    const lpn_add_divide ro = lpn_add_divider(params->output_shift);
    const int32_t lo = params->activation.min, hi = params->activation.max;
    const int32_t count = lpn_dims_count(output_dims);
    const int32_t *t1 = table1 + 128, *t2 = table2 + 128;
    for (int32_t i = 0; i < count; ++i) {
        const int32_t raw = t1[input1[i]] + t2[input2[i]];
        const int32_t y = lpn_add_divide_by_pot(lpn_cm_smmulr(raw * 2, mo), ro) + out_off;
        output[i] = (int8_t)lpn_clamp(y, lo, hi);
    }
    return LPN_OK;
}
