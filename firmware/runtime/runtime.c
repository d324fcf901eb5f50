/*
 * The public runtime API (lpn/runtime.h): lpn_init lays out the arena as
 *   [tensor descriptors | op descriptors | prepared per-op data | planned tensors | kernel scratch]
 * and runs reader -> planner -> per-op prepare; lpn_invoke runs the ops in order.
 */
#include <string.h>

#include "internal.h"

#define ALIGN_UP(x, a) (((x) + ((a) - 1u)) & ~(uint64_t)((a) - 1u))

__attribute__((weak)) void lpn_profile_mark(uint32_t op_index, uint32_t phase) {
    (void)op_index;
    (void)phase;
}

void *lpn_persistent_alloc(lpn_runtime_t *rt, uint32_t bytes) {
    const uint64_t start = ALIGN_UP((uint64_t)rt->persistent_used, 8u);
    const uint64_t end = start + bytes;
    rt->persistent_used = end > 0x7fffffffu ? 0x7fffffffu : (uint32_t)end;
    return end <= rt->arena_bytes ? (void *)(rt->arena + start) : 0;
}

void *lpn_tensor_data(const lpn_runtime_t *rt, const lpn_tensor_t *t) {
    if (t->data != 0) {
        return (void *)(uintptr_t)t->data;
    }
    return rt->arena + rt->tensor_base + t->arena_offset;
}

const lpn_tensor_t *lpn_op_input(const lpn_runtime_t *rt, const lpn_op_t *op, int32_t i) {
    return (i < op->n_inputs && op->inputs[i] >= 0) ? &rt->tensors[op->inputs[i]] : 0;
}

const lpn_tensor_t *lpn_op_output(const lpn_runtime_t *rt, const lpn_op_t *op, int32_t i) {
    return i < op->n_outputs ? &rt->tensors[op->outputs[i]] : 0;
}

uint32_t lpn_tensor_scale(const lpn_runtime_t *rt, const lpn_tensor_t *t, uint32_t i) {
    return lpn_fb_u32(rt->model + t->scale_pos + 4u * i);
}

uint32_t lpn_tensor_elements(const lpn_tensor_t *t) {
    return t->type == LPN_TYPE_INT32 ? t->bytes / 4u : (t->type == LPN_TYPE_INT16 ? t->bytes / 2u : t->bytes);
}

static lpn_rt_status_t layout(lpn_runtime_t *rt, uintptr_t pad) {
    uint32_t scratch = 0u;
    for (uint32_t i = 0; i < rt->n_ops; ++i) {
        scratch = rt->ops[i].scratch_bytes > scratch ? rt->ops[i].scratch_bytes : scratch;
    }
    const uint64_t descriptors = ALIGN_UP((uint64_t)rt->persistent_used, LPN_TENSOR_ALIGN);
    const uint64_t scratch_base = descriptors + rt->planned_bytes;
    const uint64_t used = ALIGN_UP(scratch_base + scratch, LPN_TENSOR_ALIGN);
    rt->descriptor_bytes = (uint32_t)descriptors;
    rt->tensor_base = (uint32_t)descriptors;
    rt->scratch_base = (uint32_t)scratch_base;
    rt->scratch_bytes = scratch;
    rt->used_bytes = used > 0xffffffffu ? 0xffffffffu : (uint32_t)used;
    if (used > rt->arena_bytes) {
        return lpn_fail(rt, LPN_RT_ERR_ARENA_TOO_SMALL, LPN_NO_OFFSET, -1, -1, (int64_t)(used + pad));
    }
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_init(lpn_runtime_t *rt, const void *model, size_t model_bytes, void *arena,
                         size_t arena_bytes) {
    if (rt == 0) {
        return LPN_RT_ERR_NULL_ARGUMENT;
    }
    memset(rt, 0, sizeof *rt);
    rt->error.offset = LPN_NO_OFFSET;
    rt->error.op_index = -1;
    rt->error.tensor_index = -1;
    rt->ctx_op = -1;
    rt->ctx_tensor = -1;
    if (model == 0 || (arena == 0 && arena_bytes != 0u)) {
        return lpn_fail(rt, LPN_RT_ERR_NULL_ARGUMENT, LPN_NO_OFFSET, -1, -1, 0);
    }
    if (model_bytes > 0x7fffffffu) {
        return lpn_fail(rt, LPN_RT_ERR_MODEL_SIZE, LPN_NO_OFFSET, -1, -1, (int64_t)model_bytes);
    }
    rt->model = (const uint8_t *)model;
    rt->model_bytes = (uint32_t)model_bytes;
    /* Align the arena start to 16 bytes; what the caller loses to alignment counts as used. */
    const uintptr_t base = (uintptr_t)arena;
    const uintptr_t pad = (LPN_TENSOR_ALIGN - (base % LPN_TENSOR_ALIGN)) % LPN_TENSOR_ALIGN;
    const size_t usable = arena_bytes > pad ? arena_bytes - pad : 0u;
    rt->arena = arena_bytes > pad ? (uint8_t *)arena + pad : 0;
    rt->arena_bytes = usable > 0xffffffffu ? 0xffffffffu : (uint32_t)usable;
    rt->arena_given = arena_bytes > 0xffffffffu ? 0xffffffffu : (uint32_t)arena_bytes;

    lpn_rt_status_t s = lpn_read_model(rt);
    if (s == LPN_RT_ERR_ARENA_TOO_SMALL) {
        rt->error.detail += (int64_t)pad;
    }
    if (s == LPN_RT_OK) {
        s = lpn_plan(rt);
    }
    for (uint32_t i = 0; s == LPN_RT_OK && i < rt->n_ops; ++i) {
        lpn_op_t *op = &rt->ops[i];
        rt->ctx_op = (int32_t)i;
        s = op->kernel->prepare(rt, op);
        if (s == LPN_RT_OK && op->scratch_bytes > 0x10000000u) {
            s = lpn_fail(rt, LPN_RT_ERR_OP_TENSORS, op->table_pos, (int32_t)i, -1, op->scratch_bytes);
        }
    }
    rt->ctx_op = -1;
    if (s == LPN_RT_OK) {
        s = layout(rt, pad);
    }
    rt->ready = s == LPN_RT_OK;
    return s;
}

uint32_t lpn_input_count(const lpn_runtime_t *rt) { return (rt != 0 && rt->ready) ? rt->n_inputs : 0u; }

uint32_t lpn_output_count(const lpn_runtime_t *rt) { return (rt != 0 && rt->ready) ? rt->n_outputs : 0u; }

uint32_t lpn_tensor_count(const lpn_runtime_t *rt) { return (rt != 0 && rt->ready) ? rt->n_tensors : 0u; }

uint32_t lpn_op_count(const lpn_runtime_t *rt) { return (rt != 0 && rt->ready) ? rt->n_ops : 0u; }

lpn_rt_status_t lpn_tensor_info(const lpn_runtime_t *rt, uint32_t tensor_index, lpn_tensor_info_t *info) {
    if (rt == 0 || info == 0) {
        return LPN_RT_ERR_NULL_ARGUMENT;
    }
    if (!rt->ready) {
        return LPN_RT_ERR_NOT_READY;
    }
    if (tensor_index >= rt->n_tensors) {
        return LPN_RT_ERR_TENSOR_INDEX;
    }
    const lpn_tensor_t *t = &rt->tensors[tensor_index];
    info->index = (int32_t)tensor_index;
    info->type = t->type;
    info->rank = t->rank;
    for (int32_t d = 0; d < LPN_MAX_DIMS; ++d) {
        info->dims[d] = d < t->rank ? t->dims[d] : 0;
    }
    info->bytes = t->bytes;
    info->scale_bits = t->n_scales > 0u ? lpn_tensor_scale(rt, t, 0u) : 0u;
    info->zero_point = t->zero_point;
    info->is_constant = t->data != 0;
    info->arena_offset = t->arena_offset;
    info->first_op = t->first_op;
    info->last_op = t->last_op;
    return LPN_RT_OK;
}

static lpn_rt_status_t io_index(const lpn_runtime_t *rt, uint32_t i, uint32_t count) {
    if (rt == 0) {
        return LPN_RT_ERR_NULL_ARGUMENT;
    }
    if (!rt->ready) {
        return LPN_RT_ERR_NOT_READY;
    }
    return i < count ? LPN_RT_OK : LPN_RT_ERR_IO_INDEX;
}

lpn_rt_status_t lpn_input_info(const lpn_runtime_t *rt, uint32_t i, lpn_tensor_info_t *info) {
    lpn_rt_status_t s = io_index(rt, i, rt != 0 ? rt->n_inputs : 0u);
    return s != LPN_RT_OK ? s : lpn_tensor_info(rt, (uint32_t)rt->inputs[i], info);
}

lpn_rt_status_t lpn_output_info(const lpn_runtime_t *rt, uint32_t i, lpn_tensor_info_t *info) {
    lpn_rt_status_t s = io_index(rt, i, rt != 0 ? rt->n_outputs : 0u);
    return s != LPN_RT_OK ? s : lpn_tensor_info(rt, (uint32_t)rt->outputs[i], info);
}

void *lpn_input_data(lpn_runtime_t *rt, uint32_t i) {
    if (io_index(rt, i, rt != 0 ? rt->n_inputs : 0u) != LPN_RT_OK) {
        return 0;
    }
    return lpn_tensor_data(rt, &rt->tensors[rt->inputs[i]]);
}

const void *lpn_output_data(const lpn_runtime_t *rt, uint32_t i) {
    if (io_index(rt, i, rt != 0 ? rt->n_outputs : 0u) != LPN_RT_OK) {
        return 0;
    }
    return lpn_tensor_data(rt, &rt->tensors[rt->outputs[i]]);
}

lpn_rt_status_t lpn_set_input(lpn_runtime_t *rt, uint32_t i, const void *data, size_t bytes) {
    lpn_rt_status_t s = io_index(rt, i, rt != 0 ? rt->n_inputs : 0u);
    if (s != LPN_RT_OK) {
        return s;
    }
    const lpn_tensor_t *t = &rt->tensors[rt->inputs[i]];
    if (data == 0) {
        return LPN_RT_ERR_NULL_ARGUMENT;
    }
    if (bytes != t->bytes) {
        return LPN_RT_ERR_IO_SIZE;
    }
    memcpy(lpn_tensor_data(rt, t), data, bytes);
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_get_output(lpn_runtime_t *rt, uint32_t i, void *data, size_t bytes) {
    lpn_rt_status_t s = io_index(rt, i, rt != 0 ? rt->n_outputs : 0u);
    if (s != LPN_RT_OK) {
        return s;
    }
    const lpn_tensor_t *t = &rt->tensors[rt->outputs[i]];
    if (data == 0) {
        return LPN_RT_ERR_NULL_ARGUMENT;
    }
    if (bytes != t->bytes) {
        return LPN_RT_ERR_IO_SIZE;
    }
    memcpy(data, lpn_tensor_data(rt, t), bytes);
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_invoke(lpn_runtime_t *rt) {
    if (rt == 0) {
        return LPN_RT_ERR_NULL_ARGUMENT;
    }
    if (!rt->ready) {
        return LPN_RT_ERR_NOT_READY;
    }
    void *scratch = rt->scratch_bytes > 0u ? rt->arena + rt->scratch_base : 0;
    for (uint32_t i = 0; i < rt->n_ops; ++i) {
        const lpn_op_t *op = &rt->ops[i];
        lpn_profile_mark(i, 0u);
        if (rt->profile != 0) {
            rt->profile(rt->profile_user, i, 0u);
        }
        rt->error.status = LPN_RT_OK; /* a run-time error replaces any earlier record */
        const lpn_rt_status_t s = op->kernel->eval(rt, op, scratch);
        if (rt->profile != 0) {
            rt->profile(rt->profile_user, i, 1u);
        }
        lpn_profile_mark(i, 1u);
        if (s != LPN_RT_OK) {
            return lpn_fail(rt, s, op->table_pos, (int32_t)i, -1, 0); /* no-op if eval recorded it */
        }
    }
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_op_info(const lpn_runtime_t *rt, uint32_t op_index, lpn_op_info_t *info) {
    if (rt == 0 || info == 0) {
        return LPN_RT_ERR_NULL_ARGUMENT;
    }
    if (!rt->ready) {
        return LPN_RT_ERR_NOT_READY;
    }
    if (op_index >= rt->n_ops) {
        return LPN_RT_ERR_IO_INDEX;
    }
    const lpn_op_t *op = &rt->ops[op_index];
    info->builtin_code = op->builtin_code;
    info->name = op->kernel->name;
    info->n_inputs = op->n_inputs;
    info->n_outputs = op->n_outputs;
    for (int32_t i = 0; i < LPN_MAX_OP_INPUTS; ++i) {
        info->inputs[i] = i < op->n_inputs ? op->inputs[i] : -1;
    }
    for (int32_t i = 0; i < LPN_MAX_OP_OUTPUTS; ++i) {
        info->outputs[i] = i < op->n_outputs ? op->outputs[i] : -1;
    }
    info->macs = op->macs;
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_arena_stats(const lpn_runtime_t *rt, lpn_arena_stats_t *stats) {
    if (rt == 0 || stats == 0) {
        return LPN_RT_ERR_NULL_ARGUMENT;
    }
    if (!rt->ready) {
        return LPN_RT_ERR_NOT_READY;
    }
    stats->descriptor_bytes = rt->descriptor_bytes;
    stats->planned_bytes = rt->planned_bytes;
    stats->scratch_bytes = rt->scratch_bytes;
    stats->used_bytes = rt->used_bytes + (rt->arena_given - rt->arena_bytes);
    stats->arena_bytes = rt->arena_given;
    return LPN_RT_OK;
}

void lpn_set_profiler(lpn_runtime_t *rt, lpn_profile_fn fn, void *user) {
    if (rt != 0) {
        rt->profile = fn;
        rt->profile_user = user;
    }
}
