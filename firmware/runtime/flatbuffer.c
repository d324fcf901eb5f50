/* Bounds-checked flatbuffer access: see flatbuffer.h. */
#include "flatbuffer.h"

uint16_t lpn_fb_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

uint32_t lpn_fb_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint64_t lpn_fb_u64(const uint8_t *p) { return (uint64_t)lpn_fb_u32(p) | ((uint64_t)lpn_fb_u32(p + 4) << 32); }

lpn_rt_status_t lpn_fb_table(lpn_runtime_t *rt, uint32_t pos, lpn_fb_table_t *table) {
    const uint64_t size = rt->model_bytes;
    if ((uint64_t)pos + 4u > size) {
        return lpn_fail(rt, LPN_RT_ERR_OFFSET, pos, -1, -1, 0);
    }
    if (pos % 4u != 0u) {
        return lpn_fail(rt, LPN_RT_ERR_ALIGNMENT, pos, -1, -1, 0);
    }
    const int64_t vtable = (int64_t)pos - (int64_t)(int32_t)lpn_fb_u32(rt->model + pos);
    if (vtable < 0 || (uint64_t)vtable + 4u > size || vtable % 2 != 0) {
        return lpn_fail(rt, LPN_RT_ERR_VTABLE, pos, -1, -1, vtable);
    }
    const uint32_t vt = (uint32_t)vtable;
    const uint32_t vt_bytes = lpn_fb_u16(rt->model + vt);
    const uint32_t tbl_bytes = lpn_fb_u16(rt->model + vt + 2u);
    if (vt_bytes < 4u || vt_bytes % 2u != 0u || (uint64_t)vt + vt_bytes > size || tbl_bytes < 4u ||
        (uint64_t)pos + tbl_bytes > size) {
        return lpn_fail(rt, LPN_RT_ERR_VTABLE, vt, -1, -1, 0);
    }
    table->pos = pos;
    table->vtable = vt;
    table->vtable_bytes = vt_bytes;
    table->table_bytes = tbl_bytes;
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_fb_field(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, uint32_t width,
                             uint32_t *pos) {
    const uint32_t entry = 4u + 2u * id;
    *pos = 0u;
    if (entry + 2u > table->vtable_bytes) {
        return LPN_RT_OK;
    }
    const uint32_t off = lpn_fb_u16(rt->model + table->vtable + entry);
    if (off == 0u) {
        return LPN_RT_OK;
    }
    if (off < 4u || off + width > table->table_bytes) {
        return lpn_fail(rt, LPN_RT_ERR_FIELD, table->vtable + entry, -1, -1, (int64_t)id);
    }
    *pos = table->pos + off;
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_fb_scalar_u8(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, uint8_t dflt,
                                 uint8_t *value) {
    uint32_t pos;
    lpn_rt_status_t s = lpn_fb_field(rt, table, id, 1u, &pos);
    *value = (s == LPN_RT_OK && pos != 0u) ? rt->model[pos] : dflt;
    return s;
}

lpn_rt_status_t lpn_fb_scalar_i32(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, int32_t dflt,
                                  int32_t *value) {
    uint32_t pos;
    lpn_rt_status_t s = lpn_fb_field(rt, table, id, 4u, &pos);
    *value = (s == LPN_RT_OK && pos != 0u) ? (int32_t)lpn_fb_u32(rt->model + pos) : dflt;
    return s;
}

lpn_rt_status_t lpn_fb_scalar_u64(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, uint64_t dflt,
                                  uint64_t *value) {
    uint32_t pos;
    lpn_rt_status_t s = lpn_fb_field(rt, table, id, 8u, &pos);
    *value = (s == LPN_RT_OK && pos != 0u) ? lpn_fb_u64(rt->model + pos) : dflt;
    return s;
}

static lpn_rt_status_t follow(lpn_runtime_t *rt, uint32_t at, uint32_t *target) {
    const uint32_t rel = lpn_fb_u32(rt->model + at);
    const uint64_t abs = (uint64_t)at + rel;
    if (rel == 0u || abs >= rt->model_bytes) {
        return lpn_fail(rt, LPN_RT_ERR_OFFSET, at, -1, -1, (int64_t)rel);
    }
    *target = (uint32_t)abs;
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_fb_ref(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, uint32_t *target) {
    uint32_t pos;
    lpn_rt_status_t s = lpn_fb_field(rt, table, id, 4u, &pos);
    *target = 0u;
    if (s != LPN_RT_OK || pos == 0u) {
        return s;
    }
    return follow(rt, pos, target);
}

lpn_rt_status_t lpn_fb_subtable(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id,
                                lpn_fb_table_t *sub, int *present) {
    uint32_t target = 0u;
    lpn_rt_status_t s = lpn_fb_ref(rt, table, id, &target);
    *present = 0;
    if (s != LPN_RT_OK || target == 0u) {
        return s;
    }
    *present = 1;
    return lpn_fb_table(rt, target, sub);
}

static lpn_rt_status_t vector_at(lpn_runtime_t *rt, uint32_t target, uint32_t elem_bytes, lpn_fb_vector_t *vec) {
    if ((uint64_t)target + 4u > rt->model_bytes) {
        return lpn_fail(rt, LPN_RT_ERR_OFFSET, target, -1, -1, 0);
    }
    if (target % 4u != 0u) {
        return lpn_fail(rt, LPN_RT_ERR_ALIGNMENT, target, -1, -1, 0);
    }
    const uint32_t length = lpn_fb_u32(rt->model + target);
    if ((uint64_t)target + 4u + (uint64_t)length * elem_bytes > rt->model_bytes) {
        return lpn_fail(rt, LPN_RT_ERR_VECTOR, target, -1, -1, (int64_t)length);
    }
    vec->pos = target + 4u;
    vec->length = length;
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_fb_vector(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, uint32_t elem_bytes,
                              lpn_fb_vector_t *vec) {
    uint32_t target = 0u;
    lpn_rt_status_t s = lpn_fb_ref(rt, table, id, &target);
    vec->pos = 0u;
    vec->length = 0u;
    if (s != LPN_RT_OK || target == 0u) {
        return s;
    }
    return vector_at(rt, target, elem_bytes, vec);
}

lpn_rt_status_t lpn_fb_vector_table(lpn_runtime_t *rt, const lpn_fb_vector_t *vec, uint32_t i,
                                    lpn_fb_table_t *table) {
    uint32_t target = 0u;
    lpn_rt_status_t s = follow(rt, vec->pos + 4u * i, &target);
    if (s != LPN_RT_OK) {
        return s;
    }
    return lpn_fb_table(rt, target, table);
}

lpn_rt_status_t lpn_fb_string(lpn_runtime_t *rt, const lpn_fb_table_t *table, uint32_t id, lpn_fb_vector_t *str) {
    lpn_rt_status_t s = lpn_fb_vector(rt, table, id, 1u, str);
    if (s != LPN_RT_OK || str->pos == 0u) {
        return s;
    }
    const uint64_t nul = (uint64_t)str->pos + str->length;
    if (nul >= rt->model_bytes || rt->model[nul] != 0u) {
        return lpn_fail(rt, LPN_RT_ERR_STRING, str->pos - 4u, -1, -1, (int64_t)str->length);
    }
    return LPN_RT_OK;
}
