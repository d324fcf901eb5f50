/*
 * Golden-vector test runner: parses the case files written by firmware/tests/golden.py, calls the kernel
 * of lpn/kernels.h named by the op code, and compares every output byte with LiteRT's. The same source
 * runs on the host and under QEMU; only the file and console hooks differ (kernel_test.h).
 */
#include "kernel_test.h"

#include <stddef.h>
#include <string.h>

#include "lpn/kernels.h"

enum { LPN_TEST_MAGIC = 0x4b4e504c, LPN_TEST_VERSION = 1, MAX_PARAMS = 64, MAX_TENSORS = 8 };
enum { FILE_WORDS = 64 * 1024 / 4, OUT_BYTES = 32 * 1024, SCRATCH_WORDS = 16 * 1024 / 4 };

enum {
    OP_CONV = 1,
    OP_DEPTHWISE_CONV = 2,
    OP_FULLY_CONNECTED = 3,
    OP_FULLY_CONNECTED_PER_CHANNEL = 4,
    OP_ADD = 5,
    OP_AVG_POOL = 6,
    OP_MAX_POOL = 7,
    OP_MEAN = 8,
    OP_SOFTMAX = 9
};

typedef struct {
    int32_t dtype; /* 1 = int8, 4 = int32 */
    int32_t count;
    const void *data;
} test_tensor;

typedef struct {
    int32_t op;
    int32_t n_params;
    int32_t params[MAX_PARAMS];
    int32_t n_tensors;
    test_tensor tensors[MAX_TENSORS];
} test_case;

static uint32_t file_buf[FILE_WORDS];
static int8_t out_buf[OUT_BYTES];
static uint32_t scratch_buf[SCRATCH_WORDS];

/* Decimal text of a signed value into buf (at least 12 bytes). */
static const char *fmt_int(int32_t value, char *buf) {
    char tmp[12];
    int32_t len = 0;
    uint32_t magnitude = value < 0 ? 0u - (uint32_t)value : (uint32_t)value;
    do {
        tmp[len++] = (char)('0' + magnitude % 10u);
        magnitude /= 10u;
    } while (magnitude != 0u);
    int32_t pos = 0;
    if (value < 0) {
        buf[pos++] = '-';
    }
    while (len > 0) {
        buf[pos++] = tmp[--len];
    }
    buf[pos] = '\0';
    return buf;
}

static void print_int(int32_t value) {
    char buf[12];
    lpn_test_print(fmt_int(value, buf));
}

static int32_t parse_case(int32_t n_bytes, test_case *tc) {
    const int32_t n_words = n_bytes / 4;
    const int32_t *w = (const int32_t *)file_buf;
    int32_t pos = 0;
    if (n_words < 5 || w[0] != LPN_TEST_MAGIC || w[1] != LPN_TEST_VERSION) {
        return -1;
    }
    tc->op = w[2];
    tc->n_params = w[3];
    pos = 4;
    if (tc->n_params < 0 || tc->n_params > MAX_PARAMS || pos + tc->n_params + 1 > n_words) {
        return -1;
    }
    memcpy(tc->params, &w[pos], (size_t)tc->n_params * sizeof(int32_t));
    pos += tc->n_params;
    tc->n_tensors = w[pos++];
    if (tc->n_tensors < 0 || tc->n_tensors > MAX_TENSORS) {
        return -1;
    }
    for (int32_t i = 0; i < tc->n_tensors; ++i) {
        if (pos + 2 > n_words) {
            return -1;
        }
        test_tensor *t = &tc->tensors[i];
        t->dtype = w[pos];
        t->count = w[pos + 1];
        pos += 2;
        if ((t->dtype != 1 && t->dtype != 4) || t->count < 0) {
            return -1;
        }
        const int32_t words = (t->count * t->dtype + 3) / 4;
        if (pos + words > n_words) {
            return -1;
        }
        t->data = &w[pos];
        pos += words;
    }
    return 0;
}

static lpn_dims dims_at(const int32_t *p) {
    lpn_dims d;
    d.n = p[0];
    d.h = p[1];
    d.w = p[2];
    d.c = p[3];
    return d;
}

static const int8_t *i8(const test_case *tc, int32_t i) {
    return (const int8_t *)tc->tensors[i].data;
}

static const int32_t *i32(const test_case *tc, int32_t i) {
    return tc->tensors[i].count > 0 ? (const int32_t *)tc->tensors[i].data : NULL;
}

/* Calls the kernel of one case; writes the output to out_buf. */
static lpn_status run_case(const test_case *tc) {
    const int32_t *p = tc->params;
    lpn_context ctx;
    ctx.buf = scratch_buf;
    ctx.size = (int32_t)sizeof(scratch_buf);
    switch (tc->op) {
    case OP_CONV: {
        lpn_dims in = dims_at(p), f = dims_at(p + 4), out = dims_at(p + 8);
        lpn_conv_params cp;
        cp.input_offset = p[12];
        cp.output_offset = p[13];
        cp.stride.h = p[14];
        cp.stride.w = p[15];
        cp.padding.h = p[16];
        cp.padding.w = p[17];
        cp.dilation.h = p[18];
        cp.dilation.w = p[19];
        cp.activation.min = p[20];
        cp.activation.max = p[21];
        lpn_per_channel_quant q;
        q.multiplier = i32(tc, 3);
        q.shift = i32(tc, 4);
        if (lpn_conv_s8_get_buffer_size(&cp, &in, &f, &out) > ctx.size) {
            return LPN_ERR_BUFFER;
        }
        return lpn_conv_s8(&ctx, &cp, &q, &in, i8(tc, 0), &f, i8(tc, 1), i32(tc, 2), &out, out_buf);
    }
    case OP_DEPTHWISE_CONV: {
        lpn_dims in = dims_at(p), f = dims_at(p + 4), out = dims_at(p + 8);
        lpn_dw_conv_params dp;
        dp.input_offset = p[12];
        dp.output_offset = p[13];
        dp.stride.h = p[14];
        dp.stride.w = p[15];
        dp.padding.h = p[16];
        dp.padding.w = p[17];
        dp.dilation.h = p[18];
        dp.dilation.w = p[19];
        dp.activation.min = p[20];
        dp.activation.max = p[21];
        dp.ch_mult = p[22];
        lpn_per_channel_quant q;
        q.multiplier = i32(tc, 3);
        q.shift = i32(tc, 4);
        if (lpn_depthwise_conv_s8_get_buffer_size(&dp, &in, &f, &out) > ctx.size) {
            return LPN_ERR_BUFFER;
        }
        return lpn_depthwise_conv_s8(&ctx, &dp, &q, &in, i8(tc, 0), &f, i8(tc, 1), i32(tc, 2), &out, out_buf);
    }
    case OP_FULLY_CONNECTED:
    case OP_FULLY_CONNECTED_PER_CHANNEL: {
        lpn_dims in = dims_at(p), f = dims_at(p + 4), out = dims_at(p + 8);
        lpn_fc_params fp;
        fp.input_offset = p[12];
        fp.filter_offset = p[13];
        fp.output_offset = p[14];
        fp.activation.min = p[15];
        fp.activation.max = p[16];
        if (tc->op == OP_FULLY_CONNECTED) {
            lpn_per_tensor_quant q;
            q.multiplier = i32(tc, 3)[0];
            q.shift = i32(tc, 4)[0];
            if (lpn_fully_connected_s8_get_buffer_size(&f) > ctx.size) {
                return LPN_ERR_BUFFER;
            }
            return lpn_fully_connected_s8(&ctx, &fp, &q, &in, i8(tc, 0), &f, i8(tc, 1), i32(tc, 2), &out, out_buf);
        }
        lpn_per_channel_quant q;
        q.multiplier = i32(tc, 3);
        q.shift = i32(tc, 4);
        if (lpn_fully_connected_per_channel_s8_get_buffer_size(&f) > ctx.size) {
            return LPN_ERR_BUFFER;
        }
        return lpn_fully_connected_per_channel_s8(&ctx, &fp, &q, &in, i8(tc, 0), &f, i8(tc, 1), i32(tc, 2), &out,
                                                  out_buf);
    }
    case OP_ADD: {
        lpn_dims a = dims_at(p), b = dims_at(p + 4), out = dims_at(p + 8);
        lpn_add_params ap;
        ap.input1_offset = p[12];
        ap.input2_offset = p[13];
        ap.output_offset = p[14];
        ap.left_shift = p[15];
        ap.input1_multiplier = p[16];
        ap.input1_shift = p[17];
        ap.input2_multiplier = p[18];
        ap.input2_shift = p[19];
        ap.output_multiplier = p[20];
        ap.output_shift = p[21];
        ap.activation.min = p[22];
        ap.activation.max = p[23];
        return lpn_add_s8(&ap, &a, i8(tc, 0), &b, i8(tc, 1), &out, out_buf);
    }
    case OP_AVG_POOL:
    case OP_MAX_POOL: {
        lpn_dims in = dims_at(p), out = dims_at(p + 6);
        lpn_dims f;
        f.n = 1;
        f.h = p[4];
        f.w = p[5];
        f.c = 1;
        lpn_pool_params pp;
        pp.stride.h = p[10];
        pp.stride.w = p[11];
        pp.padding.h = p[12];
        pp.padding.w = p[13];
        pp.activation.min = p[14];
        pp.activation.max = p[15];
        if (tc->op == OP_AVG_POOL) {
            return lpn_avg_pool_s8(&ctx, &pp, &in, i8(tc, 0), &f, &out, out_buf);
        }
        return lpn_max_pool_s8(&ctx, &pp, &in, i8(tc, 0), &f, &out, out_buf);
    }
    case OP_MEAN: {
        lpn_dims in = dims_at(p), out = dims_at(p + 4);
        lpn_mean_params mp;
        mp.input_offset = p[8];
        mp.output_offset = p[9];
        mp.multiplier = p[10];
        mp.shift = p[11];
        mp.form = p[12];
        return lpn_mean_s8(&mp, &in, i8(tc, 0), &out, out_buf);
    }
    case OP_SOFTMAX: {
        lpn_softmax_params sp;
        sp.input_multiplier = p[2];
        sp.input_left_shift = p[3];
        sp.diff_min = p[4];
        return lpn_softmax_s8(&sp, p[0], p[1], i8(tc, 0), out_buf);
    }
    default:
        return LPN_ERR_UNSUPPORTED;
    }
}

/* Appends the decimal index as 3 digits: dir/case_NNN.bin. */
static void case_path(const char *dir, int32_t index, char *path, size_t cap) {
    size_t len = strlen(dir);
    if (len + 20 > cap) {
        len = cap - 20;
    }
    memcpy(path, dir, len);
    memcpy(path + len, "/case_000.bin", 14);
    path[len + 6] = (char)('0' + index / 100 % 10);
    path[len + 7] = (char)('0' + index / 10 % 10);
    path[len + 8] = (char)('0' + index % 10);
}

int32_t lpn_kernel_test_run(const char *dir) {
    static test_case tc;
    char path[256];
    int32_t failed = 0;
    int32_t index = 0;
    for (; index < 1000; ++index) {
        case_path(dir, index, path, sizeof(path));
        const int32_t n_bytes = lpn_test_read_file(path, file_buf, (int32_t)sizeof(file_buf));
        if (n_bytes < 0) {
            break;
        }
        lpn_test_print("case ");
        print_int(index);
        if (parse_case(n_bytes, &tc) != 0 || tc.n_tensors < 1) {
            lpn_test_print(" FAIL malformed case file\n");
            ++failed;
            continue;
        }
        const test_tensor *expected = &tc.tensors[tc.n_tensors - 1];
        if (expected->dtype != 1 || expected->count > OUT_BYTES) {
            lpn_test_print(" FAIL expected output is not int8 or too large\n");
            ++failed;
            continue;
        }
        memset(out_buf, 0x5a, (size_t)expected->count);
        const lpn_status status = run_case(&tc);
        if (status != LPN_OK) {
            lpn_test_print(" FAIL status ");
            lpn_test_print(lpn_status_string(status));
            lpn_test_print("\n");
            ++failed;
            continue;
        }
        const int8_t *want = (const int8_t *)expected->data;
        int32_t mismatches = 0, first = -1;
        for (int32_t i = 0; i < expected->count; ++i) {
            if (out_buf[i] != want[i]) {
                if (first < 0) {
                    first = i;
                }
                ++mismatches;
            }
        }
        if (mismatches == 0) {
            lpn_test_print(" ok\n");
            continue;
        }
        ++failed;
        lpn_test_print(" FAIL ");
        print_int(mismatches);
        lpn_test_print(" of ");
        print_int(expected->count);
        lpn_test_print(" differ; first at ");
        print_int(first);
        lpn_test_print(": got ");
        print_int(out_buf[first]);
        lpn_test_print(", want ");
        print_int(want[first]);
        lpn_test_print("\n");
    }
    if (index == 0) {
        lpn_test_print("no case file found\n");
        return -1;
    }
    lpn_test_print("cases ");
    print_int(index);
    lpn_test_print(" failed ");
    print_int(failed);
    lpn_test_print("\n");
    return failed;
}
