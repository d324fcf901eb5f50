/*
 * libFuzzer harness for the lpn runtime: the fuzzer's bytes are an untrusted .tflite file.
 *
 * One execution: lpn_init on the bytes with a fixed caller-owned arena (LPN_FUZZ_ARENA_BYTES, static);
 * when init succeeds, the arena sizing is checked (init succeeds in exactly the used bytes, and fails with
 * ARENA_TOO_SMALL one byte below), every graph input gets deterministic bytes, lpn_invoke runs once and
 * every graph output is read back. A refused model is formatted into a message (exercising the error
 * reporting).
 * Built with clang -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all by firmware/fuzz/Makefile;
 * any memory error, undefined behaviour, or an invariant broken below aborts the run as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpn/runtime.h"

#ifndef LPN_FUZZ_ARENA_BYTES
#define LPN_FUZZ_ARENA_BYTES (256u * 1024u)
#endif

/* Arena and I/O staging buffers: static, as on a microcontroller (the runtime never allocates). */
static uint8_t arena[LPN_FUZZ_ARENA_BYTES];
static uint8_t io_buffer[LPN_FUZZ_ARENA_BYTES];

/* Aborts (a libFuzzer crash, with the input saved) when a runtime invariant does not hold. */
static void require(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "lpn_fuzz: invariant broken: %s\n", what);
        abort();
    }
}

/* Fills `bytes` bytes of io_buffer with a fixed pattern that depends on the graph input index. */
static void fill_input(uint32_t input_index, uint32_t bytes) {
    for (uint32_t k = 0; k < bytes; ++k) {
        io_buffer[k] = (uint8_t)(k * 37u + input_index * 101u + 11u);
    }
}

/* The arena report is exact: init succeeds in `used` bytes and reports ARENA_TOO_SMALL with a lower bound
 * of the need (never more than `used`) in fewer. Leaves `rt` initialized on the full arena again. */
static void check_arena_sizing(lpn_runtime_t *rt, const uint8_t *data, size_t size, uint32_t used) {
    require(lpn_init(rt, data, size, arena, used) == LPN_RT_OK, "init fails in exactly the used bytes");
    const size_t smaller[2] = {used > 0u ? used - 1u : 0u, 64u};
    for (int k = 0; k < 2; ++k) {
        if (smaller[k] < used) {
            require(lpn_init(rt, data, size, arena, smaller[k]) == LPN_RT_ERR_ARENA_TOO_SMALL,
                    "init in fewer than the used bytes is not ARENA_TOO_SMALL");
            require(lpn_last_error(rt)->detail > (int64_t)smaller[k] && lpn_last_error(rt)->detail <= (int64_t)used,
                    "ARENA_TOO_SMALL detail is not in (given, used]");
        }
    }
    require(lpn_init(rt, data, size, arena, sizeof arena) == LPN_RT_OK, "re-init on the full arena");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lpn_runtime_t rt;
    char message[256];
    const lpn_rt_status_t s = lpn_init(&rt, data, size, arena, sizeof arena);
    if (s != LPN_RT_OK) {
        require(s > LPN_RT_OK && s < LPN_RT_STATUS_COUNT, "lpn_init status out of range");
        require(lpn_last_error(&rt)->status == s, "last error differs from the returned status");
        const size_t n = lpn_format_error(lpn_last_error(&rt), message, sizeof message);
        require(n < sizeof message && message[n] == '\0', "formatted error not NUL-terminated");
        require(lpn_invoke(&rt) == LPN_RT_ERR_NOT_READY, "invoke after a failed init did not refuse");
        return 0;
    }
    lpn_arena_stats_t stats;
    require(lpn_arena_stats(&rt, &stats) == LPN_RT_OK, "arena stats after init");
    require(stats.used_bytes <= stats.arena_bytes, "arena use exceeds the arena");
    check_arena_sizing(&rt, data, size, stats.used_bytes);
    for (uint32_t i = 0; i < lpn_input_count(&rt); ++i) {
        lpn_tensor_info_t info;
        require(lpn_input_info(&rt, i, &info) == LPN_RT_OK, "input info");
        require(info.bytes <= sizeof io_buffer, "input larger than the arena");
        fill_input(i, info.bytes);
        require(lpn_set_input(&rt, i, io_buffer, info.bytes) == LPN_RT_OK, "set input");
    }
    const lpn_rt_status_t run = lpn_invoke(&rt);
    if (run != LPN_RT_OK) {
        /* A kernel may refuse at run time (documented as LPN_RT_ERR_KERNEL); nothing else is expected. */
        require(run == LPN_RT_ERR_KERNEL, "lpn_invoke failed with a status other than KERNEL");
        lpn_format_error(lpn_last_error(&rt), message, sizeof message);
        return 0;
    }
    for (uint32_t i = 0; i < lpn_output_count(&rt); ++i) {
        lpn_tensor_info_t info;
        require(lpn_output_info(&rt, i, &info) == LPN_RT_OK, "output info");
        require(info.bytes <= sizeof io_buffer, "output larger than the arena");
        require(lpn_get_output(&rt, i, io_buffer, info.bytes) == LPN_RT_OK, "get output");
    }
    for (uint32_t t = 0; t < lpn_tensor_count(&rt); ++t) {
        lpn_tensor_info_t info;
        require(lpn_tensor_info(&rt, t, &info) == LPN_RT_OK, "tensor info");
    }
    for (uint32_t k = 0; k < lpn_op_count(&rt); ++k) {
        lpn_op_info_t info;
        require(lpn_op_info(&rt, k, &info) == LPN_RT_OK, "op info");
        require(info.name != NULL, "op without a name");
    }
    return 0;
}
