/*
 * Fixed-point requantization shared by every lpn kernel: TFLite's reference integer math
 * (tensorflow/lite/kernels/internal/common.h, gemmlowp fixedpoint), written once, in C99, with no
 * undefined behaviour (shifts of negative values go through unsigned arithmetic).
 *
 * A real multiplier M > 0 is stored as (multiplier, shift) with M = multiplier * 2^(shift - 31) and
 * multiplier in [2^30, 2^31): shift > 0 is a left shift, shift < 0 a right shift (TFLite convention).
 */
#ifndef LPN_FIXED_POINT_H
#define LPN_FIXED_POINT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* round(a * b / 2^31) with ties away from zero, saturated: gemmlowp's SaturatingRoundingDoublingHighMul. */
static inline int32_t lpn_sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    /* Division (not a shift): truncation toward zero, exactly as gemmlowp. */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31]:
 * gemmlowp's RoundingDivideByPOT. */
static inline int32_t lpn_rounding_divide_by_pot(int32_t x, int32_t exponent) {
    const int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    /* Arithmetic shift of a negative value: implementation-defined in C99; every compiler lpn supports
     * (gcc, clang, arm-none-eabi-gcc) shifts arithmetically, as TFLite assumes too. */
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^left_shift with two's complement wraparound (as TFLite's x * (1 << left_shift) in practice). */
static inline int32_t lpn_shift_left_wrap(int32_t x, int32_t left_shift) {
    return (int32_t)((uint32_t)x << left_shift);
}

/* a + b with two's complement wraparound: an int32 accumulator that a hostile model overflows wraps, as on
 * the Cortex-M and in TFLite in practice, instead of being undefined behaviour (found by firmware/fuzz). */
static inline int32_t lpn_add_wrap(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/* TFLite's MultiplyByQuantizedMultiplier (double rounding): x * multiplier * 2^(shift - 31). */
static inline int32_t lpn_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
    const int32_t left_shift = shift > 0 ? shift : 0;
    const int32_t right_shift = shift > 0 ? 0 : -shift;
    return lpn_rounding_divide_by_pot(
        lpn_sat_rounding_doubling_high_mul(lpn_shift_left_wrap(x, left_shift), multiplier), right_shift);
}

/* The single-rounding MultiplyByQuantizedMultiplier (TFLite built with TFLITE_SINGLE_ROUNDING):
 * round(x * multiplier * 2^(shift - 31)) with ties toward +infinity, one 64-bit product, multiplier >= 0,
 * shift in [-31, 30]. LiteRT 2.x's reference FULLY_CONNECTED (per-tensor and per-channel) rounds this way,
 * while its CONV_2D / DEPTHWISE_CONV_2D use the double rounding above (measured on 4096-output golden
 * cases: each form differs from the other op family's LiteRT output on a few ties). */
static inline int32_t lpn_multiply_by_quantized_multiplier_single_round(int32_t x, int32_t multiplier,
                                                                       int32_t shift) {
    const int32_t total_shift = 31 - shift;
    const int64_t round = (int64_t)1 << (total_shift - 1);
    /* Arithmetic shift of a negative int64: see lpn_rounding_divide_by_pot. */
    const int64_t result = ((int64_t)x * (int64_t)multiplier + round) >> total_shift;
    /* Saturate (TFLite only DCHECKs the range; lpn defines it, docs/integer-spec.md). */
    return result > INT32_MAX ? INT32_MAX : (result < INT32_MIN ? INT32_MIN : (int32_t)result);
}

/* TFLite's MultiplyByQuantizedMultiplierSmallerThanOneExp: shift <= 0. */
static inline int32_t lpn_multiply_by_quantized_multiplier_smaller_than_one(int32_t x, int32_t multiplier,
                                                                            int32_t shift) {
    return lpn_rounding_divide_by_pot(lpn_sat_rounding_doubling_high_mul(x, multiplier), -shift);
}

/* TFLite's MultiplyByQuantizedMultiplierGreaterThanOne: left_shift >= 0. */
static inline int32_t lpn_multiply_by_quantized_multiplier_greater_than_one(int32_t x, int32_t multiplier,
                                                                            int32_t left_shift) {
    return lpn_sat_rounding_doubling_high_mul(lpn_shift_left_wrap(x, left_shift), multiplier);
}

/* Clamp an int32 into [lo, hi]. */
static inline int32_t lpn_clamp(int32_t x, int32_t lo, int32_t hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

#ifdef __cplusplus
}
#endif

#endif
