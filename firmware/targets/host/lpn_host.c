/*
 * Host-only helpers exported by liblpn.so for the ctypes backend (lpn_tf/runtime/host.py): struct sizes,
 * so Python can check that its mirrors match this build (ABI), and a batch form of
 * lpn_quantize_multiplier for the exhaustive tests.
 */
#include <stddef.h>

#include "lpn/runtime.h"

size_t lpn_host_runtime_bytes(void) { return sizeof(lpn_runtime_t); }
size_t lpn_host_tensor_info_bytes(void) { return sizeof(lpn_tensor_info_t); }
size_t lpn_host_op_info_bytes(void) { return sizeof(lpn_op_info_t); }
size_t lpn_host_arena_stats_bytes(void) { return sizeof(lpn_arena_stats_t); }
size_t lpn_host_error_bytes(void) { return sizeof(lpn_error_t); }

/* For i < n: lpn_quantize_multiplier(a[i], b[i], c[i], pow2[i]) -> multiplier[i], shift[i], status[i]. */
void lpn_host_quantize_multiplier_batch(const uint32_t *a, const uint32_t *b, const uint32_t *c,
                                        const int32_t *pow2, size_t n, int32_t *multiplier, int32_t *shift,
                                        int32_t *status) {
    for (size_t i = 0; i < n; ++i) {
        status[i] = (int32_t)lpn_quantize_multiplier(a[i], b[i], c[i], pow2[i], &multiplier[i], &shift[i]);
    }
}
