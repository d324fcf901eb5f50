/*
 * Bounds-checked flatbuffer access (runtime-internal). Every function validates what it touches against
 * the model's size before reading it and reports the first fault through lpn_fail (status + byte offset).
 * All reads are byte-wise little-endian, so the model may sit at any address.
 */
#ifndef LPN_RUNTIME_FLATBUFFER_H
#define LPN_RUNTIME_FLATBUFFER_H

#include <stdint.h>

#include "lpn/runtime.h"

/* A validated table: its position, its vtable's position and both sizes (bytes). */
typedef struct lpn_fb_table {
    uint32_t pos;
    uint32_t vtable;
    uint32_t vtable_bytes;
    uint32_t table_bytes;
} lpn_fb_table_t;

/* A validated vector: element count and position of the first element. */
typedef struct lpn_fb_vector {
    uint32_t pos;
    uint32_t length;
} lpn_fb_vector_t;

uint32_t lpn_fb_u32(const uint8_t *p);
uint16_t lpn_fb_u16(const uint8_t *p);
uint64_t lpn_fb_u64(const uint8_t *p);

/* Records an error on rt (first error wins) and returns its status. */
lpn_rt_status_t lpn_fail(lpn_runtime_t *rt, lpn_rt_status_t status, uint32_t offset, int32_t op_index,
                         int32_t tensor_index, int64_t detail);

/* Validates the table starting at `pos`. */
lpn_rt_status_t lpn_fb_table(lpn_runtime_t *rt, uint32_t pos, lpn_fb_table_t *table);
/* Absolute position of field `id` of `width` bytes (0 when absent); validated to lie inside the table. */
lpn_rt_status_t lpn_fb_field(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, uint32_t width,
                             uint32_t *pos);
/* Scalar fields with their schema default when absent. */
lpn_rt_status_t lpn_fb_scalar_u8(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, uint8_t dflt,
                                 uint8_t *value);
lpn_rt_status_t lpn_fb_scalar_i32(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, int32_t dflt,
                                  int32_t *value);
lpn_rt_status_t lpn_fb_scalar_u64(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, uint64_t dflt,
                                  uint64_t *value);
/* Follows the uoffset stored in field `id`: *target = 0 when the field is absent. */
lpn_rt_status_t lpn_fb_ref(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, uint32_t *target);
/* Sub-table in field `id`; *present = 0 when absent. */
lpn_rt_status_t lpn_fb_subtable(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id,
                                lpn_fb_table_t *sub, int *present);
/* Vector in field `id` with elements of `elem_bytes` (1, 4 or 8): length 0 when absent. Checks that the
 * length word is 4-byte aligned and that pos + length * elem_bytes stays inside the model. */
lpn_rt_status_t lpn_fb_vector(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, uint32_t elem_bytes,
                              lpn_fb_vector_t *vec);
/* Element i of a vector of tables. */
lpn_rt_status_t lpn_fb_vector_table(lpn_runtime_t *rt, const lpn_fb_vector_t *vec, uint32_t i,
                                    lpn_fb_table_t *table);
/* String in field `id` (length 0 and pos 0 when absent); checks the terminating NUL. */
lpn_rt_status_t lpn_fb_string(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, lpn_fb_vector_t *str);

#endif
