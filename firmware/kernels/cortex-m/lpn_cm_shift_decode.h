/*
 * Packed shift codes -> int16 weights for the optimized Cortex-M LPN kernels (internal).
 *
 * A shift weight is the integer (-1)^sign * 2^(E_max - e) (lpn/lpn_ops.h). With exponent_bits <= 3 (codes
 * of at most 4 bits, two per byte, |w| <= 128) every weight is an int16, so a block of codes decoded into
 * int16 rows in the scratch buffer runs through the same SMLAD cores as the int8 kernels (their int16
 * weight form, lpn_cm_conv_core.h): the products and their wrapping int32 sum are the reference's, bit for
 * bit. Wider codes keep the portable kernel. Flash keeps the packed codes; only the decoded block lives in
 * RAM. Rows are stored "reordered" (lpn_cm_simd.h): blocks of 4 weights as w0 w2 w1 w3, the last n % 4 in
 * order, so that one word pairs with one word of a reordered int16 input.
 */
#ifndef LPN_CM_SHIFT_DECODE_H
#define LPN_CM_SHIFT_DECODE_H

#include <stdint.h>

#include "lpn_cm_simd.h"
#include "lpn_shift_common.h"

/* Largest exponent_bits whose weights all fit int16 and whose codes share bytes (|w| <= 2^7). */
#define LPN_CM_SHIFT_WIDE_EXPONENT_BITS 3

/* Bytes of the byte-pair table (lpn_cm_shift_pair_table). */
#define LPN_CM_SHIFT_TABLE_BYTES (256 * 4)

/* Rows per block of decoded rows of `stride` int16 each: as many as fit `bytes`, at least 2, at most `count`
 * (output channels or units). A compile-time knob of each kernel: RAM against repeated work per block. */
static inline int32_t lpn_cm_shift_block(int32_t count, int32_t stride, int32_t bytes) {
    int32_t block = bytes / (2 * stride);
    block = block < 2 ? 2 : block;
    return block < count ? block : count;
}

/* For every code byte: the weight of its low nibble (element 2j) in bits 0-15 and of its high nibble in
 * bits 16-31, as int16 (bits above the code width are ignored, as the reference does). */
static inline void lpn_cm_shift_pair_table(int32_t exponent_bits, uint32_t table[256]) {
    int32_t weight[32];
    lpn_shift_weight_table(exponent_bits, weight);
    for (uint32_t byte = 0; byte < 256u; ++byte) {
        table[byte] = ((uint32_t)weight[byte & 0x0Fu] & 0xFFFFu) | ((uint32_t)weight[byte >> 4] << 16);
    }
}

/* dst = the reordered weights of codes k0 .. k0 + n - 1 (n int16), then zeros up to dst[padded). Four
 * weights per step from two code bytes when k0 is even. dst is 4-byte aligned. */
static inline void lpn_cm_shift_decode(const uint8_t *codes, int32_t k0, int32_t n, const uint32_t table[256],
                                       int16_t *dst, int32_t padded) {
    int32_t i = 0;
    if ((k0 & 1) == 0) {
        const uint8_t *c = codes + (k0 >> 1);
        for (; i + 4 <= n; i += 4, c += 2) {
            const uint32_t t0 = table[c[0]], t1 = table[c[1]]; /* (w0, w1), (w2, w3) */
            lpn_cm_write_u32(dst + i, (t0 & 0xFFFFu) | (t1 << 16));
            lpn_cm_write_u32(dst + i + 2, (t0 >> 16) | (t1 & 0xFFFF0000u));
        }
    }
    for (; i < n; ++i) {
        const int32_t k = k0 + i;
        const uint32_t byte = codes[k >> 1];
        dst[lpn_cm_reordered_index(i, n)] = (int16_t)(table[(k & 1) ? byte >> 4 : byte & 0x0Fu] & 0xFFFFu);
    }
    for (; i < padded; ++i) {
        dst[i] = 0;
    }
}

/* The epilogue of the optimized LPN kernels: the reference's requantization (lpn_shift_requantize, with the
 * output grid of quant) of one accumulator of channel c. */
typedef struct {
    const lpn_shift_quant *quant;
    int32_t output_offset;
    lpn_activation activation;
} lpn_cm_shift_epilogue;

LPN_CM_INLINE int8_t lpn_cm_shift_requantize(const void *ctx, int32_t c, int32_t acc) {
    const lpn_cm_shift_epilogue *e = (const lpn_cm_shift_epilogue *)ctx;
    return lpn_shift_requantize(acc, e->quant, c, e->output_offset, &e->activation);
}

#endif
