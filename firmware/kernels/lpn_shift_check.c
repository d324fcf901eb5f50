/* The LPN kernels' argument checks as functions (lpn_shift_check.h), for the optimized Cortex-M kernels. */
#include "lpn_shift_check.h"

lpn_status lpn_shift_conv_check(const lpn_shift_conv_params *params, const lpn_shift_quant *quant,
                                const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                                const uint8_t *codes, const lpn_dims *output_dims, const int8_t *output) {
    LPN_SHIFT_CONV_CHECKS(params->exponent_bits);
    return LPN_OK;
}

lpn_status lpn_shift_dw_check(const lpn_shift_dw_conv_params *params, const lpn_shift_quant *quant,
                              const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                              const uint8_t *codes, const lpn_dims *output_dims, const int8_t *output) {
    LPN_SHIFT_DW_CHECKS(params->exponent_bits);
    return LPN_OK;
}

lpn_status lpn_shift_fc_check(const lpn_shift_fc_params *params, const lpn_shift_quant *quant,
                              const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                              const uint8_t *codes, const lpn_dims *output_dims, const int8_t *output) {
    LPN_SHIFT_FC_CHECKS();
    return LPN_OK;
}
