/*
 * The validity rules of the LPN custom-op format (docs/custom-ops.md), shared by the firmware runtime's
 * adapters (firmware/runtime/ops/op_shift_*.c, op_quant_norm.c through op_lpn_common.c) and the LiteRT
 * registrar (firmware/targets/litert/lpn_litert.c): the op table, the flexbuffer options (every key read,
 * unknown keys rejected, values range-checked), the packed shift codes and the per-channel requantization
 * parameters. Each caller turns the structured result into its own error report.
 * C99, no allocation, no floating point, no libc.
 */
#ifndef LPN_RUNTIME_LPN_CUSTOM_H
#define LPN_RUNTIME_LPN_CUSTOM_H

#include <stdint.h>

#include "flexbuffer.h"

/* The LPN custom ops. */
typedef enum {
    LPN_CUSTOM_SHIFT_CONV_2D = 0,
    LPN_CUSTOM_SHIFT_DEPTHWISE_CONV_2D = 1,
    LPN_CUSTOM_SHIFT_FULLY_CONNECTED = 2,
    LPN_CUSTOM_QUANT_NORM = 3,
    LPN_CUSTOM_CONV_2D = 4,           /* int8 filter, LPN requantization */
    LPN_CUSTOM_DEPTHWISE_CONV_2D = 5, /* int8 filter, LPN requantization */
    LPN_CUSTOM_OP_COUNT = 6
} lpn_custom_op;

/* Option keys (sorted, as the exporter writes them); bit k of lpn_custom_op_spec.keys = key k. */
typedef enum {
    LPN_KEY_ACT_MAX,
    LPN_KEY_ACT_MIN,
    LPN_KEY_DEPTH_MULTIPLIER,
    LPN_KEY_EXPONENT_BITS,
    LPN_KEY_FILTER_SHAPE,
    LPN_KEY_GRID, /* optional for every op: absent = 0 (nearest) */
    LPN_KEY_MANTISSA_BITS,
    LPN_KEY_PADDING,
    LPN_KEY_STRIDE_H,
    LPN_KEY_STRIDE_W,
    LPN_KEY_VERSION,
    LPN_KEY_COUNT
} lpn_option_key;

/* Option keys every op accepts and none requires (absent: 0). */
#define LPN_CUSTOM_OPTIONAL_KEYS (1u << LPN_KEY_GRID)

/* Largest stride accepted (= the runtime's LPN_MAX_WINDOW), depth multiplier, filter_shape entry. */
#define LPN_CUSTOM_MAX_STRIDE 4096
#define LPN_CUSTOM_MAX_DEPTH_MULTIPLIER 0xffff
#define LPN_CUSTOM_MAX_FILTER_DIM 1048576 /* 2^20 */

typedef struct {
    const char *code;     /* custom_code, e.g. "LPN_SHIFT_CONV_2D" */
    int32_t inputs;       /* operator inputs (one output) */
    uint32_t keys;        /* the option keys it requires (every op also takes the optional LPN_CUSTOM_OPTIONAL_KEYS) */
    uint32_t filter_rank; /* rank of filter_shape; 0: none */
} lpn_custom_op_spec;

extern const lpn_custom_op_spec lpn_custom_specs[LPN_CUSTOM_OP_COUNT];
extern const char *const lpn_option_names[LPN_KEY_COUNT];

/* The op of custom_code `code`, or -1. */
int32_t lpn_custom_find(const char *code);

/* Parsed options (keys an op does not take stay 0). */
typedef struct {
    int32_t act_min, act_max;  /* int8 clamp of the output */
    int32_t mantissa_bits;     /* 2..16 */
    int32_t exponent_bits;     /* shift ops: 0..7 */
    int32_t padding;           /* conv ops: 0 SAME, 1 VALID */
    int32_t stride_h, stride_w;
    int32_t depth_multiplier;  /* depthwise */
    int32_t filter_shape[4];   /* shift ops: OHWI (conv), 1HWC (depthwise), [units, depth] (FC) */
    uint32_t filter_rank;
    int32_t grid;              /* output grid of the requantization: LPN_GRID_* of lpn/lpn_ops.h, 0 if absent */
} lpn_custom_options_t;

/* Why options were refused (a negated value is the runtime's error detail, docs/runtime.md). */
typedef enum {
    LPN_OPTIONS_OK = 0,
    LPN_OPTIONS_NOT_A_MAP = 1,   /* no options, or not a well-formed flexbuffer map (flex says why) */
    LPN_OPTIONS_BAD_KEY = 2,     /* key number key_index is malformed */
    LPN_OPTIONS_UNKNOWN_KEY = 3, /* a key this op does not take; its string starts at byte `at` */
    LPN_OPTIONS_BAD_VALUE = 4,   /* option `key` missing, malformed, of another type or too large (flex) */
    LPN_OPTIONS_VERSION = 5,     /* version is not 1 (value) */
    LPN_OPTIONS_INVALID = 6      /* option `key` breaks `rule` (value) */
} lpn_options_status;

typedef struct {
    lpn_options_status status;
    lpn_flex_result flex;      /* reader result for NOT_A_MAP, BAD_KEY, BAD_VALUE */
    int32_t key;               /* lpn_option_key at fault, or -1 */
    uint32_t key_index;        /* BAD_KEY: entry number in the map */
    uint32_t at;               /* byte in the options at fault */
    int64_t value;             /* VERSION, INVALID: the value refused */
    const char *rule;          /* INVALID: the rule, e.g. "padding must be 0 (SAME) or 1 (VALID)" */
} lpn_options_error;

/* Reads and validates the flexbuffer options data[0 .. size) of op `op` (an lpn_custom_op): every key known
 * to the op, every required key of the op present, grid 0..2 when present, version 1, -128 <= act_min <= act_max <= 127, mantissa_bits 2..16,
 * exponent_bits 0..7, padding 0/1, strides 1..LPN_CUSTOM_MAX_STRIDE, depth_multiplier
 * 1..LPN_CUSTOM_MAX_DEPTH_MULTIPLIER, filter_shape of the op's rank with entries 1..LPN_CUSTOM_MAX_FILTER_DIM
 * and at most INT32_MAX elements. On failure *error says where and why and *o is partly filled. */
lpn_options_status lpn_custom_options_parse(int32_t op, const uint8_t *data, uint32_t size, lpn_custom_options_t *o,
                                            lpn_options_error *error);

/* Copies the NUL-terminated string at data[at ..) into out[0 .. capacity) as printable ASCII ('?' for other
 * bytes), truncated; for naming an unknown key. The string must be NUL-terminated inside the buffer. */
void lpn_custom_printable(const uint8_t *data, uint32_t at, char *out, uint32_t capacity);

/* Packed codes of `count` weights at 1 + exponent_bits bits (lpn_shift_codes_bytes(count, exponent_bits)
 * bytes): the index of the first byte with a bit above the code width or a non-zero padding nibble, or -1. */
int64_t lpn_custom_bad_code_byte(const uint8_t *codes, uint32_t bytes, uint32_t count, int32_t exponent_bits);

/* Requantization of `channels` channels: mantissas (int16, little-endian bytes) |m| <= 2^(mantissa_bits-1) - 1
 * and shifts (int8) 0..LPN_SHIFT_MAX_REQUANT_SHIFT. The first channel that breaks this, or -1; *mantissa_bad
 * says whether its mantissa (1) or its shift (0) is at fault, *value is that mantissa or shift. */
int32_t lpn_custom_bad_requant_channel(const uint8_t *mantissa_le, const int8_t *shift, int32_t channels,
                                       int32_t mantissa_bits, int32_t *mantissa_bad, int32_t *value);

#endif
