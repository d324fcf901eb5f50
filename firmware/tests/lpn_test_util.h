/*
 * Output of the self-checking kernel test programs (lpn_ops_test.c, cm_diff_test.c), without printf
 * (newlib-nano friendly): through ARM semihosting when LPN_TEST_SEMIHOSTING is defined (the Cortex-M builds
 * of kernel_test_rules.mk), else to stdout. Include once, from the program's single source file.
 */
#ifndef LPN_TEST_UTIL_H
#define LPN_TEST_UTIL_H

#include <stdint.h>

#ifdef LPN_TEST_SEMIHOSTING
#include "semihosting.h"
static void print(const char *text) {
    lpn_semihost_write(text);
}
#else
#include <stdio.h>
static void print(const char *text) {
    fputs(text, stdout);
}
#endif

/* v in decimal. */
static void print_int(int32_t v) {
    char buf[12];
    int pos = 11;
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    buf[pos] = '\0';
    do {
        buf[--pos] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u != 0u);
    if (v < 0) {
        buf[--pos] = '-';
    }
    print(buf + pos);
}

#endif
