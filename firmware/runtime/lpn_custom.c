/* The LPN custom-op format rules (see lpn_custom.h). */
#include "lpn_custom.h"

#include "lpn/lpn_ops.h"

#define BIT(k) (1u << (k))
#define KEYS_COMMON (BIT(LPN_KEY_ACT_MAX) | BIT(LPN_KEY_ACT_MIN) | BIT(LPN_KEY_MANTISSA_BITS) | BIT(LPN_KEY_VERSION))
#define KEYS_SHIFT (KEYS_COMMON | BIT(LPN_KEY_EXPONENT_BITS) | BIT(LPN_KEY_FILTER_SHAPE))
#define KEYS_WINDOW (BIT(LPN_KEY_PADDING) | BIT(LPN_KEY_STRIDE_H) | BIT(LPN_KEY_STRIDE_W))
#define KEYS_CONV (KEYS_SHIFT | KEYS_WINDOW)
#define KEYS_INT8_CONV (KEYS_COMMON | KEYS_WINDOW)

const lpn_custom_op_spec lpn_custom_specs[LPN_CUSTOM_OP_COUNT] = {
    {"LPN_SHIFT_CONV_2D", 5, KEYS_CONV, 4u},
    {"LPN_SHIFT_DEPTHWISE_CONV_2D", 5, KEYS_CONV | BIT(LPN_KEY_DEPTH_MULTIPLIER), 4u},
    {"LPN_SHIFT_FULLY_CONNECTED", 5, KEYS_SHIFT, 2u},
    {"LPN_QUANT_NORM", 4, KEYS_COMMON, 0u},
    {"LPN_CONV_2D", 5, KEYS_INT8_CONV, 0u},
    {"LPN_DEPTHWISE_CONV_2D", 5, KEYS_INT8_CONV | BIT(LPN_KEY_DEPTH_MULTIPLIER), 0u},
};

const char *const lpn_option_names[LPN_KEY_COUNT] = {
    "act_max", "act_min", "depth_multiplier", "exponent_bits", "filter_shape", "grid",
    "mantissa_bits", "padding", "stride_h", "stride_w", "version",
};

/* Range rules of the integer options, checked in this order (act_max's lower bound is act_min). */
typedef struct {
    int32_t key;
    int32_t lo, hi;
    const char *rule;
} range_rule;

static const range_rule RULES[] = {
    {LPN_KEY_ACT_MIN, -128, 127, "need -128 <= act_min <= act_max <= 127"},
    {LPN_KEY_ACT_MAX, -128, 127, "need -128 <= act_min <= act_max <= 127"},
    {LPN_KEY_MANTISSA_BITS, 2, 16, "mantissa_bits must be in [2, 16]"},
    {LPN_KEY_EXPONENT_BITS, 0, LPN_SHIFT_MAX_EXPONENT_BITS, "exponent_bits must be in [0, 7]"},
    {LPN_KEY_PADDING, 0, 1, "padding must be 0 (SAME) or 1 (VALID)"},
    {LPN_KEY_STRIDE_H, 1, LPN_CUSTOM_MAX_STRIDE, "strides must be in [1, 4096]"},
    {LPN_KEY_STRIDE_W, 1, LPN_CUSTOM_MAX_STRIDE, "strides must be in [1, 4096]"},
    {LPN_KEY_DEPTH_MULTIPLIER, 1, LPN_CUSTOM_MAX_DEPTH_MULTIPLIER, "depth_multiplier must be in [1, 65535]"},
    {LPN_KEY_GRID, LPN_GRID_NEAREST, LPN_GRID_POW2, "grid must be 0 (nearest), 1 (ceil) or 2 (pow2)"},
};

static int same_string(const char *a, const char *b) {
    while (*a != '\0' && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

int32_t lpn_custom_find(const char *code) {
    for (int32_t k = 0; code != 0 && k < LPN_CUSTOM_OP_COUNT; ++k) {
        if (same_string(code, lpn_custom_specs[k].code)) {
            return k;
        }
    }
    return -1;
}

static lpn_options_status refuse(lpn_options_error *e, lpn_options_status status, int32_t key, uint32_t at,
                                 int64_t value, const char *rule) {
    e->status = status;
    e->key = key;
    e->at = at;
    e->value = value;
    e->rule = rule;
    return status;
}

/* Every key of the map must be one the op takes. */
static lpn_options_status check_keys(lpn_flex_map_t *map, uint32_t keys, lpn_options_error *e) {
    for (uint32_t i = 0; i < map->length; ++i) {
        uint32_t pos;
        e->key_index = i;
        e->flex = lpn_flex_key(map, i, &pos);
        if (e->flex != LPN_FLEX_OK) {
            return refuse(e, LPN_OPTIONS_BAD_KEY, -1, map->bad_at, 0, 0);
        }
        int32_t known = -1;
        for (int32_t k = 0; k < LPN_KEY_COUNT; ++k) {
            uint32_t n = 0;
            const char *name = lpn_option_names[k];
            while (name[n] != '\0' && map->data[pos + n] == (uint8_t)name[n]) { /* stops at the checked NUL */
                ++n;
            }
            if ((keys & BIT(k)) != 0u && name[n] == '\0' && map->data[pos + n] == 0u) {
                known = k;
            }
        }
        if (known < 0) {
            return refuse(e, LPN_OPTIONS_UNKNOWN_KEY, -1, pos, 0, 0);
        }
    }
    return LPN_OPTIONS_OK;
}

/* filter_shape: the op's rank, entries in range, at most INT32_MAX elements. */
static lpn_options_status check_filter(const lpn_custom_options_t *o, uint32_t rank, uint32_t at,
                                       lpn_options_error *e) {
    if (o->filter_rank != rank) {
        return refuse(e, LPN_OPTIONS_INVALID, LPN_KEY_FILTER_SHAPE, at, o->filter_rank,
                      "filter_shape has the wrong rank");
    }
    uint64_t count = 1;
    for (uint32_t d = 0; d < rank; ++d) {
        const int32_t v = o->filter_shape[d];
        if (v < 1 || v > LPN_CUSTOM_MAX_FILTER_DIM) {
            return refuse(e, LPN_OPTIONS_INVALID, LPN_KEY_FILTER_SHAPE, at, v,
                          "filter_shape entries must be in [1, 2^20]");
        }
        count *= (uint64_t)v; /* < 2^31 * 2^20 before the check below stops it */
        if (count > (uint64_t)INT32_MAX) {
            return refuse(e, LPN_OPTIONS_INVALID, LPN_KEY_FILTER_SHAPE, at, (int64_t)count,
                          "filter_shape has more than 2^31 - 1 elements");
        }
    }
    return LPN_OPTIONS_OK;
}

lpn_options_status lpn_custom_options_parse(int32_t op, const uint8_t *data, uint32_t size, lpn_custom_options_t *o,
                                            lpn_options_error *e) {
    const lpn_custom_options_t none = {0, 0, 0, 0, 0, 0, 0, 0, {0, 0, 0, 0}, 0u, LPN_GRID_NEAREST};
    const lpn_options_error clear = {LPN_OPTIONS_OK, LPN_FLEX_OK, -1, 0u, 0u, 0, 0};
    *o = none;
    *e = clear;
    if (op < 0 || op >= LPN_CUSTOM_OP_COUNT) {
        return refuse(e, LPN_OPTIONS_NOT_A_MAP, -1, 0u, op, 0);
    }
    const lpn_custom_op_spec *spec = &lpn_custom_specs[op];
    lpn_flex_map_t map;
    e->flex = lpn_flex_root_map(data, size, &map);
    if (e->flex != LPN_FLEX_OK) {
        return refuse(e, LPN_OPTIONS_NOT_A_MAP, -1, map.bad_at, 0, 0);
    }
    const uint32_t accepted = spec->keys | LPN_CUSTOM_OPTIONAL_KEYS;
    if (check_keys(&map, accepted, e) != LPN_OPTIONS_OK) {
        return e->status;
    }
    int64_t value[LPN_KEY_COUNT] = {0};
    uint32_t at[LPN_KEY_COUNT] = {0};
    for (int32_t k = 0; k < LPN_KEY_COUNT; ++k) {
        uint32_t index = 0;
        if ((accepted & BIT(k)) == 0u) {
            continue;
        }
        e->flex = lpn_flex_find(&map, lpn_option_names[k], &index);
        if (e->flex == LPN_FLEX_MISSING && (LPN_CUSTOM_OPTIONAL_KEYS & BIT(k)) != 0u) {
            e->flex = LPN_FLEX_OK; /* an optional key left out: 0 */
            continue;
        }
        if (e->flex == LPN_FLEX_OK) {
            at[k] = lpn_flex_value_pos(&map, index);
            e->flex = k == LPN_KEY_FILTER_SHAPE
                          ? lpn_flex_int_vector(&map, index, o->filter_shape, 4u, &o->filter_rank)
                          : lpn_flex_int(&map, index, &value[k]);
        }
        if (e->flex != LPN_FLEX_OK) {
            return refuse(e, LPN_OPTIONS_BAD_VALUE, k, e->flex == LPN_FLEX_MISSING ? 0u : map.bad_at, 0, 0);
        }
    }
    if (value[LPN_KEY_VERSION] != 1) {
        return refuse(e, LPN_OPTIONS_VERSION, LPN_KEY_VERSION, at[LPN_KEY_VERSION], value[LPN_KEY_VERSION], 0);
    }
    for (uint32_t r = 0; r < sizeof RULES / sizeof RULES[0]; ++r) {
        const int32_t k = RULES[r].key;
        const int64_t lo = k == LPN_KEY_ACT_MAX ? value[LPN_KEY_ACT_MIN] : RULES[r].lo;
        if ((accepted & BIT(k)) != 0u && (value[k] < lo || value[k] > RULES[r].hi)) {
            return refuse(e, LPN_OPTIONS_INVALID, k, at[k], value[k], RULES[r].rule);
        }
    }
    if (check_filter(o, spec->filter_rank, at[LPN_KEY_FILTER_SHAPE], e) != LPN_OPTIONS_OK) {
        return e->status;
    }
    o->act_min = (int32_t)value[LPN_KEY_ACT_MIN];
    o->act_max = (int32_t)value[LPN_KEY_ACT_MAX];
    o->mantissa_bits = (int32_t)value[LPN_KEY_MANTISSA_BITS];
    o->exponent_bits = (int32_t)value[LPN_KEY_EXPONENT_BITS];
    o->padding = (int32_t)value[LPN_KEY_PADDING];
    o->stride_h = (int32_t)value[LPN_KEY_STRIDE_H];
    o->stride_w = (int32_t)value[LPN_KEY_STRIDE_W];
    o->depth_multiplier = (int32_t)value[LPN_KEY_DEPTH_MULTIPLIER];
    o->grid = (int32_t)value[LPN_KEY_GRID];
    return LPN_OPTIONS_OK;
}

void lpn_custom_printable(const uint8_t *data, uint32_t at, char *out, uint32_t capacity) {
    uint32_t n = 0;
    for (; capacity > 0u && n + 1u < capacity && data[at + n] != 0u; ++n) {
        out[n] = data[at + n] >= 0x20u && data[at + n] < 0x7fu ? (char)data[at + n] : '?';
    }
    if (capacity > 0u) {
        out[n] = '\0';
    }
}

int64_t lpn_custom_bad_code_byte(const uint8_t *codes, uint32_t bytes, uint32_t count, int32_t exponent_bits) {
    const uint32_t code_bits = 1u + (uint32_t)exponent_bits;
    for (uint32_t j = 0; j < bytes; ++j) {
        const uint32_t byte = codes[j];
        int ok;
        if (code_bits <= 4u) {
            const uint32_t high_used = 2u * (uint64_t)j + 1u < count; /* an odd count leaves the last high nibble 0 */
            ok = (byte & 0xfu) >> code_bits == 0u && (high_used ? (byte >> 4) >> code_bits == 0u : (byte >> 4) == 0u);
        } else {
            ok = byte >> code_bits == 0u;
        }
        if (!ok) {
            return (int64_t)j;
        }
    }
    return -1;
}

int32_t lpn_custom_bad_requant_channel(const uint8_t *mantissa_le, const int8_t *shift, int32_t channels,
                                       int32_t mantissa_bits, int32_t *mantissa_bad, int32_t *value) {
    const int32_t limit = (1 << (mantissa_bits - 1)) - 1;
    for (int32_t c = 0; c < channels; ++c) {
        const int32_t m = (int16_t)(uint16_t)(mantissa_le[2 * c] | (mantissa_le[2 * c + 1] << 8));
        const int32_t k = shift[c];
        if (m < -limit || m > limit || k < 0 || k > LPN_SHIFT_MAX_REQUANT_SHIFT) {
            *mantissa_bad = m < -limit || m > limit;
            *value = *mantissa_bad ? m : k;
            return c;
        }
    }
    return -1;
}
