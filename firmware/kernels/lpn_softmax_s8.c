/*
 * SOFTMAX int8 -> int8: TFLite's reference_ops::Softmax for quantized types, i.e. gemmlowp's fixed-point
 * exp_on_negative_values (Q5.26 in, Q0.31 out), sums in Q12.19 and a Newton-Raphson reciprocal
 * (one_over_one_plus_x_for_x_in_0_1). Raw int32 arithmetic; the Qm.n comments give the formats.
 */
#include "lpn/fixed_point.h"
#include "lpn/kernels.h"
#include "lpn_kernel_util.h"

enum { LPN_SOFTMAX_DIFF_INT_BITS = 5, LPN_SOFTMAX_ACCUM_INT_BITS = 12 };

int32_t lpn_softmax_s8_get_buffer_size(int32_t row_size) {
    (void)row_size;
    return 0;
}

/* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent: saturating x * 2^exponent. */
static int32_t lpn_sat_shift_left(int32_t x, int32_t exponent) {
    const int32_t threshold = (int32_t)(((uint32_t)1 << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return lpn_shift_left_wrap(x, exponent);
}

/* Q0.31 product (gemmlowp FixedPoint operator*). */
static int32_t lpn_q_mul(int32_t a, int32_t b) {
    return lpn_sat_rounding_doubling_high_mul(a, b);
}

/* exp(a) for a in [-1/4, 0), a and result in Q0.31: Taylor series around -1/8. */
static int32_t lpn_exp_on_interval_quarter(int32_t a) {
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0.31 */
    const int32_t x = a + (1 << 28);                 /* a + 1/8 */
    const int32_t x2 = lpn_q_mul(x, x);
    const int32_t x3 = lpn_q_mul(x2, x);
    const int32_t x4 = lpn_q_mul(x2, x2);
    const int32_t x4_over_4 = lpn_rounding_divide_by_pot(x4, 2);
    const int32_t poly = lpn_rounding_divide_by_pot(lpn_q_mul(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + lpn_q_mul(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0 in Q5.26, result in Q0.31 (gemmlowp exp_on_negative_values with 5 integer bits). */
static int32_t lpn_exp_on_negative_values(int32_t a) {
    static const int32_t multipliers[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1)   */
        290630308,  /* exp(-2)   */
        39332535,   /* exp(-4)   */
        720401,     /* exp(-8)   */
        242         /* exp(-16)  */
    };
    const int32_t frac_bits = 31 - LPN_SOFTMAX_DIFF_INT_BITS;
    const int32_t one_quarter = 1 << (frac_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_quarter = (a & mask) - one_quarter;
    int32_t result = lpn_exp_on_interval_quarter(lpn_sat_shift_left(a_mod_quarter_minus_quarter, LPN_SOFTMAX_DIFF_INT_BITS));
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    for (int32_t i = 0; i < 7; ++i) {
        if ((remainder & (int32_t)((uint32_t)1 << (frac_bits - 2 + i))) != 0) {
            result = lpn_q_mul(result, multipliers[i]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + x) for x in [0, 1), x in Q0.31, result in Q0.31 (Newton-Raphson in Q2.29). */
static int32_t lpn_one_over_one_plus_x(int32_t x) {
    const int64_t sum = (int64_t)x + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2); /* RoundingHalfSum(x, 1) */
    const int32_t c48_over_17 = 1515870810;     /* 48/17 in Q2.29 */
    const int32_t c_neg32_over_17 = -1010580540; /* -32/17 in Q2.29 */
    const int32_t one_q2 = 1 << 29;
    int32_t r = c48_over_17 + lpn_q_mul(half_denominator, c_neg32_over_17);
    for (int32_t i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_r = lpn_q_mul(half_denominator, r);
        const int32_t one_minus = one_q2 - half_denominator_times_r;
        r = r + lpn_sat_shift_left(lpn_q_mul(r, one_minus), 2);
    }
    return lpn_sat_shift_left(r, 1);
}

static int32_t lpn_count_leading_zeros(uint32_t x) {
    int32_t n = 0;
    if (x == 0u) {
        return 32;
    }
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        ++n;
    }
    return n;
}

lpn_status lpn_softmax_s8(const lpn_softmax_params *params, int32_t num_rows, int32_t row_size, const int8_t *input,
                          int8_t *output) {
    if (params == 0 || input == 0 || output == 0) {
        return LPN_ERR_ARGUMENT;
    }
    if (num_rows < 1 || row_size < 1 || (int64_t)num_rows * row_size > INT32_MAX || params->input_left_shift < 0 ||
        params->input_left_shift > 31 || params->diff_min > 0) {
        return LPN_ERR_ARGUMENT;
    }
    for (int32_t r = 0; r < num_rows; ++r) {
        const int8_t *in = input + r * row_size;
        int8_t *out = output + r * row_size;
        int32_t max = -128;
        for (int32_t c = 0; c < row_size; ++c) {
            max = in[c] > max ? in[c] : max;
        }
        int32_t sum_of_exps = 0; /* Q12.19 */
        for (int32_t c = 0; c < row_size; ++c) {
            const int32_t diff = in[c] - max;
            if (diff >= params->diff_min) {
                const int32_t scaled = lpn_multiply_by_quantized_multiplier_greater_than_one(
                    diff, params->input_multiplier, params->input_left_shift);
                sum_of_exps += lpn_rounding_divide_by_pot(lpn_exp_on_negative_values(scaled), LPN_SOFTMAX_ACCUM_INT_BITS);
            }
        }
        /* GetReciprocal(sum_of_exps, 12): 1 / sum as a Q0.31 scale and a power-of-two exponent. */
        const int32_t headroom_plus_one = lpn_count_leading_zeros((uint32_t)sum_of_exps);
        const int32_t num_bits_over_unit = LPN_SOFTMAX_ACCUM_INT_BITS - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31));
        const int32_t shifted_scale = lpn_one_over_one_plus_x(shifted_sum_minus_one);
        for (int32_t c = 0; c < row_size; ++c) {
            const int32_t diff = in[c] - max;
            int32_t value = -128;
            if (diff >= params->diff_min) {
                const int32_t scaled = lpn_multiply_by_quantized_multiplier_greater_than_one(
                    diff, params->input_multiplier, params->input_left_shift);
                const int32_t exp_q0 = lpn_exp_on_negative_values(scaled);
                /* The exponent exceeds 31 only for rows of more than 512 near-equal values (TFLite then shifts
                 * by an out-of-range amount); 31 gives the mathematically expected 0 there. */
                const int32_t exponent = num_bits_over_unit + 31 - 8 < 31 ? num_bits_over_unit + 31 - 8 : 31;
                const int32_t unsat = lpn_rounding_divide_by_pot(lpn_q_mul(shifted_scale, exp_q0), exponent);
                value = lpn_clamp(unsat - 128, -128, 127);
            }
            out[c] = (int8_t)value;
        }
    }
    return LPN_OK;
}
