/*
 * Runtime-internal types shared by the reader, resolver, op adapters, planner and executor.
 */
#ifndef LPN_RUNTIME_INTERNAL_H
#define LPN_RUNTIME_INTERNAL_H

#include <stdint.h>

#include "flatbuffer.h"
#include "lpn/runtime.h"

/* TFLite BuiltinOperator codes the runtime knows by name. */
enum {
    LPN_OP_ADD = 0,
    LPN_OP_AVERAGE_POOL_2D = 1,
    LPN_OP_CONV_2D = 3,
    LPN_OP_DEPTHWISE_CONV_2D = 4,
    LPN_OP_FULLY_CONNECTED = 9,
    LPN_OP_MAX_POOL_2D = 17,
    LPN_OP_RESHAPE = 22,
    LPN_OP_SOFTMAX = 25,
    LPN_OP_CUSTOM = 32,
    LPN_OP_MEAN = 40
};

/* TFLite BuiltinOptions union tags. */
enum {
    LPN_OPTIONS_CONV_2D = 1,
    LPN_OPTIONS_DEPTHWISE_CONV_2D = 2,
    LPN_OPTIONS_POOL_2D = 5,
    LPN_OPTIONS_FULLY_CONNECTED = 8,
    LPN_OPTIONS_SOFTMAX = 9,
    LPN_OPTIONS_ADD = 11,
    LPN_OPTIONS_RESHAPE = 17,
    LPN_OPTIONS_REDUCER = 27
};

/* A tensor descriptor (lives in the arena's descriptor region). */
typedef struct lpn_tensor {
    const uint8_t *data;       /* constant data inside the model, or NULL for arena tensors */
    uint32_t table_pos;        /* Tensor table in the model (for error offsets) */
    uint32_t bytes;
    uint32_t arena_offset;     /* offset in the tensor region, LPN_NO_OFFSET when not planned */
    int32_t dims[LPN_MAX_DIMS];
    int32_t rank;
    int32_t type;
    int32_t zero_point;        /* first zero point (per-channel ones must all be equal) */
    uint32_t scale_pos;        /* position of the float32 scale vector's first element, 0 if none */
    uint32_t n_scales;         /* 0 (not quantized), 1 (per tensor) or dims[quantized_dimension] */
    int32_t quantized_dimension;
    int32_t first_op;          /* lifetime for the planner; -1 when the graph never touches it */
    int32_t last_op;
} lpn_tensor_t;

struct lpn_kernel;

/* An operator descriptor (lives in the arena's descriptor region). */
typedef struct lpn_op {
    const struct lpn_kernel *kernel;
    uint32_t table_pos;        /* Operator table in the model */
    int32_t builtin_code;
    int32_t version;
    uint32_t options_type;     /* builtin_options_type union tag */
    lpn_fb_table_t options;    /* builtin options table, valid when has_options */
    int has_options;
    uint32_t custom_pos;       /* custom_options bytes (position, length) */
    uint32_t custom_bytes;
    int32_t n_inputs, n_outputs;
    int32_t inputs[LPN_MAX_OP_INPUTS];   /* -1 = optional input absent */
    int32_t outputs[LPN_MAX_OP_OUTPUTS];
    void *data;                /* prepared data (multipliers, params), in the descriptor region */
    uint32_t scratch_bytes;
    uint64_t macs;
} lpn_op_t;

/* Validates op and fills op->data / scratch_bytes / macs; reads options, checks tensors. */
typedef lpn_rt_status_t (*lpn_prepare_fn)(lpn_runtime_t *rt, lpn_op_t *op);
/* Runs op; scratch is the shared kernel scratch buffer (4-byte aligned, op->scratch_bytes long). */
typedef lpn_rt_status_t (*lpn_eval_fn)(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch);

/* A resolver entry: a builtin code (custom_code NULL) or a custom code, with its supported versions. */
typedef struct lpn_kernel {
    int32_t builtin_code;
    const char *custom_code;
    const char *name;
    int32_t min_version, max_version;
    lpn_prepare_fn prepare;
    lpn_eval_fn eval;
} lpn_kernel_t;

/* Resolver (resolver.c): NULL when the op is unknown. */
const lpn_kernel_t *lpn_resolve_builtin(int32_t builtin_code);
const lpn_kernel_t *lpn_resolve_custom(const uint8_t *name, uint32_t name_bytes);

/* Reader (model.c): parses model, subgraph, tensors and operators into descriptors and resolves ops. */
lpn_rt_status_t lpn_read_model(lpn_runtime_t *rt);

/* Planner (planner.c): lifetimes, then first-fit offsets; sets rt->planned_bytes. */
lpn_rt_status_t lpn_plan(lpn_runtime_t *rt);

/* Prepared-data allocator: 8-byte aligned bytes from the descriptor region, or NULL once the arena is
 * exhausted (the request is still counted so that lpn_init can report the exact size required). */
void *lpn_persistent_alloc(lpn_runtime_t *rt, uint32_t bytes);

/* Tensor data: constant data in the model or the planned place in the arena. */
void *lpn_tensor_data(const lpn_runtime_t *rt, const lpn_tensor_t *t);
/* Tensor `index` of op input/output slot i, or NULL when absent (-1). */
const lpn_tensor_t *lpn_op_input(const lpn_runtime_t *rt, const lpn_op_t *op, int32_t i);
const lpn_tensor_t *lpn_op_output(const lpn_runtime_t *rt, const lpn_op_t *op, int32_t i);
/* Scale i of a tensor as float32 bits (i < n_scales). */
uint32_t lpn_tensor_scale(const lpn_runtime_t *rt, const lpn_tensor_t *t, uint32_t i);
/* Element count of a tensor. */
uint32_t lpn_tensor_elements(const lpn_tensor_t *t);

#endif
