/*
 * Flexbuffer map reader (see flexbuffer.h). Layout (flatbuffers "FlexBuffers" internals):
 *   buffer end: [root value, w bytes][root packed type][w]       packed type = (type << 2) | log2(width)
 *   map at P, width W: [keys offset @P-3W][keys width @P-2W][length @P-W][values @P][types, 1 byte each]
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
    const uint64_t u = read_uint(p, width);
    if (width < 8u && (u >> (8u * width - 1u)) != 0u) {
        return (int64_t)(u | ~(((uint64_t)1 << (8u * width)) - 1u)); /* sign-extend */
    }
    return (int64_t)u;
}

static int valid_width(uint32_t w) { return w == 1u || w == 2u || w == 4u || w == 8u; }

static lpn_flex_result bad(lpn_flex_map_t *m, uint64_t at) {
    m->bad_at = at < m->size ? (uint32_t)at : m->size;
    return LPN_FLEX_BAD;
}

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
    const uint32_t key_width = (uint32_t)read_uint(data + map_pos - 2u * w, w);
    uint32_t keys;
    if (length > size || !in_range(m, map_pos, length * (w + 1u)) || !valid_width(key_width) ||
        follow(m, map_pos - 3u * w, w, &keys) != LPN_FLEX_OK) {
        return bad(m, map_pos);
    }
    if (keys < key_width || read_uint(data + keys - key_width, key_width) != length ||
        !in_range(m, keys, length * key_width)) {
        return bad(m, keys);
    }
    m->values = map_pos;
    m->width = w;
    m->length = (uint32_t)length;
    m->keys = keys;
    m->key_width = key_width;
    return LPN_FLEX_OK;
}

/* Index of `key` among the map's keys. */
static lpn_flex_result find(lpn_flex_map_t *m, const char *key, uint32_t *index) {
    for (uint32_t i = 0; i < m->length; ++i) {
        uint32_t s;
        if (follow(m, m->keys + i * m->key_width, m->key_width, &s) != LPN_FLEX_OK) {
            return LPN_FLEX_BAD;
        }
        uint32_t n = 0;
        while (s + n < m->size && key[n] != '\0' && m->data[s + n] == (uint8_t)key[n]) {
            ++n;
        }
        if (s + n >= m->size) {
            return bad(m, s); /* key string runs off the end */
        }
        if (key[n] == '\0' && m->data[s + n] == 0u) {
            *index = i;
            return LPN_FLEX_OK;
        }
    }
    return LPN_FLEX_MISSING;
}

lpn_flex_result lpn_flex_int(lpn_flex_map_t *m, const char *key, int64_t *value) {
    uint32_t i;
    lpn_flex_result r = find(m, key, &i);
    if (r != LPN_FLEX_OK) {
        return r;
    }
    const uint32_t at = m->values + i * m->width;
    const uint32_t packed = m->data[m->values + m->length * m->width + i];
    const uint32_t type = packed >> 2;
    if (type == FBT_INT) {
        *value = read_int(m->data + at, m->width);
    } else if (type == FBT_UINT || type == FBT_BOOL) {
        const uint64_t u = read_uint(m->data + at, m->width);
        if (u > (uint64_t)INT64_MAX) {
            return bad(m, at);
        }
        *value = (int64_t)u;
    } else if (type == FBT_INDIRECT_INT || type == FBT_INDIRECT_UINT) {
        uint32_t target;
        const uint32_t w = 1u << (packed & 3u);
        if (follow(m, at, m->width, &target) != LPN_FLEX_OK || !in_range(m, target, w)) {
            return bad(m, at);
        }
        *value = type == FBT_INDIRECT_INT ? read_int(m->data + target, w) : (int64_t)read_uint(m->data + target, w);
        if (type == FBT_INDIRECT_UINT && *value < 0) {
            return bad(m, target);
        }
    } else {
        return bad(m, at);
    }
    return LPN_FLEX_OK;
}

lpn_flex_result lpn_flex_int_vector(lpn_flex_map_t *m, const char *key, int32_t *out, uint32_t max,
                                    uint32_t *count) {
    uint32_t i, vec;
    lpn_flex_result r = find(m, key, &i);
    if (r != LPN_FLEX_OK) {
        return r;
    }
    const uint32_t at = m->values + i * m->width;
    const uint32_t packed = m->data[m->values + m->length * m->width + i];
    const uint32_t type = packed >> 2;
    const uint32_t w = 1u << (packed & 3u);
    if ((type != FBT_VECTOR && type != FBT_VECTOR_INT && type != FBT_VECTOR_UINT) ||
        follow(m, at, m->width, &vec) != LPN_FLEX_OK || vec < w) {
        return bad(m, at);
    }
    const uint64_t length = read_uint(m->data + vec - w, w);
    if (length > max || !in_range(m, vec, length * w + (type == FBT_VECTOR ? length : 0u))) { /* max is small */
        return bad(m, vec);
    }
    for (uint32_t k = 0; k < (uint32_t)length; ++k) {
        const uint32_t elem_type = type == FBT_VECTOR ? (uint32_t)(m->data[vec + (uint32_t)length * w + k] >> 2)
                                                      : (type == FBT_VECTOR_INT ? (uint32_t)FBT_INT : FBT_UINT);
        int64_t v;
        if (elem_type == FBT_INT) {
            v = read_int(m->data + vec + k * w, w);
        } else if (elem_type == FBT_UINT) {
            const uint64_t u = read_uint(m->data + vec + k * w, w);
            v = u > (uint64_t)INT32_MAX ? INT64_MAX : (int64_t)u;
        } else {
            return bad(m, vec + k * w);
        }
        if (v < INT32_MIN || v > INT32_MAX) {
            return bad(m, vec + k * w);
        }
        out[k] = (int32_t)v;
    }
    *count = (uint32_t)length;
    return LPN_FLEX_OK;
}
