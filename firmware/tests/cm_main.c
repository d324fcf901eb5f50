/* Cortex-M entry of the kernel test runner under QEMU: reads golden/case_NNN.bin relative to QEMU's working
 * directory through semihosting; the exit status (SYS_EXIT_EXTENDED) is the number of failures. */
#include "kernel_test.h"
#include "semihosting.h"

int32_t lpn_test_read_file(const char *path, void *buf, int32_t cap) {
    const int32_t handle = lpn_semihost_open(path, 1u); /* "rb" */
    if (handle < 0) {
        return -1;
    }
    const int32_t len = lpn_semihost_flen(handle);
    int32_t result = -1;
    if (len >= 0 && len <= cap && lpn_semihost_read(handle, buf, (size_t)len) == (size_t)len) {
        result = len;
    }
    lpn_semihost_close(handle);
    return result;
}

void lpn_test_print(const char *text) {
    lpn_semihost_write(text);
}

int main(void) {
    const int32_t failed = lpn_kernel_test_run("golden");
    if (failed < 0) {
        return 2;
    }
    return failed > 100 ? 100 : (int)failed;
}
