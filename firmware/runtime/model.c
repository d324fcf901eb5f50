/*
 * TFLite schema reader: Model -> the one SubGraph -> Tensors, Buffers, OperatorCodes, Operators, read in
 * place and validated field by field (schema: tensorflow/lite/schema/schema.fbs, field ids below).
 * Fills the tensor and op descriptors that lpn_init placed at the start of the arena.
 */
#include "internal.h"

/* Field ids (schema.fbs order). */
enum { MODEL_VERSION = 0, MODEL_OPERATOR_CODES = 1, MODEL_SUBGRAPHS = 2, MODEL_BUFFERS = 4 };
enum { SUBGRAPH_TENSORS = 0, SUBGRAPH_INPUTS = 1, SUBGRAPH_OUTPUTS = 2, SUBGRAPH_OPERATORS = 3 };
enum { TENSOR_SHAPE = 0, TENSOR_TYPE = 1, TENSOR_BUFFER = 2, TENSOR_QUANTIZATION = 4, TENSOR_IS_VARIABLE = 5,
       TENSOR_SPARSITY = 6 };
enum { QUANT_SCALE = 2, QUANT_ZERO_POINT = 3, QUANT_DETAILS_TYPE = 4, QUANT_DIMENSION = 6 };
enum { BUFFER_DATA = 0, BUFFER_OFFSET = 1, BUFFER_SIZE = 2 };
enum { OPCODE_DEPRECATED_BUILTIN = 0, OPCODE_CUSTOM_CODE = 1, OPCODE_VERSION = 2, OPCODE_BUILTIN = 3 };
enum { OP_OPCODE_INDEX = 0, OP_INPUTS = 1, OP_OUTPUTS = 2, OP_OPTIONS_TYPE = 3, OP_OPTIONS = 4,
       OP_CUSTOM_OPTIONS = 5, OP_LARGE_CUSTOM_OFFSET = 9, OP_OPTIONS_2_TYPE = 11 };

#define TRY(expr)                          \
    do {                                   \
        lpn_rt_status_t status_ = (expr);  \
        if (status_ != LPN_RT_OK) {        \
            return status_;                \
        }                                  \
    } while (0)

/* Model-level vectors kept while reading. */
typedef struct {
    lpn_fb_vector_t opcodes;
    lpn_fb_vector_t buffers;
    lpn_fb_vector_t tensors;
    lpn_fb_vector_t operators;
    lpn_fb_vector_t inputs;
    lpn_fb_vector_t outputs;
} model_view_t;

static lpn_rt_status_t require(lpn_runtime_t *rt, const lpn_fb_table_t *t, uint32_t present_pos, uint32_t id) {
    if (present_pos == 0u) {
        return lpn_fail(rt, LPN_RT_ERR_MISSING_FIELD, t->pos, -1, -1, (int64_t)id);
    }
    return LPN_RT_OK;
}

static uint32_t element_bytes(int32_t type) {
    return type == LPN_TYPE_INT32 ? 4u : (type == LPN_TYPE_INT16 ? 2u : 1u);
}

static int supported_type(int32_t type) {
    return type == LPN_TYPE_INT8 || type == LPN_TYPE_INT32 || type == LPN_TYPE_UINT8 || type == LPN_TYPE_INT16;
}

/* Buffer `index`: *data / *bytes of its contents (NULL / 0 for an empty buffer). */
static lpn_rt_status_t read_buffer(lpn_runtime_t *rt, const model_view_t *m, uint32_t index, const uint8_t **data,
                                   uint32_t *bytes) {
    lpn_fb_table_t buffer;
    lpn_fb_vector_t vec;
    uint64_t offset, size;
    *data = 0;
    *bytes = 0u;
    TRY(lpn_fb_vector_table(rt, &m->buffers, index, &buffer));
    TRY(lpn_fb_vector(rt, &buffer, BUFFER_DATA, 1u, &vec));
    TRY(lpn_fb_scalar_u64(rt, &buffer, BUFFER_OFFSET, 0u, &offset));
    TRY(lpn_fb_scalar_u64(rt, &buffer, BUFFER_SIZE, 0u, &size));
    if (offset > 1u) { /* data after the flatbuffer, inside the same file (offset 1 is a placeholder) */
        if (vec.length != 0u || size > rt->model_bytes || offset > (uint64_t)rt->model_bytes - size) {
            return lpn_fail(rt, LPN_RT_ERR_EXTERNAL_BUFFER, buffer.pos, -1, -1, (int64_t)offset);
        }
        *data = rt->model + offset;
        *bytes = (uint32_t)size;
    } else if (vec.length != 0u) {
        *data = rt->model + vec.pos;
        *bytes = vec.length;
    }
    return LPN_RT_OK;
}

static lpn_rt_status_t read_quantization(lpn_runtime_t *rt, const lpn_fb_table_t *tensor_table, lpn_tensor_t *t) {
    lpn_fb_table_t q;
    lpn_fb_vector_t scale, zero_point;
    int present;
    uint8_t details;
    int32_t qdim;
    t->scale_pos = 0u;
    t->n_scales = 0u;
    t->zero_point = 0;
    t->quantized_dimension = 0;
    TRY(lpn_fb_subtable(rt, tensor_table, TENSOR_QUANTIZATION, &q, &present));
    if (!present) {
        return LPN_RT_OK;
    }
    TRY(lpn_fb_vector(rt, &q, QUANT_SCALE, 4u, &scale));
    TRY(lpn_fb_vector(rt, &q, QUANT_ZERO_POINT, 8u, &zero_point));
    TRY(lpn_fb_scalar_u8(rt, &q, QUANT_DETAILS_TYPE, 0u, &details));
    TRY(lpn_fb_scalar_i32(rt, &q, QUANT_DIMENSION, 0, &qdim));
    if (details != 0u) { /* CustomQuantization: not supported */
        return lpn_fail(rt, LPN_RT_ERR_QUANTIZATION, q.pos, -1, -1, details);
    }
    if (scale.length == 0u && zero_point.length == 0u) {
        return LPN_RT_OK; /* min/max only, or empty: not quantized */
    }
    if (scale.length != zero_point.length) {
        return lpn_fail(rt, LPN_RT_ERR_QUANTIZATION, q.pos, -1, -1, (int64_t)zero_point.length);
    }
    if (qdim < 0 || qdim >= (t->rank > 0 ? t->rank : 1)) {
        return lpn_fail(rt, LPN_RT_ERR_QUANTIZATION, q.pos, -1, -1, qdim);
    }
    if (scale.length != 1u && (t->rank == 0 || scale.length != (uint32_t)t->dims[qdim])) {
        return lpn_fail(rt, LPN_RT_ERR_QUANTIZATION, scale.pos - 4u, -1, -1, (int64_t)scale.length);
    }
    for (uint32_t i = 0; i < scale.length; ++i) {
        const uint32_t bits = lpn_fb_u32(rt->model + scale.pos + 4u * i);
        /* positive, finite, not zero (subnormals are accepted) */
        if ((bits >> 31) != 0u || ((bits >> 23) & 0xffu) == 0xffu || bits == 0u) {
            return lpn_fail(rt, LPN_RT_ERR_QUANTIZATION, scale.pos + 4u * i, -1, -1, (int64_t)bits);
        }
    }
    const int64_t zp0 = (int64_t)lpn_fb_u64(rt->model + zero_point.pos);
    /* the zero point must be representable in the tensor's type (int32 tensors: 0, as TFLite requires) */
    const int64_t zp_min = t->type == LPN_TYPE_INT8 ? -128 : (t->type == LPN_TYPE_INT16 ? -32768 : 0);
    const int64_t zp_max = t->type == LPN_TYPE_INT8 ? 127 : (t->type == LPN_TYPE_INT16 ? 32767
                                                             : (t->type == LPN_TYPE_UINT8 ? 255 : 0));
    for (uint32_t i = 0; i < zero_point.length; ++i) {
        const int64_t zp = (int64_t)lpn_fb_u64(rt->model + zero_point.pos + 8u * i);
        if (zp < zp_min || zp > zp_max || zp != zp0) {
            return lpn_fail(rt, LPN_RT_ERR_QUANTIZATION, zero_point.pos + 8u * i, -1, -1, zp);
        }
    }
    t->scale_pos = scale.pos;
    t->n_scales = scale.length;
    t->zero_point = (int32_t)zp0;
    t->quantized_dimension = qdim;
    return LPN_RT_OK;
}

static lpn_rt_status_t read_tensor(lpn_runtime_t *rt, const model_view_t *m, uint32_t index, lpn_tensor_t *t) {
    lpn_fb_table_t table;
    lpn_fb_vector_t shape;
    uint8_t type, is_variable;
    uint32_t buffer_index_pos, sparsity;
    rt->ctx_tensor = (int32_t)index;
    TRY(lpn_fb_vector_table(rt, &m->tensors, index, &table));
    t->table_pos = table.pos;
    t->arena_offset = LPN_NO_OFFSET;
    t->first_op = -1;
    t->last_op = -1;
    t->data = 0;
    TRY(lpn_fb_vector(rt, &table, TENSOR_SHAPE, 4u, &shape));
    TRY(lpn_fb_scalar_u8(rt, &table, TENSOR_TYPE, 0u, &type));
    TRY(lpn_fb_scalar_u8(rt, &table, TENSOR_IS_VARIABLE, 0u, &is_variable));
    TRY(lpn_fb_ref(rt, &table, TENSOR_SPARSITY, &sparsity));
    if (!supported_type(type)) {
        uint32_t pos;
        TRY(lpn_fb_field(rt, &table, TENSOR_TYPE, 1u, &pos));
        return lpn_fail(rt, LPN_RT_ERR_TENSOR_TYPE, pos != 0u ? pos : table.pos, -1, -1, type);
    }
    if (is_variable != 0u || sparsity != 0u) {
        return lpn_fail(rt, LPN_RT_ERR_TENSOR_TYPE, table.pos, -1, -1, is_variable != 0u ? -1 : -2);
    }
    t->type = type;
    if (shape.length > LPN_MAX_DIMS) {
        return lpn_fail(rt, LPN_RT_ERR_TENSOR_SHAPE, shape.pos - 4u, -1, -1, (int64_t)shape.length);
    }
    t->rank = (int32_t)shape.length;
    uint64_t bytes = element_bytes(t->type);
    for (int32_t d = 0; d < LPN_MAX_DIMS; ++d) {
        t->dims[d] = 1;
    }
    for (uint32_t d = 0; d < shape.length; ++d) {
        const int32_t dim = (int32_t)lpn_fb_u32(rt->model + shape.pos + 4u * d);
        bytes *= dim > 0 ? (uint64_t)dim : 0u;
        if (dim < 1 || bytes > 0x7fffffffu) {
            return lpn_fail(rt, LPN_RT_ERR_TENSOR_SHAPE, shape.pos + 4u * d, -1, -1, dim);
        }
        t->dims[d] = dim;
    }
    t->bytes = (uint32_t)bytes;
    TRY(lpn_fb_field(rt, &table, TENSOR_BUFFER, 4u, &buffer_index_pos));
    const uint32_t buffer_index = buffer_index_pos != 0u ? lpn_fb_u32(rt->model + buffer_index_pos) : 0u;
    if (buffer_index >= m->buffers.length) {
        return lpn_fail(rt, LPN_RT_ERR_BUFFER_INDEX, buffer_index_pos != 0u ? buffer_index_pos : table.pos, -1,
                        -1, (int64_t)buffer_index);
    }
    const uint8_t *data;
    uint32_t data_bytes;
    TRY(read_buffer(rt, m, buffer_index, &data, &data_bytes));
    if (data != 0) {
        if (data_bytes != t->bytes) {
            return lpn_fail(rt, LPN_RT_ERR_BUFFER_SIZE, (uint32_t)(data - rt->model), -1, -1, (int64_t)data_bytes);
        }
        if (((uintptr_t)data) % element_bytes(t->type) != 0u) {
            return lpn_fail(rt, LPN_RT_ERR_ALIGNMENT, (uint32_t)(data - rt->model), -1, -1, 0);
        }
        t->data = data;
    }
    return read_quantization(rt, &table, t);
}

/* An index vector (graph or op inputs/outputs): every entry a valid tensor, or -1 where allowed. */
static lpn_rt_status_t read_indices(lpn_runtime_t *rt, const lpn_fb_vector_t *vec, int32_t *out, uint32_t max,
                                    int allow_absent) {
    if (vec->length > max) {
        return lpn_fail(rt, LPN_RT_ERR_TOO_MANY, vec->pos - 4u, -1, -1, (int64_t)vec->length);
    }
    for (uint32_t i = 0; i < vec->length; ++i) {
        const int32_t index = (int32_t)lpn_fb_u32(rt->model + vec->pos + 4u * i);
        if ((index < 0 && !(allow_absent && index == -1)) || (index >= 0 && (uint32_t)index >= rt->n_tensors)) {
            return lpn_fail(rt, LPN_RT_ERR_TENSOR_INDEX, vec->pos + 4u * i, -1, -1, index);
        }
        out[i] = index;
    }
    return LPN_RT_OK;
}

static void copy_name(lpn_runtime_t *rt, const uint8_t *name, uint32_t length) {
    uint32_t n = length < LPN_ERROR_NAME_BYTES - 1u ? length : LPN_ERROR_NAME_BYTES - 1u;
    for (uint32_t i = 0; i < n; ++i) { /* printable ASCII only: the name comes from an untrusted file */
        rt->error.name[i] = (name[i] >= 0x20u && name[i] < 0x7fu) ? (char)name[i] : '?';
    }
    rt->error.name[n] = '\0';
}

/* Resolves operator code `index` to a kernel. */
static lpn_rt_status_t resolve(lpn_runtime_t *rt, const model_view_t *m, uint32_t index, lpn_op_t *op) {
    lpn_fb_table_t code;
    uint8_t deprecated;
    int32_t builtin, version;
    lpn_fb_vector_t custom;
    TRY(lpn_fb_vector_table(rt, &m->opcodes, index, &code));
    TRY(lpn_fb_scalar_u8(rt, &code, OPCODE_DEPRECATED_BUILTIN, 0u, &deprecated));
    TRY(lpn_fb_scalar_i32(rt, &code, OPCODE_BUILTIN, 0, &builtin));
    TRY(lpn_fb_scalar_i32(rt, &code, OPCODE_VERSION, 1, &version));
    TRY(lpn_fb_string(rt, &code, OPCODE_CUSTOM_CODE, &custom));
    /* Schema rule: the builtin code is the larger of the two fields (deprecated one is an int8). */
    if ((int32_t)(int8_t)deprecated > builtin) {
        builtin = (int8_t)deprecated;
    }
    op->builtin_code = builtin;
    op->version = version;
    if (builtin == LPN_OP_CUSTOM) {
        if (custom.pos == 0u) {
            return lpn_fail(rt, LPN_RT_ERR_MISSING_FIELD, code.pos, -1, -1, OPCODE_CUSTOM_CODE);
        }
        op->kernel = lpn_resolve_custom(rt->model + custom.pos, custom.length);
        if (op->kernel == 0) {
            lpn_fail(rt, LPN_RT_ERR_UNKNOWN_CUSTOM, custom.pos - 4u, -1, -1, (int64_t)custom.length);
            copy_name(rt, rt->model + custom.pos, custom.length);
            return LPN_RT_ERR_UNKNOWN_CUSTOM;
        }
    } else {
        op->kernel = lpn_resolve_builtin(builtin);
        if (op->kernel == 0) {
            return lpn_fail(rt, LPN_RT_ERR_UNKNOWN_BUILTIN, code.pos, -1, -1, builtin);
        }
    }
    if (version < op->kernel->min_version || version > op->kernel->max_version) {
        uint32_t name_length = 0u;
        while (op->kernel->name[name_length] != '\0') {
            ++name_length;
        }
        lpn_fail(rt, LPN_RT_ERR_OP_VERSION, code.pos, -1, -1, version);
        copy_name(rt, (const uint8_t *)op->kernel->name, name_length);
        return LPN_RT_ERR_OP_VERSION;
    }
    return LPN_RT_OK;
}

static lpn_rt_status_t read_operator(lpn_runtime_t *rt, const model_view_t *m, uint32_t index, lpn_op_t *op) {
    lpn_fb_table_t table;
    lpn_fb_vector_t inputs, outputs, custom;
    uint32_t opcode_pos;
    uint8_t options_type, options2_type;
    uint64_t large_custom;
    rt->ctx_op = (int32_t)index;
    rt->ctx_tensor = -1;
    TRY(lpn_fb_vector_table(rt, &m->operators, index, &table));
    op->table_pos = table.pos;
    op->data = 0;
    op->scratch_bytes = 0u;
    op->macs = 0u;
    TRY(lpn_fb_field(rt, &table, OP_OPCODE_INDEX, 4u, &opcode_pos));
    const uint32_t opcode_index = opcode_pos != 0u ? lpn_fb_u32(rt->model + opcode_pos) : 0u;
    if (opcode_index >= m->opcodes.length) {
        return lpn_fail(rt, LPN_RT_ERR_OPCODE_INDEX, opcode_pos != 0u ? opcode_pos : table.pos, -1, -1,
                        (int64_t)opcode_index);
    }
    TRY(resolve(rt, m, opcode_index, op));
    TRY(lpn_fb_vector(rt, &table, OP_INPUTS, 4u, &inputs));
    TRY(lpn_fb_vector(rt, &table, OP_OUTPUTS, 4u, &outputs));
    TRY(read_indices(rt, &inputs, op->inputs, LPN_MAX_OP_INPUTS, 1));
    TRY(read_indices(rt, &outputs, op->outputs, LPN_MAX_OP_OUTPUTS, 0));
    op->n_inputs = (int32_t)inputs.length;
    op->n_outputs = (int32_t)outputs.length;
    TRY(lpn_fb_scalar_u8(rt, &table, OP_OPTIONS_TYPE, 0u, &options_type));
    TRY(lpn_fb_scalar_u8(rt, &table, OP_OPTIONS_2_TYPE, 0u, &options2_type));
    TRY(lpn_fb_scalar_u64(rt, &table, OP_LARGE_CUSTOM_OFFSET, 0u, &large_custom));
    if (options2_type != 0u || large_custom != 0u) {
        return lpn_fail(rt, LPN_RT_ERR_OP_OPTIONS, table.pos, -1, -1, options2_type);
    }
    op->options_type = options_type;
    TRY(lpn_fb_subtable(rt, &table, OP_OPTIONS, &op->options, &op->has_options));
    TRY(lpn_fb_vector(rt, &table, OP_CUSTOM_OPTIONS, 1u, &custom));
    op->custom_pos = custom.pos;
    op->custom_bytes = custom.length;
    return LPN_RT_OK;
}

lpn_rt_status_t lpn_read_model(lpn_runtime_t *rt) {
    lpn_fb_table_t model, subgraph;
    lpn_fb_vector_t subgraphs;
    model_view_t m;
    uint32_t version_pos;
    if (rt->model_bytes < 8u) {
        return lpn_fail(rt, LPN_RT_ERR_MODEL_SIZE, 0u, -1, -1, rt->model_bytes);
    }
    if (rt->model[4] != 'T' || rt->model[5] != 'F' || rt->model[6] != 'L' || rt->model[7] != '3') {
        return lpn_fail(rt, LPN_RT_ERR_IDENTIFIER, 4u, -1, -1, 0);
    }
    const uint32_t root = lpn_fb_u32(rt->model);
    if (root == 0u || root >= rt->model_bytes) {
        return lpn_fail(rt, LPN_RT_ERR_OFFSET, 0u, -1, -1, root);
    }
    TRY(lpn_fb_table(rt, root, &model));
    TRY(lpn_fb_field(rt, &model, MODEL_VERSION, 4u, &version_pos));
    TRY(require(rt, &model, version_pos, MODEL_VERSION));
    if (lpn_fb_u32(rt->model + version_pos) != 3u) {
        return lpn_fail(rt, LPN_RT_ERR_SCHEMA_VERSION, version_pos, -1, -1, lpn_fb_u32(rt->model + version_pos));
    }
    TRY(lpn_fb_vector(rt, &model, MODEL_OPERATOR_CODES, 4u, &m.opcodes));
    TRY(lpn_fb_vector(rt, &model, MODEL_SUBGRAPHS, 4u, &subgraphs));
    TRY(lpn_fb_vector(rt, &model, MODEL_BUFFERS, 4u, &m.buffers));
    if (subgraphs.length != 1u) {
        return lpn_fail(rt, LPN_RT_ERR_SUBGRAPH_COUNT, subgraphs.pos != 0u ? subgraphs.pos - 4u : model.pos, -1, -1,
                        (int64_t)subgraphs.length);
    }
    TRY(lpn_fb_vector_table(rt, &subgraphs, 0u, &subgraph));
    TRY(lpn_fb_vector(rt, &subgraph, SUBGRAPH_TENSORS, 4u, &m.tensors));
    TRY(lpn_fb_vector(rt, &subgraph, SUBGRAPH_INPUTS, 4u, &m.inputs));
    TRY(lpn_fb_vector(rt, &subgraph, SUBGRAPH_OUTPUTS, 4u, &m.outputs));
    TRY(lpn_fb_vector(rt, &subgraph, SUBGRAPH_OPERATORS, 4u, &m.operators));
    if (m.operators.length == 0u) {
        return lpn_fail(rt, LPN_RT_ERR_GRAPH, subgraph.pos, -1, -1, 0);
    }
    rt->n_tensors = m.tensors.length;
    rt->n_ops = m.operators.length;

    /* The descriptors go at the start of the arena: check they fit before writing any. */
    const uint64_t tensor_table = ((uint64_t)rt->n_tensors * sizeof(lpn_tensor_t) + 15u) & ~(uint64_t)15u;
    const uint64_t op_table = ((uint64_t)rt->n_ops * sizeof(lpn_op_t) + 15u) & ~(uint64_t)15u;
    if (tensor_table + op_table > rt->arena_bytes) {
        lpn_fail(rt, LPN_RT_ERR_ARENA_TOO_SMALL, LPN_NO_OFFSET, -1, -1, (int64_t)(tensor_table + op_table));
        return LPN_RT_ERR_ARENA_TOO_SMALL;
    }
    rt->tensors = (lpn_tensor_t *)(void *)rt->arena;
    rt->ops = (lpn_op_t *)(void *)(rt->arena + tensor_table);
    rt->persistent_used = (uint32_t)(tensor_table + op_table);

    for (uint32_t i = 0; i < rt->n_tensors; ++i) {
        TRY(read_tensor(rt, &m, i, &rt->tensors[i]));
    }
    rt->ctx_tensor = -1;
    TRY(read_indices(rt, &m.inputs, rt->inputs, LPN_MAX_GRAPH_IO, 0));
    TRY(read_indices(rt, &m.outputs, rt->outputs, LPN_MAX_GRAPH_IO, 0));
    rt->n_inputs = m.inputs.length;
    rt->n_outputs = m.outputs.length;
    for (uint32_t i = 0; i < rt->n_ops; ++i) {
        TRY(read_operator(rt, &m, i, &rt->ops[i]));
    }
    rt->ctx_op = -1;
    return LPN_RT_OK;
}
