/*
 * Cortex-M model runner: the .tflite is linked in as a binary blob (section .lpn_model, see model.S),
 * inputs come from the semihosting file "input.bin" and outputs go to "output.bin" (paths relative to
 * QEMU's working directory). Same contract as the host runner (firmware/targets/host/lpn_run.c):
 * input.bin holds one or more samples, each the graph inputs' bytes concatenated; output.bin receives
 * the outputs sample after sample. Exit status: 0, the lpn_rt_status_t of a failed init / invoke, or
 * 100 + n for file errors. Prints "lpn-runner arena planned=0x.. used=0x.." on the console.
 * lpn_profile_mark comes from targets/cortex-m/profile_qemu.c (linked in by the Makefile), so the QEMU
 * insn_count plugin can count instructions per operator.
 */
#include <stdint.h>

#include "lpn/runtime.h"
#include "profile.h" /* declares lpn_profile_mark too: the compiler checks both prototypes agree */
#include "semihosting.h"

#ifndef LPN_RUNNER_ARENA_BYTES
#define LPN_RUNNER_ARENA_BYTES (3u * 1024u * 1024u)
#endif

enum { EXIT_OPEN_INPUT = 101, EXIT_INPUT_SIZE = 102, EXIT_OPEN_OUTPUT = 103, EXIT_WRITE = 104 };

extern const uint8_t lpn_model_start[];
extern const uint8_t lpn_model_end[];

static uint8_t arena[LPN_RUNNER_ARENA_BYTES] __attribute__((aligned(16)));
static lpn_runtime_t rt;

static int report(const char *stage, lpn_rt_status_t status) {
    char message[192];
    lpn_format_error(lpn_last_error(&rt), message, sizeof message);
    lpn_semihost_write("lpn-runner: ");
    lpn_semihost_write(stage);
    lpn_semihost_write(": ");
    lpn_semihost_write(message);
    lpn_semihost_write("\n");
    return (int)status;
}

int main(void) {
    const uint32_t model_bytes = (uint32_t)(lpn_model_end - lpn_model_start);
    lpn_rt_status_t s = lpn_init(&rt, lpn_model_start, model_bytes, arena, sizeof arena);
    if (s != LPN_RT_OK) {
        return report("init", s);
    }
    lpn_arena_stats_t stats;
    lpn_arena_stats(&rt, &stats);
    lpn_semihost_write("lpn-runner arena planned=0x");
    lpn_semihost_write_hex(stats.planned_bytes);
    lpn_semihost_write(" used=0x");
    lpn_semihost_write_hex(stats.used_bytes);
    lpn_semihost_write("\n");

    uint32_t sample_bytes = 0u;
    for (uint32_t i = 0; i < lpn_input_count(&rt); ++i) {
        lpn_tensor_info_t info;
        lpn_input_info(&rt, i, &info);
        sample_bytes += info.bytes;
    }
    const int32_t in = lpn_semihost_open("input.bin", 1u);
    if (in < 0) {
        return EXIT_OPEN_INPUT;
    }
    const int32_t input_bytes = lpn_semihost_flen(in);
    if (input_bytes <= 0 || sample_bytes == 0u || (uint32_t)input_bytes % sample_bytes != 0u) {
        return EXIT_INPUT_SIZE;
    }
    const int32_t out = lpn_semihost_open("output.bin", 5u);
    if (out < 0) {
        return EXIT_OPEN_OUTPUT;
    }
    for (uint32_t sample = 0; sample < (uint32_t)input_bytes / sample_bytes; ++sample) {
        for (uint32_t i = 0; i < lpn_input_count(&rt); ++i) {
            lpn_tensor_info_t info;
            lpn_input_info(&rt, i, &info);
            if (lpn_semihost_read(in, lpn_input_data(&rt, i), info.bytes) != info.bytes) {
                return EXIT_INPUT_SIZE;
            }
        }
        s = lpn_invoke(&rt);
        if (s != LPN_RT_OK) {
            return report("invoke", s);
        }
        for (uint32_t i = 0; i < lpn_output_count(&rt); ++i) {
            lpn_tensor_info_t info;
            lpn_output_info(&rt, i, &info);
            if (lpn_semihost_fwrite(out, lpn_output_data(&rt, i), info.bytes) != info.bytes) {
                return EXIT_WRITE;
            }
        }
    }
    lpn_semihost_close(in);
    lpn_semihost_close(out);
    lpn_semihost_write("lpn-runner ok\n");
    return 0;
}
