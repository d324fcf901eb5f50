/* Bounds-checked FlexBuffers map reader (see flexbuffer_map.h). */
#include "flexbuffer_map.h"

#include <string.h>

enum {
    FLEX_INT = 1,
    FLEX_UINT = 2,
    FLEX_INDIRECT_INT = 6,
    FLEX_INDIRECT_UINT = 7,
    FLEX_MAP = 9,
    FLEX_VECTOR = 10,
    FLEX_VECTOR_INT = 11,
    FLEX_VECTOR_UINT = 12,
    FLEX_VECTOR_INT2 = 16,
    FLEX_VECTOR_UINT2 = 17,
    FLEX_VECTOR_INT3 = 19,
    FLEX_VECTOR_UINT3 = 20,
    FLEX_VECTOR_INT4 = 22,
    FLEX_VECTOR_UINT4 = 23,
    FLEX_BOOL = 26
};

static int width_ok(uint32_t width) {
    return width == 1u || width == 2u || width == 4u || width == 8u;
}

/* Reads `width` little-endian bytes at pos, unsigned. */
static lpn_flexmap_status read_uint(const lpn_flexmap_buffer *buf, size_t pos, uint32_t width, uint64_t *out) {
    if (!width_ok(width) || pos > buf->size || width > buf->size - pos) {
        return LPN_FLEXMAP_MALFORMED;
    }
    uint64_t v = 0;
    for (uint32_t i = 0; i < width; ++i) {
        v |= (uint64_t)buf->data[pos + i] << (8u * i);
    }
    *out = v;
    return LPN_FLEXMAP_OK;
}

/* Reads `width` bytes at pos, sign-extended. */
static lpn_flexmap_status read_int(const lpn_flexmap_buffer *buf, size_t pos, uint32_t width, int64_t *out) {
    uint64_t u;
    const lpn_flexmap_status s = read_uint(buf, pos, width, &u);
    if (s != LPN_FLEXMAP_OK) {
        return s;
    }
    if (width < 8u && (u >> (8u * width - 1u)) != 0u) {
        u |= ~(uint64_t)0 << (8u * width); /* sign extension, on the unsigned representation */
    }
    /* two's-complement reinterpretation without implementation-defined conversion */
    *out = u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
    return LPN_FLEXMAP_OK;
}

/* The position an offset slot points to (offsets point backwards from the slot). */
static lpn_flexmap_status deref(const lpn_flexmap_buffer *buf, size_t slot, uint32_t width, size_t *target) {
    uint64_t off;
    const lpn_flexmap_status s = read_uint(buf, slot, width, &off);
    if (s != LPN_FLEXMAP_OK) {
        return s;
    }
    if (off > slot) {
        return LPN_FLEXMAP_MALFORMED;
    }
    *target = slot - (size_t)off;
    return LPN_FLEXMAP_OK;
}

static uint32_t child_width(uint32_t packed_type) {
    return 1u << (packed_type & 3u);
}

lpn_flexmap_status lpn_flexmap_root(const lpn_flexmap_buffer *buf, lpn_flexmap_ref *root) {
    if (buf == 0 || buf->data == 0 || buf->size < 3u) {
        return LPN_FLEXMAP_MALFORMED;
    }
    const uint32_t width = buf->data[buf->size - 1u];
    if (!width_ok(width) || buf->size < 2u + width) {
        return LPN_FLEXMAP_MALFORMED;
    }
    root->pos = buf->size - 2u - width;
    root->width = width;
    root->packed_type = buf->data[buf->size - 2u];
    return LPN_FLEXMAP_OK;
}

/* A map's element area: start, element width, element count; checks the area and the type bytes fit. */
static lpn_flexmap_status map_layout(const lpn_flexmap_buffer *buf, const lpn_flexmap_ref *map, size_t *start,
                                  uint32_t *width, uint64_t *count) {
    if ((map->packed_type >> 2) != FLEX_MAP) {
        return LPN_FLEXMAP_TYPE;
    }
    size_t target;
    lpn_flexmap_status s = deref(buf, map->pos, map->width, &target);
    if (s != LPN_FLEXMAP_OK) {
        return s;
    }
    const uint32_t w = child_width(map->packed_type);
    if (target < 3u * (size_t)w) {
        return LPN_FLEXMAP_MALFORMED;
    }
    uint64_t n;
    s = read_uint(buf, target - w, w, &n);
    if (s != LPN_FLEXMAP_OK) {
        return s;
    }
    /* n values of w bytes followed by n type bytes */
    if (n > buf->size || (size_t)n * (w + 1u) > buf->size - target) {
        return LPN_FLEXMAP_MALFORMED;
    }
    *start = target;
    *width = w;
    *count = n;
    return LPN_FLEXMAP_OK;
}

lpn_flexmap_status lpn_flexmap_map_size(const lpn_flexmap_buffer *buf, const lpn_flexmap_ref *map, uint32_t *size) {
    size_t start;
    uint32_t w;
    uint64_t n;
    const lpn_flexmap_status s = map_layout(buf, map, &start, &w, &n);
    if (s == LPN_FLEXMAP_OK) {
        *size = (uint32_t)n;
    }
    return s;
}

lpn_flexmap_status lpn_flexmap_map_key(const lpn_flexmap_buffer *buf, const lpn_flexmap_ref *map, uint32_t index,
                                 const char **key) {
    size_t start;
    uint32_t w;
    uint64_t n;
    lpn_flexmap_status s = map_layout(buf, map, &start, &w, &n);
    if (s != LPN_FLEXMAP_OK) {
        return s;
    }
    if (index >= n) {
        return LPN_FLEXMAP_RANGE;
    }
    /* keys vector: offset at start - 3w, its byte width at start - 2w */
    uint64_t keys_width;
    size_t keys;
    s = read_uint(buf, start - 2u * w, w, &keys_width);
    if (s != LPN_FLEXMAP_OK) {
        return s;
    }
    if (!width_ok((uint32_t)keys_width) || keys_width > 8u) {
        return LPN_FLEXMAP_MALFORMED;
    }
    s = deref(buf, start - 3u * w, w, &keys);
    if (s != LPN_FLEXMAP_OK) {
        return s;
    }
    uint64_t key_count;
    if (keys < keys_width) {
        return LPN_FLEXMAP_MALFORMED;
    }
    s = read_uint(buf, keys - (size_t)keys_width, (uint32_t)keys_width, &key_count);
    if (s != LPN_FLEXMAP_OK) {
        return s;
    }
    if (key_count != n) {
        return LPN_FLEXMAP_MALFORMED;
    }
    size_t key_pos;
    s = deref(buf, keys + (size_t)index * (size_t)keys_width, (uint32_t)keys_width, &key_pos);
    if (s != LPN_FLEXMAP_OK) {
        return s;
    }
    if (key_pos >= buf->size || memchr(buf->data + key_pos, 0, buf->size - key_pos) == 0) {
        return LPN_FLEXMAP_MALFORMED; /* not NUL-terminated inside the buffer */
    }
    *key = (const char *)(buf->data + key_pos);
    return LPN_FLEXMAP_OK;
}

lpn_flexmap_status lpn_flexmap_map_find(const lpn_flexmap_buffer *buf, const lpn_flexmap_ref *map, const char *key,
                                  lpn_flexmap_ref *value) {
    size_t start;
    uint32_t w;
    uint64_t n;
    lpn_flexmap_status s = map_layout(buf, map, &start, &w, &n);
    if (s != LPN_FLEXMAP_OK) {
        return s;
    }
    for (uint32_t i = 0; i < n; ++i) {
        const char *k;
        s = lpn_flexmap_map_key(buf, map, i, &k);
        if (s != LPN_FLEXMAP_OK) {
            return s;
        }
        if (strcmp(k, key) == 0) {
            value->pos = start + (size_t)i * w;
            value->width = w;
            value->packed_type = buf->data[start + (size_t)n * w + i];
            return LPN_FLEXMAP_OK;
        }
    }
    return LPN_FLEXMAP_MISSING;
}

lpn_flexmap_status lpn_flexmap_int(const lpn_flexmap_buffer *buf, const lpn_flexmap_ref *ref, int64_t *value) {
    const uint32_t type = ref->packed_type >> 2;
    uint64_t u;
    size_t target;
    lpn_flexmap_status s;
    switch (type) {
    case FLEX_INT:
        return read_int(buf, ref->pos, ref->width, value);
    case FLEX_UINT:
    case FLEX_BOOL:
        s = read_uint(buf, ref->pos, ref->width, &u);
        break;
    case FLEX_INDIRECT_INT:
        s = deref(buf, ref->pos, ref->width, &target);
        return s != LPN_FLEXMAP_OK ? s : read_int(buf, target, child_width(ref->packed_type), value);
    case FLEX_INDIRECT_UINT:
        s = deref(buf, ref->pos, ref->width, &target);
        if (s == LPN_FLEXMAP_OK) {
            s = read_uint(buf, target, child_width(ref->packed_type), &u);
        }
        break;
    default:
        return LPN_FLEXMAP_TYPE;
    }
    if (s != LPN_FLEXMAP_OK) {
        return s;
    }
    if (u > (uint64_t)INT64_MAX) {
        return LPN_FLEXMAP_RANGE;
    }
    *value = (int64_t)u;
    return LPN_FLEXMAP_OK;
}

lpn_flexmap_status lpn_flexmap_int_vector(const lpn_flexmap_buffer *buf, const lpn_flexmap_ref *ref, int64_t *values,
                                    uint32_t capacity, uint32_t *count) {
    const uint32_t type = ref->packed_type >> 2;
    const uint32_t w = child_width(ref->packed_type);
    size_t target;
    lpn_flexmap_status s = deref(buf, ref->pos, ref->width, &target);
    if (s != LPN_FLEXMAP_OK) {
        return s;
    }
    uint64_t n;
    int is_signed = 1;
    switch (type) {
    case FLEX_VECTOR:
    case FLEX_VECTOR_INT:
    case FLEX_VECTOR_UINT:
        if (target < w) {
            return LPN_FLEXMAP_MALFORMED;
        }
        s = read_uint(buf, target - w, w, &n);
        if (s != LPN_FLEXMAP_OK) {
            return s;
        }
        is_signed = type != FLEX_VECTOR_UINT;
        break;
    case FLEX_VECTOR_INT2:
    case FLEX_VECTOR_UINT2:
    case FLEX_VECTOR_INT3:
    case FLEX_VECTOR_UINT3:
    case FLEX_VECTOR_INT4:
    case FLEX_VECTOR_UINT4:
        n = (type - FLEX_VECTOR_INT2) / 3u + 2u;
        is_signed = (type - FLEX_VECTOR_INT2) % 3u == 0u;
        break;
    default:
        return LPN_FLEXMAP_TYPE;
    }
    const size_t type_bytes = type == FLEX_VECTOR ? 1u : 0u;
    if (n > buf->size || (size_t)n * (w + type_bytes) > buf->size - target) {
        return LPN_FLEXMAP_MALFORMED;
    }
    if (n > capacity) {
        return LPN_FLEXMAP_RANGE;
    }
    for (uint32_t i = 0; i < n; ++i) {
        const size_t pos = target + (size_t)i * w;
        if (type == FLEX_VECTOR) {
            const lpn_flexmap_ref element = {pos, w, buf->data[target + (size_t)n * w + i]};
            s = lpn_flexmap_int(buf, &element, &values[i]);
        } else if (is_signed) {
            s = read_int(buf, pos, w, &values[i]);
        } else {
            uint64_t u;
            s = read_uint(buf, pos, w, &u);
            if (s == LPN_FLEXMAP_OK && u > (uint64_t)INT64_MAX) {
                s = LPN_FLEXMAP_RANGE;
            }
            values[i] = (int64_t)(u & (uint64_t)INT64_MAX);
        }
        if (s != LPN_FLEXMAP_OK) {
            return s;
        }
    }
    *count = (uint32_t)n;
    return LPN_FLEXMAP_OK;
}
