/* AVERAGE_POOL_2D int8: TFLite's reference_integer_ops::AveragePool (reference C). */
#include "lpn/fixed_point.h"
#include "lpn/kernels.h"
#include "lpn_pool_check.h"

int32_t lpn_avg_pool_s8_get_buffer_size(const lpn_dims *input_dims, const lpn_dims *output_dims) {
    (void)input_dims;
    (void)output_dims;
    return 0;
}

lpn_status lpn_avg_pool_s8(const lpn_context *ctx, const lpn_pool_params *params, const lpn_dims *input_dims,
                           const int8_t *input, const lpn_dims *filter_dims, const lpn_dims *output_dims,
                           int8_t *output) {
    (void)ctx;
    const lpn_status status = lpn_pool_check(params, input_dims, input, filter_dims, output_dims, output);
    if (status != LPN_OK) {
        return status;
    }
    const int32_t in_h = input_dims->h, in_w = input_dims->w, depth = input_dims->c;
    for (int32_t b = 0; b < output_dims->n; ++b) {
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t in_y0 = oy * params->stride.h - params->padding.h;
            int32_t y_start, y_end;
            lpn_pool_window(in_y0, filter_dims->h, in_h, &y_start, &y_end);
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t in_x0 = ox * params->stride.w - params->padding.w;
                int32_t x_start, x_end;
                lpn_pool_window(in_x0, filter_dims->w, in_w, &x_start, &x_end);
                for (int32_t c = 0; c < depth; ++c) {
                    int32_t acc = 0;
                    int32_t count = 0;
                    for (int32_t ky = y_start; ky < y_end; ++ky) {
                        for (int32_t kx = x_start; kx < x_end; ++kx) {
                            acc += input[((b * in_h + in_y0 + ky) * in_w + in_x0 + kx) * depth + c];
                            ++count;
                        }
                    }
                    if (count == 0) {
                        return LPN_ERR_SHAPE; /* a window entirely in the padding: TFLite fails too */
                    }
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    acc = lpn_clamp(acc, params->activation.min, params->activation.max);
                    output[((b * output_dims->h + oy) * output_dims->w + ox) * depth + c] = (int8_t)acc;
                }
            }
        }
    }
    return LPN_OK;
}
