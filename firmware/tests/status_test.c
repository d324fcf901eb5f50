/*
 * Argument validation of every kernel: NULL pointers, out-of-range parameters, inconsistent dims and a
 * too small scratch buffer return the documented lpn_status, never crash and never write the output.
 * Also: the Cortex-M kernels' shorter requantization (lpn_cm_requantize) equals TFLite's
 * MultiplyByQuantizedMultiplier (lpn/fixed_point.h) on edge values and a million random triples.
 * Prints one line per failed check; exit status = number of failed checks.
 */
#include <stdio.h>
#include <string.h>

#include "cortex-m/lpn_cm_simd.h"
#include "lpn/fixed_point.h"
#include "lpn/kernels.h"

static int failures;

static void expect(lpn_status got, lpn_status want, const char *what) {
    if (got != want) {
        printf("FAIL %s: got %s, want %s\n", what, lpn_status_string(got), lpn_status_string(want));
        ++failures;
    }
}

static int8_t in[256], filt[256], out[256];
static int32_t bias[16], mult[16], shift[16];
static uint32_t scratch[256];

static void conv_checks(void) {
    const lpn_conv_params good = {0, 0, {1, 1}, {0, 0}, {1, 1}, {-128, 127}};
    const lpn_dims id = {1, 4, 4, 4}, fd = {4, 3, 3, 4}, od = {1, 2, 2, 4};
    const lpn_per_channel_quant q = {mult, shift};
    lpn_context ctx = {scratch, (int32_t)sizeof(scratch)};
    lpn_conv_params p = good;
    expect(lpn_conv_s8(&ctx, &p, &q, &id, in, &fd, filt, bias, &od, out), LPN_OK, "conv valid");
    expect(lpn_conv_s8(&ctx, &p, &q, &id, NULL, &fd, filt, bias, &od, out), LPN_ERR_ARGUMENT, "conv NULL input");
    expect(lpn_conv_s8(&ctx, &p, NULL, &id, in, &fd, filt, bias, &od, out), LPN_ERR_ARGUMENT, "conv NULL quant");
    p.stride.w = 0;
    expect(lpn_conv_s8(&ctx, &p, &q, &id, in, &fd, filt, bias, &od, out), LPN_ERR_ARGUMENT, "conv stride 0");
    p = good;
    p.activation.min = 10;
    p.activation.max = 9;
    expect(lpn_conv_s8(&ctx, &p, &q, &id, in, &fd, filt, bias, &od, out), LPN_ERR_ARGUMENT, "conv min > max");
    p = good;
    const lpn_dims bad_out = {1, 2, 2, 5};
    expect(lpn_conv_s8(&ctx, &p, &q, &id, in, &fd, filt, bias, &bad_out, out), LPN_ERR_SHAPE, "conv c_out");
    const lpn_dims bad_groups = {4, 3, 3, 3};
    expect(lpn_conv_s8(&ctx, &p, &q, &id, in, &bad_groups, filt, bias, &od, out), LPN_ERR_SHAPE, "conv groups");
    shift[1] = 31;
    expect(lpn_conv_s8(&ctx, &p, &q, &id, in, &fd, filt, bias, &od, out), LPN_ERR_ARGUMENT, "conv shift 31");
    shift[1] = 0;
    mult[2] = -1;
    expect(lpn_conv_s8(&ctx, &p, &q, &id, in, &fd, filt, bias, &od, out), LPN_ERR_ARGUMENT, "conv multiplier < 0");
    mult[2] = 1 << 30;
    const int32_t need = lpn_conv_s8_get_buffer_size(&p, &id, &fd, &od);
    if (need > 0) {
        lpn_context small = {scratch, need - 1};
        memset(out, 0x33, sizeof(out));
        expect(lpn_conv_s8(&small, &p, &q, &id, in, &fd, filt, bias, &od, out), LPN_ERR_BUFFER, "conv scratch");
        if (out[0] != 0x33) {
            printf("FAIL conv wrote its output after a scratch error\n");
            ++failures;
        }
    }
}

static void depthwise_checks(void) {
    const lpn_dw_conv_params good = {0, 0, 2, {1, 1}, {1, 1}, {1, 1}, {-128, 127}};
    const lpn_dims id = {1, 4, 4, 3}, fd = {1, 3, 3, 6}, od = {1, 4, 4, 6};
    const lpn_per_channel_quant q = {mult, shift};
    lpn_context ctx = {scratch, (int32_t)sizeof(scratch)};
    lpn_dw_conv_params p = good;
    expect(lpn_depthwise_conv_s8(&ctx, &p, &q, &id, in, &fd, filt, NULL, &od, out), LPN_OK, "dw valid");
    p.ch_mult = 1;
    expect(lpn_depthwise_conv_s8(&ctx, &p, &q, &id, in, &fd, filt, NULL, &od, out), LPN_ERR_SHAPE, "dw ch_mult");
    p.ch_mult = 0;
    expect(lpn_depthwise_conv_s8(&ctx, &p, &q, &id, in, &fd, filt, NULL, &od, out), LPN_ERR_ARGUMENT, "dw mult 0");
    p = good;
    p.padding.h = -1;
    expect(lpn_depthwise_conv_s8(&ctx, &p, &q, &id, in, &fd, filt, NULL, &od, out), LPN_ERR_ARGUMENT, "dw pad");
}

static void fully_connected_checks(void) {
    const lpn_fc_params p = {0, 0, 0, {-128, 127}};
    const lpn_dims id = {2, 1, 1, 8}, fd = {5, 1, 1, 8}, od = {2, 1, 1, 5};
    const lpn_per_tensor_quant qt = {1 << 30, 0};
    const lpn_per_channel_quant qc = {mult, shift};
    lpn_context ctx = {scratch, (int32_t)sizeof(scratch)};
    expect(lpn_fully_connected_s8(&ctx, &p, &qt, &id, in, &fd, filt, bias, &od, out), LPN_OK, "fc valid");
    expect(lpn_fully_connected_per_channel_s8(&ctx, &p, &qc, &id, in, &fd, filt, bias, &od, out), LPN_OK,
           "fc per-channel valid");
    const lpn_dims bad_in = {2, 1, 1, 7};
    expect(lpn_fully_connected_s8(&ctx, &p, &qt, &bad_in, in, &fd, filt, bias, &od, out), LPN_ERR_SHAPE, "fc depth");
    expect(lpn_fully_connected_s8(&ctx, &p, NULL, &id, in, &fd, filt, bias, &od, out), LPN_ERR_ARGUMENT, "fc quant");
    const int32_t need = lpn_fully_connected_s8_get_buffer_size(&fd);
    if (need > 0) {
        lpn_context small = {scratch, need - 1};
        expect(lpn_fully_connected_s8(&small, &p, &qt, &id, in, &fd, filt, bias, &od, out), LPN_ERR_BUFFER,
               "fc scratch");
    }
}

static void other_checks(void) {
    const lpn_dims d = {1, 4, 4, 3}, bc = {1, 1, 1, 3}, bad = {1, 2, 4, 3}, one = {1, 1, 1, 3};
    lpn_add_params ap;
    memset(&ap, 0, sizeof(ap));
    ap.left_shift = 20;
    ap.input1_multiplier = ap.input2_multiplier = ap.output_multiplier = 1 << 30;
    ap.activation.min = -128;
    ap.activation.max = 127;
    expect(lpn_add_s8(&ap, &d, in, &bc, in, &d, out), LPN_OK, "add broadcast");
    expect(lpn_add_s8(&ap, &d, in, &bad, in, &d, out), LPN_ERR_SHAPE, "add not broadcastable");
    ap.output_shift = 1;
    expect(lpn_add_s8(&ap, &d, in, &d, in, &d, out), LPN_ERR_ARGUMENT, "add positive shift");

    const lpn_pool_params pp = {{2, 2}, {0, 0}, {-128, 127}};
    const lpn_dims f = {1, 2, 2, 1}, od = {1, 2, 2, 3}, bad_od = {1, 2, 2, 4};
    lpn_context ctx = {scratch, (int32_t)sizeof(scratch)};
    expect(lpn_avg_pool_s8(&ctx, &pp, &d, in, &f, &od, out), LPN_OK, "avg pool valid");
    expect(lpn_max_pool_s8(&ctx, &pp, &d, in, &f, &bad_od, out), LPN_ERR_SHAPE, "max pool channels");

    lpn_mean_params mp = {0, 0, 1 << 30, 0, LPN_MEAN_FOLDED};
    expect(lpn_mean_s8(&mp, &d, in, &one, out), LPN_OK, "mean valid");
    expect(lpn_mean_s8(&mp, &d, in, &d, out), LPN_ERR_SHAPE, "mean output not 1x1");
    mp.form = 3;
    expect(lpn_mean_s8(&mp, &d, in, &one, out), LPN_ERR_ARGUMENT, "mean form");

    const lpn_softmax_params sp = {1 << 30, 20, -992};
    expect(lpn_softmax_s8(&sp, 2, 8, in, out), LPN_OK, "softmax valid");
    expect(lpn_softmax_s8(&sp, 0, 8, in, out), LPN_ERR_ARGUMENT, "softmax rows");
    expect(lpn_softmax_s8(NULL, 2, 8, in, out), LPN_ERR_ARGUMENT, "softmax NULL params");
}

static void padding_checks(void) {
    int32_t pad = -7;
    /* SAME keeps ceil(in / stride) outputs; VALID fits the dilated filter. */
    if (lpn_compute_padding(7, 3, 2, 1, 1, &pad) != 4 || pad != 1) {
        printf("FAIL padding SAME 7/3/2\n");
        ++failures;
    }
    if (lpn_compute_padding(7, 3, 1, 2, 0, &pad) != 3 || pad != 0) {
        printf("FAIL padding VALID dilated\n");
        ++failures;
    }
    if (lpn_compute_padding(2, 5, 1, 1, 0, &pad) != -1) {
        printf("FAIL padding: a filter larger than the input must fail VALID\n");
        ++failures;
    }
    for (int32_t s = LPN_OK; s <= LPN_ERR_UNSUPPORTED; ++s) {
        if (lpn_status_string((lpn_status)s) == NULL || strcmp(lpn_status_string((lpn_status)s), "unknown status") == 0) {
            printf("FAIL status %d has no name\n", (int)s);
            ++failures;
        }
    }
}

static uint32_t rng_state = 2463534242u;
static uint32_t xorshift32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void requantize_checks(void) {
    static const int32_t edges[] = {INT32_MIN, INT32_MIN + 1, -65536, -32768, -257, -1, 0, 1, 255, 32767, 1 << 20,
                                    INT32_MAX - 1, INT32_MAX};
    static const int32_t multipliers[] = {0, 1, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX - 1, INT32_MAX};
    const int32_t n_edges = (int32_t)(sizeof(edges) / sizeof(edges[0]));
    const int32_t n_mult = (int32_t)(sizeof(multipliers) / sizeof(multipliers[0]));
    int32_t mismatches = 0;
    for (int32_t shift = -31; shift <= 30; ++shift) {
        for (int32_t i = 0; i < n_edges; ++i) {
            for (int32_t j = 0; j < n_mult; ++j) {
                mismatches += lpn_cm_requantize(edges[i], multipliers[j], shift) !=
                              lpn_multiply_by_quantized_multiplier(edges[i], multipliers[j], shift);
            }
        }
    }
    for (int32_t k = 0; k < 1000000; ++k) {
        const uint32_t r = xorshift32();
        /* accumulators mostly small, sometimes full range; shifts mostly in the usual [-12, 1] */
        const int32_t x = (r & 1u) ? (int32_t)xorshift32() : (int32_t)(xorshift32() >> (r >> 27)) - (1 << 15);
        const int32_t m = (int32_t)(xorshift32() >> 1);
        const int32_t shift = (r & 2u) ? (int32_t)(xorshift32() % 62u) - 31 : (int32_t)(xorshift32() % 14u) - 12;
        mismatches += lpn_cm_requantize(x, m, shift) != lpn_multiply_by_quantized_multiplier(x, m, shift);
    }
    if (mismatches != 0) {
        printf("FAIL lpn_cm_requantize differs from MultiplyByQuantizedMultiplier %d times\n", (int)mismatches);
        ++failures;
    }
}

int main(void) {
    for (int32_t i = 0; i < 16; ++i) {
        mult[i] = 1 << 30;
        shift[i] = -1;
    }
    conv_checks();
    depthwise_checks();
    fully_connected_checks();
    other_checks();
    padding_checks();
    requantize_checks();
    printf("checks failed %d\n", failures);
    return failures;
}
