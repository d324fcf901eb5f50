/*
 * Robustness check of the custom-options parser (firmware/runtime/flexbuffer.c + lpn_custom.c, the code
 * the firmware runtime runs too, through lpn_litert.c) for sanitizer builds:
 * for each FILE given as CODE=FILE (valid flexbuffer options of op CODE), parses the valid buffer (must
 * pass), every truncation (must fail) and `rounds` deterministic random corruptions (any result), each from
 * an exactly-sized heap copy so AddressSanitizer sees any read past the end. Prints one summary line per
 * file, "CODE valid=ok truncations=N corruptions=N accepted=K", and exits non-zero on a wrong verdict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpn_litert.h"

static uint32_t g_state = 2463534242u;

static uint32_t xorshift32(void) {
    g_state ^= g_state << 13;
    g_state ^= g_state >> 17;
    g_state ^= g_state << 5;
    return g_state;
}

static int check_copy(const char *code, const uint8_t *data, size_t size) {
    char error[256];
    uint8_t *copy = (uint8_t *)malloc(size > 0 ? size : 1u);
    if (copy == 0) {
        return -1;
    }
    memcpy(copy, data, size);
    const int bad = lpn_litert_check_options(code, copy, size, error, sizeof error);
    free(copy);
    return bad;
}

int main(int argc, char **argv) {
    const long rounds = 100000;
    int failures = 0;
    for (int a = 1; a < argc; ++a) {
        char *eq = strchr(argv[a], '=');
        if (eq == 0) {
            fprintf(stderr, "argument %d: expected CODE=FILE\n", a);
            return 2;
        }
        *eq = '\0';
        const char *code = argv[a];
        FILE *f = fopen(eq + 1, "rb");
        uint8_t valid[4096];
        const size_t size = f != 0 ? fread(valid, 1, sizeof valid, f) : 0u;
        if (f != 0) {
            fclose(f);
        }
        if (size == 0) {
            fprintf(stderr, "%s: cannot read %s\n", code, eq + 1);
            return 2;
        }
        if (check_copy(code, valid, size) != 0) {
            printf("%s valid=FAIL\n", code);
            ++failures;
            continue;
        }
        long truncations_rejected = 0, accepted = 0;
        for (size_t n = 0; n < size; ++n) {
            truncations_rejected += check_copy(code, valid, n) != 0;
        }
        uint8_t mutated[4096];
        for (long r = 0; r < rounds; ++r) {
            memcpy(mutated, valid, size);
            const uint32_t flips = 1u + xorshift32() % 4u;
            for (uint32_t k = 0; k < flips; ++k) {
                mutated[xorshift32() % size] = (uint8_t)xorshift32();
            }
            accepted += check_copy(code, mutated, size) == 0;
        }
        printf("%s valid=ok truncations=%ld/%zu corruptions=%ld accepted=%ld\n", code, truncations_rejected, size,
               rounds, accepted);
        failures += truncations_rejected != (long)size;
    }
    return failures;
}
