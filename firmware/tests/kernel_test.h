/* Golden-vector test runner for the lpn kernels, shared by the host and the Cortex-M builds. */
#ifndef LPN_KERNEL_TEST_H
#define LPN_KERNEL_TEST_H

#include <stdint.h>

/* Platform hooks, implemented by host_main.c (stdio) and cm_main.c (semihosting). */

/* Reads a whole file into buf; returns its length in bytes, or -1 if it cannot be opened or exceeds cap. */
int32_t lpn_test_read_file(const char *path, void *buf, int32_t cap);

/* Writes a NUL-terminated string to the console. */
void lpn_test_print(const char *text);

/* Runs every case_NNN.bin of directory `dir` (NNN from 000 up to the first missing file), printing one
 * line per case ("case 7 ok" or "case 7 FAIL ...") and a summary. Returns the number of failed cases, or
 * -1 if no case file was found. */
int32_t lpn_kernel_test_run(const char *dir);

#endif
