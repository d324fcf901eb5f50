/*
 * Board runner: one inference of the linked-in model on a real board, reported over the console UART.
 *
 * The model is the binary blob of ../runner/model.S (section .lpn_model, in flash), the input the blob
 * of input.S (the INPUT file given to make, or empty: then every input byte is 0). Per-op cycles come
 * from the DWT cycle counter (profile_dwt.c, the runtime's lpn_profile_mark hook). The console text is
 * line-oriented (docs/boards.md; parsed by lpn_tf.board):
 *
 *   lpn-board begin board=<name> core_hz=<Hz> cycle_counter=<0|1> model_bytes=<n> input=<zeros|file>
 *   lpn-board arena planned=<bytes> used=<bytes> size=<bytes>
 *   lpn-profile op,kind,macs,cycles
 *   lpn-profile <op>,<kind>,<macs>,<cycles>            one line per op, in execution order
 *   lpn-output index=<i> type=<int8|uint8|int16|int32> shape=<d0>x<d1>... data=<hex bytes>
 *   lpn-board end status=<lpn_rt_status_t> ops=<n> cycles=<sum of the op cycles>
 *
 * A failure prints "lpn-board error stage=<init|input|invoke> status=<n> message=<text>" and then the
 * end line with that status. Afterwards the core sleeps (WFI) until reset: a board has nobody to exit to.
 */
#include <stdint.h>

#include "board.h"
#include "lpn/runtime.h"
#include "profile_dwt.h"

#ifndef LPN_BOARD_NAME
#error "LPN_BOARD_NAME must be set by the build (board.mk)"
#endif
#ifndef LPN_BOARD_ARENA_BYTES
#error "LPN_BOARD_ARENA_BYTES must be set by the board file (BOARD_ARENA_BYTES)"
#endif

extern const uint8_t lpn_model_start[];
extern const uint8_t lpn_model_end[];
extern const uint8_t lpn_input_start[];
extern const uint8_t lpn_input_end[];

static uint8_t arena[LPN_BOARD_ARENA_BYTES] __attribute__((aligned(16)));
static lpn_runtime_t rt;

/* ---- console text (no printf: newlib's pulls in kilobytes and floating point) */

static void put(const char *text) {
    while (*text != '\0') {
        if (*text == '\n') {
            lpn_board_putc('\r'); /* terminals want CR LF; the parser accepts both */
        }
        lpn_board_putc(*text++);
    }
}

static void put_u64(uint64_t value) {
    char digits[21];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(value % 10u));
        value /= 10u;
    } while (value != 0u);
    while (n > 0) {
        lpn_board_putc(digits[--n]);
    }
}

static void put_key(const char *key, uint64_t value) {
    put(" ");
    put(key);
    put("=");
    put_u64(value);
}

static void put_hex_bytes(const uint8_t *bytes, uint32_t count) {
    static const char hex[] = "0123456789abcdef";
    for (uint32_t i = 0; i < count; ++i) {
        lpn_board_putc(hex[bytes[i] >> 4]);
        lpn_board_putc(hex[bytes[i] & 0xfu]);
    }
}

static const char *type_name(int32_t type) {
    switch (type) {
    case LPN_TYPE_INT8:
        return "int8";
    case LPN_TYPE_UINT8:
        return "uint8";
    case LPN_TYPE_INT16:
        return "int16";
    case LPN_TYPE_INT32:
        return "int32";
    default:
        return "unknown";
    }
}

/* ---- the run */

__attribute__((noreturn)) static void finish(lpn_rt_status_t status, uint64_t total_cycles) {
    put("lpn-board end");
    put_key("status", (uint64_t)status);
    put_key("ops", lpn_op_count(&rt));
    put_key("cycles", total_cycles);
    put("\n");
    lpn_board_flush();
    for (;;) {
        __asm__ volatile("wfi");
    }
}

__attribute__((noreturn)) static void fail(const char *stage, lpn_rt_status_t status, const char *message) {
    char text[192];
    if (message == 0) {
        lpn_format_error(lpn_last_error(&rt), text, sizeof text);
        message = text;
    }
    put("lpn-board error stage=");
    put(stage);
    put_key("status", (uint64_t)status);
    put(" message=");
    put(message);
    put("\n");
    finish(status, 0u);
}

/* Bytes between two linker-placed symbols (as integers: they are distinct C objects). */
static uint32_t blob_bytes(const uint8_t *start, const uint8_t *end) {
    return (uint32_t)((uintptr_t)end - (uintptr_t)start);
}

static lpn_rt_status_t set_inputs(void) {
    const uint32_t given = blob_bytes(lpn_input_start, lpn_input_end);
    uint32_t needed = 0u;
    for (uint32_t i = 0; i < lpn_input_count(&rt); ++i) {
        lpn_tensor_info_t info;
        lpn_input_info(&rt, i, &info);
        needed += info.bytes;
    }
    if (given != 0u && given != needed) {
        return LPN_RT_ERR_IO_SIZE;
    }
    const uint8_t *src = lpn_input_start;
    for (uint32_t i = 0; i < lpn_input_count(&rt); ++i) {
        lpn_tensor_info_t info;
        lpn_input_info(&rt, i, &info);
        uint8_t *dst = (uint8_t *)lpn_input_data(&rt, i);
        for (uint32_t b = 0; b < info.bytes; ++b) {
            dst[b] = given != 0u ? *src++ : 0u;
        }
    }
    return LPN_RT_OK;
}

int main(void) {
    lpn_board_init();
    const int has_counter = lpn_dwt_init();
    const uint32_t model_bytes = blob_bytes(lpn_model_start, lpn_model_end);

    put("lpn-board begin board=");
    put(LPN_BOARD_NAME);
    put_key("core_hz", lpn_board_core_hz());
    put_key("cycle_counter", (uint64_t)has_counter);
    put_key("model_bytes", model_bytes);
    put(blob_bytes(lpn_input_start, lpn_input_end) == 0u ? " input=zeros\n" : " input=file\n");

    lpn_rt_status_t s = lpn_init(&rt, lpn_model_start, model_bytes, arena, sizeof arena);
    if (s != LPN_RT_OK) {
        fail("init", s, 0);
    }
    lpn_arena_stats_t stats;
    lpn_arena_stats(&rt, &stats);
    put("lpn-board arena");
    put_key("planned", stats.planned_bytes);
    put_key("used", stats.used_bytes);
    put_key("size", stats.arena_bytes);
    put("\n");

    s = set_inputs();
    if (s != LPN_RT_OK) {
        fail("input", s, "the INPUT file's size is not the sum of the model's input tensor bytes");
    }
    s = lpn_invoke(&rt);
    if (s != LPN_RT_OK) {
        fail("invoke", s, 0);
    }

    uint64_t total = 0u;
    put("lpn-profile op,kind,macs,cycles\n");
    for (uint32_t i = 0; i < lpn_op_count(&rt); ++i) {
        lpn_op_info_t op;
        lpn_op_info(&rt, i, &op);
        put("lpn-profile ");
        put_u64(i);
        put(",");
        put(op.name);
        put(",");
        put_u64(op.macs);
        put(",");
        if (i < LPN_DWT_MAX_OPS) {
            put_u64(lpn_dwt_op_cycles(i));
            total += lpn_dwt_op_cycles(i);
        }
        put("\n");
    }
    for (uint32_t i = 0; i < lpn_output_count(&rt); ++i) {
        lpn_tensor_info_t info;
        lpn_output_info(&rt, i, &info);
        put("lpn-output");
        put_key("index", i);
        put(" type=");
        put(type_name(info.type));
        put(" shape=");
        for (int32_t d = 0; d < info.rank; ++d) {
            if (d > 0) {
                put("x");
            }
            put_u64((uint64_t)info.dims[d]);
        }
        put(" data=");
        put_hex_bytes((const uint8_t *)lpn_output_data(&rt, i), info.bytes);
        put("\n");
    }
    finish(LPN_RT_OK, total);
}
