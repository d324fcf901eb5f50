/*
 * Static arena planner. The exact algorithm (the exporter implements the same one in Python):
 *   1. Lifetime of every non-constant tensor the graph touches: [first op writing it (graph inputs: 0),
 *      last op reading it (graph outputs: op count - 1)]; a tensor never read lives [first, first].
 *   2. size = bytes rounded up to 16.
 *   3. Order: size descending, ties by tensor index ascending.
 *   4. Each tensor in that order goes to the lowest offset (a multiple of 16) where it overlaps no
 *      already placed tensor whose lifetime intersects its own (first fit).
 *   5. planned bytes = max(offset + size) over placed tensors.
 * Needs no memory beyond the descriptors: O(n^2) selection and O(n^2) fitting per tensor (n is small).
 */
#include "internal.h"

static uint32_t padded(uint32_t bytes) { return (bytes + (LPN_TENSOR_ALIGN - 1u)) & ~(LPN_TENSOR_ALIGN - 1u); }

static lpn_rt_status_t lifetimes(lpn_runtime_t *rt) {
    for (uint32_t i = 0; i < rt->n_inputs; ++i) {
        lpn_tensor_t *t = &rt->tensors[rt->inputs[i]];
        if (t->data != 0 || t->first_op >= 0) { /* constant or listed twice */
            return lpn_fail(rt, LPN_RT_ERR_GRAPH, t->table_pos, -1, rt->inputs[i], 0);
        }
        t->first_op = 0;
        t->last_op = 0;
    }
    for (uint32_t o = 0; o < rt->n_ops; ++o) {
        const lpn_op_t *op = &rt->ops[o];
        for (int32_t i = 0; i < op->n_inputs; ++i) {
            if (op->inputs[i] < 0) {
                continue;
            }
            lpn_tensor_t *t = &rt->tensors[op->inputs[i]];
            if (t->data != 0) {
                continue;
            }
            if (t->first_op < 0) { /* read before any op wrote it */
                return lpn_fail(rt, LPN_RT_ERR_GRAPH, op->table_pos, (int32_t)o, op->inputs[i], 1);
            }
            t->last_op = (int32_t)o;
        }
        for (int32_t i = 0; i < op->n_outputs; ++i) {
            lpn_tensor_t *t = &rt->tensors[op->outputs[i]];
            if (t->data != 0 || t->first_op >= 0) { /* writes a constant, or written twice */
                return lpn_fail(rt, LPN_RT_ERR_GRAPH, op->table_pos, (int32_t)o, op->outputs[i], 2);
            }
            t->first_op = (int32_t)o;
            t->last_op = (int32_t)o;
        }
    }
    for (uint32_t i = 0; i < rt->n_outputs; ++i) {
        lpn_tensor_t *t = &rt->tensors[rt->outputs[i]];
        if (t->data != 0 || t->first_op < 0) { /* constant, or never produced */
            return lpn_fail(rt, LPN_RT_ERR_GRAPH, t->table_pos, -1, rt->outputs[i], 3);
        }
        t->last_op = (int32_t)rt->n_ops - 1;
    }
    return LPN_RT_OK;
}

static int overlaps_in_time(const lpn_tensor_t *a, const lpn_tensor_t *b) {
    return a->first_op <= b->last_op && b->first_op <= a->last_op;
}

/* Lowest offset for t not overlapping any placed tensor alive at the same time. Each conflict moves
 * the candidate to the end of the conflicting block; the candidate never passes the lowest free slot. */
static uint32_t first_fit(const lpn_runtime_t *rt, const lpn_tensor_t *t) {
    const uint64_t size = padded(t->bytes);
    uint64_t offset = 0u;
    int moved = 1;
    while (moved) {
        moved = 0;
        for (uint32_t j = 0; j < rt->n_tensors; ++j) {
            const lpn_tensor_t *p = &rt->tensors[j];
            if (p == t || p->arena_offset == LPN_NO_OFFSET || !overlaps_in_time(p, t)) {
                continue;
            }
            const uint64_t p_end = (uint64_t)p->arena_offset + padded(p->bytes);
            if (p->arena_offset < offset + size && offset < p_end) {
                offset = p_end;
                moved = 1;
            }
        }
    }
    return (uint32_t)offset;
}

lpn_rt_status_t lpn_plan(lpn_runtime_t *rt) {
    lpn_rt_status_t s = lifetimes(rt);
    if (s != LPN_RT_OK) {
        return s;
    }
    uint64_t planned = 0u;
    for (;;) {
        /* next: largest unplaced tensor, lowest index on ties */
        lpn_tensor_t *next = 0;
        for (uint32_t j = 0; j < rt->n_tensors; ++j) {
            lpn_tensor_t *t = &rt->tensors[j];
            if (t->data != 0 || t->first_op < 0 || t->arena_offset != LPN_NO_OFFSET) {
                continue;
            }
            if (next == 0 || padded(t->bytes) > padded(next->bytes)) {
                next = t;
            }
        }
        if (next == 0) {
            break;
        }
        next->arena_offset = first_fit(rt, next);
        const uint64_t end = (uint64_t)next->arena_offset + padded(next->bytes);
        if (end > 0x7fffffffu) {
            return lpn_fail(rt, LPN_RT_ERR_ARENA_TOO_SMALL, LPN_NO_OFFSET, -1, (int32_t)(next - rt->tensors),
                            (int64_t)end);
        }
        planned = end > planned ? end : planned;
    }
    rt->planned_bytes = (uint32_t)planned;
    return LPN_RT_OK;
}
