/*
 * Packed shift codes -> int16 weights for the optimized Cortex-M LPN kernels (internal), and the drivers
 * those kernels share with the int8-weight LPN kernels (lpn_conv_lpn_s8.c, lpn_depthwise_conv_lpn_s8.c):
 * the LPN requantization epilogue, the blocked convolution (weight rows produced block by block into int16
 * by a filler: decoded codes, or expanded int8) and the depthwise call.
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

#include "lpn_cm_depthwise_core.h"
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
 * output grid of quant) of one accumulator of channel c. The saturation to int32, the output offset and the
 * activation clamp of lpn_shift_finish fold into one clamp of the rounded value r to [lo, hi] = [act.min -
 * offset, act.max - offset] (|lo|, |hi| <= 255) before the offset is added: sat(r) + offset is clamped to the
 * activation range exactly when r is clamped to [lo, hi] (the activation range lies inside int8), and the
 * comparisons keep the reference's order, so the result is the same byte for every r, with no int64 add. */
typedef struct {
    const int16_t *mantissa;
    const int8_t *shift;
    int32_t grid, lo, hi, output_offset;
} lpn_cm_shift_epilogue;

static inline lpn_cm_shift_epilogue lpn_cm_shift_epilogue_of(const lpn_shift_quant *quant, int32_t output_offset,
                                                             const lpn_activation *act) {
    const lpn_cm_shift_epilogue e = {quant->mantissa, quant->shift, quant->grid, act->min - output_offset,
                                     act->max - output_offset, output_offset};
    return e;
}

LPN_CM_INLINE int8_t lpn_cm_shift_requantize(const void *ctx, int32_t c, int32_t acc) {
    const lpn_cm_shift_epilogue *e = (const lpn_cm_shift_epilogue *)ctx;
    const int64_t r = lpn_shift_round_grid((int64_t)acc * (int64_t)e->mantissa[c], e->shift[c], e->grid);
    const int32_t y = r < e->lo ? e->lo : (r > e->hi ? e->hi : (int32_t)r);
    return (int8_t)(y + e->output_offset);
}

/* The params of an int8-weight LPN kernel for the argument checks of its packed-code twin
 * (lpn_shift_conv_check, lpn_shift_dw_check): a pointer to `copy`, set to *params with exponent_bits 0 (the
 * reference kernels check an int8 filter so, ignoring params->exponent_bits), or NULL when params is. */
#define LPN_CM_INT8_WEIGHTS_PARAMS(params, copy) \
    ((params) != 0 ? ((copy) = *(params), (copy).exponent_bits = 0, &(copy)) : 0)

/* lpn_cm_shift_requantize of two accumulators of channel c, packed as lpn_cm_requant_fn returns them. */
LPN_CM_INLINE uint32_t lpn_cm_shift_requantize2(const void *ctx, int32_t c, int32_t acc0, int32_t acc1) {
    return (uint32_t)(uint8_t)lpn_cm_shift_requantize(ctx, c, acc0) |
           ((uint32_t)(uint8_t)lpn_cm_shift_requantize(ctx, c, acc1) << 8);
}

/* Decoded (int16) weight bytes per output-channel block of lpn_cm_shift_conv (a compile-time knob: RAM
 * against repeated im2col). */
#ifndef LPN_CM_SHIFT_BLOCK_BYTES
#define LPN_CM_SHIFT_BLOCK_BYTES 16384
#endif

/* The filler of weight rows: dst[0, stride) = the reordered int16 weights k0 .. k0 + n - 1 of `weights`
 * (packed codes or an int8 filter), zero-padded (aux: the filler's own data, e.g. the byte-pair table). */
typedef void (*lpn_cm_shift_rows_fn)(const void *weights, const void *aux, int32_t k0, int32_t n, int16_t *dst,
                                     int32_t stride);

/* Scratch bytes of lpn_cm_shift_conv with a filter of filter_dims: `extra` bytes of the kernel's own (first,
 * word-aligned size), the im2col columns, one block of int16 rows. */
static inline int32_t lpn_cm_shift_conv_scratch(const lpn_dims *filter_dims, int32_t extra) {
    const int32_t len = filter_dims->h * filter_dims->w * filter_dims->c;
    const int32_t stride = (len + 3) & ~3;
    return extra + lpn_cm_conv_columns_bytes(len) +
           lpn_cm_shift_block(filter_dims->n, stride, LPN_CM_SHIFT_BLOCK_BYTES) * stride * (int32_t)sizeof(int16_t);
}

/*
 * An LPN convolution on validated arguments, [N,H,W,C] * [O,KH,KW,C] -> [N,OH,OW,O]: output channels in
 * blocks of as many int16 rows as fit LPN_CM_SHIFT_BLOCK_BYTES (at least 2), each block's rows filled once
 * by `fill` into the scratch buffer (after its first `extra` bytes; see lpn_cm_shift_conv_scratch), then
 * every pixel pair runs the convolution core (lpn_cm_conv_core.h, int16-weight form) on the block with the
 * LPN requantization as epilogue. The im2col of a pixel pair is repeated once per block.
 */
LPN_CM_INLINE void lpn_cm_shift_conv(const lpn_context *ctx, int32_t extra, const lpn_shift_conv_params *params,
                                     const lpn_shift_quant *quant, const lpn_dims *input_dims, const int8_t *input,
                                     const lpn_dims *filter_dims, const void *weights, lpn_cm_shift_rows_fn fill,
                                     const void *aux, const int32_t *bias, const lpn_dims *output_dims,
                                     int8_t *output) {
    const lpn_cm_conv_geometry g = {input_dims->h, input_dims->w, input_dims->c, filter_dims->h, filter_dims->w,
                                    filter_dims->c, params->stride.h, params->stride.w, params->padding.h,
                                    params->padding.w, 1, 1, params->input_offset, output_dims->n, output_dims->h,
                                    output_dims->w, output_dims->c};
    const lpn_cm_shift_epilogue epilogue = lpn_cm_shift_epilogue_of(quant, params->output_offset, &params->activation);
    const int32_t len = lpn_cm_conv_len(&g);
    const int32_t stride = (len + 3) & ~3;
    const int32_t out_c = output_dims->c;
    const int32_t block = lpn_cm_shift_block(out_c, stride, LPN_CM_SHIFT_BLOCK_BYTES);
    int16_t *buf = (int16_t *)(void *)((uint8_t *)ctx->buf + extra);
    int16_t *rows = (int16_t *)(void *)((uint8_t *)buf + lpn_cm_conv_columns_bytes(len));
    for (int32_t oc0 = 0; oc0 < out_c; oc0 += block) {
        const int32_t oc1 = oc0 + block < out_c ? oc0 + block : out_c;
        for (int32_t oc = oc0; oc < oc1; ++oc) {
            fill(weights, aux, oc * len, len, rows + (oc - oc0) * stride, stride);
        }
        lpn_cm_conv_pixels(&g, input, 0, rows, 1, stride, oc0, oc1, bias, output, buf, lpn_cm_shift_requantize2,
                           &epilogue);
    }
}

/* An LPN depthwise convolution on validated arguments, [N,H,W,C] * [1,KH,KW,C*M] -> [N,OH,OW,C*M]: the
 * depthwise core (lpn_cm_depthwise_core.h) on `weights` (int8 in place, or int16 tap rows reordered when
 * `wide`) with the LPN requantization as epilogue. */
LPN_CM_INLINE void lpn_cm_shift_depthwise(const lpn_shift_dw_conv_params *params, const lpn_shift_quant *quant,
                                          const lpn_dims *input_dims, const int8_t *input,
                                          const lpn_dims *filter_dims, const void *weights, int32_t wide,
                                          const int32_t *bias, const lpn_dims *output_dims, int8_t *output) {
    const lpn_cm_depthwise_geometry g = {*input_dims,       *output_dims,     filter_dims->h,    filter_dims->w,
                                         params->ch_mult,   params->stride.h, params->stride.w,  params->padding.h,
                                         params->padding.w, 1,                1,                 params->input_offset};
    const lpn_cm_shift_epilogue epilogue = lpn_cm_shift_epilogue_of(quant, params->output_offset, &params->activation);
    lpn_cm_depthwise(&g, input, weights, wide, bias, output, lpn_cm_shift_requantize, &epilogue);
}

#endif
