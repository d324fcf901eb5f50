/*
 * Instruction-count benchmark of the kernels under QEMU: each kernel call sits between two
 * lpn_profile_mark() calls, so the insn_count plugin (firmware/tools/qemu-insn-count) reports its exact
 * executed-instruction count. Synthetic data (a fixed LCG); the shapes are listed in `layers` below and
 * mirrored by tests/test_kernels_bench.py (which divides by the MAC counts).
 * Exit status 0 when every kernel returned LPN_OK.
 */
#include <stdint.h>

#include "lpn/kernels.h"
#include "profile.h"

enum { MAX_BYTES = 16 * 1024, SCRATCH_WORDS = 2048, MAX_CH = 64 };

static int8_t input[MAX_BYTES];
static int8_t filter[MAX_BYTES];
static int8_t output[MAX_BYTES];
static int32_t bias[MAX_CH];
static int32_t mult[MAX_CH];
static int32_t shift[MAX_CH];
static uint32_t scratch[SCRATCH_WORDS];

static uint32_t lcg_state = 12345u;
static int8_t lcg_s8(void) {
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (int8_t)(lcg_state >> 24);
}

static int conv(int32_t size, int32_t cin, int32_t cout, int32_t k, int32_t stride, uint32_t region) {
    lpn_conv_params p = {3, -5, {stride, stride}, {k / 2, k / 2}, {1, 1}, {-128, 127}};
    const int32_t out_size = (size + stride - 1) / stride;
    lpn_dims in = {1, size, size, cin}, f = {cout, k, k, cin}, out = {1, out_size, out_size, cout};
    lpn_per_channel_quant q = {mult, shift};
    lpn_context ctx = {scratch, (int32_t)sizeof(scratch)};
    if (lpn_conv_s8_get_buffer_size(&p, &in, &f, &out) > ctx.size) {
        return 1;
    }
    lpn_profile_mark(region, LPN_PROFILE_BEGIN);
    const lpn_status s = lpn_conv_s8(&ctx, &p, &q, &in, input, &f, filter, bias, &out, output);
    lpn_profile_mark(region, LPN_PROFILE_END);
    return s != LPN_OK;
}

static int depthwise(int32_t size, int32_t ch, int32_t k, uint32_t region) {
    lpn_dw_conv_params p = {3, -5, 1, {1, 1}, {k / 2, k / 2}, {1, 1}, {-128, 127}};
    lpn_dims in = {1, size, size, ch}, f = {1, k, k, ch}, out = {1, size, size, ch};
    lpn_per_channel_quant q = {mult, shift};
    lpn_context ctx = {scratch, (int32_t)sizeof(scratch)};
    lpn_profile_mark(region, LPN_PROFILE_BEGIN);
    const lpn_status s = lpn_depthwise_conv_s8(&ctx, &p, &q, &in, input, &f, filter, bias, &out, output);
    lpn_profile_mark(region, LPN_PROFILE_END);
    return s != LPN_OK;
}

static int fully_connected(int32_t depth, int32_t units, uint32_t region) {
    lpn_fc_params p = {3, 0, -5, {-128, 127}};
    lpn_dims in = {1, 1, 1, depth}, f = {units, 1, 1, depth}, out = {1, 1, 1, units};
    lpn_per_tensor_quant q = {mult[0], shift[0]};
    lpn_context ctx = {scratch, (int32_t)sizeof(scratch)};
    if (lpn_fully_connected_s8_get_buffer_size(&f) > ctx.size) {
        return 1;
    }
    lpn_profile_mark(region, LPN_PROFILE_BEGIN);
    const lpn_status s = lpn_fully_connected_s8(&ctx, &p, &q, &in, input, &f, filter, bias, &out, output);
    lpn_profile_mark(region, LPN_PROFILE_END);
    return s != LPN_OK;
}

int main(void) {
    for (int32_t i = 0; i < MAX_BYTES; ++i) {
        input[i] = lcg_s8();
        filter[i] = lcg_s8();
    }
    for (int32_t i = 0; i < MAX_CH; ++i) {
        bias[i] = lcg_s8() * 64;
        mult[i] = 1200000000 + lcg_s8() * 1000000;
        shift[i] = -7 - (i & 1);
    }
    int failed = 0;
    failed += conv(16, 16, 16, 3, 1, 0);  /* ResNet-8 block conv: 589824 MACs */
    failed += conv(8, 32, 32, 3, 1, 1);   /* 589824 MACs */
    failed += conv(16, 3, 16, 3, 1, 2);   /* first layer, 3 channels: 110592 MACs */
    failed += depthwise(16, 32, 3, 3);    /* 73728 MACs */
    failed += fully_connected(256, 64, 4); /* 16384 MACs */
    return failed;
}
