/*
 * Randomized differential test of the optimized Cortex-M kernels (firmware/kernels/cortex-m/) against the
 * portable reference kernels, in one program: the reference int8 files are compiled in below under other
 * names (the int8 conv / depthwise / fully connected and the int8-weight LPN conv / depthwise); the reference
 * ADD and LPN shift kernels are already inside the Cortex-M files (their fallbacks, lpn_*_portable). Every
 * case draws shapes (odd sizes, kernels 1-5, strides 1-3, dilations 1-2, SAME and VALID padding, groups,
 * depth multipliers 1-3, batches), parameters (offsets, multipliers and shifts across their ranges
 * including the requantization fallbacks, LPN mantissas, shifts and output grids, exponent bits 0-7,
 * clamped activations, with and without bias) and data from a fixed-seed xorshift generator, runs both
 * kernels and compares the status and every output byte.
 *
 * Built by cm_diff_test.mk for the host (portable intrinsics, also under ASan + UBSan) and for Cortex-M
 * (QEMU, semihosting). Output: one "FAIL <op> case <i> ..." line per mismatch, then "<op> ran <n> of
 * <cases> cases" per op (n: both kernels returned LPN_OK; draws with an empty output are skipped) and
 * "done <failures>". Exit status: the number of failures (capped at 100).
 */
#include <stdint.h>
#include <string.h>

#include "lpn/kernels.h"
#include "lpn/lpn_ops.h"
#include "lpn_test_util.h"

/* ---- the reference kernels under other names ------------------------------------------------------------- */
#define lpn_conv_s8 ref_conv_s8
#define lpn_conv_s8_get_buffer_size ref_conv_s8_get_buffer_size
#include "../kernels/lpn_conv_s8.c"
#undef lpn_conv_s8
#undef lpn_conv_s8_get_buffer_size
#define lpn_depthwise_conv_s8 ref_depthwise_conv_s8
#define lpn_depthwise_conv_s8_get_buffer_size ref_depthwise_conv_s8_get_buffer_size
#include "../kernels/lpn_depthwise_conv_s8.c"
#undef lpn_depthwise_conv_s8
#undef lpn_depthwise_conv_s8_get_buffer_size
#define lpn_fully_connected_per_channel_s8 ref_fully_connected_per_channel_s8
#define lpn_fully_connected_per_channel_s8_get_buffer_size ref_fully_connected_per_channel_s8_get_buffer_size
#include "../kernels/lpn_fully_connected_per_channel_s8.c"
#undef lpn_fully_connected_per_channel_s8
#undef lpn_fully_connected_per_channel_s8_get_buffer_size
#define lpn_conv_lpn_s8 ref_conv_lpn_s8
#define lpn_conv_lpn_s8_get_buffer_size ref_conv_lpn_s8_get_buffer_size
#include "../kernels/lpn_conv_lpn_s8.c"
#undef lpn_conv_lpn_s8
#undef lpn_conv_lpn_s8_get_buffer_size
#define lpn_depthwise_conv_lpn_s8 ref_depthwise_conv_lpn_s8
#define lpn_depthwise_conv_lpn_s8_get_buffer_size ref_depthwise_conv_lpn_s8_get_buffer_size
#include "../kernels/lpn_depthwise_conv_lpn_s8.c"
#undef lpn_depthwise_conv_lpn_s8
#undef lpn_depthwise_conv_lpn_s8_get_buffer_size

/* inside the Cortex-M files */
lpn_status lpn_add_s8_portable(const lpn_add_params *params, const lpn_dims *input1_dims, const int8_t *input1,
                               const lpn_dims *input2_dims, const int8_t *input2, const lpn_dims *output_dims,
                               int8_t *output);
lpn_status lpn_shift_conv_s8_portable(const lpn_context *ctx, const lpn_shift_conv_params *params,
                                      const lpn_shift_quant *quant, const lpn_dims *input_dims, const int8_t *input,
                                      const lpn_dims *filter_dims, const uint8_t *codes, const int32_t *bias,
                                      const lpn_dims *output_dims, int8_t *output);
lpn_status lpn_shift_depthwise_conv_s8_portable(const lpn_context *ctx, const lpn_shift_dw_conv_params *params,
                                                const lpn_shift_quant *quant, const lpn_dims *input_dims,
                                                const int8_t *input, const lpn_dims *filter_dims,
                                                const uint8_t *codes, const int32_t *bias,
                                                const lpn_dims *output_dims, int8_t *output);
lpn_status lpn_shift_fully_connected_s8_portable(const lpn_context *ctx, const lpn_shift_fc_params *params,
                                                 const lpn_shift_quant *quant, const lpn_dims *input_dims,
                                                 const int8_t *input, const lpn_dims *filter_dims,
                                                 const uint8_t *codes, const int32_t *bias,
                                                 const lpn_dims *output_dims, int8_t *output);

/* ---- random draws ---------------------------------------------------------------------------------------- */
static uint32_t rng_state = 0x9E3779B9u;

static uint32_t rnd(void) {
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

/* uniform in [lo, hi] */
static int32_t uniform(int32_t lo, int32_t hi) {
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static void fill_s8(int8_t *dst, int32_t n) {
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = (int8_t)(uint8_t)(rnd() & 0xFFu);
    }
}

static lpn_activation activation(int32_t output_offset) {
    const int32_t kind = uniform(0, 2);
    lpn_activation a = {-128, 127};
    if (kind == 1) {
        a.min = output_offset;
    } else if (kind == 2) {
        a.min = output_offset;
        a.max = output_offset + uniform(10, 80) > 127 ? 127 : output_offset + uniform(10, 80);
    }
    return a;
}

/* A requantization multiplier in [2^30, 2^31) and a shift, mostly right shifts, sometimes the extremes that
 * take the optimized kernels' fallbacks (shift -31..-24, left shifts). */
static void requant(int32_t *multiplier, int32_t *shift) {
    *multiplier = (int32_t)(0x40000000u | (rnd() & 0x3FFFFFFFu));
    const int32_t kind = uniform(0, 9);
    *shift = kind == 0 ? uniform(-31, -24) : (kind == 1 ? uniform(0, 3) : uniform(-14, -4));
}

/* ---- buffers --------------------------------------------------------------------------------------------- */
#define CAP_IN 4096
#define CAP_OUT 4096
#define CAP_W 8192
#define CAP_CH 64
static int8_t in1[CAP_IN], in2[CAP_IN], weights[CAP_W], out_ref[CAP_OUT], out_opt[CAP_OUT];
static int32_t bias[CAP_CH], mult[CAP_CH], shifts[CAP_CH];
static int16_t mantissa[CAP_CH];
static int8_t lpn_shift[CAP_CH];
static int32_t scratch[48 * 1024 / 4];
static const lpn_per_channel_quant int8_quant = {mult, shifts};
static int32_t failures, ran; /* ran: cases where both kernels returned LPN_OK */

static int32_t out_size(int32_t in, int32_t k, int32_t stride, int32_t dilation, int32_t same, int32_t *pad) {
    return lpn_compute_padding(in, k, stride, dilation, same, pad);
}

/* Compares the two results of case `index` of `op`; counts the cases both kernels ran. */
static void compare(const char *op, int32_t index, lpn_status ref, lpn_status opt, const lpn_dims *out) {
    const int32_t count = out->n * out->h * out->w * out->c;
    int32_t bad = -1;
    if (ref == opt && ref == LPN_OK) {
        ++ran;
        for (int32_t i = 0; i < count; ++i) {
            if (out_ref[i] != out_opt[i]) {
                bad = i;
                break;
            }
        }
    }
    if (ref != opt || bad >= 0) {
        ++failures;
        print("FAIL ");
        print(op);
        print(" case ");
        print_int(index);
        print(ref != opt ? " status " : " byte ");
        print_int(ref != opt ? (int32_t)opt : bad);
        if (bad >= 0) {
            print(" got ");
            print_int(out_opt[bad]);
            print(" want ");
            print_int(out_ref[bad]);
        }
        print("\n");
    }
}

/* Stride 1-3, dilation 1-2 (when allowed), SAME or VALID padding of a kh x kw window over `in`; the output
 * height and width, or 0 when the window leaves no output (the caller skips the draw). */
static int32_t draw_window(const lpn_dims *in, int32_t kh, int32_t kw, int32_t dilate, lpn_tile *stride,
                           lpn_tile *padding, lpn_tile *dilation, int32_t *out_h, int32_t *out_w) {
    stride->h = uniform(1, 3);
    stride->w = uniform(1, 3);
    dilation->h = dilate && uniform(0, 4) == 0 ? 2 : 1;
    dilation->w = dilate && uniform(0, 4) == 0 ? 2 : 1;
    const int32_t same = uniform(0, 1);
    *out_h = out_size(in->h, kh, stride->h, dilation->h, same, &padding->h);
    *out_w = out_size(in->w, kw, stride->w, dilation->w, same, &padding->w);
    return *out_h >= 1 && *out_w >= 1;
}

/* Depthwise shapes: depth multiplier (mostly 1, else 2-3), input, a kh x kw filter of in.c * M channels and
 * the window (dilations when `dilate`); 0 when the window leaves no output (the caller skips the draw). */
static int32_t draw_depthwise(int32_t dilate, int32_t *ch_mult, lpn_dims *in, lpn_dims *f, lpn_dims *out,
                              lpn_tile *stride, lpn_tile *padding, lpn_tile *dilation) {
    *ch_mult = uniform(0, 2) ? 1 : uniform(2, 3);
    const lpn_dims input = {uniform(1, 2), uniform(1, 9), uniform(1, 9), uniform(1, 14)};
    const lpn_dims filter = {1, uniform(1, 5), uniform(1, 5), input.c * *ch_mult};
    const lpn_dims output = {input.n, 0, 0, filter.c};
    *in = input;
    *f = filter;
    *out = output;
    return draw_window(in, f->h, f->w, dilate, stride, padding, dilation, &out->h, &out->w);
}

/* Fully connected shapes: depth 1-70, 1-13 units, 1-3 batch rows. */
static void draw_fully_connected(lpn_dims *in, lpn_dims *f, lpn_dims *out) {
    const int32_t depth = uniform(1, 70), units = uniform(1, 13), batches = uniform(1, 3);
    const lpn_dims input = {batches, 1, 1, depth}, filter = {units, 1, 1, depth}, output = {batches, 1, 1, units};
    *in = input;
    *f = filter;
    *out = output;
}

/* Offsets and activation; fills the input with n values. */
static void draw_io(int32_t n, int32_t *input_offset, int32_t *output_offset, lpn_activation *act) {
    *input_offset = uniform(-127, 128);
    *output_offset = uniform(-128, 127);
    *act = activation(*output_offset);
    fill_s8(in1, n);
}

/* Offsets, activation and per-channel int8 requantization (int8_quant) + bias of `channels` output channels;
 * fills the input with n values and the weights with w values. Returns the bias, or none. */
static const int32_t *draw_int8(int32_t channels, int32_t n, int32_t w, int32_t *input_offset,
                                int32_t *output_offset, lpn_activation *act) {
    draw_io(n, input_offset, output_offset, act);
    fill_s8(weights, w);
    for (int32_t c = 0; c < channels; ++c) {
        bias[c] = uniform(-40000, 40000);
        requant(&mult[c], &shifts[c]);
    }
    return uniform(0, 4) ? bias : 0;
}

static lpn_context context(int32_t need) {
    const lpn_context ctx = {scratch, need > 0 ? need : 0};
    return ctx;
}

/* ---- one case per op --------------------------------------------------------------------------------------- */
static void conv_case(int32_t index) {
    const int32_t k_c = uniform(1, 12), groups = uniform(0, 4) == 0 ? uniform(2, 3) : 1;
    const lpn_dims in = {uniform(1, 2), uniform(1, 9), uniform(1, 9), k_c * groups};
    lpn_conv_params p;
    const lpn_dims f = {groups * uniform(1, 6), uniform(1, 5), uniform(1, 5), k_c};
    lpn_dims out = {in.n, 0, 0, f.n};
    if (!draw_window(&in, f.h, f.w, 1, &p.stride, &p.padding, &p.dilation, &out.h, &out.w)) {
        return;
    }
    const int32_t *b = draw_int8(f.n, in.n * in.h * in.w * in.c, f.n * f.h * f.w * f.c, &p.input_offset,
                                 &p.output_offset, &p.activation);
    const lpn_context ctx = context(lpn_conv_s8_get_buffer_size(&p, &in, &f, &out));
    const lpn_status r = ref_conv_s8(&ctx, &p, &int8_quant, &in, in1, &f, weights, b, &out, out_ref);
    const lpn_status o = lpn_conv_s8(&ctx, &p, &int8_quant, &in, in1, &f, weights, b, &out, out_opt);
    compare("conv", index, r, o, &out);
}

static void depthwise_case(int32_t index) {
    lpn_dw_conv_params p;
    lpn_dims in, f, out;
    if (!draw_depthwise(1, &p.ch_mult, &in, &f, &out, &p.stride, &p.padding, &p.dilation)) {
        return;
    }
    const int32_t *b = draw_int8(f.c, in.n * in.h * in.w * in.c, f.h * f.w * f.c, &p.input_offset,
                                 &p.output_offset, &p.activation);
    const lpn_context ctx = context(lpn_depthwise_conv_s8_get_buffer_size(&p, &in, &f, &out));
    const lpn_status r = ref_depthwise_conv_s8(&ctx, &p, &int8_quant, &in, in1, &f, weights, b, &out, out_ref);
    const lpn_status o = lpn_depthwise_conv_s8(&ctx, &p, &int8_quant, &in, in1, &f, weights, b, &out, out_opt);
    compare("depthwise", index, r, o, &out);
}

static void fully_connected_case(int32_t index) {
    lpn_dims in, f, out;
    draw_fully_connected(&in, &f, &out);
    lpn_fc_params p;
    p.filter_offset = uniform(0, 3) == 0 ? uniform(-5, 5) : 0;
    const int32_t *b = draw_int8(f.n, in.n * in.c, f.n * f.c, &p.input_offset, &p.output_offset, &p.activation);
    const lpn_context ctx = context(lpn_fully_connected_per_channel_s8_get_buffer_size(&f));
    const lpn_status r =
        ref_fully_connected_per_channel_s8(&ctx, &p, &int8_quant, &in, in1, &f, weights, b, &out, out_ref);
    const lpn_status o =
        lpn_fully_connected_per_channel_s8(&ctx, &p, &int8_quant, &in, in1, &f, weights, b, &out, out_opt);
    compare("fully_connected", index, r, o, &out);
}

static void add_case(int32_t index) {
    const lpn_dims out = {uniform(1, 2), uniform(1, 9), uniform(1, 9), uniform(1, 9)};
    lpn_dims d1 = out, d2 = out;
    if (uniform(0, 3) == 0) { /* a broadcast: the portable path */
        d2.h = 1;
        d2.c = uniform(0, 1) ? 1 : out.c;
    }
    lpn_add_params p;
    p.input1_offset = uniform(-127, 128);
    p.input2_offset = uniform(-127, 128);
    p.output_offset = uniform(-128, 127);
    p.left_shift = uniform(0, 5) == 0 ? uniform(0, 24) : 20;
    requant(&p.input1_multiplier, &p.input1_shift);
    requant(&p.input2_multiplier, &p.input2_shift);
    requant(&p.output_multiplier, &p.output_shift);
    p.input1_shift = p.input1_shift > 0 ? 0 : p.input1_shift;
    p.input2_shift = p.input2_shift > 0 ? 0 : p.input2_shift;
    p.output_shift = p.output_shift > 0 ? 0 : p.output_shift + uniform(0, 10);
    p.output_shift = p.output_shift > 0 ? 0 : p.output_shift;
    p.activation = activation(p.output_offset);
    fill_s8(in1, out.n * out.h * out.w * out.c);
    fill_s8(in2, out.n * out.h * out.w * out.c);
    const lpn_status r = lpn_add_s8_portable(&p, &d1, in1, &d2, in2, &out, out_ref);
    const lpn_status o = lpn_add_s8(&p, &d1, in1, &d2, in2, &out, out_opt);
    compare("add", index, r, o, &out);
}

/* LPN requantization: mantissas of 4-16 bits, either sign, shifts 0..40, any of the three output grids. */
static lpn_shift_quant lpn_quant(int32_t channels) {
    const int32_t bits = uniform(4, 16);
    for (int32_t c = 0; c < channels; ++c) {
        mantissa[c] = (int16_t)uniform(-((1 << (bits - 1)) - 1), (1 << (bits - 1)) - 1);
        lpn_shift[c] = (int8_t)uniform(bits - 1, bits + 14);
        bias[c] = uniform(-3000, 3000);
    }
    const lpn_shift_quant q = {mantissa, lpn_shift, uniform(0, 3) ? LPN_GRID_NEAREST : uniform(1, 2)};
    return q;
}

/* The draws of an LPN shift case after its shapes: exponent bits 0-7, offsets and activation, the input
 * (n values), `codes` packed codes, the requantization of `channels` channels and the bias (or none). */
static lpn_shift_quant draw_shift(int32_t n, int32_t codes, int32_t channels, int32_t *exponent_bits,
                                  int32_t *input_offset, int32_t *output_offset, lpn_activation *act,
                                  const int32_t **b) {
    *exponent_bits = uniform(0, 7);
    draw_io(n, input_offset, output_offset, act);
    fill_s8(weights, lpn_shift_codes_bytes(codes, *exponent_bits));
    const lpn_shift_quant q = lpn_quant(channels);
    *b = uniform(0, 4) ? bias : 0;
    return q;
}

/* LPN_SHIFT_CONV_2D (packed codes), or with `int8` LPN_CONV_2D: an int8 filter and an exponent_bits the kernel
 * ignores, and the optimized kernel must report scratch (its int16 rows) and run with exactly that much. */
static void lpn_any_conv_case(int32_t index, int32_t int8) {
    lpn_shift_conv_params p;
    const lpn_dims in = {uniform(1, 2), uniform(1, 9), uniform(1, 9), uniform(1, 12)};
    const lpn_dims f = {uniform(1, 9), uniform(1, 5), uniform(1, 5), in.c};
    lpn_dims out = {in.n, 0, 0, f.n};
    lpn_tile dilation;
    if (!draw_window(&in, f.h, f.w, 0, &p.stride, &p.padding, &dilation, &out.h, &out.w)) {
        return;
    }
    const int32_t *b;
    const int32_t count = f.n * f.h * f.w * f.c;
    const lpn_shift_quant q = draw_shift(in.n * in.h * in.w * in.c, int8 ? 0 : count, f.n, &p.exponent_bits,
                                         &p.input_offset, &p.output_offset, &p.activation, &b);
    const uint8_t *codes = (const uint8_t *)weights;
    if (int8) {
        p.exponent_bits = uniform(-1, 9);
        fill_s8(weights, count);
        const int32_t need = lpn_conv_lpn_s8_get_buffer_size(&p, &in, &f, &out);
        const lpn_context ctx = context(need);
        const lpn_status r = ref_conv_lpn_s8(&ctx, &p, &q, &in, in1, &f, weights, b, &out, out_ref);
        const lpn_status o = need > 0 ? lpn_conv_lpn_s8(&ctx, &p, &q, &in, in1, &f, weights, b, &out, out_opt)
                                      : LPN_ERR_BUFFER; /* no scratch reported: not the optimized kernel */
        compare("lpn_conv", index, r, o, &out);
        return;
    }
    const lpn_context ctx = context(lpn_shift_conv_s8_get_buffer_size(&p, &in, &f, &out));
    const lpn_status r = lpn_shift_conv_s8_portable(&ctx, &p, &q, &in, in1, &f, codes, b, &out, out_ref);
    const lpn_status o = lpn_shift_conv_s8(&ctx, &p, &q, &in, in1, &f, codes, b, &out, out_opt);
    compare("shift_conv", index, r, o, &out);
}

/* LPN_SHIFT_DEPTHWISE_CONV_2D (packed codes), or with `int8` LPN_DEPTHWISE_CONV_2D (an int8 filter and an
 * exponent_bits the kernel ignores); depth multipliers 1-3. */
static void lpn_any_depthwise_case(int32_t index, int32_t int8) {
    lpn_shift_dw_conv_params p;
    lpn_dims in, f, out;
    lpn_tile dilation;
    if (!draw_depthwise(0, &p.ch_mult, &in, &f, &out, &p.stride, &p.padding, &dilation)) {
        return;
    }
    const int32_t *b;
    const int32_t count = f.h * f.w * f.c;
    const lpn_shift_quant q = draw_shift(in.n * in.h * in.w * in.c, int8 ? 0 : count, f.c, &p.exponent_bits,
                                         &p.input_offset, &p.output_offset, &p.activation, &b);
    const uint8_t *codes = (const uint8_t *)weights;
    if (int8) {
        p.exponent_bits = uniform(-1, 9);
        fill_s8(weights, count);
        const lpn_context ctx = context(lpn_depthwise_conv_lpn_s8_get_buffer_size(&p, &in, &f, &out));
        const lpn_status r = ref_depthwise_conv_lpn_s8(&ctx, &p, &q, &in, in1, &f, weights, b, &out, out_ref);
        const lpn_status o = lpn_depthwise_conv_lpn_s8(&ctx, &p, &q, &in, in1, &f, weights, b, &out, out_opt);
        compare("lpn_depthwise", index, r, o, &out);
        return;
    }
    const lpn_context ctx = context(lpn_shift_depthwise_conv_s8_get_buffer_size(&p, &in, &f, &out));
    const lpn_status r = lpn_shift_depthwise_conv_s8_portable(&ctx, &p, &q, &in, in1, &f, codes, b, &out, out_ref);
    const lpn_status o = lpn_shift_depthwise_conv_s8(&ctx, &p, &q, &in, in1, &f, codes, b, &out, out_opt);
    compare("shift_depthwise", index, r, o, &out);
}

static void shift_conv_case(int32_t index) {
    lpn_any_conv_case(index, 0);
}

static void shift_depthwise_case(int32_t index) {
    lpn_any_depthwise_case(index, 0);
}

static void lpn_conv_case(int32_t index) {
    lpn_any_conv_case(index, 1);
}

static void lpn_depthwise_case(int32_t index) {
    lpn_any_depthwise_case(index, 1);
}

static void shift_fully_connected_case(int32_t index) {
    lpn_dims in, f, out;
    draw_fully_connected(&in, &f, &out);
    lpn_shift_fc_params p;
    const int32_t *b;
    const lpn_shift_quant q = draw_shift(in.n * in.c, f.n * f.c, f.n, &p.exponent_bits, &p.input_offset,
                                         &p.output_offset, &p.activation, &b);
    const lpn_context ctx = context(lpn_shift_fully_connected_s8_get_buffer_size(&f));
    const uint8_t *codes = (const uint8_t *)weights;
    const lpn_status r = lpn_shift_fully_connected_s8_portable(&ctx, &p, &q, &in, in1, &f, codes, b, &out, out_ref);
    const lpn_status o = lpn_shift_fully_connected_s8(&ctx, &p, &q, &in, in1, &f, codes, b, &out, out_opt);
    compare("shift_fully_connected", index, r, o, &out);
}

#ifndef LPN_DIFF_CASES
#define LPN_DIFF_CASES 300
#endif

int main(void) {
    static void (*const ops[])(int32_t) = {conv_case,       depthwise_case,       fully_connected_case,
                                           add_case,        shift_conv_case,      shift_depthwise_case,
                                           shift_fully_connected_case, lpn_conv_case, lpn_depthwise_case};
    static const char *const names[] = {"conv",       "depthwise",       "fully_connected",
                                        "add",        "shift_conv",      "shift_depthwise",
                                        "shift_fully_connected", "lpn_conv", "lpn_depthwise"};
    for (int32_t op = 0; op < (int32_t)(sizeof(ops) / sizeof(ops[0])); ++op) {
        ran = 0;
        for (int32_t i = 0; i < LPN_DIFF_CASES; ++i) {
            ops[op](i);
        }
        print(names[op]);
        print(" ran ");
        print_int(ran);
        print(" of ");
        print_int(LPN_DIFF_CASES);
        print(" cases\n");
    }
    print("done ");
    print_int(failures);
    print("\n");
    return failures > 100 ? 100 : (int)failures;
}
