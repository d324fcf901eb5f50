/*
 * Bounds-checked reader for the flexbuffer maps that carry custom-op options (runtime-internal).
 * Supports what LPN options use: a root map of ints (INT, UINT, BOOL, inline or indirect) and int vectors
 * (untyped VECTOR of ints, VECTOR_INT, VECTOR_UINT). Every read is checked against the options' bytes;
 * a malformed buffer is reported, never followed.
 */
#ifndef LPN_RUNTIME_FLEXBUFFER_H
#define LPN_RUNTIME_FLEXBUFFER_H

#include <stdint.h>

/* Result of a lookup. */
typedef enum { LPN_FLEX_OK = 0, LPN_FLEX_MISSING = 1, LPN_FLEX_BAD = 2 } lpn_flex_result;

/* A validated root map inside `data[0..size)`. `bad_at` is the byte position of the last fault. */
typedef struct {
    const uint8_t *data;
    uint32_t size;
    uint32_t values;     /* position of the first value */
    uint32_t width;      /* byte width of values */
    uint32_t length;     /* number of entries */
    uint32_t keys;       /* position of the first key offset */
    uint32_t key_width;  /* byte width of key offsets */
    uint32_t bad_at;
} lpn_flex_map_t;

/* Opens the root map; LPN_FLEX_BAD when the buffer is not a well-formed flexbuffer map. */
lpn_flex_result lpn_flex_root_map(const uint8_t *data, uint32_t size, lpn_flex_map_t *map);
/* Integer value of `key` (INT / UINT / BOOL, inline or indirect). */
lpn_flex_result lpn_flex_int(lpn_flex_map_t *map, const char *key, int64_t *value);
/* Int vector of `key`: up to `max` elements into out, the element count into *count (LPN_FLEX_BAD when
 * longer than max or an element does not fit int32). */
lpn_flex_result lpn_flex_int_vector(lpn_flex_map_t *map, const char *key, int32_t *out, uint32_t max,
                                    uint32_t *count);

#endif
