/*
 * lpn custom-op kernels: the four LPN operators of docs/custom-ops.md on int8 activations.
 *
 *   lpn_shift_conv_s8             LPN_SHIFT_CONV_2D            shift weights, packed codes [O, KH, KW, I]
 *   lpn_shift_depthwise_conv_s8   LPN_SHIFT_DEPTHWISE_CONV_2D  shift weights, packed codes [1, KH, KW, I*M]
 *   lpn_shift_fully_connected_s8  LPN_SHIFT_FULLY_CONNECTED    shift weights, packed codes [O, I]
 *   lpn_quant_norm_s8             LPN_QUANT_NORM               per-channel integer affine map
 *   lpn_conv_lpn_s8               LPN_CONV_2D                  int8 weights [O, KH, KW, I], LPN requantization
 *   lpn_depthwise_conv_lpn_s8     LPN_DEPTHWISE_CONV_2D        int8 weights [1, KH, KW, I*M], LPN requantization
 *
 * Conventions are those of lpn/kernels.h (lpn_dims NHWC, lpn_status returns, *_get_buffer_size twins,
 * offsets input_offset = -zp_in and output_offset = +zp_out, no allocation, no floating point).
 *
 * Shift weights are read straight from the packed codes of the .tflite (never unpacked into RAM): the
 * code of logical weight k (row-major in the filter shape) with s exponent bits is code_bits = 1 + s wide,
 * code = (sign << s) | e, and stands for the integer weight (-1)^sign * 2^(E_max - e), E_max = 2^s - 1.
 * For code_bits <= 4 two codes share a byte (element 2j in the low nibble of byte j, 2j+1 in the high
 * nibble); for 5..8 bits each code has its own byte. See lpn_shift_codes_bytes.
 *
 * Requantization (docs/integer-spec.md section 5), per output channel c with mantissa m_c and shift k_c:
 *   p = acc * m_c (int64);  r = k_c > 0 ? (p + 2^(k_c - 1)) >> k_c : p   (ties towards +infinity)
 *   y = clamp(sat_int32(r) + output_offset, activation.min, activation.max)
 * with r rounded onto the output grid quant->grid (docs/integer-spec.md section 5):
 *   LPN_GRID_NEAREST (0)  as above
 *   LPN_GRID_CEIL    (1)  p > 0: max((p + 2^k - 1) >> k, 1);  p <= 0: min(p >> k, -1)   (Uniform activations)
 *   LPN_GRID_POW2    (2)  +-(smallest power of two >= max(ceil(|p| / 2^k), 1)), magnitude capped at 2^30,
 *                         sign + iff p > 0                                               (Shift activations)
 * Models are assumed valid (docs/integer-spec.md section 2): accumulators fit int32, |m_c| < 2^15.
 */
#ifndef LPN_LPN_OPS_H
#define LPN_LPN_OPS_H

#include <stdint.h>

#include "lpn/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest exponent_bits an LPN code may have (code_bits = 1 + exponent_bits <= 8). */
#define LPN_SHIFT_MAX_EXPONENT_BITS 7
/* Largest requantization shift k_c. */
#define LPN_SHIFT_MAX_REQUANT_SHIFT 62

/* Output grids of the LPN requantization (lpn_shift_quant.grid; option "grid" of docs/custom-ops.md). */
#define LPN_GRID_NEAREST 0
#define LPN_GRID_CEIL 1
#define LPN_GRID_POW2 2

/* Per-output-channel LPN requantization: arrays of length output channels, and the output grid. A
 * positional initializer {mantissa, shift} leaves grid 0 (nearest) in C99, but -Wextra warns: write
 * {mantissa, shift, LPN_GRID_NEAREST}. */
typedef struct {
    const int16_t *mantissa; /* m_c, signed, |m_c| <= 2^(mantissa_bits - 1) - 1 */
    const int8_t *shift;     /* k_c in [0, 62] */
    int32_t grid;            /* LPN_GRID_NEAREST, LPN_GRID_CEIL or LPN_GRID_POW2 */
} lpn_shift_quant;

/* LPN_SHIFT_CONV_2D. */
typedef struct {
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* +output zero point */
    int32_t exponent_bits; /* s in [0, 7] */
    lpn_tile stride;       /* >= 1 */
    lpn_tile padding;      /* top, left (lpn_compute_padding) */
    lpn_activation activation;
} lpn_shift_conv_params;

/* LPN_SHIFT_DEPTHWISE_CONV_2D: output channel k reads input channel k / ch_mult. */
typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    int32_t exponent_bits;
    int32_t ch_mult; /* depth multiplier, >= 1 */
    lpn_tile stride;
    lpn_tile padding;
    lpn_activation activation;
} lpn_shift_dw_conv_params;

/* LPN_SHIFT_FULLY_CONNECTED. */
typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    int32_t exponent_bits;
    lpn_activation activation;
} lpn_shift_fc_params;

/* LPN_QUANT_NORM. */
typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    lpn_activation activation;
} lpn_quant_norm_params;

/* Bytes of `count` packed codes of 1 + exponent_bits bits (docs/custom-ops.md), or -1 on bad arguments. */
static inline int32_t lpn_shift_codes_bytes(int32_t count, int32_t exponent_bits) {
    if (count < 0 || exponent_bits < 0 || exponent_bits > LPN_SHIFT_MAX_EXPONENT_BITS) {
        return -1;
    }
    return exponent_bits + 1 <= 4 ? count / 2 + count % 2 : count;
}

/* Shift convolution. input [n, h, w, c_in]; codes: packed [c_out, kh, kw, c_in] given as filter_dims
 * {n = c_out, h = kh, w = kw, c = c_in}; bias [c_out] int32 or NULL; output [n, oh, ow, c_out]. */
lpn_status lpn_shift_conv_s8(const lpn_context *ctx, const lpn_shift_conv_params *params,
                             const lpn_shift_quant *quant, const lpn_dims *input_dims, const int8_t *input,
                             const lpn_dims *filter_dims, const uint8_t *codes, const int32_t *bias,
                             const lpn_dims *output_dims, int8_t *output);
int32_t lpn_shift_conv_s8_get_buffer_size(const lpn_shift_conv_params *params, const lpn_dims *input_dims,
                                          const lpn_dims *filter_dims, const lpn_dims *output_dims);

/* Shift depthwise convolution. input [n, h, w, c_in]; codes packed [1, kh, kw, c_out] (filter_dims
 * {1, kh, kw, c_out}, c_out = c_in * ch_mult); bias [c_out] or NULL; output [n, oh, ow, c_out]. */
lpn_status lpn_shift_depthwise_conv_s8(const lpn_context *ctx, const lpn_shift_dw_conv_params *params,
                                       const lpn_shift_quant *quant, const lpn_dims *input_dims,
                                       const int8_t *input, const lpn_dims *filter_dims, const uint8_t *codes,
                                       const int32_t *bias, const lpn_dims *output_dims, int8_t *output);
int32_t lpn_shift_depthwise_conv_s8_get_buffer_size(const lpn_shift_dw_conv_params *params,
                                                    const lpn_dims *input_dims, const lpn_dims *filter_dims,
                                                    const lpn_dims *output_dims);

/* Shift fully connected. input [batches, depth] as input_dims {n = batches, h = w = 1, c = depth} (a
 * flattened tensor: h*w*c is the depth); codes packed [units, depth] as filter_dims {n = units, 1, 1,
 * c = depth}; bias [units] or NULL; output {n = batches, 1, 1, c = units}. */
lpn_status lpn_shift_fully_connected_s8(const lpn_context *ctx, const lpn_shift_fc_params *params,
                                        const lpn_shift_quant *quant, const lpn_dims *input_dims,
                                        const int8_t *input, const lpn_dims *filter_dims, const uint8_t *codes,
                                        const int32_t *bias, const lpn_dims *output_dims, int8_t *output);
int32_t lpn_shift_fully_connected_s8_get_buffer_size(const lpn_dims *filter_dims);

/* QuantNorm: y = clamp(sat_int32(rshift((x + input_offset) * m_c + bias_c, k_c)) + output_offset) over the
 * last axis; p is computed in int64, rshift rounds half up as the requantization above. dims [n, h, w, c]
 * for input and output; bias [c] int32 (required: it is on the m_c-scaled grid). output may alias input. */
lpn_status lpn_quant_norm_s8(const lpn_quant_norm_params *params, const lpn_shift_quant *quant,
                             const lpn_dims *dims, const int8_t *input, const int32_t *bias, int8_t *output);
int32_t lpn_quant_norm_s8_get_buffer_size(const lpn_dims *dims);

/* LPN_CONV_2D: the convolution of lpn_shift_conv_s8 with an int8 filter [O, KH, KW, I] (filter_dims
 * {O, KH, KW, I}) instead of packed codes; params->exponent_bits is ignored. For layers whose weights are
 * int8 but whose output needs the LPN requantization (an integer-only graph, a sub-8-bit output grid). */
lpn_status lpn_conv_lpn_s8(const lpn_context *ctx, const lpn_shift_conv_params *params, const lpn_shift_quant *quant,
                           const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                           const int8_t *filter, const int32_t *bias, const lpn_dims *output_dims, int8_t *output);
int32_t lpn_conv_lpn_s8_get_buffer_size(const lpn_shift_conv_params *params, const lpn_dims *input_dims,
                                        const lpn_dims *filter_dims, const lpn_dims *output_dims);

/* LPN_DEPTHWISE_CONV_2D: lpn_shift_depthwise_conv_s8 with an int8 filter [1, KH, KW, I*M]. */
lpn_status lpn_depthwise_conv_lpn_s8(const lpn_context *ctx, const lpn_shift_dw_conv_params *params,
                                     const lpn_shift_quant *quant, const lpn_dims *input_dims, const int8_t *input,
                                     const lpn_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                                     const lpn_dims *output_dims, int8_t *output);
int32_t lpn_depthwise_conv_lpn_s8_get_buffer_size(const lpn_shift_dw_conv_params *params,
                                                  const lpn_dims *input_dims, const lpn_dims *filter_dims,
                                                  const lpn_dims *output_dims);

#ifdef __cplusplus
}
#endif

#endif
