/* Error recording and error text (no stdio: usable on a bare Cortex-M). */
#include "flatbuffer.h"

static const char *const messages[LPN_RT_STATUS_COUNT] = {
    "ok",
    "null argument",
    "model size out of range (smaller than a flatbuffer header or larger than 2 GiB)",
    "file identifier is not TFL3",
    "offset points outside the model",
    "malformed vtable",
    "table field outside its table",
    "vector runs past the end of the model",
    "string not NUL-terminated inside the model",
    "misaligned table, vector or buffer",
    "required field missing",
    "unsupported schema version (expected 3)",
    "model must have exactly one subgraph",
    "tensor index out of range",
    "buffer index out of range",
    "operator code index out of range",
    "unsupported tensor type (int8, int32, uint8, int16 only; no variable or sparse tensors)",
    "invalid tensor shape",
    "constant buffer size differs from the tensor size",
    "invalid external buffer offset or size",
    "invalid quantization parameters",
    "unknown builtin operator",
    "unknown custom operator",
    "unsupported operator version",
    "wrong number of operator inputs or outputs",
    "invalid or missing operator options",
    "operator tensors inconsistent (type, shape or quantization)",
    "invalid graph order (tensor read before written, or written twice)",
    "requantization multiplier or shift out of range",
    "arena too small",
    "runtime not initialized",
    "graph input/output index out of range",
    "buffer size differs from the tensor size",
    "kernel failed",
    "model exceeds the runtime's limits (graph inputs/outputs, op inputs/outputs)",
};

const char *lpn_error_string(lpn_rt_status_t status) {
    if ((unsigned)status >= (unsigned)LPN_RT_STATUS_COUNT) {
        return "unknown status";
    }
    return messages[status];
}

lpn_rt_status_t lpn_fail(lpn_runtime_t *rt, lpn_rt_status_t status, uint32_t offset, int32_t op_index,
                         int32_t tensor_index, int64_t detail) {
    if (rt->error.status == LPN_RT_OK) {
        rt->error.status = status;
        rt->error.offset = offset;
        rt->error.op_index = op_index >= 0 ? op_index : rt->ctx_op;
        rt->error.tensor_index = tensor_index >= 0 ? tensor_index : rt->ctx_tensor;
        rt->error.detail = detail;
        rt->error.name[0] = '\0';
    }
    return status;
}

const lpn_error_t *lpn_last_error(const lpn_runtime_t *rt) { return rt == 0 ? 0 : &rt->error; }

/* Appends text to buf at *n (always leaving room for the NUL). */
static void put(char *buf, size_t cap, size_t *n, const char *text) {
    while (*text != '\0' && *n + 1u < cap) {
        buf[(*n)++] = *text++;
    }
}

static void put_dec(char *buf, size_t cap, size_t *n, int64_t v) {
    char tmp[24];
    int i = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[i++] = (char)('0' + (int)(u % 10u));
        u /= 10u;
    } while (u != 0u);
    if (v < 0) {
        tmp[i++] = '-';
    }
    char out[24];
    int j = 0;
    while (i > 0) {
        out[j++] = tmp[--i];
    }
    out[j] = '\0';
    put(buf, cap, n, out);
}

static void put_hex(char *buf, size_t cap, size_t *n, uint32_t v) {
    static const char digits[] = "0123456789abcdef";
    char out[11] = "0x";
    int len = 2;
    int started = 0;
    for (int shift = 28; shift >= 0; shift -= 4) {
        const uint32_t d = (v >> shift) & 0xfu;
        if (d != 0u || started || shift == 0) {
            out[len++] = digits[d];
            started = 1;
        }
    }
    out[len] = '\0';
    put(buf, cap, n, out);
}

size_t lpn_format_error(const lpn_error_t *error, char *buf, size_t buf_bytes) {
    size_t n = 0;
    if (buf == 0 || buf_bytes == 0u) {
        return 0;
    }
    if (error == 0) {
        put(buf, buf_bytes, &n, "no error record");
        buf[n] = '\0';
        return n;
    }
    put(buf, buf_bytes, &n, lpn_error_string(error->status));
    if (error->status != LPN_RT_OK) {
        put(buf, buf_bytes, &n, " (");
        const size_t start = n;
        if (error->op_index >= 0) {
            put(buf, buf_bytes, &n, "op ");
            put_dec(buf, buf_bytes, &n, error->op_index);
        }
        if (error->tensor_index >= 0) {
            put(buf, buf_bytes, &n, n > start ? ", tensor " : "tensor ");
            put_dec(buf, buf_bytes, &n, error->tensor_index);
        }
        if (error->offset != LPN_NO_OFFSET) {
            put(buf, buf_bytes, &n, n > start ? ", byte offset " : "byte offset ");
            put_hex(buf, buf_bytes, &n, error->offset);
        }
        put(buf, buf_bytes, &n, n > start ? ", detail " : "detail ");
        put_dec(buf, buf_bytes, &n, error->detail);
        if (error->name[0] != '\0') {
            put(buf, buf_bytes, &n, ", name '");
            put(buf, buf_bytes, &n, error->name);
            put(buf, buf_bytes, &n, "'");
        }
        put(buf, buf_bytes, &n, ")");
    }
    buf[n] = '\0';
    return n;
}
