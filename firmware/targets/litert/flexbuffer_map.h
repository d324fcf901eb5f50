/*
 * A small bounds-checked reader for the FlexBuffers that carry TFLite custom options: a root map whose
 * values are integers (INT, UINT, BOOL, INDIRECT_INT/UINT) or integer vectors (untyped VECTOR of ints,
 * VECTOR_INT/UINT, VECTOR_INT2..4). Every offset and length is checked against the buffer before use; a
 * malformed buffer gives LPN_FLEXMAP_MALFORMED, never an out-of-bounds read. Format reference: the FlexBuffers
 * specification (flatbuffers/docs/source/FlexBuffers.md). No allocation, no floating point.
 */
#ifndef LPN_FLEXBUFFER_MAP_H
#define LPN_FLEXBUFFER_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    LPN_FLEXMAP_OK = 0,
    LPN_FLEXMAP_MISSING = 1,   /* the key is not in the map */
    LPN_FLEXMAP_MALFORMED = 2, /* an offset, width or length points outside the buffer */
    LPN_FLEXMAP_TYPE = 3,      /* the value has another type than asked for */
    LPN_FLEXMAP_RANGE = 4      /* the value (or vector length) does not fit the destination */
} lpn_flexmap_status;

typedef struct {
    const uint8_t *data;
    size_t size;
} lpn_flexmap_buffer;

/* A value: where its slot is, the slot's byte width, and its packed type ((type << 2) | log2 width). */
typedef struct {
    size_t pos;
    uint32_t width;
    uint32_t packed_type;
} lpn_flexmap_ref;

/* The root value of a buffer. */
lpn_flexmap_status lpn_flexmap_root(const lpn_flexmap_buffer *buf, lpn_flexmap_ref *root);

/* Number of entries of a map. */
lpn_flexmap_status lpn_flexmap_map_size(const lpn_flexmap_buffer *buf, const lpn_flexmap_ref *map, uint32_t *size);

/* Key number `index` of a map (a NUL-terminated string inside the buffer). */
lpn_flexmap_status lpn_flexmap_map_key(const lpn_flexmap_buffer *buf, const lpn_flexmap_ref *map, uint32_t index,
                                 const char **key);

/* The value of `key`; LPN_FLEXMAP_MISSING when absent. */
lpn_flexmap_status lpn_flexmap_map_find(const lpn_flexmap_buffer *buf, const lpn_flexmap_ref *map, const char *key,
                                  lpn_flexmap_ref *value);

/* An integer value (INT, UINT <= INT64_MAX, BOOL, INDIRECT_INT, INDIRECT_UINT). */
lpn_flexmap_status lpn_flexmap_int(const lpn_flexmap_buffer *buf, const lpn_flexmap_ref *ref, int64_t *value);

/* An integer vector into values[0 .. capacity); *count gets its length (LPN_FLEXMAP_RANGE if > capacity). */
lpn_flexmap_status lpn_flexmap_int_vector(const lpn_flexmap_buffer *buf, const lpn_flexmap_ref *ref, int64_t *values,
                                    uint32_t capacity, uint32_t *count);

#endif
