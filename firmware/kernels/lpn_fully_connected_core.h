/* The fully connected loop of the reference kernels (TFLite's reference_integer_ops::FullyConnected and
 * FullyConnectedPerChannel, with LiteRT's single-rounding requantization, see lpn/fixed_point.h):
 * quant_step 0 reuses multiplier[0]/shift[0] for every unit (internal). */
#ifndef LPN_FULLY_CONNECTED_CORE_H
#define LPN_FULLY_CONNECTED_CORE_H

#include "lpn/fixed_point.h"
#include "lpn_fully_connected_check.h"

static inline lpn_status lpn_fully_connected_ref(const lpn_fc_params *params, const int32_t *multiplier,
                                                 const int32_t *shift, int32_t quant_step, const lpn_dims *input_dims,
                                                 const int8_t *input, const lpn_dims *filter_dims, const int8_t *filter,
                                                 const int32_t *bias, const lpn_dims *output_dims, int8_t *output) {
    const lpn_status status =
        lpn_fully_connected_check(params, multiplier, shift, quant_step == 0 ? 1 : filter_dims->n, input_dims, input,
                                  filter_dims, filter, output_dims, output);
    if (status != LPN_OK) {
        return status;
    }
    const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
    const int32_t units = filter_dims->n;
    const int32_t batches = output_dims->n * output_dims->h * output_dims->w;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *row = input + b * depth;
        for (int32_t u = 0; u < units; ++u) {
            const int8_t *weights = filter + u * depth;
            int32_t acc = 0;
            for (int32_t d = 0; d < depth; ++d) {
                const int32_t product =
                    ((int32_t)weights[d] + params->filter_offset) * ((int32_t)row[d] + params->input_offset);
                acc = lpn_add_wrap(acc, product);
            }
            if (bias != 0) {
                acc = lpn_add_wrap(acc, bias[u]);
            }
            const int32_t q = u * quant_step;
            acc = lpn_multiply_by_quantized_multiplier_single_round(acc, multiplier[q], shift[q]);
            acc = lpn_add_wrap(acc, params->output_offset);
            output[b * units + u] = (int8_t)lpn_clamp(acc, params->activation.min, params->activation.max);
        }
    }
    return LPN_OK;
}

#endif
