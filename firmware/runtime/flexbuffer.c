/*
 * Flexbuffer map reader (see flexbuffer.h). Layout (flatbuffers "FlexBuffers" internals):
 *   buffer end: [root value, w bytes][root packed type][w]       packed type = (type << 2) | log2(width)
 *   map at P, width W: [keys offset @P-3W][keys width @P-2W][length @P-W][values @P][types, 1 byte each]
 *   keys vector at K, width KW: [length @K-KW][key offsets @K], each pointing at a NUL-terminated string
 *   vector at V, width W: [length @V-W][elements @V][types, 1 byte each, untyped VECTOR only]
 *   offsets point backwards: target = position of the offset - offset value
 */
#include "flexbuffer.h"

enum {
    FBT_INT = 1,
    FBT_UINT = 2,
    FBT_INDIRECT_INT = 6,
    FBT_INDIRECT_UINT = 7,
    FBT_MAP = 9,
    FBT_VECTOR = 10,
    FBT_VECTOR_INT = 11,
    FBT_VECTOR_UINT = 12,
    FBT_VECTOR_INT2 = 16, /* then UINT2, FLOAT2, INT3, UINT3, FLOAT3, INT4, UINT4, FLOAT4 */
    FBT_VECTOR_UINT4 = 23,
    FBT_BOOL = 26
};

static int in_range(const lpn_flex_map_t *m, uint64_t pos, uint64_t bytes) { return pos + bytes <= m->size; }

static uint64_t read_uint(const uint8_t *p, uint32_t width) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < width; ++i) {
        v |= (uint64_t)p[i] << (8u * i);
    }
    return v;
}

static int64_t read_int(const uint8_t *p, uint32_t width) {
    uint64_t u = read_uint(p, width);
    if (width < 8u && (u >> (8u * width - 1u)) != 0u) {
        u |= ~(uint64_t)0 << (8u * width); /* sign extension, on the unsigned representation */
    }
    /* two's-complement reinterpretation without an implementation-defined conversion */
    return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

static int valid_width(uint64_t w) { return w == 1u || w == 2u || w == 4u || w == 8u; }

static lpn_flex_result fault(lpn_flex_map_t *m, uint64_t at, lpn_flex_result result) {
    m->bad_at = at < m->size ? (uint32_t)at : m->size;
    return result;
}

static lpn_flex_result bad(lpn_flex_map_t *m, uint64_t at) { return fault(m, at, LPN_FLEX_BAD); }

/* Follows the offset stored at `at` (width bytes); *target must lie at or before `at`. */
static lpn_flex_result follow(lpn_flex_map_t *m, uint32_t at, uint32_t width, uint32_t *target) {
    if (!in_range(m, at, width)) {
        return bad(m, at);
    }
    const uint64_t off = read_uint(m->data + at, width);
    if (off > at) {
        return bad(m, at);
    }
    *target = (uint32_t)(at - off);
    return LPN_FLEX_OK;
}

lpn_flex_result lpn_flex_root_map(const uint8_t *data, uint32_t size, lpn_flex_map_t *m) {
    m->data = data;
    m->size = size;
    m->bad_at = 0u;
    m->length = 0u;
    if (data == 0 || size < 3u) {
        return bad(m, 0u);
    }
    const uint32_t root_width = data[size - 1u];
    const uint32_t packed = data[size - 2u];
    if (!valid_width(root_width) || (packed >> 2) != FBT_MAP || root_width + 2u > size) {
        return bad(m, size - 1u);
    }
    const uint32_t root = size - 2u - root_width;
    uint32_t map_pos;
    if (follow(m, root, root_width, &map_pos) != LPN_FLEX_OK) {
        return LPN_FLEX_BAD;
    }
    const uint32_t w = 1u << (packed & 3u);
    if (map_pos < 3u * w) {
        return bad(m, map_pos);
    }
    const uint64_t length = read_uint(data + map_pos - w, w);
    const uint64_t key_width = read_uint(data + map_pos - 2u * w, w);
    uint32_t keys;
    if (length > size || !in_range(m, map_pos, length * (w + 1u)) || !valid_width(key_width) ||
        follow(m, map_pos - 3u * w, w, &keys) != LPN_FLEX_OK) {
        return bad(m, map_pos);
    }
    if (keys < key_width || read_uint(data + keys - key_width, (uint32_t)key_width) != length ||
        !in_range(m, keys, length * key_width)) {
        return bad(m, keys);
    }
    m->values = map_pos;
    m->width = w;
    m->length = (uint32_t)length;
    m->keys = keys;
    m->key_width = (uint32_t)key_width;
    return LPN_FLEX_OK;
}

lpn_flex_result lpn_flex_key(lpn_flex_map_t *m, uint32_t index, uint32_t *pos) {
    uint32_t s;
    if (index >= m->length) {
        return fault(m, m->keys, LPN_FLEX_RANGE);
    }
    if (follow(m, m->keys + index * m->key_width, m->key_width, &s) != LPN_FLEX_OK) {
        return LPN_FLEX_BAD;
    }
    uint32_t end = s;
    while (end < m->size && m->data[end] != 0u) {
        ++end;
    }
    if (end >= m->size) {
        return bad(m, s); /* key string runs off the end */
    }
    *pos = s;
    return LPN_FLEX_OK;
}

lpn_flex_result lpn_flex_find(lpn_flex_map_t *m, const char *key, uint32_t *index) {
    for (uint32_t i = 0; i < m->length; ++i) {
        uint32_t s;
        if (lpn_flex_key(m, i, &s) != LPN_FLEX_OK) {
            return LPN_FLEX_BAD;
        }
        uint32_t n = 0;
        while (key[n] != '\0' && m->data[s + n] == (uint8_t)key[n]) { /* stops at the checked NUL */
            ++n;
        }
        if (key[n] == '\0' && m->data[s + n] == 0u) {
            *index = i;
            return LPN_FLEX_OK;
        }
    }
    return LPN_FLEX_MISSING;
}

uint32_t lpn_flex_value_pos(const lpn_flex_map_t *m, uint32_t index) { return m->values + index * m->width; }

/* An integer in a slot of `slot_width` bytes at `at` with packed type `packed`. */
static lpn_flex_result scalar(lpn_flex_map_t *m, uint32_t at, uint32_t slot_width, uint32_t packed, int64_t *value) {
    const uint32_t type = packed >> 2;
    uint32_t pos = at, width = slot_width;
    if (type == FBT_INDIRECT_INT || type == FBT_INDIRECT_UINT) {
        width = 1u << (packed & 3u);
        if (follow(m, at, slot_width, &pos) != LPN_FLEX_OK) {
            return LPN_FLEX_BAD;
        }
    } else if (type != FBT_INT && type != FBT_UINT && type != FBT_BOOL) {
        return fault(m, at, LPN_FLEX_TYPE);
    }
    if (!in_range(m, pos, width)) {
        return bad(m, pos);
    }
    if (type == FBT_INT || type == FBT_INDIRECT_INT) {
        *value = read_int(m->data + pos, width);
        return LPN_FLEX_OK;
    }
    const uint64_t u = read_uint(m->data + pos, width);
    if (u > (uint64_t)INT64_MAX) {
        return fault(m, pos, LPN_FLEX_RANGE);
    }
    *value = (int64_t)u;
    return LPN_FLEX_OK;
}

/* Packed type byte of entry `index` (in range: lpn_flex_root_map checked the type bytes). */
static uint32_t packed_type(const lpn_flex_map_t *m, uint32_t index) {
    return m->data[m->values + m->length * m->width + index];
}

lpn_flex_result lpn_flex_int(lpn_flex_map_t *m, uint32_t index, int64_t *value) {
    if (index >= m->length) {
        return fault(m, m->values, LPN_FLEX_RANGE);
    }
    return scalar(m, lpn_flex_value_pos(m, index), m->width, packed_type(m, index), value);
}

lpn_flex_result lpn_flex_int_vector(lpn_flex_map_t *m, uint32_t index, int32_t *out, uint32_t max,
                                    uint32_t *count) {
    if (index >= m->length) {
        return fault(m, m->values, LPN_FLEX_RANGE);
    }
    const uint32_t at = lpn_flex_value_pos(m, index);
    const uint32_t packed = packed_type(m, index);
    const uint32_t type = packed >> 2;
    const uint32_t w = 1u << (packed & 3u);
    const int fixed = type >= FBT_VECTOR_INT2 && type <= FBT_VECTOR_UINT4 && (type - FBT_VECTOR_INT2) % 3u != 2u;
    if (type != FBT_VECTOR && type != FBT_VECTOR_INT && type != FBT_VECTOR_UINT && !fixed) {
        return fault(m, at, LPN_FLEX_TYPE);
    }
    uint32_t vec;
    if (follow(m, at, m->width, &vec) != LPN_FLEX_OK) {
        return LPN_FLEX_BAD;
    }
    uint64_t length;
    if (fixed) {
        length = (type - FBT_VECTOR_INT2) / 3u + 2u;
    } else if (vec < w) {
        return bad(m, vec);
    } else {
        length = read_uint(m->data + vec - w, w);
    }
    const uint32_t type_bytes = type == FBT_VECTOR ? 1u : 0u;
    if (length > m->size || !in_range(m, vec, length * (w + type_bytes))) {
        return bad(m, vec);
    }
    if (length > max) {
        return fault(m, at, LPN_FLEX_RANGE);
    }
    const int is_signed = type == FBT_VECTOR_INT || (fixed && (type - FBT_VECTOR_INT2) % 3u == 0u);
    for (uint32_t k = 0; k < (uint32_t)length; ++k) {
        const uint32_t pos = vec + k * w;
        int64_t v;
        if (type == FBT_VECTOR) {
            const lpn_flex_result r = scalar(m, pos, w, m->data[vec + (uint32_t)length * w + k], &v);
            if (r != LPN_FLEX_OK) {
                return r;
            }
        } else if (is_signed) {
            v = read_int(m->data + pos, w);
        } else {
            const uint64_t u = read_uint(m->data + pos, w);
            v = u > (uint64_t)INT32_MAX ? INT64_MAX : (int64_t)u;
        }
        if (v < INT32_MIN || v > INT32_MAX) {
            return fault(m, pos, LPN_FLEX_RANGE);
        }
        out[k] = (int32_t)v;
    }
    *count = (uint32_t)length;
    return LPN_FLEX_OK;
}
