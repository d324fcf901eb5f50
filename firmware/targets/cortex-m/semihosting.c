/*
 * Semihosting calls: `bkpt 0xab` with the operation in r0 and a pointer to an
 * argument block in r1 (ARM "Semihosting for AArch32 and AArch64", v2).
 */
#include "semihosting.h"

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE0 = 0x04,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_FLEN = 0x0c,
    SYS_EXIT_EXTENDED = 0x20,
    ADP_STOPPED_APPLICATION_EXIT = 0x20026,
};

static uint32_t semihost_call(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static size_t cstr_len(const char *s) {
    size_t n = 0;
    while (s[n] != '\0') {
        ++n;
    }
    return n;
}

void lpn_semihost_write(const char *text) { (void)semihost_call(SYS_WRITE0, text); }

void lpn_semihost_write_hex(uint32_t value) {
    static const char digits[] = "0123456789abcdef";
    char buf[9];
    for (int i = 0; i < 8; ++i) {
        buf[i] = digits[(value >> (28 - 4 * i)) & 0xfu];
    }
    buf[8] = '\0';
    lpn_semihost_write(buf);
}

int32_t lpn_semihost_open(const char *path, uint32_t mode) {
    uint32_t args[3] = {(uint32_t)(uintptr_t)path, mode, (uint32_t)cstr_len(path)};
    return (int32_t)semihost_call(SYS_OPEN, args);
}

size_t lpn_semihost_read(int32_t handle, void *buffer, size_t len) {
    uint32_t args[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buffer, (uint32_t)len};
    /* SYS_READ returns the number of bytes NOT read. */
    return len - (size_t)semihost_call(SYS_READ, args);
}

size_t lpn_semihost_fwrite(int32_t handle, const void *buffer, size_t len) {
    uint32_t args[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buffer, (uint32_t)len};
    return len - (size_t)semihost_call(SYS_WRITE, args);
}

int32_t lpn_semihost_flen(int32_t handle) {
    uint32_t args[1] = {(uint32_t)handle};
    return (int32_t)semihost_call(SYS_FLEN, args);
}

void lpn_semihost_close(int32_t handle) {
    uint32_t args[1] = {(uint32_t)handle};
    (void)semihost_call(SYS_CLOSE, args);
}

void lpn_semihost_exit(int status) {
    uint32_t args[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    (void)semihost_call(SYS_EXIT_EXTENDED, args);
    for (;;) {
    }
}
