/*
 * Integer-only reproduction of TFLite's floating-point parameter preparation.
 *
 * A .tflite file stores scales as float32, and TFLite prepares kernels in double arithmetic, e.g.
 *   QuantizeMultiplier((double)input_scale * (double)filter_scale / (double)output_scale)
 * The product of two float32 values is exact in double (24 + 24 <= 53 significant bits), multiplying by
 * a power of two is exact, so the only roundings are (1) the double division, correctly rounded to
 * nearest-even at 53 bits, and (2) QuantizeMultiplier's round(q * 2^31) with ties away from zero.
 * Both are reproduced here exactly with a bit-serial long division on integers (no FP at all).
 * See docs/runtime.md; tests/test_runtime_quantize.py compares against Python's doubles.
 */
#include "quantize.h"

/* A decoded non-negative finite float32: value = mant * 2^exp2 (mant == 0 for zero). */
typedef struct {
    uint32_t mant;
    int32_t exp2;
} decoded_t;

static int decode(uint32_t bits, decoded_t *out) {
    const uint32_t exponent = (bits >> 23) & 0xffu;
    const uint32_t fraction = bits & 0x7fffffu;
    if ((bits >> 31) != 0u && (bits & 0x7fffffffu) != 0u) {
        return 0; /* negative */
    }
    if (exponent == 0xffu) {
        return 0; /* infinity or NaN */
    }
    if (exponent == 0u) {
        out->mant = fraction; /* zero or subnormal */
        out->exp2 = -149;
    } else {
        out->mant = fraction | 0x800000u;
        out->exp2 = (int32_t)exponent - 150;
    }
    return 1;
}

/* num / den (den > 0, num > 0, num < 2^63) rounded to nearest-even with `precision` significant bits
 * (precision <= 62): returns mant in [2^(precision-1), 2^precision) and *exp2 with
 * result = mant * 2^(*exp2). */
static uint64_t divide_round(uint64_t num, uint64_t den, int32_t precision, int32_t *exp2) {
    const uint64_t top = (uint64_t)1 << precision; /* quotient kept with precision + 1 bits */
    int32_t e = 0;
    while (num / den >= 2u * top) { /* callers keep num < 2^48 and den < 2^24: no overflow */
        den <<= 1;
        ++e;
    }
    uint64_t q = num / den;
    uint64_t r = num % den;
    while (q < top) { /* long division, one quotient bit per step */
        r <<= 1;
        q <<= 1;
        if (r >= den) {
            r -= den;
            q |= 1u;
        }
        --e;
    }
    /* q in [top, 2 * top): drop the round bit, round to nearest, ties to even (r != 0 is the sticky bit). */
    uint64_t mant = q >> 1;
    ++e;
    if ((q & 1u) != 0u && (r != 0u || (mant & 1u) != 0u)) {
        ++mant;
        if (mant == top) {
            mant >>= 1;
            ++e;
        }
    }
    *exp2 = e;
    return mant;
}

lpn_rt_status_t lpn_quantize_multiplier(uint32_t a_bits, uint32_t b_bits, uint32_t c_bits, int32_t pow2,
                                        int32_t *multiplier, int32_t *shift) {
    decoded_t a, b, c;
    if (multiplier == 0 || shift == 0) {
        return LPN_RT_ERR_NULL_ARGUMENT;
    }
    *multiplier = 0;
    *shift = 0;
    if (!decode(a_bits, &a) || !decode(b_bits, &b) || !decode(c_bits, &c) || c.mant == 0u || pow2 > 512 ||
        pow2 < -512) {
        return LPN_RT_ERR_QUANTIZATION;
    }
    if (a.mant == 0u || b.mant == 0u) {
        return LPN_RT_OK; /* TFLite: a zero multiplier gives (0, 0) */
    }
    int32_t e;
    /* (a * b) / c: the product is exact (< 2^48); one rounding to double (53 bits). */
    const uint64_t mant = divide_round((uint64_t)a.mant * b.mant, c.mant, 53, &e);
    e += a.exp2 + b.exp2 - c.exp2 + pow2;
    /* frexp: q = mant / 2^53 in [0.5, 1), exponent = e + 53. round(q * 2^31), ties away from zero. */
    int64_t q_fixed = (int64_t)((mant + ((uint64_t)1 << 21)) >> 22);
    int64_t exponent = (int64_t)e + 53;
    if (q_fixed == ((int64_t)1 << 31)) {
        q_fixed /= 2;
        ++exponent;
    }
    if (exponent < -31) {
        exponent = 0;
        q_fixed = 0;
    }
    *multiplier = (int32_t)q_fixed;
    *shift = (int32_t)exponent;
    return LPN_RT_OK;
}

int lpn_scale_product_at_least(uint32_t a_bits, uint32_t b_bits, int32_t pow2, uint32_t threshold) {
    decoded_t a, b;
    if (!decode(a_bits, &a) || !decode(b_bits, &b)) {
        return 0;
    }
    const uint64_t p = (uint64_t)a.mant * b.mant; /* exact value = p * 2^e, p < 2^48 */
    const int32_t e = a.exp2 + b.exp2 + pow2;
    if (threshold == 0u) {
        return 1;
    }
    if (e >= 0) { /* p * 2^e >= t  <=>  p >= ceil(t / 2^e) */
        return e >= 32 ? p != 0u : p >= (((uint64_t)threshold + ((uint64_t)1 << e) - 1u) >> e);
    }
    /* p * 2^e >= t  <=>  floor(p / 2^-e) >= t, since t * 2^-e is a multiple of 2^-e */
    return -e >= 63 ? 0 : (p >> -e) >= threshold;
}

lpn_rt_status_t lpn_quantize_real(int32_t value, uint32_t scale_bits, int32_t *out) {
    decoded_t s;
    if (!decode(scale_bits, &s) || s.mant == 0u) {
        return LPN_RT_ERR_QUANTIZATION;
    }
    *out = 0;
    if (value == 0) {
        return LPN_RT_OK;
    }
    const uint64_t magnitude = value < 0 ? (uint64_t)(-(int64_t)value) : (uint64_t)value;
    int32_t e;
    /* float32 division: 24 significant bits, nearest-even. */
    const uint64_t mant = divide_round(magnitude, s.mant, 24, &e);
    e -= s.exp2;
    int64_t rounded;
    if (e + 24 > 128) {
        rounded = INT32_MAX; /* overflows float32: +inf, saturated */
    } else if (e >= 0) {
        rounded = e >= 8 ? INT32_MAX : (int64_t)(mant << e);
        if (rounded > INT32_MAX) {
            rounded = INT32_MAX;
        }
    } else if (e < -40) {
        rounded = 0;
    } else {
        rounded = (int64_t)((mant + ((uint64_t)1 << (-e - 1))) >> (-e)); /* ties away from zero */
    }
    *out = (int32_t)(value < 0 ? -rounded : rounded);
    return LPN_RT_OK;
}
