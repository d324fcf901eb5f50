/* TFLite's ComputePaddingHeightWidth / ComputeOutSize for one spatial axis. */
#include "lpn/kernels.h"

int32_t lpn_compute_padding(int32_t in_size, int32_t filter_size, int32_t stride, int32_t dilation, int32_t same,
                            int32_t *padding) {
    if (in_size < 1 || filter_size < 1 || stride < 1 || dilation < 1 || padding == 0) {
        return -1;
    }
    const int32_t effective_filter = (filter_size - 1) * dilation + 1;
    const int32_t out_size = same ? (in_size + stride - 1) / stride : (in_size - effective_filter + stride) / stride;
    if (out_size < 1) {
        return -1;
    }
    const int32_t total = (out_size - 1) * stride + effective_filter - in_size;
    *padding = total > 0 ? total / 2 : 0;
    return out_size;
}
