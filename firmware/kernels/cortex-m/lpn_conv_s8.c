/*
 * CONV_2D int8, per-channel requantization, optimized for Cortex-M4/M7/M33 (DSP extension): bit-exact with
 * firmware/kernels/lpn_conv_s8.c.
 *
 * Two output pixels at a time: their receptive fields go to the interleaved int16 columns of
 * lpn_cm_conv_core.h (im2col, input offset added), then every pair of output channels takes a 2x2 block of
 * dot products, and each accumulator is requantized with TFLite's double rounding (prepared per channel,
 * lpn_cm_requant_apply). A filter of at most LPN_CM_CONV_WIDE_BYTES as int16 (most layers of small
 * networks, and every stem with few input channels) is first expanded once per call into int16 rows in the
 * scratch buffer (12 instead of 16 instructions per 16 MACs, no scalar tail); larger ones are read in place
 * from the model (SXTB16 + SMLAD). Scratch: columns, prepared requantization, the int16 filter if used.
 */
#include "lpn/fixed_point.h"
#include "lpn/kernels.h"
#include "lpn_cm_conv_core.h"
#include "lpn_conv_check.h"

/* Largest filter expanded to int16 rows in the scratch buffer (bytes of the int16 copy). */
#ifndef LPN_CM_CONV_WIDE_BYTES
#define LPN_CM_CONV_WIDE_BYTES 6144
#endif

/* Bytes of the int16 copy of the filter, or 0 when it is read in place (grouped, or too large). */
static int32_t lpn_conv_wide_bytes(const lpn_dims *input_dims, const lpn_dims *filter_dims) {
    const int32_t stride = (filter_dims->h * filter_dims->w * filter_dims->c + 3) & ~3;
    const int64_t bytes = (int64_t)filter_dims->n * stride * (int64_t)sizeof(int16_t);
    return input_dims->c == filter_dims->c && bytes <= LPN_CM_CONV_WIDE_BYTES ? (int32_t)bytes : 0;
}

int32_t lpn_conv_s8_get_buffer_size(const lpn_conv_params *params, const lpn_dims *input_dims,
                                    const lpn_dims *filter_dims, const lpn_dims *output_dims) {
    (void)params;
    (void)output_dims;
    if (filter_dims == 0 || input_dims == 0) {
        return 0;
    }
    /* the columns, the prepared requantization of every output channel, the int16 filter */
    return lpn_cm_conv_columns_bytes(filter_dims->h * filter_dims->w * filter_dims->c) +
           filter_dims->n * (int32_t)sizeof(lpn_cm_requant_params) + lpn_conv_wide_bytes(input_dims, filter_dims);
}

typedef struct {
    const int32_t *multiplier, *shift;
    const lpn_cm_requant_params *prepared; /* per channel, or NULL: some channel needs lpn_cm_requantize */
    int32_t output_offset, act_min, act_max;
} lpn_conv_epilogue;

LPN_CM_INLINE uint32_t lpn_conv_requantize(const void *ctx, int32_t oc, int32_t acc0, int32_t acc1) {
    const lpn_conv_epilogue *e = (const lpn_conv_epilogue *)ctx;
    int32_t y0, y1;
    if (e->prepared != 0) {
        const lpn_cm_requant_params *q = e->prepared + oc;
        y0 = lpn_cm_requant_apply(acc0, q) + e->output_offset;
        y1 = lpn_cm_requant_apply(acc1, q) + e->output_offset;
    } else {
        y0 = lpn_add_wrap(lpn_cm_requantize(acc0, e->multiplier[oc], e->shift[oc]), e->output_offset);
        y1 = lpn_add_wrap(lpn_cm_requantize(acc1, e->multiplier[oc], e->shift[oc]), e->output_offset);
    }
    return ((uint32_t)lpn_clamp(y0, e->act_min, e->act_max) & 0xffu) |
           (((uint32_t)lpn_clamp(y1, e->act_min, e->act_max) & 0xffu) << 8);
}

lpn_status lpn_conv_s8(const lpn_context *ctx, const lpn_conv_params *params, const lpn_per_channel_quant *quant,
                       const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                       const int8_t *filter, const int32_t *bias, const lpn_dims *output_dims, int8_t *output) {
    const lpn_status status = lpn_conv_check(params, quant, input_dims, input, filter_dims, filter, output_dims, output);
    if (status != LPN_OK) {
        return status;
    }
    const int32_t need = lpn_conv_s8_get_buffer_size(params, input_dims, filter_dims, output_dims);
    if (!lpn_scratch_ok(ctx, need)) {
        return LPN_ERR_BUFFER;
    }
    const lpn_cm_conv_geometry g = {input_dims->h, input_dims->w, input_dims->c, filter_dims->h, filter_dims->w,
                                    filter_dims->c, params->stride.h, params->stride.w, params->padding.h,
                                    params->padding.w, params->dilation.h, params->dilation.w, params->input_offset,
                                    output_dims->n, output_dims->h, output_dims->w, output_dims->c};
    const int32_t len = lpn_cm_conv_len(&g);
    lpn_cm_requant_params *prepared = (lpn_cm_requant_params *)((uint8_t *)ctx->buf + lpn_cm_conv_columns_bytes(len));
    int32_t all_fast = 1;
    for (int32_t oc = 0; oc < output_dims->c; ++oc) {
        all_fast &= lpn_cm_requant_prepare(quant->multiplier[oc], quant->shift[oc], params->output_offset,
                                           params->activation.max, &prepared[oc]);
    }
    const lpn_conv_epilogue epilogue = {quant->multiplier, quant->shift, all_fast ? prepared : 0,
                                         params->output_offset, params->activation.min, params->activation.max};
    int16_t *wide = 0;
    const int32_t stride = (len + 3) & ~3;
    if (lpn_conv_wide_bytes(input_dims, filter_dims) > 0) {
        wide = (int16_t *)(prepared + output_dims->c);
        for (int32_t oc = 0; oc < output_dims->c; ++oc) {
            int16_t *row = wide + oc * stride;
            lpn_cm_expand_reordered(filter + oc * len, len, 0, row);
            for (int32_t k = len; k < stride; ++k) {
                row[k] = 0;
            }
        }
    }
    int16_t *buf = (int16_t *)ctx->buf;
    if (wide != 0) { /* groups == 1 */
        lpn_cm_conv_pixels(&g, input, 0, wide, 1, stride, 0, output_dims->c, bias, output, buf, lpn_conv_requantize,
                           &epilogue);
        return LPN_OK;
    }
    const int32_t groups = input_dims->c / filter_dims->c;
    const int32_t per_group = output_dims->c / groups;
    for (int32_t grp = 0; grp < groups; ++grp) {
        const int32_t oc0 = grp * per_group;
        lpn_cm_conv_pixels(&g, input, grp, filter + oc0 * len, 0, len, oc0, oc0 + per_group, bias, output, buf,
                           lpn_conv_requantize, &epilogue);
    }
    return LPN_OK;
}
