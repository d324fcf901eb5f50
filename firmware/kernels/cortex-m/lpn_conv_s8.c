/*
 * CONV_2D int8, per-channel requantization, optimized for Cortex-M4/M7/M33 (DSP extension): bit-exact with
 * firmware/kernels/lpn_conv_s8.c.
 *
 * Two output pixels at a time: their receptive fields are copied into one int16 buffer with the input
 * offset added (im2col; padding taps are zeros). The buffer interleaves the two columns by blocks of 4
 * values -- block b of pixel p at [8 b + 4 p, 8 b + 4 p + 4) -- and stores each block reordered
 * (v0 v2 v1 v3) to match the lanes of SXTB16, so one pointer walks both columns. Every pair of output
 * channels then takes a 2x2 block of dot products: per block, one word of each filter row (SXTB16 and
 * SXTB16 ROR #8), four column words and 8 SMLADs, i.e. 16 MACs. The last len % 4 values of a column sit
 * in a final block of their own, in order, and go through a scalar loop.
 * Scratch: 8 * (len / 4 + 1) int16, len = kh * kw * (c_in / groups).
 */
#include "lpn/fixed_point.h"
#include "lpn/kernels.h"
#include "lpn_cm_simd.h"
#include "lpn_conv_check.h"

int32_t lpn_conv_s8_get_buffer_size(const lpn_conv_params *params, const lpn_dims *input_dims,
                                    const lpn_dims *filter_dims, const lpn_dims *output_dims) {
    (void)params;
    (void)input_dims;
    (void)output_dims;
    if (filter_dims == 0) {
        return 0;
    }
    const int32_t len = filter_dims->h * filter_dims->w * filter_dims->c;
    return 8 * (len / 4 + 1) * (int32_t)sizeof(int16_t);
}

/* Position of value pos of pixel p (0 or 1) in the interleaved, reordered buffer. */
static int32_t lpn_conv_slot(int32_t pos, int32_t p, int32_t blocks) {
    static const int8_t swap[4] = {0, 2, 1, 3};
    const int32_t block = pos >> 2;
    return block < blocks ? block * 8 + p * 4 + swap[pos & 3] : blocks * 8 + p * 4 + (pos & 3);
}

/* The receptive field of output pixel (oy, ox), channels [group * k_c, (group + 1) * k_c), into the
 * interleaved buffer as pixel p. */
static void lpn_conv_im2col(const lpn_conv_params *prm, const lpn_dims *in_dims, const int8_t *image,
                            const lpn_dims *f_dims, int32_t group, int32_t oy, int32_t ox, int32_t p, int16_t *buf) {
    const int32_t k_c = f_dims->c;
    const int32_t len = f_dims->h * f_dims->w * k_c;
    const int32_t blocks = len >> 2;
    const int32_t in_y0 = oy * prm->stride.h - prm->padding.h;
    const int32_t in_x0 = ox * prm->stride.w - prm->padding.w;
    const uint32_t offset2 = lpn_cm_dup16(prm->input_offset);
    const int32_t aligned = (k_c & 3) == 0;
    const int32_t row_inside = prm->dilation.w == 1 && in_x0 >= 0 && in_x0 + f_dims->w <= in_dims->w &&
                               f_dims->c == in_dims->c;
    int32_t pos = 0;
    for (int32_t ky = 0; ky < f_dims->h; ++ky) {
        const int32_t in_y = in_y0 + prm->dilation.h * ky;
        if (aligned && row_inside && in_y >= 0 && in_y < in_dims->h) {
            /* the kw taps of this filter row are one contiguous run of the input row */
            const int8_t *src = image + (in_y * in_dims->w + in_x0) * in_dims->c;
            int16_t *dst = buf + (pos >> 2) * 8 + p * 4;
            const int32_t run = f_dims->w * k_c;
            for (int32_t i = 0; i < run; i += 4, dst += 8) {
                const uint32_t w = lpn_cm_read_u32(src + i);
                lpn_cm_write_u32(dst, lpn_cm_sadd16(lpn_cm_sxtb16(w), offset2));
                lpn_cm_write_u32(dst + 2, lpn_cm_sadd16(lpn_cm_sxtb16_ror8(w), offset2));
            }
            pos += run;
            continue;
        }
        for (int32_t kx = 0; kx < f_dims->w; ++kx, pos += k_c) {
            const int32_t in_x = in_x0 + prm->dilation.w * kx;
            const int inside = in_y >= 0 && in_y < in_dims->h && in_x >= 0 && in_x < in_dims->w;
            const int8_t *src = image + (in_y * in_dims->w + in_x) * in_dims->c + group * k_c;
            if (aligned) {
                /* whole blocks: block (pos + i) / 4 of this pixel */
                int16_t *dst = buf + (pos >> 2) * 8 + p * 4;
                for (int32_t i = 0; i < k_c; i += 4, dst += 8) {
                    if (inside) {
                        const uint32_t w = lpn_cm_read_u32(src + i);
                        lpn_cm_write_u32(dst, lpn_cm_sadd16(lpn_cm_sxtb16(w), offset2));
                        lpn_cm_write_u32(dst + 2, lpn_cm_sadd16(lpn_cm_sxtb16_ror8(w), offset2));
                    } else {
                        lpn_cm_write_u32(dst, 0u);
                        lpn_cm_write_u32(dst + 2, 0u);
                    }
                }
            } else {
                for (int32_t ic = 0; ic < k_c; ++ic) {
                    buf[lpn_conv_slot(pos + ic, p, blocks)] = inside ? (int16_t)(src[ic] + prm->input_offset) : 0;
                }
            }
        }
    }
}

/* acc[2 f + p] += dot(filter row f, column of pixel p), 2 rows x 2 interleaved columns. */
static void lpn_conv_dot_2x2(const int8_t *f0, const int8_t *f1, const int16_t *buf, int32_t len, int32_t acc[4]) {
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    const int32_t blocks = len >> 2;
    const int16_t *c = buf;
    for (int32_t n = blocks; n > 0; --n) {
        const uint32_t w0 = lpn_cm_read_u32(f0), w1 = lpn_cm_read_u32(f1);
        f0 += 4;
        f1 += 4;
        const uint32_t x0 = lpn_cm_read_u32(c), x1 = lpn_cm_read_u32(c + 4);
        const uint32_t e0 = lpn_cm_sxtb16(w0);
        a00 = lpn_cm_smlad(e0, x0, a00);
        a01 = lpn_cm_smlad(e0, x1, a01);
        const uint32_t e1 = lpn_cm_sxtb16(w1);
        a10 = lpn_cm_smlad(e1, x0, a10);
        a11 = lpn_cm_smlad(e1, x1, a11);
        /* Keeps the odd-lane loads below: with them hoisted, gcc runs out of registers and spills. */
        lpn_cm_schedule_barrier();
        const uint32_t y0 = lpn_cm_read_u32(c + 2), y1 = lpn_cm_read_u32(c + 6);
        const uint32_t o0 = lpn_cm_sxtb16_ror8(w0);
        a00 = lpn_cm_smlad(o0, y0, a00);
        a01 = lpn_cm_smlad(o0, y1, a01);
        const uint32_t o1 = lpn_cm_sxtb16_ror8(w1);
        a10 = lpn_cm_smlad(o1, y0, a10);
        a11 = lpn_cm_smlad(o1, y1, a11);
        c += 8;
    }
    for (int32_t t = 0; t < (len & 3); ++t) {
        a00 += f0[t] * c[t];
        a01 += f0[t] * c[4 + t];
        a10 += f1[t] * c[t];
        a11 += f1[t] * c[4 + t];
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

/* dot(filter row, column of pixel p) for one row. */
static int32_t lpn_conv_dot_1x1(const int8_t *f, const int16_t *buf, int32_t p, int32_t len, int32_t acc) {
    const int32_t blocks = len >> 2;
    const int16_t *c = buf + p * 4;
    for (int32_t n = blocks; n > 0; --n) {
        const uint32_t w = lpn_cm_read_u32(f);
        f += 4;
        acc = lpn_cm_smlad(lpn_cm_sxtb16(w), lpn_cm_read_u32(c), acc);
        acc = lpn_cm_smlad(lpn_cm_sxtb16_ror8(w), lpn_cm_read_u32(c + 2), acc);
        c += 8;
    }
    for (int32_t t = 0; t < (len & 3); ++t) {
        acc = lpn_add_wrap(acc, f[t] * c[t]);
    }
    return acc;
}

static int8_t lpn_conv_requantize(const lpn_conv_params *p, const lpn_per_channel_quant *q, int32_t oc,
                                  int32_t acc) {
    acc = lpn_add_wrap(lpn_cm_requantize(acc, q->multiplier[oc], q->shift[oc]), p->output_offset);
    return (int8_t)lpn_clamp(acc, p->activation.min, p->activation.max);
}

lpn_status lpn_conv_s8(const lpn_context *ctx, const lpn_conv_params *params, const lpn_per_channel_quant *quant,
                       const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                       const int8_t *filter, const int32_t *bias, const lpn_dims *output_dims, int8_t *output) {
    const lpn_status status = lpn_conv_check(params, quant, input_dims, input, filter_dims, filter, output_dims, output);
    if (status != LPN_OK) {
        return status;
    }
    const int32_t need = lpn_conv_s8_get_buffer_size(params, input_dims, filter_dims, output_dims);
    if (ctx == 0 || ctx->buf == 0 || ctx->size < need) {
        return LPN_ERR_BUFFER;
    }
    const int32_t len = filter_dims->h * filter_dims->w * filter_dims->c;
    const int32_t out_c = output_dims->c;
    const int32_t groups = input_dims->c / filter_dims->c;
    const int32_t per_group = out_c / groups;
    const int32_t pixels = output_dims->h * output_dims->w;
    int16_t *buf = (int16_t *)ctx->buf;
    /* The tail block must hold zeros where a pixel has no tail values (the scalar loop reads only len & 3). */
    memset(buf, 0, (size_t)need);
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *image = input + b * input_dims->h * input_dims->w * input_dims->c;
        int8_t *out_image = output + b * pixels * out_c;
        for (int32_t px = 0; px < pixels; px += 2) {
            const int32_t two = px + 1 < pixels;
            int8_t *out0 = out_image + px * out_c;
            int8_t *out1 = out0 + out_c;
            for (int32_t g = 0; g < groups; ++g) {
                lpn_conv_im2col(params, input_dims, image, filter_dims, g, px / output_dims->w, px % output_dims->w, 0,
                                buf);
                if (two) {
                    lpn_conv_im2col(params, input_dims, image, filter_dims, g, (px + 1) / output_dims->w,
                                    (px + 1) % output_dims->w, 1, buf);
                }
                const int32_t oc_end = (g + 1) * per_group;
                int32_t oc = g * per_group;
                for (; two && oc + 2 <= oc_end; oc += 2) {
                    const int32_t b0 = bias != 0 ? bias[oc] : 0, b1 = bias != 0 ? bias[oc + 1] : 0;
                    int32_t acc[4] = {b0, b0, b1, b1};
                    lpn_conv_dot_2x2(filter + oc * len, filter + (oc + 1) * len, buf, len, acc);
                    out0[oc] = lpn_conv_requantize(params, quant, oc, acc[0]);
                    out1[oc] = lpn_conv_requantize(params, quant, oc, acc[1]);
                    out0[oc + 1] = lpn_conv_requantize(params, quant, oc + 1, acc[2]);
                    out1[oc + 1] = lpn_conv_requantize(params, quant, oc + 1, acc[3]);
                }
                for (; oc < oc_end; ++oc) {
                    const int8_t *row = filter + oc * len;
                    const int32_t b0 = bias != 0 ? bias[oc] : 0;
                    out0[oc] = lpn_conv_requantize(params, quant, oc, lpn_conv_dot_1x1(row, buf, 0, len, b0));
                    if (two) {
                        out1[oc] = lpn_conv_requantize(params, quant, oc, lpn_conv_dot_1x1(row, buf, 1, len, b0));
                    }
                }
            }
        }
    }
    return LPN_OK;
}
