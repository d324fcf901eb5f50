/*
 * lpn kernel API: int8 operators with TFLite's reference integer semantics.
 *
 * Conventions (CMSIS-NN style, see docs/kernels.md):
 *   - Names are lpn_<op>_<dtype>; every kernel has a lpn_<op>_<dtype>_get_buffer_size twin that returns
 *     the scratch bytes the caller must pass in lpn_context (0 when none). The value depends on the build
 *     (reference kernels in firmware/kernels/, optimized ones in firmware/kernels/cortex-m/), so always
 *     ask the twin of the build you link.
 *   - Tensors are NHWC, int8, densely packed, described by lpn_dims {n, h, w, c}.
 *   - No allocation, no floating point. Accumulators are int32 as in TFLite.
 *   - Offsets follow TFLite's OpData: input_offset = -input_zero_point (added to every input value),
 *     filter_offset = -filter_zero_point, output_offset = +output_zero_point.
 *   - Requantization is TFLite's MultiplyByQuantizedMultiplier (lpn/fixed_point.h): a Q31 multiplier in
 *     [2^30, 2^31) (or 0; negative multipliers are rejected) and a shift in [-31, 30], positive = left
 *     shift (TFLite's convention). Double rounding everywhere except FULLY_CONNECTED, which rounds once,
 *     as LiteRT's reference kernels do.
 *   - Activation bounds are the int8 clamp already folded with the fused activation (e.g. RELU6 ->
 *     [zp, zp + round(6 / scale)] intersected with [-128, 127]).
 *   - Pointers to inputs may be unaligned; outputs never alias inputs unless stated.
 */
#ifndef LPN_KERNELS_H
#define LPN_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return code of every kernel. */
typedef enum {
    LPN_OK = 0,
    LPN_ERR_ARGUMENT = 1,    /* NULL pointer or a parameter out of range (stride < 1, min > max, ...) */
    LPN_ERR_SHAPE = 2,       /* the dims of the tensors do not agree with each other */
    LPN_ERR_BUFFER = 3,      /* ctx->size is smaller than the *_get_buffer_size twin asked for */
    LPN_ERR_UNSUPPORTED = 4  /* a valid TFLite configuration this kernel does not implement */
} lpn_status;

/* A short constant English name of a status, e.g. "shape mismatch". */
const char *lpn_status_string(lpn_status status);

/* Tensor dimensions, NHWC. Unused dimensions are 1. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} lpn_dims;

/* A height/width pair: stride, padding (top/left, in elements) or dilation. */
typedef struct {
    int32_t h;
    int32_t w;
} lpn_tile;

/* Inclusive int8 output clamp, fused activation included. */
typedef struct {
    int32_t min;
    int32_t max;
} lpn_activation;

/* Caller-owned scratch memory; buf may be NULL when size is 0. buf is aligned to 4 bytes. */
typedef struct {
    void *buf;
    int32_t size; /* bytes */
} lpn_context;

/* Per-output-channel requantization: arrays of length output channels. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} lpn_per_channel_quant;

/* Per-tensor requantization. */
typedef struct {
    int32_t multiplier;
    int32_t shift;
} lpn_per_tensor_quant;

/* CONV_2D. filter_offset is not a field: int8 TFLite filters are symmetric (zero point 0). */
typedef struct {
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* +output zero point */
    lpn_tile stride;       /* >= 1 */
    lpn_tile padding;      /* top, left (see lpn_compute_padding) */
    lpn_tile dilation;     /* >= 1 */
    lpn_activation activation;
} lpn_conv_params;

/* DEPTHWISE_CONV_2D: output channel k reads input channel k / ch_mult. */
typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    int32_t ch_mult; /* depth multiplier, >= 1 */
    lpn_tile stride;
    lpn_tile padding;
    lpn_tile dilation;
    lpn_activation activation;
} lpn_dw_conv_params;

/* FULLY_CONNECTED. */
typedef struct {
    int32_t input_offset;
    int32_t filter_offset; /* -filter zero point; 0 for int8 TFLite */
    int32_t output_offset;
    lpn_activation activation;
} lpn_fc_params;

/* ADD (int8), exactly TFLite's OpData: left_shift is 20 for int8; the input multipliers/shifts come from
 * input_scale / (2 * max(input1_scale, input2_scale)) and the output one from
 * 2 * max(input1_scale, input2_scale) / ((1 << left_shift) * output_scale). Shifts are <= 0. */
typedef struct {
    int32_t input1_offset; /* -input1 zero point */
    int32_t input2_offset; /* -input2 zero point */
    int32_t output_offset; /* +output zero point */
    int32_t left_shift;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    lpn_activation activation;
} lpn_add_params;

/* AVERAGE_POOL_2D / MAX_POOL_2D; input and output share quantization (no offsets). */
typedef struct {
    lpn_tile stride;
    lpn_tile padding;
    lpn_activation activation;
} lpn_pool_params;

/* MEAN over H and W (axis [1, 2]) of an int8 tensor. multiplier/shift come from
 * QuantizeMultiplier(input_scale / output_scale) as TFLite's reduce Prepare computes them. Forms:
 *   LPN_MEAN_FOLDED: what LiteRT 2.x's reference kernel and TFLite Micro compute for every int8 MEAN over
 *     H and W -- with or without keep_dims, equal quantization or not (verified bit-exact by the golden
 *     tests): reference_ops::QuantizedMeanOrSum, 1/(h*w) folded into multiplier/shift inside the kernel,
 *     then one MultiplyByQuantizedMultiplier of sum(x - zp_in). USE THIS ONE.
 *   LPN_MEAN_RESCALE_DIVIDE: older TFLite's reference_integer_ops::Mean (keep_dims, 4-D): sum of
 *     (x - zp_in), MultiplyByQuantizedMultiplier, then divide by h*w rounding half away from zero.
 *   LPN_MEAN_SAME_QUANT: older TFLite's reference_ops::Mean when input and output share scale and zero
 *     point: raw sum divided by h*w, truncating; multiplier/shift/offsets unused.
 * The two older forms are kept for models validated against those releases; LiteRT 2.3 differs from
 * them by one LSB on some values. */
typedef enum {
    LPN_MEAN_RESCALE_DIVIDE = 0,
    LPN_MEAN_FOLDED = 1,
    LPN_MEAN_SAME_QUANT = 2
} lpn_mean_form;

typedef struct {
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* +output zero point */
    int32_t multiplier;
    int32_t shift;
    int32_t form; /* an lpn_mean_form */
} lpn_mean_params;

/* SOFTMAX int8 -> int8 (output scale 1/256, zero point -128), TFLite's reference integer form:
 * input_multiplier/input_left_shift from PreprocessSoftmaxScaling(beta, input_scale, 5) and
 * diff_min = -CalculateInputRadius(5, input_left_shift). */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;
} lpn_softmax_params;

/* TFLite's ComputePaddingHeightWidth for one spatial axis: returns the output size and writes the
 * leading (top/left) padding. same != 0 selects SAME padding, else VALID. Returns -1 on bad arguments. */
int32_t lpn_compute_padding(int32_t in_size, int32_t filter_size, int32_t stride, int32_t dilation, int32_t same,
                            int32_t *padding);

/* Convolution. input [n, h, w, c_in]; filter [c_out, kh, kw, c_in / groups] (OHWI, filter_dims.n = c_out,
 * filter_dims.c = input channels per group, groups = c_in / filter_dims.c); bias [c_out] int32 or NULL;
 * output [n, oh, ow, c_out]. */
lpn_status lpn_conv_s8(const lpn_context *ctx, const lpn_conv_params *params, const lpn_per_channel_quant *quant,
                       const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                       const int8_t *filter, const int32_t *bias, const lpn_dims *output_dims, int8_t *output);
int32_t lpn_conv_s8_get_buffer_size(const lpn_conv_params *params, const lpn_dims *input_dims,
                                    const lpn_dims *filter_dims, const lpn_dims *output_dims);

/* Depthwise convolution. input [n, h, w, c_in]; filter [1, kh, kw, c_out] with c_out = c_in * ch_mult;
 * bias [c_out] or NULL; output [n, oh, ow, c_out]. */
lpn_status lpn_depthwise_conv_s8(const lpn_context *ctx, const lpn_dw_conv_params *params,
                                 const lpn_per_channel_quant *quant, const lpn_dims *input_dims, const int8_t *input,
                                 const lpn_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                 const lpn_dims *output_dims, int8_t *output);
int32_t lpn_depthwise_conv_s8_get_buffer_size(const lpn_dw_conv_params *params, const lpn_dims *input_dims,
                                              const lpn_dims *filter_dims, const lpn_dims *output_dims);

/* Fully connected, per-tensor requantization with single rounding
 * (lpn_multiply_by_quantized_multiplier_single_round), as LiteRT's reference kernel does.
 * input [batches, depth] given as input_dims {n = batches, h = w = 1, c = depth} (a flattened tensor:
 * h*w*c is the depth); filter [units, depth] as filter_dims {n = units, h = w = 1, c = depth};
 * bias [units] or NULL; output {n = batches, 1, 1, c = units}. */
lpn_status lpn_fully_connected_s8(const lpn_context *ctx, const lpn_fc_params *params,
                                  const lpn_per_tensor_quant *quant, const lpn_dims *input_dims, const int8_t *input,
                                  const lpn_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                  const lpn_dims *output_dims, int8_t *output);
int32_t lpn_fully_connected_s8_get_buffer_size(const lpn_dims *filter_dims);

/* Fully connected, per-channel requantization (arrays of length units); otherwise as above. */
lpn_status lpn_fully_connected_per_channel_s8(const lpn_context *ctx, const lpn_fc_params *params,
                                              const lpn_per_channel_quant *quant, const lpn_dims *input_dims,
                                              const int8_t *input, const lpn_dims *filter_dims,
                                              const int8_t *filter, const int32_t *bias,
                                              const lpn_dims *output_dims, int8_t *output);
int32_t lpn_fully_connected_per_channel_s8_get_buffer_size(const lpn_dims *filter_dims);

/* Elementwise ADD with TFLite broadcasting: each dimension of input1/input2 equals the output's or is 1.
 * output may alias input1 or input2 when their dims equal output_dims. */
lpn_status lpn_add_s8(const lpn_add_params *params, const lpn_dims *input1_dims, const int8_t *input1,
                      const lpn_dims *input2_dims, const int8_t *input2, const lpn_dims *output_dims,
                      int8_t *output);
int32_t lpn_add_s8_get_buffer_size(const lpn_dims *output_dims);

/* Average pooling; filter_dims {1, kh, kw, 1}. Rounds half away from zero as TFLite. */
lpn_status lpn_avg_pool_s8(const lpn_context *ctx, const lpn_pool_params *params, const lpn_dims *input_dims,
                           const int8_t *input, const lpn_dims *filter_dims, const lpn_dims *output_dims,
                           int8_t *output);
int32_t lpn_avg_pool_s8_get_buffer_size(const lpn_dims *input_dims, const lpn_dims *output_dims);

/* Max pooling; filter_dims {1, kh, kw, 1}. */
lpn_status lpn_max_pool_s8(const lpn_context *ctx, const lpn_pool_params *params, const lpn_dims *input_dims,
                           const int8_t *input, const lpn_dims *filter_dims, const lpn_dims *output_dims,
                           int8_t *output);
int32_t lpn_max_pool_s8_get_buffer_size(const lpn_dims *input_dims, const lpn_dims *output_dims);

/* Mean over H and W: input [n, h, w, c] -> output {n, 1, 1, c}. */
lpn_status lpn_mean_s8(const lpn_mean_params *params, const lpn_dims *input_dims, const int8_t *input,
                       const lpn_dims *output_dims, int8_t *output);
int32_t lpn_mean_s8_get_buffer_size(const lpn_dims *input_dims);

/* Softmax over the last axis of a [num_rows, row_size] tensor. */
lpn_status lpn_softmax_s8(const lpn_softmax_params *params, int32_t num_rows, int32_t row_size, const int8_t *input,
                          int8_t *output);
int32_t lpn_softmax_s8_get_buffer_size(int32_t row_size);

#ifdef __cplusplus
}
#endif

#endif
