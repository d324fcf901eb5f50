/*
 * Host command-line runner (also built with AddressSanitizer + UndefinedBehaviorSanitizer for tests):
 *
 *   lpn_run MODEL.tflite INPUT.bin OUTPUT.bin [ARENA_BYTES]
 *
 * INPUT.bin holds one or more samples, each the graph inputs' bytes concatenated in order; OUTPUT.bin
 * receives the graph outputs' bytes, sample after sample. Prints the arena report on stdout and any error
 * on stderr. Exit status: 0, the lpn_rt_status_t of a failed lpn_init / lpn_invoke, or 100 + n for
 * usage and file errors. The same contract as the Cortex-M runner (firmware/targets/cortex-m/runner).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpn/runtime.h"

enum { EXIT_USAGE = 100, EXIT_READ = 101, EXIT_INPUT_SIZE = 102, EXIT_WRITE = 103 };

/* Reads a whole file into a malloc'ed buffer (host tool only; the runtime itself never allocates). */
static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    unsigned char *data = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap == 0 ? 65536 : cap * 2;
            unsigned char *grown = realloc(data, cap);
            if (grown == NULL) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
        }
        const size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    fclose(f);
    *size = n;
    return data;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s MODEL.tflite INPUT.bin OUTPUT.bin [ARENA_BYTES]\n", argv[0]);
        return EXIT_USAGE;
    }
    size_t model_bytes = 0, input_bytes = 0;
    unsigned char *model = read_file(argv[1], &model_bytes);
    unsigned char *input = read_file(argv[2], &input_bytes);
    if (model == NULL || input == NULL) {
        fprintf(stderr, "lpn_run: cannot read %s\n", model == NULL ? argv[1] : argv[2]);
        return EXIT_READ;
    }
    /* Exactly-sized copy of the model, so that ASan catches any read past its end. */
    unsigned char *exact = malloc(model_bytes > 0 ? model_bytes : 1);
    memcpy(exact, model, model_bytes);
    free(model);
    const size_t arena_bytes = argc == 5 ? (size_t)strtoull(argv[4], NULL, 0) : (size_t)64 << 20;
    unsigned char *arena = malloc(arena_bytes > 0 ? arena_bytes : 1);
    lpn_runtime_t rt;
    char message[256];
    lpn_rt_status_t s = lpn_init(&rt, exact, model_bytes, arena, arena_bytes);
    if (s != LPN_RT_OK) {
        lpn_format_error(lpn_last_error(&rt), message, sizeof message);
        fprintf(stderr, "lpn_run: init: %s\n", message);
        return (int)s;
    }
    lpn_arena_stats_t stats;
    lpn_arena_stats(&rt, &stats);
    printf("arena planned=%u used=%u scratch=%u descriptors=%u\n", (unsigned)stats.planned_bytes,
           (unsigned)stats.used_bytes, (unsigned)stats.scratch_bytes, (unsigned)stats.descriptor_bytes);
    size_t sample_bytes = 0;
    for (uint32_t i = 0; i < lpn_input_count(&rt); ++i) {
        lpn_tensor_info_t info;
        lpn_input_info(&rt, i, &info);
        sample_bytes += info.bytes;
    }
    if (sample_bytes == 0 || input_bytes % sample_bytes != 0) {
        fprintf(stderr, "lpn_run: input has %zu bytes, not a multiple of %zu\n", input_bytes, sample_bytes);
        return EXIT_INPUT_SIZE;
    }
    FILE *out = fopen(argv[3], "wb");
    if (out == NULL) {
        return EXIT_WRITE;
    }
    for (size_t at = 0; at < input_bytes;) {
        for (uint32_t i = 0; i < lpn_input_count(&rt); ++i) {
            lpn_tensor_info_t info;
            lpn_input_info(&rt, i, &info);
            lpn_set_input(&rt, i, input + at, info.bytes);
            at += info.bytes;
        }
        s = lpn_invoke(&rt);
        if (s != LPN_RT_OK) {
            lpn_format_error(lpn_last_error(&rt), message, sizeof message);
            fprintf(stderr, "lpn_run: invoke: %s\n", message);
            return (int)s;
        }
        for (uint32_t i = 0; i < lpn_output_count(&rt); ++i) {
            lpn_tensor_info_t info;
            lpn_output_info(&rt, i, &info);
            if (fwrite(lpn_output_data(&rt, i), 1, info.bytes, out) != info.bytes) {
                return EXIT_WRITE;
            }
        }
    }
    fclose(out);
    free(arena);
    free(exact);
    free(input);
    return 0;
}
