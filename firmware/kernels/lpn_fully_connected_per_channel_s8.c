/* FULLY_CONNECTED int8, per-channel requantization (reference C). */
#include "lpn/kernels.h"
#include "lpn_fully_connected_core.h"

int32_t lpn_fully_connected_per_channel_s8_get_buffer_size(const lpn_dims *filter_dims) {
    (void)filter_dims;
    return 0;
}

lpn_status lpn_fully_connected_per_channel_s8(const lpn_context *ctx, const lpn_fc_params *params,
                                              const lpn_per_channel_quant *quant, const lpn_dims *input_dims,
                                              const int8_t *input, const lpn_dims *filter_dims,
                                              const int8_t *filter, const int32_t *bias,
                                              const lpn_dims *output_dims, int8_t *output) {
    (void)ctx;
    if (quant == 0) {
        return LPN_ERR_ARGUMENT;
    }
    return lpn_fully_connected_ref(params, quant->multiplier, quant->shift, 1, input_dims, input, filter_dims, filter,
                                   bias, output_dims, output);
}
