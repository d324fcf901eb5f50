/* LPN_CONV_2D: int8 filter, LPN requantization (docs/custom-ops.md), portable C99 reference. The loops are
 * lpn_shift_conv_s8's (lpn_shift_conv_core.h). */
#include "lpn_shift_conv_core.h"

int32_t lpn_conv_lpn_s8_get_buffer_size(const lpn_shift_conv_params *params, const lpn_dims *input_dims,
                                        const lpn_dims *filter_dims, const lpn_dims *output_dims) {
    return lpn_no_scratch(params, input_dims, filter_dims, output_dims);
}

lpn_status lpn_conv_lpn_s8(const lpn_context *ctx, const lpn_shift_conv_params *params, const lpn_shift_quant *quant,
                           const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                           const int8_t *filter, const int32_t *bias, const lpn_dims *output_dims, int8_t *output) {
    (void)ctx; /* no scratch memory */
    return lpn_shift_conv_core(params, LPN_WEIGHTS_INT8, quant, input_dims, input, filter_dims,
                               (const uint8_t *)(const void *)filter, bias, output_dims, output);
}
