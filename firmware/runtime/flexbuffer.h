/*
 * Bounds-checked reader for the flexbuffer maps that carry custom-op options (docs/custom-ops.md). Used by
 * the firmware runtime and by the LiteRT registrar (firmware/targets/litert), through lpn_custom.h.
 *
 * Supports what LPN options use: a root map whose values are integers (INT, UINT, BOOL, INDIRECT_INT,
 * INDIRECT_UINT) or integer vectors (untyped VECTOR of those, VECTOR_INT / VECTOR_UINT, fixed-length
 * VECTOR_INT2..4 / VECTOR_UINT2..4). Every offset, width and length is checked against data[0 .. size)
 * before use; a malformed buffer is reported (with the byte position at fault), never followed.
 * C99, no allocation, no floating point, no libc. Format reference: the FlexBuffers specification
 * (flatbuffers/docs/source/FlexBuffers.md).
 */
#ifndef LPN_RUNTIME_FLEXBUFFER_H
#define LPN_RUNTIME_FLEXBUFFER_H

#include <stdint.h>

/* Result of a read. */
typedef enum {
    LPN_FLEX_OK = 0,
    LPN_FLEX_MISSING = 1, /* the key is not in the map */
    LPN_FLEX_BAD = 2,     /* malformed: an offset, width or length points outside the buffer */
    LPN_FLEX_TYPE = 3,    /* the value has another type than asked for */
    LPN_FLEX_RANGE = 4    /* the value (or vector length) does not fit the destination */
} lpn_flex_result;

/* A validated root map inside data[0 .. size). `bad_at` is the byte position of the last fault (for
 * LPN_FLEX_TYPE / LPN_FLEX_RANGE: the value's slot). */
typedef struct {
    const uint8_t *data;
    uint32_t size;
    uint32_t values;    /* position of the first value slot */
    uint32_t width;     /* byte width of the value slots */
    uint32_t length;    /* number of entries */
    uint32_t keys;      /* position of the first key offset */
    uint32_t key_width; /* byte width of the key offsets */
    uint32_t bad_at;
} lpn_flex_map_t;

/* Opens the root map; LPN_FLEX_BAD when the buffer is not a well-formed flexbuffer map. */
lpn_flex_result lpn_flex_root_map(const uint8_t *data, uint32_t size, lpn_flex_map_t *map);

/* Key number `index` (< map->length): *pos gets the position of its NUL-terminated string in data (the
 * NUL is checked to lie inside the buffer). */
lpn_flex_result lpn_flex_key(lpn_flex_map_t *map, uint32_t index, uint32_t *pos);

/* The entry index of `key`, or LPN_FLEX_MISSING. */
lpn_flex_result lpn_flex_find(lpn_flex_map_t *map, const char *key, uint32_t *index);

/* Position of the value slot of entry `index` (for error reports). */
uint32_t lpn_flex_value_pos(const lpn_flex_map_t *map, uint32_t index);

/* Integer value of entry `index` (INT, UINT <= INT64_MAX, BOOL, INDIRECT_INT, INDIRECT_UINT). */
lpn_flex_result lpn_flex_int(lpn_flex_map_t *map, uint32_t index, int64_t *value);

/* Int vector of entry `index`: up to `max` elements into out, the element count into *count; LPN_FLEX_RANGE
 * when it is longer than max or an element does not fit int32. */
lpn_flex_result lpn_flex_int_vector(lpn_flex_map_t *map, uint32_t index, int32_t *out, uint32_t max,
                                    uint32_t *count);

#endif
