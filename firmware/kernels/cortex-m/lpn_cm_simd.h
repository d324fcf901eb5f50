/*
 * SIMD building blocks of the optimized Cortex-M kernels (internal).
 *
 * On Armv7E-M / Armv8-M Mainline with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4, M7, M33) these are
 * the <arm_acle.h> intrinsics (SXTB16, SMLAD, SMLABB, SMLATT, SADD16); elsewhere (the host, Cortex-M0/M3)
 * they are portable C with the same results, so the optimized kernels also build and run, bit-exact, under
 * the host's sanitizers.
 *
 * Unaligned words are read with memcpy: without -ffreestanding gcc turns it into a single LDR (unaligned
 * access is allowed on M4/M7/M33).
 *
 * "Reordered" int16 vectors: a block of 4 values v0 v1 v2 v3 is stored as v0 v2 v1 v3, so that word 0
 * holds (v0, v2) and word 1 holds (v1, v3) -- the lanes SXTB16 produces from 4 int8 values (SXTB16(w) and
 * SXTB16(ROR(w, 8))). A dot product of 4 int8 weights with a reordered block is then two SMLADs.
 */
#ifndef LPN_CM_SIMD_H
#define LPN_CM_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define LPN_CM_HAVE_DSP 1
#endif

/* For the shared cores and their epilogues: inlined into each kernel, where a constant function pointer
 * argument (the requantization) becomes a direct, inlined call. */
#if defined(__GNUC__)
#define LPN_CM_INLINE static inline __attribute__((always_inline))
#else
#define LPN_CM_INLINE static inline
#endif

static inline uint32_t lpn_cm_read_u32(const void *p) {
    uint32_t value;
    memcpy(&value, p, sizeof(value));
    return value;
}

static inline void lpn_cm_write_u32(void *p, uint32_t value) {
    memcpy(p, &value, sizeof(value));
}

#ifdef LPN_CM_HAVE_DSP

static inline uint32_t lpn_cm_sxtb16(uint32_t x) {
    return (uint32_t)__sxtb16(x);
}
/* SXTB16 with its built-in rotation (gcc 12 does not fold a C rotate into it: one instruction saved). */
static inline uint32_t lpn_cm_sxtb16_ror8(uint32_t x) {
    uint32_t result;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(result) : "r"(x));
    return result;
}
static inline int32_t lpn_cm_smlad(uint32_t x, uint32_t y, int32_t acc) {
    return __smlad(x, y, acc);
}
static inline int32_t lpn_cm_smlabb(uint32_t x, uint32_t y, int32_t acc) {
    return __smlabb(x, y, acc);
}
static inline int32_t lpn_cm_smlatt(uint32_t x, uint32_t y, int32_t acc) {
    return __smlatt(x, y, acc);
}
static inline uint32_t lpn_cm_sadd16(uint32_t x, uint32_t y) {
    return (uint32_t)__sadd16(x, y);
}
/* QADD: x + y saturated to int32. */
static inline int32_t lpn_cm_qadd(int32_t x, int32_t y) {
    return __qadd(x, y);
}
/* SMMULR: the high word of x * y rounded, floor((x y + 2^31) / 2^32). */
static inline int32_t lpn_cm_smmulr(int32_t x, int32_t y) {
    int32_t result;
    __asm__("smmulr %0, %1, %2" : "=r"(result) : "r"(x), "r"(y));
    return result;
}

#else /* portable equivalents */

static inline int32_t lpn_cm_lo16(uint32_t x) {
    return (int32_t)(int16_t)(uint16_t)(x & 0xffffu);
}
static inline int32_t lpn_cm_hi16(uint32_t x) {
    return (int32_t)(int16_t)(uint16_t)(x >> 16);
}
static inline uint32_t lpn_cm_pack16(int32_t lo, int32_t hi) {
    return ((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16);
}
static inline uint32_t lpn_cm_sxtb16(uint32_t x) {
    return lpn_cm_pack16((int8_t)(uint8_t)(x & 0xffu), (int8_t)(uint8_t)((x >> 16) & 0xffu));
}
static inline uint32_t lpn_cm_sxtb16_ror8(uint32_t x) {
    return lpn_cm_sxtb16((x >> 8) | (x << 24));
}
static inline int32_t lpn_cm_smlad(uint32_t x, uint32_t y, int32_t acc) {
    const uint32_t sum = (uint32_t)acc + (uint32_t)(lpn_cm_lo16(x) * lpn_cm_lo16(y)) +
                         (uint32_t)(lpn_cm_hi16(x) * lpn_cm_hi16(y));
    return (int32_t)sum;
}
static inline int32_t lpn_cm_smlabb(uint32_t x, uint32_t y, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(lpn_cm_lo16(x) * lpn_cm_lo16(y)));
}
static inline int32_t lpn_cm_smlatt(uint32_t x, uint32_t y, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(lpn_cm_hi16(x) * lpn_cm_hi16(y)));
}
static inline uint32_t lpn_cm_sadd16(uint32_t x, uint32_t y) {
    return lpn_cm_pack16(lpn_cm_lo16(x) + lpn_cm_lo16(y), lpn_cm_hi16(x) + lpn_cm_hi16(y));
}
static inline int32_t lpn_cm_qadd(int32_t x, int32_t y) {
    const int64_t sum = (int64_t)x + y;
    return sum > INT32_MAX ? INT32_MAX : (sum < INT32_MIN ? INT32_MIN : (int32_t)sum);
}
static inline int32_t lpn_cm_smmulr(int32_t x, int32_t y) {
    /* arithmetic shift of a negative int64: as lpn/fixed_point.h */
    return (int32_t)(((int64_t)x * y + ((int64_t)1 << 31)) >> 32);
}

#endif

/* A compiler-only barrier for memory accesses (no instruction): pins the order of loads in a hot loop. */
static inline void lpn_cm_schedule_barrier(void) {
#if defined(__GNUC__)
    __asm__ volatile("" ::: "memory");
#endif
}

/*
 * TFLite's MultiplyByQuantizedMultiplier (lpn_multiply_by_quantized_multiplier of lpn/fixed_point.h) for a
 * multiplier >= 0, in fewer instructions, with identical results:
 *   - SaturatingRoundingDoublingHighMul(a, m) = trunc((a m + nudge) / 2^31), nudge = 2^30 or 1 - 2^30 by
 *     the sign of a m, equals floor((a m + 2^30) / 2^31) for every a m (for a m < 0 both are
 *     -floor((|a m| + 2^30 - 1) / 2^31)); the saturating case a = m = INT32_MIN cannot occur with m >= 0.
 *   - RoundingDivideByPOT(x, r) (ties away from zero) = floor((x + 2^(r-1) - [x < 0]) / 2^r) for r >= 1,
 *     computed in 32 bits (unsigned for x >= 0).
 * The kernels reject negative multipliers, so the two paths always agree (also checked exhaustively on
 * random and edge values by firmware/tests/status_test.c).
 */
static inline int32_t lpn_cm_requantize(int32_t x, int32_t multiplier, int32_t shift) {
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int64_t product = (int64_t)(int32_t)((uint32_t)x << left) * multiplier;
    const int32_t high = (int32_t)((product + ((int64_t)1 << 30)) >> 31);
    if (right == 0) {
        return high;
    }
    const uint32_t half = (uint32_t)1 << (right - 1);
    if (high >= 0) {
        return (int32_t)(((uint32_t)high + half) >> right); /* no wraparound: high + half < 2^32 */
    }
    return (int32_t)(high + (int32_t)(half - 1u)) >> right; /* high < 0: the sum stays in range */
}

/*
 * The requantization of a conv/depthwise output channel, prepared once per channel and applied to several
 * accumulators: clamp(lpn_cm_requantize(x, multiplier, shift) + output_offset, act_min, act_max) in about
 * 14 instructions instead of 30. high = floor((x' m + 2^30) / 2^31) as in lpn_cm_requantize, then
 * RoundingDivideByPOT as (QADD(high, half) - [high < 0 and right > 0]) >> right. QADD saturates only when
 * high + half > INT32_MAX, where the exact quotient is 2^(31 - right) and the saturated one 2^(31 - right)
 * - 1; lpn_cm_requant_prepare accepts a channel only if both then clamp to act_max (2^(31 - right) - 1 +
 * output_offset >= act_max), so the output is the reference's for every accumulator. Otherwise (it
 * returns 0) use lpn_cm_requantize.
 */
typedef struct {
    int32_t multiplier, left, right, half, neg_mask;
} lpn_cm_requant_params;

static inline int lpn_cm_requant_prepare(int32_t multiplier, int32_t shift, int32_t output_offset, int32_t act_max,
                                         lpn_cm_requant_params *q) {
    q->multiplier = multiplier;
    q->left = shift > 0 ? shift : 0;
    q->right = shift > 0 ? 0 : -shift;
    q->half = q->right > 0 ? (int32_t)(1u << (q->right - 1)) : 0;
    q->neg_mask = q->right > 0 ? -1 : 0;
    return multiplier >= 0 && ((int64_t)1 << (31 - q->right)) - 1 + output_offset >= act_max;
}

static inline int32_t lpn_cm_requant_apply(int32_t x, const lpn_cm_requant_params *q) {
    const int64_t product = (int64_t)(int32_t)((uint32_t)x << q->left) * q->multiplier;
    const int32_t high = (int32_t)((product + ((int64_t)1 << 30)) >> 31);
    return (lpn_cm_qadd(high, q->half) + ((high >> 31) & q->neg_mask)) >> q->right;
}

/* Both int16 lanes set to value. */
static inline uint32_t lpn_cm_dup16(int32_t value) {
    return ((uint32_t)value & 0xffffu) * 0x10001u;
}

/* dst[0..len) = src + offset as int16, reordered in blocks of 4 from index 0 (the last len % 4 values are
 * stored in order). len % 4 == 0 is the fast path; dst is 4-byte aligned. */
static inline void lpn_cm_expand_reordered(const int8_t *src, int32_t len, int32_t offset, int16_t *dst) {
    const uint32_t offset2 = lpn_cm_dup16(offset);
    int32_t i = 0;
    for (; i + 4 <= len; i += 4) {
        const uint32_t w = lpn_cm_read_u32(src + i);
        lpn_cm_write_u32(dst + i, lpn_cm_sadd16(lpn_cm_sxtb16(w), offset2));
        lpn_cm_write_u32(dst + i + 2, lpn_cm_sadd16(lpn_cm_sxtb16_ror8(w), offset2));
    }
    for (; i < len; ++i) {
        dst[i] = (int16_t)(src[i] + offset);
    }
}

/* Position of element p of a length-len vector in its reordered layout. */
static inline int32_t lpn_cm_reordered_index(int32_t p, int32_t len) {
    static const int8_t swap[4] = {0, 2, 1, 3};
    return p < (len & ~3) ? (p & ~3) + swap[p & 3] : p;
}

#endif
