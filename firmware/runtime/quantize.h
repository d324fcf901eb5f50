/* Integer-only reproduction of TFLite's double-precision parameter preparation (see quantize.c). */
#ifndef LPN_RUNTIME_QUANTIZE_H
#define LPN_RUNTIME_QUANTIZE_H

#include <stdint.h>

#include "lpn/runtime.h"

/* lpn_quantize_multiplier is public (lpn/runtime.h). */

/* 1 when the exact real value a * b * 2^pow2 (float32 bit patterns) is >= threshold, else 0. */
int lpn_scale_product_at_least(uint32_t a_bits, uint32_t b_bits, int32_t pow2, uint32_t threshold);

/* TFLite's quantize lambda of CalculateActivationRangeQuantized without the zero point:
 * (int32_t)round(float(value) / float(scale)) in float32 arithmetic, ties away from zero, saturated
 * to the int32 range. LPN_RT_ERR_QUANTIZATION for a zero, negative or non-finite scale. */
lpn_rt_status_t lpn_quantize_real(int32_t value, uint32_t scale_bits, int32_t *out);

#endif
