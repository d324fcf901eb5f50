/*
 * lpn runtime: runs a .tflite flatbuffer in place (weights stay where the model lies, e.g. in flash).
 *
 *   lpn_runtime_t rt;                                   // caller-owned state, no globals
 *   static uint8_t arena[32 * 1024];                    // caller-owned arena
 *   if (lpn_init(&rt, model, model_bytes, arena, sizeof arena) != LPN_RT_OK) { report(lpn_last_error(&rt)); }
 *   lpn_set_input(&rt, 0, x, x_bytes);
 *   lpn_invoke(&rt);
 *   lpn_get_output(&rt, 0, y, y_bytes);
 *
 * Every offset, length, index and quantization parameter of the model is validated by lpn_init before
 * use; a bad file yields a distinct lpn_rt_status_t plus the byte offset at fault (lpn_error_t). No malloc,
 * no floating point, C99. The arena layout is [descriptors | planned tensors | kernel scratch]; see
 * docs/runtime.md for the planner's exact algorithm.
 */
#ifndef LPN_RUNTIME_H
#define LPN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest tensor rank the runtime accepts. */
#define LPN_MAX_DIMS 6
/* Most inputs / outputs one operator may have (LPN custom ops included). */
#define LPN_MAX_OP_INPUTS 8
#define LPN_MAX_OP_OUTPUTS 2
/* Most graph inputs / outputs. */
#define LPN_MAX_GRAPH_IO 32
/* Planned tensors are placed at multiples of this many bytes, and sizes are rounded up to it. */
#define LPN_TENSOR_ALIGN 16u
/* Offset value meaning "no byte offset applies". */
#define LPN_NO_OFFSET 0xffffffffu
/* Longest custom-op name copied into an lpn_error_t (longer names are truncated). */
#define LPN_ERROR_NAME_BYTES 32

/* Status codes: every distinct failure has its own code (values are stable, documented in runtime.md). */
typedef enum lpn_rt_status {
    LPN_RT_OK = 0,
    LPN_RT_ERR_NULL_ARGUMENT = 1,       /* a required pointer argument was NULL */
    LPN_RT_ERR_MODEL_SIZE = 2,          /* model shorter than a flatbuffer header, or larger than 2 GiB */
    LPN_RT_ERR_IDENTIFIER = 3,          /* file identifier is not "TFL3" */
    LPN_RT_ERR_OFFSET = 4,              /* a uoffset points outside the model */
    LPN_RT_ERR_VTABLE = 5,              /* a vtable is outside the model, misaligned or malformed */
    LPN_RT_ERR_FIELD = 6,               /* a table field lies outside its table */
    LPN_RT_ERR_VECTOR = 7,              /* a vector's length runs past the end of the model */
    LPN_RT_ERR_STRING = 8,              /* a string is not NUL-terminated inside the model */
    LPN_RT_ERR_ALIGNMENT = 9,           /* a table, vector or buffer is misaligned for its element type */
    LPN_RT_ERR_MISSING_FIELD = 10,      /* a required table field is absent */
    LPN_RT_ERR_SCHEMA_VERSION = 11,     /* model version is not 3 */
    LPN_RT_ERR_SUBGRAPH_COUNT = 12,     /* not exactly one subgraph */
    LPN_RT_ERR_TENSOR_INDEX = 13,       /* a tensor index is out of range */
    LPN_RT_ERR_BUFFER_INDEX = 14,       /* a tensor's buffer index is out of range */
    LPN_RT_ERR_OPCODE_INDEX = 15,       /* an operator's opcode_index is out of range */
    LPN_RT_ERR_TENSOR_TYPE = 16,        /* tensor type not int8/int32/uint8/int16, or variable/sparse */
    LPN_RT_ERR_TENSOR_SHAPE = 17,       /* rank > LPN_MAX_DIMS, a dimension < 1, or the size overflows */
    LPN_RT_ERR_BUFFER_SIZE = 18,        /* a constant buffer's size differs from its tensor's byte size */
    LPN_RT_ERR_EXTERNAL_BUFFER = 19,    /* a buffer's offset/size (data outside the flatbuffer) is invalid */
    LPN_RT_ERR_QUANTIZATION = 20,       /* scale/zero-point counts, values or quantized_dimension invalid */
    LPN_RT_ERR_UNKNOWN_BUILTIN = 21,    /* builtin operator not supported (lpn_error_t.detail = code) */
    LPN_RT_ERR_UNKNOWN_CUSTOM = 22,     /* custom op not in the resolver (lpn_error_t.name = custom_code) */
    LPN_RT_ERR_OP_VERSION = 23,         /* operator version not supported (detail = version) */
    LPN_RT_ERR_OP_ARITY = 24,           /* wrong number of operator inputs or outputs */
    LPN_RT_ERR_OP_OPTIONS = 25,         /* builtin options missing, of the wrong type or out of range */
    LPN_RT_ERR_OP_TENSORS = 26,         /* operator tensors have inconsistent types, shapes or quantization */
    LPN_RT_ERR_GRAPH = 27,              /* graph order: a tensor read before written, written twice, ... */
    LPN_RT_ERR_MULTIPLIER = 28,         /* a requantization multiplier or shift is out of range */
    LPN_RT_ERR_ARENA_TOO_SMALL = 29,    /* arena smaller than required (lpn_error_t.detail = bytes needed) */
    LPN_RT_ERR_NOT_READY = 30,          /* lpn_init did not succeed on this state */
    LPN_RT_ERR_IO_INDEX = 31,           /* graph input/output index out of range */
    LPN_RT_ERR_IO_SIZE = 32,            /* buffer size differs from the tensor's byte size */
    LPN_RT_ERR_KERNEL = 33,             /* a kernel reported a failure at run time */
    LPN_RT_ERR_TOO_MANY = 34,           /* more tensors / ops / graph inputs than the runtime supports */
    LPN_RT_STATUS_COUNT = 35
} lpn_rt_status_t;

/* Tensor element types (values of the TFLite TensorType enum). Activations of the builtin ops are int8;
 * uint8 (packed LPN codes) and int16 (LPN mantissas) appear as constants of LPN custom ops. */
enum { LPN_TYPE_INT32 = 2, LPN_TYPE_UINT8 = 3, LPN_TYPE_INT16 = 7, LPN_TYPE_INT8 = 9 };

/* Where and why lpn_init (or another call) failed. */
typedef struct lpn_error {
    lpn_rt_status_t status;
    uint32_t offset;                 /* byte offset in the model at fault, or LPN_NO_OFFSET */
    int32_t op_index;                /* operator at fault, or -1 */
    int32_t tensor_index;            /* tensor at fault, or -1 */
    int64_t detail;                  /* code-specific: builtin code, op version, required arena bytes */
    char name[LPN_ERROR_NAME_BYTES]; /* custom op name for LPN_RT_ERR_UNKNOWN_CUSTOM, the unknown option
                                        key for LPN_RT_ERR_OP_OPTIONS with detail -3, else "" */
} lpn_error_t;

/* A tensor as the caller sees it. Scales are float32 bit patterns (the runtime never uses floats). */
typedef struct lpn_tensor_info {
    int32_t index;          /* tensor index in the subgraph */
    int32_t type;           /* LPN_TYPE_INT8, _INT32, _UINT8 or _INT16 */
    int32_t rank;
    int32_t dims[LPN_MAX_DIMS];
    uint32_t bytes;         /* element count * element size */
    uint32_t scale_bits;    /* float32 bits of the (first) scale; 0 when not quantized */
    int32_t zero_point;
    int32_t is_constant;    /* 1 when the data lives in the model */
    uint32_t arena_offset;  /* planned offset from the start of the tensor region; LPN_NO_OFFSET if none */
    int32_t first_op;       /* planner lifetime: first op writing it (graph inputs: 0); -1 if none */
    int32_t last_op;        /* last op reading it (graph outputs: op count - 1); -1 if none */
} lpn_tensor_info_t;

/* One operator as the caller sees it (for profiling tables). */
typedef struct lpn_op_info {
    int32_t builtin_code;   /* TFLite BuiltinOperator, 32 (CUSTOM) for custom ops */
    const char *name;       /* kernel name, e.g. "CONV_2D" or the custom code */
    int32_t n_inputs, n_outputs;
    int32_t inputs[LPN_MAX_OP_INPUTS];
    int32_t outputs[LPN_MAX_OP_OUTPUTS];
    uint64_t macs;          /* multiply-accumulates per invoke (0 for ops without MACs) */
} lpn_op_info_t;

/* Arena accounting after lpn_init. */
typedef struct lpn_arena_stats {
    uint32_t descriptor_bytes;  /* tensor/op descriptors and per-op prepared data (multipliers, shifts) */
    uint32_t planned_bytes;     /* tensor region from the planner: max(offset + size) */
    uint32_t scratch_bytes;     /* largest kernel scratch buffer, after the tensor region */
    uint32_t used_bytes;        /* everything above, including alignment padding */
    uint32_t arena_bytes;       /* what the caller gave */
} lpn_arena_stats_t;

/* Profiling: called before (phase 0) and after (phase 1) each operator. */
typedef void (*lpn_profile_fn)(void *user, uint32_t op_index, uint32_t phase);

struct lpn_tensor;
struct lpn_op;

/* Caller-owned runtime state. Treat the fields as private; use the functions below. */
typedef struct lpn_runtime {
    const uint8_t *model;
    uint32_t model_bytes;
    uint8_t *arena;             /* aligned start of the arena */
    uint32_t arena_bytes;       /* usable bytes after alignment */
    uint32_t arena_given;
    struct lpn_tensor *tensors;
    uint32_t n_tensors;
    struct lpn_op *ops;
    uint32_t n_ops;
    int32_t inputs[LPN_MAX_GRAPH_IO];
    int32_t outputs[LPN_MAX_GRAPH_IO];
    uint32_t n_inputs, n_outputs;
    uint32_t persistent_used;   /* bump pointer of prepared per-op data */
    uint32_t descriptor_bytes, tensor_base, planned_bytes, scratch_base, scratch_bytes, used_bytes;
    int ready;
    int32_t ctx_op, ctx_tensor; /* what lpn_init is reading, attached to errors */
    lpn_profile_fn profile;
    void *profile_user;
    lpn_error_t error;
} lpn_runtime_t;

/* Reads, validates, resolves, prepares and plans `model` (kept in place: it must outlive `rt`).
 * On LPN_RT_ERR_ARENA_TOO_SMALL, lpn_last_error(rt)->detail holds the arena bytes required; when the arena
 * cannot even hold the descriptors, that number is the descriptor size (a lower bound: call again). */
lpn_rt_status_t lpn_init(lpn_runtime_t *rt, const void *model, size_t model_bytes, void *arena, size_t arena_bytes);

uint32_t lpn_input_count(const lpn_runtime_t *rt);
uint32_t lpn_output_count(const lpn_runtime_t *rt);
lpn_rt_status_t lpn_input_info(const lpn_runtime_t *rt, uint32_t i, lpn_tensor_info_t *info);
lpn_rt_status_t lpn_output_info(const lpn_runtime_t *rt, uint32_t i, lpn_tensor_info_t *info);

/* Copies `bytes` (must equal the tensor's byte size) into graph input i. */
lpn_rt_status_t lpn_set_input(lpn_runtime_t *rt, uint32_t i, const void *data, size_t bytes);
/* Runs every operator in order. */
lpn_rt_status_t lpn_invoke(lpn_runtime_t *rt);
/* Copies graph output i into `data` (`bytes` must equal the tensor's byte size). */
lpn_rt_status_t lpn_get_output(lpn_runtime_t *rt, uint32_t i, void *data, size_t bytes);
/* Pointers to graph input/output data in the arena (NULL when out of range or not ready). */
void *lpn_input_data(lpn_runtime_t *rt, uint32_t i);
const void *lpn_output_data(const lpn_runtime_t *rt, uint32_t i);

uint32_t lpn_tensor_count(const lpn_runtime_t *rt);
lpn_rt_status_t lpn_tensor_info(const lpn_runtime_t *rt, uint32_t tensor_index, lpn_tensor_info_t *info);
uint32_t lpn_op_count(const lpn_runtime_t *rt);
lpn_rt_status_t lpn_op_info(const lpn_runtime_t *rt, uint32_t op_index, lpn_op_info_t *info);
lpn_rt_status_t lpn_arena_stats(const lpn_runtime_t *rt, lpn_arena_stats_t *stats);

/* Installs a per-op profiling callback (NULL removes it). */
void lpn_set_profiler(lpn_runtime_t *rt, lpn_profile_fn fn, void *user);
/* Profiling hook called before (phase 0) and after (phase 1) every operator, independent of
 * lpn_set_profiler. The runtime provides a weak empty definition; a target overrides it (the Cortex-M
 * runner links targets/cortex-m/profile_qemu.c, whose address the QEMU insn_count plugin watches). Same
 * prototype as targets/cortex-m/profile.h. */
void lpn_profile_mark(uint32_t op_index, uint32_t phase);

/* Short constant description of a status code ("unknown builtin operator", ...). */
const char *lpn_error_string(lpn_rt_status_t status);
/* The last error recorded on `rt` (status LPN_RT_OK when none). */
const lpn_error_t *lpn_last_error(const lpn_runtime_t *rt);
/* Writes "<description> (op 3, tensor 7, byte offset 0x1a4, detail 99, name 'X')" into buf (NUL-terminated,
 * truncated to buf_bytes); returns the number of characters written without the NUL. */
size_t lpn_format_error(const lpn_error_t *error, char *buf, size_t buf_bytes);

/* Integer-only TFLite QuantizeMultiplier of the real value a * b / c * 2^pow2, where a, b, c are float32
 * bit patterns: reproduces TFLite's double arithmetic bit for bit (see docs/runtime.md). Returns LPN_RT_OK,
 * or LPN_RT_ERR_QUANTIZATION when a scale is negative, zero (c), infinite or NaN. */
lpn_rt_status_t lpn_quantize_multiplier(uint32_t a_bits, uint32_t b_bits, uint32_t c_bits, int32_t pow2,
                                     int32_t *multiplier, int32_t *shift);

#ifdef __cplusplus
}
#endif

#endif /* LPN_RUNTIME_H */
