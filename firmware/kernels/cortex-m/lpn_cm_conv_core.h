/*
 * The convolution core of the optimized Cortex-M kernels (internal): im2col of two output pixels into one
 * int16 buffer and the 2 output channels x 2 pixels multiply-accumulate, shared by CONV_2D int8
 * (lpn_conv_s8.c: int8 weights read in place from the model, or expanded once into int16 rows for small
 * filters) and LPN_SHIFT_CONV_2D (lpn_shift_conv_s8.c: packed shift codes decoded block by block into int16
 * rows in the scratch buffer). The requantization is the caller's: an epilogue function inlined through a
 * constant function pointer (lpn_cm_conv_pixels -> lpn_cm_conv_channels).
 *
 * Column layout: the receptive fields of pixels 0 and 1 (len = kh * kw * k_c values each, input offset
 * added, padding taps 0; lpn_cm_conv_im2col) are interleaved by blocks of 4 values -- block b of pixel p at [8 b + 4 p, +4) --
 * and each block is stored reordered (v0 v2 v1 v3) to match the lanes of SXTB16, so one pointer walks
 * both columns with LDRD. The last len % 4 values of a column sit in a final block of their own, in order.
 *
 * Weights come in two forms: int8 rows as stored in the model (in order), or int16 rows in the reordered
 * layout (LPN shift codes decoded by lpn_cm_shift_decode.h); `wide` selects the form, a constant once the
 * core is inlined into a kernel.
 *
 * Inner loop (Armv7E-M / Armv8-M DSP), per block of 4 values and 2 channels x 2 pixels (16 MACs), in
 * inline assembly (gcc 12 spills otherwise): int8 weights, one word of each row (SXTB16 and SXTB16 ROR #8
 * each), one LDRD per pixel and 8 SMLADs: 16 instructions; int16 weights, one LDRD per row and per pixel
 * and 8 SMLADs: 12 instructions. Two blocks per loop iteration (one branch per 32 MACs). Elsewhere the
 * same arithmetic in portable C.
 */
#ifndef LPN_CM_CONV_CORE_H
#define LPN_CM_CONV_CORE_H

#include "lpn/fixed_point.h"
#include "lpn/kernels.h"
#include "lpn_cm_simd.h"

/* Where a convolution reads its input and writes its output: shapes, the filter window and the offset. */
typedef struct {
    int32_t in_h, in_w, in_c; /* input image (one batch element), NHWC */
    int32_t k_h, k_w, k_c;    /* filter taps and input channels per group */
    int32_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
    int32_t input_offset;                  /* added to every input value; padding taps stay 0 */
    int32_t batches, out_h, out_w, out_c; /* output [batches, out_h, out_w, out_c] */
} lpn_cm_conv_geometry;

/* The requantization of two accumulators of output channel `channel` (ctx: the kernel's parameters): the
 * int8 results in bits 0-7 (acc0) and 8-15 (acc1). Two at a time, so that the channel's parameters are
 * loaded once (an int8 store may alias them, which forces a reload after every output). */
typedef uint32_t (*lpn_cm_requant_fn)(const void *ctx, int32_t channel, int32_t acc0, int32_t acc1);

static inline int32_t lpn_cm_conv_len(const lpn_cm_conv_geometry *g) {
    return g->k_h * g->k_w * g->k_c;
}

/* Bytes of the two interleaved columns, followed by a len-byte (rounded to a word) int8 gather area. */
static inline int32_t lpn_cm_conv_columns_bytes(int32_t len) {
    return 8 * (len / 4 + 1) * (int32_t)sizeof(int16_t) + ((len + 3) & ~3);
}

/* Position of value pos of pixel p (0 or 1) in the interleaved, reordered buffer. */
static inline int32_t lpn_cm_conv_slot(int32_t pos, int32_t p, int32_t blocks) {
    static const int8_t swap[4] = {0, 2, 1, 3};
    const int32_t block = pos >> 2;
    return block < blocks ? block * 8 + p * 4 + swap[pos & 3] : blocks * 8 + p * 4 + (pos & 3);
}

/* n values of src (n % 4 == 0) plus the offset into whole interleaved blocks starting at dst. */
static inline void lpn_cm_conv_expand_run(const int8_t *src, int32_t n, uint32_t offset2, int16_t *dst) {
    for (int32_t i = 0; i < n; i += 4, dst += 8) {
        const uint32_t w = lpn_cm_read_u32(src + i);
        lpn_cm_write_u32(dst, lpn_cm_sadd16(lpn_cm_sxtb16(w), offset2));
        lpn_cm_write_u32(dst + 2, lpn_cm_sadd16(lpn_cm_sxtb16_ror8(w), offset2));
    }
}

/*
 * The receptive field of output pixel (oy, ox), channels [group * k_c, (group + 1) * k_c), into the buffer
 * as pixel p. Channel counts that are a multiple of 4 are expanded tap by tap (a whole filter row at once
 * when it lies inside the image); other counts are first gathered as int8 into the gather area (padding
 * taps hold -input_offset, i.e. 0 once the offset is added) and then expanded by words, unless the offset
 * has no int8 pad value (then value by value).
 */
static inline void lpn_cm_conv_im2col(const lpn_cm_conv_geometry *g, const int8_t *image, int32_t group, int32_t oy,
                                      int32_t ox, int32_t p, int16_t *buf) {
    const int32_t k_c = g->k_c;
    const int32_t len = lpn_cm_conv_len(g);
    const int32_t blocks = len >> 2;
    const int32_t in_y0 = oy * g->stride_h - g->pad_h;
    const int32_t in_x0 = ox * g->stride_w - g->pad_w;
    const uint32_t offset2 = lpn_cm_dup16(g->input_offset);
    const int32_t row_inside = g->dil_w == 1 && in_x0 >= 0 && in_x0 + g->k_w <= g->in_w && k_c == g->in_c;
    if ((k_c & 3) == 0) {
        int32_t pos = 0;
        for (int32_t ky = 0; ky < g->k_h; ++ky) {
            const int32_t in_y = in_y0 + g->dil_h * ky;
            const int32_t y_inside = in_y >= 0 && in_y < g->in_h;
            if (row_inside && y_inside) { /* the kw taps are one contiguous run of the input row */
                lpn_cm_conv_expand_run(image + (in_y * g->in_w + in_x0) * g->in_c, g->k_w * k_c, offset2,
                                       buf + (pos >> 2) * 8 + p * 4);
                pos += g->k_w * k_c;
                continue;
            }
            for (int32_t kx = 0; kx < g->k_w; ++kx, pos += k_c) {
                const int32_t in_x = in_x0 + g->dil_w * kx;
                int16_t *dst = buf + (pos >> 2) * 8 + p * 4;
                if (y_inside && in_x >= 0 && in_x < g->in_w) {
                    lpn_cm_conv_expand_run(image + (in_y * g->in_w + in_x) * g->in_c + group * k_c, k_c, offset2, dst);
                } else {
                    for (int32_t i = 0; i < k_c; i += 4, dst += 8) {
                        lpn_cm_write_u32(dst, 0u);
                        lpn_cm_write_u32(dst + 2, 0u);
                    }
                }
            }
        }
        return;
    }
    const int32_t pad = -g->input_offset;
    if (pad >= -128 && pad <= 127) {
        int8_t *gather = (int8_t *)(buf + 8 * (blocks + 1));
        int8_t *dst = gather;
        for (int32_t ky = 0; ky < g->k_h; ++ky) {
            const int32_t in_y = in_y0 + g->dil_h * ky;
            const int32_t y_inside = in_y >= 0 && in_y < g->in_h;
            if (row_inside && y_inside) {
                memcpy(dst, image + (in_y * g->in_w + in_x0) * g->in_c, (size_t)(g->k_w * k_c));
                dst += g->k_w * k_c;
                continue;
            }
            for (int32_t kx = 0; kx < g->k_w; ++kx, dst += k_c) {
                const int32_t in_x = in_x0 + g->dil_w * kx;
                if (y_inside && in_x >= 0 && in_x < g->in_w) {
                    memcpy(dst, image + (in_y * g->in_w + in_x) * g->in_c + group * k_c, (size_t)k_c);
                } else {
                    memset(dst, pad, (size_t)k_c);
                }
            }
        }
        lpn_cm_conv_expand_run(gather, blocks * 4, offset2, buf + p * 4);
        for (int32_t t = blocks * 4; t < len; ++t) {
            buf[blocks * 8 + p * 4 + (t & 3)] = (int16_t)(gather[t] + g->input_offset);
        }
        return;
    }
    int32_t pos = 0;
    for (int32_t ky = 0; ky < g->k_h; ++ky) {
        const int32_t in_y = in_y0 + g->dil_h * ky;
        for (int32_t kx = 0; kx < g->k_w; ++kx, pos += k_c) {
            const int32_t in_x = in_x0 + g->dil_w * kx;
            const int inside = in_y >= 0 && in_y < g->in_h && in_x >= 0 && in_x < g->in_w;
            const int8_t *src = image + (in_y * g->in_w + in_x) * g->in_c + group * k_c;
            for (int32_t ic = 0; ic < k_c; ++ic) {
                buf[lpn_cm_conv_slot(pos + ic, p, blocks)] = inside ? (int16_t)(src[ic] + g->input_offset) : 0;
            }
        }
    }
}

/* Weight k of a row: int8 in order, or int16 reordered (the tail positions of both are in order). */
LPN_CM_INLINE int32_t lpn_cm_weight_at(const void *row, int32_t wide, int32_t k) {
    return wide ? ((const int16_t *)row)[k] : ((const int8_t *)row)[k];
}

#if defined(LPN_CM_HAVE_DSP) && defined(__GNUC__)
/* The 8 SMLADs of one block of 4 values, weights of rows 0/1 in e0:w0 / e1:w1 (int16 pairs), the pixel-0
 * column in x:y; loads the pixel-1 column halfway. */
#define LPN_CM_MAC_2X2_SMLAD                              \
    "smlad   %[a00], %[e0], %[x], %[a00]\n\t"             \
    "smlad   %[a00], %[w0], %[y], %[a00]\n\t"             \
    "smlad   %[a10], %[e1], %[x], %[a10]\n\t"             \
    "smlad   %[a10], %[w1], %[y], %[a10]\n\t"             \
    "ldrd    %[x], %[y], [%[c]], #8\n\t"                  \
    "smlad   %[a01], %[e0], %[x], %[a01]\n\t"             \
    "smlad   %[a01], %[w0], %[y], %[a01]\n\t"             \
    "smlad   %[a11], %[e1], %[x], %[a11]\n\t"             \
    "smlad   %[a11], %[w1], %[y], %[a11]\n\t"
/* One block of 4 values, int8 weights: 16 MACs in 16 instructions. */
#define LPN_CM_MAC_2X2_INT8                               \
    "ldr     %[w0], [%[f0]], #4\n\t"                      \
    "ldr     %[w1], [%[f1]], #4\n\t"                      \
    "ldrd    %[x], %[y], [%[c]], #8\n\t"                  \
    "sxtb16  %[e0], %[w0]\n\t"                            \
    "sxtb16  %[e1], %[w1]\n\t"                            \
    "sxtb16  %[w0], %[w0], ror #8\n\t"                    \
    "sxtb16  %[w1], %[w1], ror #8\n\t"                    \
    LPN_CM_MAC_2X2_SMLAD
/* One block of 4 values, int16 reordered weights: 16 MACs in 12 instructions. */
#define LPN_CM_MAC_2X2_INT16                              \
    "ldrd    %[e0], %[w0], [%[f0]], #8\n\t"               \
    "ldrd    %[e1], %[w1], [%[f1]], #8\n\t"               \
    "ldrd    %[x], %[y], [%[c]], #8\n\t"                  \
    LPN_CM_MAC_2X2_SMLAD
#define LPN_CM_MAC_2X2_OPERANDS                                                                               \
    : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [f0] "+r"(f0), [f1] "+r"(f1),        \
      [c] "+r"(col), [n] "+r"(pairs), [w0] "=&r"(w0), [w1] "=&r"(w1), [e0] "=&r"(e0), [e1] "=&r"(e1),          \
      [x] "=&r"(x), [y] "=&r"(y)                                                                              \
    :                                                                                                         \
    : "cc", "memory"
#endif

/* acc[2 f + p] += dot(weight row f, column of pixel p) over `blocks` whole blocks of 4; f0/f1: the rows. */
LPN_CM_INLINE void lpn_cm_conv_mac_2x2(const void *f0, const void *f1, int32_t wide, const int16_t *col,
                                       int32_t blocks, int32_t acc[4]) {
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
#if defined(LPN_CM_HAVE_DSP) && defined(__GNUC__)
    uint32_t w0, w1, e0, e1, x, y;
    int32_t pairs = blocks >> 1;
    /* blocks odd: one block first, then two per iteration */
    if (wide) {
        if (blocks & 1) {
            __asm__ volatile(LPN_CM_MAC_2X2_INT16 LPN_CM_MAC_2X2_OPERANDS);
        }
        if (pairs > 0) {
            __asm__ volatile("1:\n\t" LPN_CM_MAC_2X2_INT16 LPN_CM_MAC_2X2_INT16 "subs    %[n], %[n], #1\n\t"
                             "bne     1b\n\t" LPN_CM_MAC_2X2_OPERANDS);
        }
    } else {
        if (blocks & 1) {
            __asm__ volatile(LPN_CM_MAC_2X2_INT8 LPN_CM_MAC_2X2_OPERANDS);
        }
        if (pairs > 0) {
            __asm__ volatile("1:\n\t" LPN_CM_MAC_2X2_INT8 LPN_CM_MAC_2X2_INT8 "subs    %[n], %[n], #1\n\t"
                             "bne     1b\n\t" LPN_CM_MAC_2X2_OPERANDS);
        }
    }
#else
    for (int32_t b = 0; b < blocks; ++b) {
        uint32_t e0, o0, e1, o1;
        if (wide) {
            e0 = lpn_cm_read_u32((const int16_t *)f0 + 4 * b);
            o0 = lpn_cm_read_u32((const int16_t *)f0 + 4 * b + 2);
            e1 = lpn_cm_read_u32((const int16_t *)f1 + 4 * b);
            o1 = lpn_cm_read_u32((const int16_t *)f1 + 4 * b + 2);
        } else {
            const uint32_t w0 = lpn_cm_read_u32((const int8_t *)f0 + 4 * b);
            const uint32_t w1 = lpn_cm_read_u32((const int8_t *)f1 + 4 * b);
            e0 = lpn_cm_sxtb16(w0);
            o0 = lpn_cm_sxtb16_ror8(w0);
            e1 = lpn_cm_sxtb16(w1);
            o1 = lpn_cm_sxtb16_ror8(w1);
        }
        const int16_t *c = col + 8 * b;
        const uint32_t x0 = lpn_cm_read_u32(c), y0 = lpn_cm_read_u32(c + 2);
        const uint32_t x1 = lpn_cm_read_u32(c + 4), y1 = lpn_cm_read_u32(c + 6);
        a00 = lpn_cm_smlad(o0, y0, lpn_cm_smlad(e0, x0, a00));
        a01 = lpn_cm_smlad(o0, y1, lpn_cm_smlad(e0, x1, a01));
        a10 = lpn_cm_smlad(o1, y0, lpn_cm_smlad(e1, x0, a10));
        a11 = lpn_cm_smlad(o1, y1, lpn_cm_smlad(e1, x1, a11));
    }
#endif
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

/* dot(weight row, column of pixel p) plus acc, len values (whole blocks with SMLAD, then the tail). */
LPN_CM_INLINE int32_t lpn_cm_conv_mac_1x1(const void *f, int32_t wide, const int16_t *buf, int32_t p, int32_t len,
                                          int32_t acc) {
    const int16_t *c = buf + p * 4;
    const int32_t blocks = wide ? (len + 3) >> 2 : len >> 2; /* int16 rows: zero-padded whole blocks */
    for (int32_t b = 0; b < blocks; ++b, c += 8) {
        if (wide) {
            const int16_t *w = (const int16_t *)f + 4 * b;
            acc = lpn_cm_smlad(lpn_cm_read_u32(w), lpn_cm_read_u32(c), acc);
            acc = lpn_cm_smlad(lpn_cm_read_u32(w + 2), lpn_cm_read_u32(c + 2), acc);
        } else {
            const uint32_t w = lpn_cm_read_u32((const int8_t *)f + 4 * b);
            acc = lpn_cm_smlad(lpn_cm_sxtb16(w), lpn_cm_read_u32(c), acc);
            acc = lpn_cm_smlad(lpn_cm_sxtb16_ror8(w), lpn_cm_read_u32(c + 2), acc);
        }
    }
    for (int32_t t = 0; t < (wide ? 0 : len & 3); ++t) {
        acc = lpn_add_wrap(acc, lpn_cm_weight_at(f, wide, blocks * 4 + t) * c[t]);
    }
    return acc;
}

/*
 * Output channels [oc_begin, oc_end) of one pixel pair whose columns are in buf (`two`: pixel 1 exists):
 * out0[oc] / out1[oc] = requant(ctx, oc, bias[oc] + dot(row oc, column)). Row oc starts at element
 * (oc - oc_begin) * row_stride of rows (int8, or int16 reordered and zero-padded to row_stride, a
 * multiple of 4 >= len, when `wide`).
 */
LPN_CM_INLINE void lpn_cm_conv_channels(const int16_t *buf, const void *rows, int32_t wide, int32_t row_stride,
                                        int32_t len, int32_t oc_begin, int32_t oc_end, int32_t two,
                                        const int32_t *bias, int8_t *out0, int8_t *out1, lpn_cm_requant_fn requant,
                                        const void *ctx) {
    /* int16 rows are zero-padded to whole blocks: the partial last block of the columns (in order, in both)
     * goes through the SMLAD loop, whatever its unused slots hold */
    const int32_t blocks = wide ? (len + 3) >> 2 : len >> 2, tail = wide ? 0 : len & 3;
    const int16_t *tail_col = buf + blocks * 8;
    const int32_t size = wide ? 2 : 1;
    const uint8_t *base = (const uint8_t *)rows;
    int32_t oc = oc_begin;
    for (; two && oc + 2 <= oc_end; oc += 2) {
        const void *f0 = base + (oc - oc_begin) * row_stride * size;
        const void *f1 = base + (oc + 1 - oc_begin) * row_stride * size;
        const int32_t b0 = bias != 0 ? bias[oc] : 0, b1 = bias != 0 ? bias[oc + 1] : 0;
        int32_t acc[4] = {b0, b0, b1, b1};
        lpn_cm_conv_mac_2x2(f0, f1, wide, buf, blocks, acc);
        for (int32_t t = 0; t < tail; ++t) {
            const int32_t w0 = lpn_cm_weight_at(f0, wide, blocks * 4 + t);
            const int32_t w1 = lpn_cm_weight_at(f1, wide, blocks * 4 + t);
            const int32_t x0 = tail_col[t], x1 = tail_col[4 + t];
            acc[0] = lpn_add_wrap(acc[0], w0 * x0);
            acc[1] = lpn_add_wrap(acc[1], w0 * x1);
            acc[2] = lpn_add_wrap(acc[2], w1 * x0);
            acc[3] = lpn_add_wrap(acc[3], w1 * x1);
        }
        const uint32_t r0 = requant(ctx, oc, acc[0], acc[1]);
        const uint32_t r1 = requant(ctx, oc + 1, acc[2], acc[3]);
        out0[oc] = (int8_t)(r0 & 0xffu);
        out1[oc] = (int8_t)((r0 >> 8) & 0xffu);
        out0[oc + 1] = (int8_t)(r1 & 0xffu);
        out1[oc + 1] = (int8_t)((r1 >> 8) & 0xffu);
    }
    for (; oc < oc_end; ++oc) {
        const void *row = base + (oc - oc_begin) * row_stride * size;
        const int32_t b0 = bias != 0 ? bias[oc] : 0;
        const int32_t acc0 = lpn_cm_conv_mac_1x1(row, wide, buf, 0, len, b0);
        const int32_t acc1 = two ? lpn_cm_conv_mac_1x1(row, wide, buf, 1, len, b0) : 0;
        const uint32_t r = requant(ctx, oc, acc0, acc1);
        out0[oc] = (int8_t)(r & 0xffu);
        if (two) {
            out1[oc] = (int8_t)((r >> 8) & 0xffu);
        }
    }
}

/*
 * Output channels [oc_begin, oc_end) of filter group `group` at every output pixel of every batch element:
 * two pixels at a time, im2col into buf (lpn_cm_conv_columns_bytes), then lpn_cm_conv_channels with the
 * weight rows of those channels (see there for rows, wide and row_stride).
 */
LPN_CM_INLINE void lpn_cm_conv_pixels(const lpn_cm_conv_geometry *g, const int8_t *input, int32_t group,
                                      const void *rows, int32_t wide, int32_t row_stride, int32_t oc_begin,
                                      int32_t oc_end, const int32_t *bias, int8_t *output, int16_t *buf,
                                      lpn_cm_requant_fn requant, const void *ctx) {
    const int32_t len = lpn_cm_conv_len(g);
    const int32_t pixels = g->out_h * g->out_w;
    for (int32_t b = 0; b < g->batches; ++b) {
        const int8_t *image = input + b * g->in_h * g->in_w * g->in_c;
        int8_t *out_image = output + b * pixels * g->out_c;
        for (int32_t px = 0; px < pixels; px += 2) {
            const int32_t two = px + 1 < pixels;
            int8_t *out0 = out_image + px * g->out_c;
            lpn_cm_conv_im2col(g, image, group, px / g->out_w, px % g->out_w, 0, buf);
            if (two) {
                lpn_cm_conv_im2col(g, image, group, (px + 1) / g->out_w, (px + 1) % g->out_w, 1, buf);
            }
            lpn_cm_conv_channels(buf, rows, wide, row_stride, len, oc_begin, oc_end, two, bias, out0, out0 + g->out_c,
                                 requant, ctx);
        }
    }
}

#undef LPN_CM_MAC_2X2_INT8
#undef LPN_CM_MAC_2X2_INT16
#undef LPN_CM_MAC_2X2_SMLAD
#undef LPN_CM_MAC_2X2_OPERANDS

#endif
