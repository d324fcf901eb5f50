/*
 * The LPN custom ops as LiteRT / TensorFlow Lite kernels: TfLiteRegistration init/free/prepare/invoke around
 * the firmware kernels of include/lpn/lpn_ops.h (the very same sources the Cortex-M build compiles).
 *
 * Written in C against the C ABI declared in tflite_abi.h (pinned to TF 2.21 / LiteRT 2.3); the one C++
 * entry point, tflite::MutableOpResolver::AddCustom, is called as a plain function with `this` first (the
 * Itanium C++ ABI of every Linux/macOS toolchain). Why C: the kernels are C, no wheel ships the TFLite C++
 * headers, and a C++ build would need the exact libstdc++ / TFLite class layouts anyway -- the only C++
 * object touched here is the resolver, and only through its own member function.
 *
 * Host glue, so it may allocate (one small struct per node) and use stdio; the kernels it calls do neither.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpn/lpn_ops.h"
#include "lpn_custom.h"
#include "lpn_litert.h"
#include "tflite_abi.h"

/* tflite::MutableOpResolver::AddCustom(const char*, const TfLiteRegistration*, int) */
#define LPN_ADD_CUSTOM_SYMBOL "_ZN6tflite17MutableOpResolver9AddCustomEPKcPK18TfLiteRegistrationi"

typedef void (*add_custom_fn)(void *self, const char *name, const TfLiteRegistration *registration, int version);

/* ---- op table: lpn_custom_specs of firmware/runtime/lpn_custom.h (shared with the firmware runtime) ------ */
enum {
    OP_CONV = LPN_CUSTOM_SHIFT_CONV_2D,
    OP_DEPTHWISE = LPN_CUSTOM_SHIFT_DEPTHWISE_CONV_2D,
    OP_FULLY_CONNECTED = LPN_CUSTOM_SHIFT_FULLY_CONNECTED,
    OP_QUANT_NORM = LPN_CUSTOM_QUANT_NORM,
    OP_INT8_CONV = LPN_CUSTOM_CONV_2D,
    OP_INT8_DEPTHWISE = LPN_CUSTOM_DEPTHWISE_CONV_2D,
    OP_COUNT = LPN_CUSTOM_OP_COUNT
};

/* Per-node state: the parsed options, then what Prepare derived from the tensors. */
typedef struct {
    int32_t kind;
    lpn_custom_options_t o;
    lpn_dims in, filt, out;
    lpn_tile pad;
    int32_t input_offset, output_offset;
    char error[256]; /* an options error found by init, reported by prepare */
} node_data;

/* ---- errors and the ABI probe ------------------------------------------------------------------------------ */
static char g_error[512];
static char g_probe[1 << 16];
static size_t g_probe_len;
static int32_t g_probe_on;

static void format_into(char *dst, size_t capacity, const char *fmt, va_list args) {
    vsnprintf(dst, capacity, fmt, args);
}

static void set_error(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    format_into(g_error, sizeof g_error, fmt, args);
    va_end(args);
}

static void probe(const char *fmt, ...) {
    if (!g_probe_on || g_probe_len >= sizeof g_probe - 1u) {
        return;
    }
    va_list args;
    va_start(args, fmt);
    const int n = vsnprintf(g_probe + g_probe_len, sizeof g_probe - g_probe_len, fmt, args);
    va_end(args);
    if (n > 0) {
        g_probe_len += (size_t)n < sizeof g_probe - g_probe_len ? (size_t)n : sizeof g_probe - g_probe_len - 1u;
    }
}

const char *lpn_litert_last_error(void) {
    return g_error;
}

void lpn_litert_clear_error(void) {
    g_error[0] = '\0';
}

void lpn_litert_probe(int32_t enable) {
    g_probe_on = enable;
    g_probe_len = 0;
    g_probe[0] = '\0';
}

const char *lpn_litert_probe_text(void) {
    return g_probe;
}

/* ---- options ------------------------------------------------------------------------------------------------ */
static const char *flex_reason(lpn_flex_result r) {
    switch (r) {
    case LPN_FLEX_MISSING:
        return "missing";
    case LPN_FLEX_BAD:
        return "malformed flexbuffer";
    case LPN_FLEX_TYPE:
        return "wrong type";
    case LPN_FLEX_RANGE:
        return "out of range";
    default:
        return "ok";
    }
}

/* Parses and validates the flexbuffer options of op `kind` into nd->o (lpn_custom_options_parse); returns 0 or
 * writes nd->error. */
static int parse_options(int32_t kind, const uint8_t *data, size_t size, node_data *nd) {
    lpn_options_error e;
    if (size > UINT32_MAX) {
        snprintf(nd->error, sizeof nd->error, "custom options (%zu bytes) are larger than 4 GiB", size);
        return 1;
    }
    char key[65];
    switch (lpn_custom_options_parse(kind, data, (uint32_t)size, &nd->o, &e)) {
    case LPN_OPTIONS_OK:
        return 0;
    case LPN_OPTIONS_NOT_A_MAP:
        snprintf(nd->error, sizeof nd->error, "custom options (%zu bytes) are not a flexbuffer map: %s", size,
                 data == 0 ? "no options" : flex_reason(e.flex));
        break;
    case LPN_OPTIONS_BAD_KEY:
        snprintf(nd->error, sizeof nd->error, "custom options: key %u: %s", e.key_index, flex_reason(e.flex));
        break;
    case LPN_OPTIONS_UNKNOWN_KEY:
        lpn_custom_printable(data, e.at, key, sizeof key); /* the key may be garbage */
        snprintf(nd->error, sizeof nd->error, "custom options: unknown option '%s'", key);
        break;
    case LPN_OPTIONS_BAD_VALUE:
        snprintf(nd->error, sizeof nd->error, "custom options: '%s' %s", lpn_option_names[e.key], flex_reason(e.flex));
        break;
    case LPN_OPTIONS_VERSION:
        snprintf(nd->error, sizeof nd->error, "custom options version %lld not supported (this lpn reads 1)",
                 (long long)e.value);
        break;
    default:
        snprintf(nd->error, sizeof nd->error, "custom options: %s", e.rule);
        break;
    }
    return 1;
}

int32_t lpn_litert_check_options(const char *custom_code, const uint8_t *options, size_t size, char *error,
                                 size_t capacity) {
    node_data nd;
    memset(&nd, 0, sizeof nd);
    const int32_t kind = lpn_custom_find(custom_code);
    if (kind >= 0) {
        if (parse_options(kind, options, size, &nd) == 0) {
            return 0;
        }
        snprintf(error, capacity, "%s", nd.error);
        return 1;
    }
    snprintf(error, capacity, "'%s' is not an LPN op", custom_code != 0 ? custom_code : "(null)");
    return 1;
}

/* ---- tensors ------------------------------------------------------------------------------------------------ */
static TfLiteTensor *tensor_at(TfLiteContext *ctx, const TfLiteIntArray *list, int32_t i) {
    if (list == 0 || i >= list->size) {
        return 0;
    }
    const int index = list->data[i];
    if (index < 0 || (size_t)index >= ctx->tensors_size) {
        return 0;
    }
    return &ctx->tensors[index];
}

static int64_t element_count(const TfLiteTensor *t) {
    int64_t n = 1;
    for (int d = 0; t->dims != 0 && d < t->dims->size; ++d) {
        n *= t->dims->data[d];
    }
    return n;
}

static const char *tensor_name(const TfLiteTensor *t) {
    return t != 0 && t->name != 0 ? t->name : "?";
}

static int32_t type_size(int type) {
    switch (type) {
    case kTfLiteInt8:
    case kTfLiteUInt8:
        return 1;
    case kTfLiteInt16:
        return 2;
    case kTfLiteInt32:
        return 4;
    default:
        return 0;
    }
}

static void probe_tensor(TfLiteContext *ctx, const TfLiteIntArray *list, int32_t i) {
    const TfLiteTensor *t = tensor_at(ctx, list, i);
    if (t == 0) {
        return;
    }
    int32_t affine = 0;
    if (t->quantization.type == kTfLiteAffineQuantization && t->quantization.params != 0) {
        const TfLiteAffineQuantization *q = (const TfLiteAffineQuantization *)t->quantization.params;
        affine = q->zero_point != 0 ? q->zero_point->size : -1;
    }
    probe("t %d %d %zu %d %d %d", list->data[i], t->type, t->bytes, t->params.zero_point, affine,
          t->dims != 0 ? t->dims->size : -1);
    for (int d = 0; t->dims != 0 && d < t->dims->size; ++d) {
        probe(" %d", t->dims->data[d]);
    }
    probe(" %s\n", tensor_name(t));
}

/* Per-tensor zero point of an activation; -1000 (and an error) if it is per-channel or inconsistent. */
static int32_t zero_point(const TfLiteTensor *t, char *error, size_t capacity) {
    if (t->quantization.type == kTfLiteAffineQuantization && t->quantization.params != 0) {
        const TfLiteAffineQuantization *q = (const TfLiteAffineQuantization *)t->quantization.params;
        if (q->zero_point == 0 || q->zero_point->size != 1) {
            snprintf(error, capacity, "tensor '%s' must have one zero point (per-tensor quantization)",
                     tensor_name(t));
            return -1000;
        }
        if (q->zero_point->data[0] != t->params.zero_point) {
            snprintf(error, capacity,
                     "tensor '%s': zero point %d in TfLiteTensor.params but %d in .quantization -- the TFLite "
                     "ABI differs from the one lpn was built for (TF " LPN_TFLITE_ABI_TENSORFLOW ")",
                     tensor_name(t), t->params.zero_point, q->zero_point->data[0]);
            return -1000;
        }
    }
    if (t->params.zero_point < -128 || t->params.zero_point > 127) {
        snprintf(error, capacity, "tensor '%s': zero point %d outside [-128, 127]", tensor_name(t),
                 t->params.zero_point);
        return -1000;
    }
    return t->params.zero_point;
}

/* Type and element-count check of one input (count < 0: any); writes error and returns 1 on mismatch. */
static int check_tensor(const TfLiteTensor *t, const char *role, int type, int64_t count, char *error,
                        size_t capacity) {
    if (t == 0) {
        snprintf(error, capacity, "input '%s' is missing", role);
        return 1;
    }
    if (t->type != type) {
        snprintf(error, capacity, "%s tensor '%s' has TfLiteType %d, expected %d", role, tensor_name(t), t->type,
                 type);
        return 1;
    }
    const int64_t n = element_count(t);
    if (count >= 0 && n != count) {
        snprintf(error, capacity, "%s tensor '%s' has %lld elements, expected %lld", role, tensor_name(t),
                 (long long)n, (long long)count);
        return 1;
    }
    if ((int64_t)t->bytes != n * type_size(type)) {
        snprintf(error, capacity,
                 "%s tensor '%s': %zu bytes for %lld elements -- the TFLite ABI differs from the one lpn was "
                 "built for (TF " LPN_TFLITE_ABI_TENSORFLOW ")",
                 role, tensor_name(t), t->bytes, (long long)n);
        return 1;
    }
    if (t->data == 0 && n > 0 && (strcmp(role, "input") != 0 && strcmp(role, "output") != 0)) {
        snprintf(error, capacity, "%s tensor '%s' must be a constant", role, tensor_name(t));
        return 1;
    }
    return 0;
}

/* Packed codes: right byte count, no bit set above the code width, zero padding nibble. */
static int check_codes(const TfLiteTensor *t, int64_t count, int32_t exponent_bits, char *error, size_t capacity) {
    const int32_t expected = lpn_shift_codes_bytes((int32_t)count, exponent_bits);
    if (check_tensor(t, "codes", kTfLiteUInt8, expected, error, capacity)) {
        return 1;
    }
    const uint8_t *codes = (const uint8_t *)t->data;
    const int64_t j = lpn_custom_bad_code_byte(codes, (uint32_t)expected, (uint32_t)count, exponent_bits);
    if (j >= 0) {
        snprintf(error, capacity, "codes tensor '%s': byte %lld (0x%02x) has bits above the %d-bit code width "
                                  "or a non-zero padding nibble",
                 tensor_name(t), (long long)j, codes[j], exponent_bits + 1);
        return 1;
    }
    return 0;
}

/* Mantissas and shifts of `channels` channels; bias_index < 0 means no bias (allowed iff !bias_required). */
static int check_requant(TfLiteContext *ctx, TfLiteNode *node, const node_data *nd, int32_t first, int64_t channels,
                         int bias_required, char *error, size_t capacity) {
    const int bias_index = node->inputs->data[first];
    if (bias_index >= 0 || bias_required) {
        if (check_tensor(tensor_at(ctx, node->inputs, first), "bias", kTfLiteInt32, channels, error, capacity)) {
            return 1;
        }
    }
    const TfLiteTensor *m = tensor_at(ctx, node->inputs, first + 1);
    const TfLiteTensor *k = tensor_at(ctx, node->inputs, first + 2);
    if (check_tensor(m, "mantissa", kTfLiteInt16, channels, error, capacity) ||
        check_tensor(k, "shift", kTfLiteInt8, channels, error, capacity)) {
        return 1;
    }
    int32_t mantissa_bad = 0, value = 0;
    const int32_t c = lpn_custom_bad_requant_channel((const uint8_t *)m->data, (const int8_t *)k->data,
                                                     (int32_t)channels, nd->o.mantissa_bits, &mantissa_bad, &value);
    if (c >= 0) {
        snprintf(error, capacity, "channel %d: mantissa %d / shift %d outside |m| <= %d, k in [0, 62]", c,
                 ((const int16_t *)m->data)[c], ((const int8_t *)k->data)[c], (1 << (nd->o.mantissa_bits - 1)) - 1);
        return 1;
    }
    return 0;
}

static int dims_equal(const TfLiteTensor *t, const int32_t *want, int rank) {
    if (t->dims == 0 || t->dims->size != rank) {
        return 0;
    }
    for (int d = 0; d < rank; ++d) {
        if (t->dims->data[d] != want[d]) {
            return 0;
        }
    }
    return 1;
}

/* The shape checks and derived dims of Prepare; returns 0 or writes error. */
static int prepare_node(TfLiteContext *ctx, TfLiteNode *node, node_data *nd, char *error, size_t capacity) {
    const lpn_custom_op_spec *spec = &lpn_custom_specs[nd->kind];
    if (nd->error[0] != '\0') {
        snprintf(error, capacity, "%s", nd->error);
        return 1;
    }
    if (node->inputs == 0 || node->outputs == 0 || node->inputs->size != spec->inputs || node->outputs->size != 1) {
        snprintf(error, capacity, "%d inputs and %d outputs, expected %d and 1",
                 node->inputs ? node->inputs->size : -1, node->outputs ? node->outputs->size : -1, spec->inputs);
        return 1;
    }
    const TfLiteTensor *x = tensor_at(ctx, node->inputs, 0);
    const TfLiteTensor *y = tensor_at(ctx, node->outputs, 0);
    if (check_tensor(x, "input", kTfLiteInt8, -1, error, capacity) ||
        check_tensor(y, "output", kTfLiteInt8, -1, error, capacity)) {
        return 1;
    }
    nd->input_offset = -zero_point(x, error, capacity);
    nd->output_offset = zero_point(y, error, capacity);
    if (nd->input_offset == 1000 || nd->output_offset == -1000) {
        return 1;
    }
    const int32_t *xd = x->dims->data;
    const int int8_filter = nd->kind == OP_INT8_CONV || nd->kind == OP_INT8_DEPTHWISE;
    const int32_t *f = nd->o.filter_shape;
    if (int8_filter) { /* the filter shape is the int8 filter tensor's */
        const TfLiteTensor *w = tensor_at(ctx, node->inputs, 1);
        if (check_tensor(w, "filter", kTfLiteInt8, -1, error, capacity)) {
            return 1;
        }
        if (w->dims == 0 || w->dims->size != 4) {
            snprintf(error, capacity, "filter '%s' must be an int8 tensor of rank 4", tensor_name(w));
            return 1;
        }
        f = w->dims->data;
    }
    if (nd->kind == OP_QUANT_NORM) {
        const int rank = x->dims->size;
        if (rank < 1 || !dims_equal(y, xd, rank)) {
            snprintf(error, capacity, "output '%s' must have the shape of input '%s'", tensor_name(y), tensor_name(x));
            return 1;
        }
        const int64_t channels = xd[rank - 1];
        const lpn_dims d = {(int32_t)(element_count(x) / (channels > 0 ? channels : 1)), 1, 1, (int32_t)channels};
        nd->in = nd->out = d;
        return check_requant(ctx, node, nd, 1, channels, 1, error, capacity);
    }
    const int64_t code_count = (int64_t)f[0] * f[1] * (nd->o.filter_rank == 4 ? (int64_t)f[2] * f[3] : 1);
    if (!int8_filter && check_codes(tensor_at(ctx, node->inputs, 1), code_count, nd->o.exponent_bits, error,
                                    capacity)) {
        return 1;
    }
    if (nd->kind == OP_FULLY_CONNECTED) {
        const int64_t depth = f[1], units = f[0], total = element_count(x);
        if (total % depth != 0 || element_count(y) != total / depth * units || y->dims->size < 1 ||
            y->dims->data[y->dims->size - 1] != units) {
            snprintf(error, capacity, "input '%s' (%lld elements) and output '%s' do not fit filter_shape [%lld, %lld]",
                     tensor_name(x), (long long)total, tensor_name(y), (long long)units, (long long)depth);
            return 1;
        }
        const lpn_dims in = {(int32_t)(total / depth), 1, 1, (int32_t)depth};
        const lpn_dims filt = {(int32_t)units, 1, 1, (int32_t)depth};
        const lpn_dims out = {(int32_t)(total / depth), 1, 1, (int32_t)units};
        nd->in = in;
        nd->filt = filt;
        nd->out = out;
        return check_requant(ctx, node, nd, 2, units, 0, error, capacity);
    }
    /* convolutions */
    const int plain = nd->kind == OP_CONV || nd->kind == OP_INT8_CONV;
    const int64_t out_c = plain ? f[0] : f[3];
    const int64_t in_c_want = plain ? f[3] : f[3] / nd->o.depth_multiplier;
    const int depthwise_mismatch = !plain && (f[0] != 1 || f[3] != (int64_t)xd[3] * nd->o.depth_multiplier);
    if (x->dims->size != 4 || xd[3] != in_c_want || depthwise_mismatch) {
        snprintf(error, capacity, "input '%s' does not fit filter_shape [%lld, %lld, %lld, %lld]", tensor_name(x),
                 (long long)f[0], (long long)f[1], (long long)f[2], (long long)f[3]);
        return 1;
    }
    const int32_t same = nd->o.padding == 0;
    int32_t pad_h = 0, pad_w = 0;
    const int32_t oh = lpn_compute_padding(xd[1], (int32_t)f[1], nd->o.stride_h, 1, same, &pad_h);
    const int32_t ow = lpn_compute_padding(xd[2], (int32_t)f[2], nd->o.stride_w, 1, same, &pad_w);
    const int32_t want[4] = {xd[0], oh, ow, (int32_t)out_c};
    if (oh < 1 || ow < 1 || !dims_equal(y, want, 4)) {
        snprintf(error, capacity, "output '%s' must have shape [%d, %d, %d, %d]", tensor_name(y), want[0], want[1],
                 want[2], want[3]);
        return 1;
    }
    const lpn_dims in = {xd[0], xd[1], xd[2], xd[3]};
    const lpn_dims filt = {(int32_t)f[0], (int32_t)f[1], (int32_t)f[2], (int32_t)f[3]};
    const lpn_dims out = {want[0], want[1], want[2], want[3]};
    const lpn_tile pad = {pad_h, pad_w};
    nd->in = in;
    nd->filt = filt;
    nd->out = out;
    nd->pad = pad;
    return check_requant(ctx, node, nd, 2, out_c, 0, error, capacity);
}

/* ---- TfLiteRegistration callbacks ----------------------------------------------------------------------- */
static void *init_kind(int32_t kind, const char *buffer, size_t length) {
    node_data *nd = (node_data *)calloc(1, sizeof *nd);
    if (nd != 0) {
        nd->kind = kind;
        parse_options(kind, (const uint8_t *)buffer, length, nd);
    }
    return nd;
}

/* One init callback per op kind: TfLite passes init nothing else that tells the kinds apart. */
#define LPN_INIT_CALLBACK(name, kind)                                          \
    static void *name(TfLiteContext *ctx, const char *buffer, size_t length) { \
        (void)ctx;                                                             \
        return init_kind(kind, buffer, length);                                \
    }
LPN_INIT_CALLBACK(init_conv, OP_CONV)
LPN_INIT_CALLBACK(init_depthwise, OP_DEPTHWISE)
LPN_INIT_CALLBACK(init_fully_connected, OP_FULLY_CONNECTED)
LPN_INIT_CALLBACK(init_quant_norm, OP_QUANT_NORM)
LPN_INIT_CALLBACK(init_int8_conv, OP_INT8_CONV)
LPN_INIT_CALLBACK(init_int8_depthwise, OP_INT8_DEPTHWISE)
#undef LPN_INIT_CALLBACK

static void free_node(TfLiteContext *ctx, void *buffer) {
    (void)ctx;
    free(buffer);
}

/* Reports "<code> writing '<output>': <message>" to LiteRT and to lpn_litert_last_error. */
static TfLiteStatus fail(TfLiteContext *ctx, TfLiteNode *node, int32_t kind, const char *message) {
    const TfLiteTensor *y = tensor_at(ctx, node->outputs, 0);
    set_error("%s writing '%s': %s", lpn_custom_specs[kind].code, tensor_name(y), message);
    ctx->ReportError(ctx, "%s", g_error);
    return kTfLiteError;
}

static TfLiteStatus prepare(TfLiteContext *ctx, TfLiteNode *node) {
    node_data *nd = (node_data *)node->user_data;
    if (nd == 0) {
        set_error("LPN op: out of memory in init");
        ctx->ReportError(ctx, "%s", g_error);
        return kTfLiteError;
    }
    probe("c %zu\n", ctx->tensors_size);
    probe("n %s %d %d %d\n", lpn_custom_specs[nd->kind].code, node->inputs ? node->inputs->size : -1,
          node->outputs ? node->outputs->size : -1, node->custom_initial_data_size);
    for (int32_t i = 0; node->inputs != 0 && i < node->inputs->size; ++i) {
        probe_tensor(ctx, node->inputs, i);
    }
    probe_tensor(ctx, node->outputs, 0);
    char error[256];
    if (prepare_node(ctx, node, nd, error, sizeof error) != 0) {
        return fail(ctx, node, nd->kind, error);
    }
    return kTfLiteOk;
}

static TfLiteStatus invoke(TfLiteContext *ctx, TfLiteNode *node) {
    const node_data *nd = (const node_data *)node->user_data;
    const TfLiteTensor *x = tensor_at(ctx, node->inputs, 0);
    TfLiteTensor *y = tensor_at(ctx, node->outputs, 0);
    const lpn_context scratch = {0, 0};
    const lpn_activation act = {nd->o.act_min, nd->o.act_max};
    const int32_t s = nd->o.exponent_bits;
    const int32_t first = nd->kind == OP_QUANT_NORM ? 1 : 2; /* bias, mantissa, shift follow */
    const TfLiteTensor *bias_t = node->inputs->data[first] >= 0 ? tensor_at(ctx, node->inputs, first) : 0;
    const int32_t *bias = bias_t != 0 ? (const int32_t *)bias_t->data : 0;
    const lpn_shift_quant quant = {(const int16_t *)tensor_at(ctx, node->inputs, first + 1)->data,
                                   (const int8_t *)tensor_at(ctx, node->inputs, first + 2)->data, nd->o.grid};
    const uint8_t *codes = first == 2 ? (const uint8_t *)tensor_at(ctx, node->inputs, 1)->data : 0;
    const int8_t *in = (const int8_t *)x->data;
    int8_t *out = (int8_t *)y->data;
    lpn_status status = LPN_ERR_UNSUPPORTED;
    switch (nd->kind) {
    case OP_CONV: {
        const lpn_shift_conv_params p = {nd->input_offset, nd->output_offset, s,
                                         {nd->o.stride_h, nd->o.stride_w},
                                         nd->pad, act};
        status = lpn_shift_conv_s8(&scratch, &p, &quant, &nd->in, in, &nd->filt, codes, bias, &nd->out, out);
        break;
    }
    case OP_DEPTHWISE: {
        const lpn_shift_dw_conv_params p = {nd->input_offset, nd->output_offset, s,
                                            nd->o.depth_multiplier,
                                            {nd->o.stride_h, nd->o.stride_w},
                                            nd->pad, act};
        status = lpn_shift_depthwise_conv_s8(&scratch, &p, &quant, &nd->in, in, &nd->filt, codes, bias, &nd->out,
                                             out);
        break;
    }
    case OP_INT8_CONV: {
        const lpn_shift_conv_params p = {nd->input_offset, nd->output_offset, 0, {nd->o.stride_h, nd->o.stride_w},
                                         nd->pad, act};
        status = lpn_conv_lpn_s8(&scratch, &p, &quant, &nd->in, in, &nd->filt, (const int8_t *)(const void *)codes,
                                 bias, &nd->out, out);
        break;
    }
    case OP_INT8_DEPTHWISE: {
        const lpn_shift_dw_conv_params p = {nd->input_offset, nd->output_offset, 0, nd->o.depth_multiplier,
                                            {nd->o.stride_h, nd->o.stride_w}, nd->pad, act};
        status = lpn_depthwise_conv_lpn_s8(&scratch, &p, &quant, &nd->in, in, &nd->filt,
                                           (const int8_t *)(const void *)codes, bias, &nd->out, out);
        break;
    }
    case OP_FULLY_CONNECTED: {
        const lpn_shift_fc_params p = {nd->input_offset, nd->output_offset, s, act};
        status = lpn_shift_fully_connected_s8(&scratch, &p, &quant, &nd->in, in, &nd->filt, codes, bias, &nd->out,
                                              out);
        break;
    }
    case OP_QUANT_NORM: {
        const lpn_quant_norm_params p = {nd->input_offset, nd->output_offset, act};
        status = lpn_quant_norm_s8(&p, &quant, &nd->in, in, bias, out);
        break;
    }
    default:
        break;
    }
    if (status != LPN_OK) {
        char message[128];
        snprintf(message, sizeof message, "kernel returned '%s'", lpn_status_string(status));
        return fail(ctx, node, nd->kind, message);
    }
    return kTfLiteOk;
}

/* Indexed by op kind (lpn_custom_specs order); the custom code is lpn_custom_specs[kind].code. */
#define LPN_REGISTRATION(init, code) {init, free_node, prepare, invoke, 0, kTfLiteBuiltinCustom, code, 1, 0, 0, 0}
static TfLiteRegistration g_registrations[OP_COUNT] = {
    LPN_REGISTRATION(init_conv, "LPN_SHIFT_CONV_2D"),
    LPN_REGISTRATION(init_depthwise, "LPN_SHIFT_DEPTHWISE_CONV_2D"),
    LPN_REGISTRATION(init_fully_connected, "LPN_SHIFT_FULLY_CONNECTED"),
    LPN_REGISTRATION(init_quant_norm, "LPN_QUANT_NORM"),
    LPN_REGISTRATION(init_int8_conv, "LPN_CONV_2D"),
    LPN_REGISTRATION(init_int8_depthwise, "LPN_DEPTHWISE_CONV_2D"),
};
#undef LPN_REGISTRATION

/* ---- public entry points ------------------------------------------------------------------------------------ */
static add_custom_fn g_add_custom;

const void *lpn_litert_registration(const char *custom_code) {
    const int32_t k = lpn_custom_find(custom_code);
    return k >= 0 ? &g_registrations[k] : 0;
}

int32_t lpn_litert_op_count(void) {
    return OP_COUNT;
}

const char *lpn_litert_op_code(int32_t index) {
    return index >= 0 && index < OP_COUNT ? lpn_custom_specs[index].code : 0;
}

void lpn_litert_set_add_custom(void *add_custom) {
    /* object pointer -> function pointer without the cast ISO C forbids */
    memcpy(&g_add_custom, &add_custom, sizeof g_add_custom);
}

void lpn_litert_register(void *mutable_op_resolver) {
    add_custom_fn add = g_add_custom;
    if (add == 0) {
        void *symbol = dlsym(RTLD_DEFAULT, LPN_ADD_CUSTOM_SYMBOL);
        memcpy(&add, &symbol, sizeof add);
    }
    if (add == 0 || mutable_op_resolver == 0) {
        set_error("lpn_litert_register: %s", mutable_op_resolver == 0
                                                 ? "no resolver given"
                                                 : "tflite::MutableOpResolver::AddCustom (" LPN_ADD_CUSTOM_SYMBOL
                                                   ") is neither set (lpn_litert_set_add_custom) nor exported by "
                                                   "the process");
        fprintf(stderr, "%s\n", g_error);
        return;
    }
    for (int32_t k = 0; k < OP_COUNT; ++k) {
        add(mutable_op_resolver, lpn_custom_specs[k].code, &g_registrations[k], 1);
    }
}
