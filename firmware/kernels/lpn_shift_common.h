/* Shared arithmetic of the LPN custom-op kernels (internal): packed shift codes, the shift product and the
 * LPN requantization of docs/integer-spec.md section 5. Portable C99 without undefined behaviour: shifts
 * are done on unsigned values, accumulation wraps modulo 2^32 (exact whenever the final sum fits int32,
 * which a valid model guarantees), and every conversion back to signed is spelled out. */
#ifndef LPN_SHIFT_COMMON_H
#define LPN_SHIFT_COMMON_H

#include <stdint.h>

#include "lpn/lpn_ops.h"
#include "lpn_kernel_util.h"

/* Code number `index` of a packed code array (code_bits = 1 + exponent_bits). */
static inline uint32_t lpn_shift_code_at(const uint8_t *codes, int32_t index, int32_t code_bits) {
    if (code_bits <= 4) {
        const uint32_t byte = codes[index >> 1];
        return (index & 1) ? (byte >> 4) : (byte & 0x0Fu);
    }
    return codes[index];
}

/* The signed shift product (-1)^sign * (v << (E_max - e)) as a uint32 two's-complement term. A shift of
 * 32 or more only occurs with s >= 6 and contributes 0 in a valid model (|v| << 32 cannot fit int32). */
static inline uint32_t lpn_shift_term(int32_t v, uint32_t code, int32_t exponent_bits) {
    const uint32_t e_max = (1u << exponent_bits) - 1u;
    const uint32_t amount = e_max - (code & e_max);
    const uint32_t magnitude = amount < 32u ? ((uint32_t)v << amount) : 0u;
    return ((code >> exponent_bits) & 1u) ? 0u - magnitude : magnitude;
}

/* Exponent bits up to which the weights fit a lookup table: |w| <= 2^15, so |x - zp| * |w| < 2^24. */
#define LPN_SHIFT_TABLE_MAX_EXPONENT_BITS 4

/* The integer weight (-1)^sign * 2^(E_max - e) of every 5-bit code value (bits above the code width are
 * ignored, as in lpn_shift_term); only for exponent_bits <= LPN_SHIFT_TABLE_MAX_EXPONENT_BITS. A product
 * with a weight is one multiply-accumulate, the same cost as a shift on Cortex-M (MLA). */
static inline void lpn_shift_weight_table(int32_t exponent_bits, int32_t table[32]) {
    const uint32_t e_max = (1u << exponent_bits) - 1u;
    for (uint32_t code = 0; code < 32u; ++code) {
        const int32_t magnitude = (int32_t)(1u << (e_max - (code & e_max)));
        table[code] = ((code >> exponent_bits) & 1u) ? -magnitude : magnitude;
    }
}

/* Weight format of the shared conv loops for an int8 filter instead of packed codes (exponent_bits >= 0). */
#define LPN_WEIGHTS_INT8 (-1)

/* sum over i < n of (x[i] + input_offset) * w(code number k0 + i), as a uint32 two's-complement sum:
 * a run of consecutive codes (one output channel's filter row). `table` from lpn_shift_weight_table when
 * exponent_bits <= LPN_SHIFT_TABLE_MAX_EXPONENT_BITS (else unused). Reads the packed codes in place; with
 * exponent_bits = LPN_WEIGHTS_INT8, `codes` is an int8 filter and w(k) its element k. */
static inline uint32_t lpn_shift_dot(const int8_t *x, int32_t input_offset, const uint8_t *codes, int32_t k0,
                                     int32_t n, int32_t exponent_bits, const int32_t table[32]) {
    uint32_t acc = 0u;
    int32_t i = 0;
    if (exponent_bits == LPN_WEIGHTS_INT8) { /* an int8 filter in the same layout (lpn_conv_lpn_s8) */
        const int8_t *w = (const int8_t *)(const void *)codes + k0;
        for (; i < n; ++i) {
            acc += (uint32_t)(x[i] + input_offset) * (uint32_t)(int32_t)w[i];
        }
    } else if (exponent_bits + 1 <= 4) { /* two codes per byte */
        const uint8_t *c = codes + (k0 >> 1);
        if ((k0 & 1) && n > 0) {
            acc += (uint32_t)(x[0] + input_offset) * (uint32_t)table[*c >> 4];
            ++c;
            i = 1;
        }
        for (; i + 1 < n; i += 2, ++c) {
            const uint32_t byte = *c;
            acc += (uint32_t)(x[i] + input_offset) * (uint32_t)table[byte & 0x0Fu];
            acc += (uint32_t)(x[i + 1] + input_offset) * (uint32_t)table[byte >> 4];
        }
        if (i < n) {
            acc += (uint32_t)(x[i] + input_offset) * (uint32_t)table[*c & 0x0Fu];
        }
    } else if (exponent_bits <= LPN_SHIFT_TABLE_MAX_EXPONENT_BITS) { /* one 5-bit code per byte */
        for (; i < n; ++i) {
            acc += (uint32_t)(x[i] + input_offset) * (uint32_t)table[codes[k0 + i] & 0x1Fu];
        }
    } else { /* 6..8-bit codes: shifts up to 127, no table */
        for (; i < n; ++i) {
            acc += lpn_shift_term(x[i] + input_offset, codes[k0 + i], exponent_bits);
        }
    }
    return acc;
}

/* Two's-complement uint32 -> int32 without implementation-defined conversion. */
static inline int32_t lpn_shift_u32_to_s32(uint32_t x) {
    return x <= (uint32_t)INT32_MAX ? (int32_t)x : -(int32_t)(0xFFFFFFFFu - x) - 1;
}

/* Rounding right shift of docs/integer-spec.md: (p + 2^(k-1)) >> k for k > 0 (ties up), p for k = 0.
 * |p| < 2^62 in a valid model, so the addition cannot overflow. */
static inline int64_t lpn_shift_round_right(int64_t p, int32_t k) {
    if (k <= 0) {
        return p;
    }
    /* Arithmetic shift of a negative int64: implementation-defined in C99; gcc, clang and
     * arm-none-eabi-gcc shift arithmetically (as lpn/fixed_point.h assumes too). */
    return (p + ((int64_t)1 << (k - 1))) >> k;
}

/* Saturate to int32, add the output offset and clamp to the activation range (all in int64). */
static inline int8_t lpn_shift_finish(int64_t r, int32_t output_offset, const lpn_activation *act) {
    int64_t y = r < INT32_MIN ? INT32_MIN : (r > INT32_MAX ? INT32_MAX : r);
    y += output_offset;
    y = y < act->min ? act->min : (y > act->max ? act->max : y);
    return (int8_t)y;
}

/* p * 2^-k rounded onto output grid `grid` (lpn/lpn_ops.h; docs/integer-spec.md section 5). |p| < 2^62 and
 * k in [0, 62], so neither p + 2^k - 1 nor -p overflows. On the two ceil grids 0 maps to -1 (the QAT
 * quantizers' sgn(0) = -1); a ReLU clamp (activation.min = 0) makes it the unsigned grids' 0. */
static inline int64_t lpn_shift_round_grid(int64_t p, int32_t k, int32_t grid) {
    if (grid == LPN_GRID_NEAREST) {
        return lpn_shift_round_right(p, k);
    }
    const int64_t ones = ((int64_t)1 << k) - 1;
    if (grid == LPN_GRID_CEIL) {
        if (p > 0) {
            return (p + ones) >> k; /* >= 1 for p >= 1 */
        }
        const int64_t f = p >> k; /* floor (arithmetic shift, as lpn_shift_round_right) */
        return f > -1 ? -1 : f;
    }
    /* LPN_GRID_POW2: the smallest power of two >= ceil(|p| / 2^k), at least 1, at most 2^30 */
    int64_t magnitude = p > 0 ? (p + ones) >> k : (-p + ones) >> k;
    magnitude = magnitude > ((int64_t)1 << 30) ? ((int64_t)1 << 30) : magnitude;
    int64_t level = 1;
    while (level < magnitude) {
        level <<= 1;
    }
    return p > 0 ? level : -level;
}

/* LPN requantization of one int32 accumulator of channel c onto quant->grid. */
static inline int8_t lpn_shift_requantize(int32_t acc, const lpn_shift_quant *quant, int32_t c,
                                          int32_t output_offset, const lpn_activation *act) {
    const int64_t p = (int64_t)acc * (int64_t)quant->mantissa[c];
    return lpn_shift_finish(lpn_shift_round_grid(p, quant->shift[c], quant->grid), output_offset, act);
}

/* Pointer, range and activation checks common to the four kernels; channels = length of the quant arrays. */
static inline lpn_status lpn_shift_check_quant(const lpn_shift_quant *quant, int32_t channels) {
    if (quant == 0 || quant->mantissa == 0 || quant->shift == 0 || quant->grid < LPN_GRID_NEAREST ||
        quant->grid > LPN_GRID_POW2) {
        return LPN_ERR_ARGUMENT;
    }
    for (int32_t c = 0; c < channels; ++c) {
        if (quant->shift[c] < 0 || quant->shift[c] > LPN_SHIFT_MAX_REQUANT_SHIFT) {
            return LPN_ERR_ARGUMENT;
        }
    }
    return LPN_OK;
}

static inline int lpn_shift_offsets_ok(int32_t input_offset, int32_t output_offset, int32_t exponent_bits) {
    return input_offset >= -127 && input_offset <= 128 && output_offset >= -128 && output_offset <= 127 &&
           exponent_bits >= 0 && exponent_bits <= LPN_SHIFT_MAX_EXPONENT_BITS;
}

#endif
