/* Argument validation of lpn_conv_s8, shared by the reference and the Cortex-M variant (internal). */
#ifndef LPN_CONV_CHECK_H
#define LPN_CONV_CHECK_H

#include "lpn_kernel_util.h"

static inline lpn_status lpn_conv_check(const lpn_conv_params *params, const lpn_per_channel_quant *quant,
                                        const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                                        const int8_t *filter, const lpn_dims *output_dims, const int8_t *output) {
    if (params == 0 || quant == 0 || quant->multiplier == 0 || quant->shift == 0 || input == 0 || filter == 0 ||
        output == 0) {
        return LPN_ERR_ARGUMENT;
    }
    if (!lpn_tile_ok(&params->stride, 1) || !lpn_tile_ok(&params->dilation, 1) || !lpn_tile_ok(&params->padding, 0) ||
        !lpn_activation_ok(&params->activation)) {
        return LPN_ERR_ARGUMENT;
    }
    if (!lpn_dims_ok(input_dims) || !lpn_dims_ok(filter_dims) || !lpn_dims_ok(output_dims)) {
        return LPN_ERR_SHAPE;
    }
    if (output_dims->n != input_dims->n || output_dims->c != filter_dims->n || input_dims->c % filter_dims->c != 0) {
        return LPN_ERR_SHAPE;
    }
    if (output_dims->c % (input_dims->c / filter_dims->c) != 0) {
        return LPN_ERR_SHAPE;
    }
    for (int32_t oc = 0; oc < output_dims->c; ++oc) {
        if (!lpn_shift_ok(quant->shift[oc]) || quant->multiplier[oc] < 0) {
            return LPN_ERR_ARGUMENT;
        }
    }
    return LPN_OK;
}

#endif
