/*
 * Argument validation of the LPN custom-op kernels (internal), shared by the reference kernels and their
 * Cortex-M variants. Results in order of precedence: LPN_ERR_ARGUMENT (a null pointer, a bad stride / padding /
 * activation / offset / exponent_bits), LPN_ERR_SHAPE (a malformed lpn_dims, or shapes that do not fit the
 * layer), then lpn_shift_check_quant's over the output channels.
 *
 * One definition, two forms, each where GCC compiles it best (measured on Cortex-M4, QEMU instruction counts):
 *   - LPN_SHIFT_*_CHECKS: statements that return from the calling kernel, for the reference kernels. As a
 *     function returning a status, the same checks made GCC lay out their loops worse (6 % to 70 % more
 *     instructions); as statements they compile to the same code as with the checks written out. They read the
 *     kernel's arguments by the names of the lpn_ops.h prototypes (params, quant, input_dims, input,
 *     filter_dims, codes, output_dims, output). exponent_bits: the value checked against
 *     [0, LPN_SHIFT_MAX_EXPONENT_BITS].
 *   - lpn_shift_*_check (lpn_shift_check.c, the same macros in functions), for the optimized Cortex-M kernels,
 *     which run 2 % to 18 % more instructions with the checks inlined.
 */
#ifndef LPN_SHIFT_CHECK_H
#define LPN_SHIFT_CHECK_H

#include "lpn_shift_common.h"

/* The common skeleton: bad_args, bad_params (LPN_ERR_ARGUMENT), the dims, bad_shape (LPN_ERR_SHAPE), quant. */
#define LPN_SHIFT_CHECKS(bad_args, bad_params, bad_shape)                                             \
    do {                                                                                              \
        if (bad_args) {                                                                               \
            return LPN_ERR_ARGUMENT;                                                                  \
        }                                                                                             \
        if (bad_params) {                                                                             \
            return LPN_ERR_ARGUMENT;                                                                  \
        }                                                                                             \
        if (!lpn_dims_ok(input_dims) || !lpn_dims_ok(filter_dims) || !lpn_dims_ok(output_dims)) {     \
            return LPN_ERR_SHAPE;                                                                     \
        }                                                                                             \
        if (bad_shape) {                                                                              \
            return LPN_ERR_SHAPE;                                                                     \
        }                                                                                             \
        const lpn_status quant_status = lpn_shift_check_quant(quant, output_dims->c);                 \
        if (quant_status != LPN_OK) {                                                                 \
            return quant_status;                                                                      \
        }                                                                                             \
    } while (0)

/* Stride, padding, activation, offsets and exponent_bits of a convolution's params. */
#define LPN_SHIFT_BAD_WINDOW(exponent_bits)                                                           \
    (!lpn_tile_ok(&params->stride, 1) || !lpn_tile_ok(&params->padding, 0) ||                         \
     !lpn_activation_ok(&params->activation) ||                                                       \
     !lpn_shift_offsets_ok(params->input_offset, params->output_offset, exponent_bits))

/* lpn_shift_conv_s8 / lpn_conv_lpn_s8: [N,H,W,C] * [O,KH,KW,C] -> [N,OH,OW,O]. */
#define LPN_SHIFT_CONV_CHECKS(exponent_bits)                                                          \
    LPN_SHIFT_CHECKS(params == 0 || input == 0 || codes == 0 || output == 0,                          \
                     LPN_SHIFT_BAD_WINDOW(exponent_bits),                                             \
                     output_dims->n != input_dims->n || output_dims->c != filter_dims->n ||           \
                         filter_dims->c != input_dims->c)

/* lpn_shift_depthwise_conv_s8 / lpn_depthwise_conv_lpn_s8: [N,H,W,C] * [1,KH,KW,C*M] -> [N,OH,OW,C*M]. */
#define LPN_SHIFT_DW_CHECKS(exponent_bits)                                                            \
    LPN_SHIFT_CHECKS(params == 0 || input == 0 || codes == 0 || output == 0 || params->ch_mult < 1,   \
                     LPN_SHIFT_BAD_WINDOW(exponent_bits),                                             \
                     output_dims->n != input_dims->n || filter_dims->n != 1 ||                        \
                         output_dims->c != filter_dims->c ||                                          \
                         (int64_t)input_dims->c * params->ch_mult != output_dims->c)

/* lpn_shift_fully_connected_s8: [N,H,W,C] * [U,1,1,H*W*C] -> [N,1,1,U]. */
#define LPN_SHIFT_FC_CHECKS()                                                                         \
    LPN_SHIFT_CHECKS(params == 0 || input == 0 || codes == 0 || output == 0,                          \
                     !lpn_activation_ok(&params->activation) ||                                       \
                         !lpn_shift_offsets_ok(params->input_offset, params->output_offset,           \
                                               params->exponent_bits),                                \
                     filter_dims->h != 1 || filter_dims->w != 1 ||                                    \
                         (int64_t)input_dims->h * input_dims->w * input_dims->c != filter_dims->c ||  \
                         output_dims->n != input_dims->n || output_dims->h != 1 ||                    \
                         output_dims->w != 1 || output_dims->c != filter_dims->n)

/* The checks of lpn_shift_conv_s8 (exponent_bits = params->exponent_bits), LPN_OK when they pass. */
lpn_status lpn_shift_conv_check(const lpn_shift_conv_params *params, const lpn_shift_quant *quant,
                                const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                                const uint8_t *codes, const lpn_dims *output_dims, const int8_t *output);
/* The checks of lpn_shift_depthwise_conv_s8 (exponent_bits = params->exponent_bits). */
lpn_status lpn_shift_dw_check(const lpn_shift_dw_conv_params *params, const lpn_shift_quant *quant,
                              const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                              const uint8_t *codes, const lpn_dims *output_dims, const int8_t *output);
/* The checks of lpn_shift_fully_connected_s8. */
lpn_status lpn_shift_fc_check(const lpn_shift_fc_params *params, const lpn_shift_quant *quant,
                              const lpn_dims *input_dims, const int8_t *input, const lpn_dims *filter_dims,
                              const uint8_t *codes, const lpn_dims *output_dims, const int8_t *output);

#endif
