/* Host entry of the kernel test runner: `kernel_test DIR` runs DIR/case_NNN.bin; exit status = failures. */
#include <stdio.h>

#include "kernel_test.h"

int32_t lpn_test_read_file(const char *path, void *buf, int32_t cap) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }
    const size_t n = fread(buf, 1, (size_t)cap, f);
    const int more = fgetc(f) != EOF;
    fclose(f);
    return more ? -1 : (int32_t)n;
}

void lpn_test_print(const char *text) {
    fputs(text, stdout);
}

int main(int argc, char **argv) {
    const int32_t failed = lpn_kernel_test_run(argc > 1 ? argv[1] : ".");
    fflush(stdout);
    if (failed < 0) {
        return 2;
    }
    return failed > 100 ? 100 : (int)failed;
}
