/* ARM semihosting, the channel through which QEMU (or a debugger) carries lpn's output and exit status. */
#ifndef LPN_SEMIHOSTING_H
#define LPN_SEMIHOSTING_H

#include <stddef.h>
#include <stdint.h>

/* Writes a NUL-terminated string to the host console. */
void lpn_semihost_write(const char *text);

/* Writes a 32-bit value as 8 hexadecimal digits (no newline). */
void lpn_semihost_write_hex(uint32_t value);

/* Opens a host file; mode is a semihosting mode number (0 = "r", 1 = "rb", 4 = "w", 5 = "wb").
 * Returns a handle >= 0, or -1. */
int32_t lpn_semihost_open(const char *path, uint32_t mode);

/* Reads up to len bytes; returns the number of bytes read. */
size_t lpn_semihost_read(int32_t handle, void *buffer, size_t len);

/* Writes len bytes; returns the number of bytes written. */
size_t lpn_semihost_fwrite(int32_t handle, const void *buffer, size_t len);

/* Length of an open file in bytes, or -1. */
int32_t lpn_semihost_flen(int32_t handle);

void lpn_semihost_close(int32_t handle);

/* Ends the program; QEMU exits with `status` (SYS_EXIT_EXTENDED). */
__attribute__((noreturn)) void lpn_semihost_exit(int status);

#endif
