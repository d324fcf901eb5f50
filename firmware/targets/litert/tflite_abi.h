/*
 * The slice of TFLite's C ABI (tensorflow/lite/core/c/common.h) that the LPN custom-op registrar uses,
 * declared here because no installed wheel ships the TFLite headers.
 *
 * Pinned to the layout of TensorFlow 2.21 / ai-edge-litert 2.3 on LP64 hosts (x86-64, aarch64), which is
 * "semi-ABI stable" upstream: fields are only ever appended. Every struct is declared up to the last field
 * lpn reads (or, for TfLiteRegistration, which TFLite copies by value, in full). The sizes below are
 * checked at compile time, and lpn_litert.c checks the runtime side at load (tensor names, types, shapes
 * and quantization read through these structs must match the model file; see docs/litert.md).
 *
 * Floats: TfLiteQuantizationParams.scale is a C float; lpn never computes with it, so it is declared as
 * its IEEE-754 bit pattern (uint32_t) -- the integer kernels and this glue stay free of floating point.
 */
#ifndef LPN_TFLITE_ABI_H
#define LPN_TFLITE_ABI_H

#include <stddef.h>
#include <stdint.h>

#define LPN_TFLITE_ABI_TENSORFLOW "2.21"
#define LPN_TFLITE_ABI_LITERT "2.3"

typedef enum { kTfLiteOk = 0, kTfLiteError = 1 } TfLiteStatus;

/* TfLiteType values lpn uses (common.h / c_api_types.h). */
enum {
    kTfLiteInt32 = 2,
    kTfLiteUInt8 = 3,
    kTfLiteInt16 = 7,
    kTfLiteInt8 = 9
};

/* kTfLiteBuiltinCustom in builtin_ops.h. */
enum { kTfLiteBuiltinCustom = 32 };

/* TfLiteQuantizationType */
enum { kTfLiteNoQuantization = 0, kTfLiteAffineQuantization = 1 };

typedef struct {
    int size;
    int data[]; /* C99 flexible array member, as upstream */
} TfLiteIntArray;

#ifndef LPN_TFLITE_ABI_DRIFT_TEST
typedef struct {
    uint32_t scale_bits; /* float scale, as its bit pattern */
    int32_t zero_point;
} TfLiteQuantizationParams;
#else
/* Tests only (tests/test_litert_lpn.py): a deliberately wrong layout, as a TFLite upgrade that reordered
 * fields would cause, to prove the load-time self-test catches the drift. */
typedef struct {
    int32_t zero_point;
    uint32_t scale_bits;
} TfLiteQuantizationParams;
#endif

typedef struct {
    int type; /* TfLiteQuantizationType */
    void *params;
} TfLiteQuantization;

/* The params of a kTfLiteAffineQuantization TfLiteQuantization. */
typedef struct {
    void *scale;                             /* TfLiteFloatArray*: never read by lpn */
    TfLiteIntArray *zero_point;
    int32_t quantized_dimension;
} TfLiteAffineQuantization;

typedef struct {
    int type;                                /* TfLiteType */
    void *data;                              /* TfLitePtrUnion: a union of pointers */
    TfLiteIntArray *dims;
    TfLiteQuantizationParams params;
    int allocation_type;                     /* TfLiteAllocationType */
    size_t bytes;
    const void *allocation;
    const char *name;
    void *delegate;                          /* struct TfLiteDelegate* */
    int buffer_handle;                       /* TfLiteBufferHandle */
    _Bool data_is_stale;
    _Bool is_variable;
    TfLiteQuantization quantization;
    void *sparsity;                          /* TfLiteSparsity* */
    const TfLiteIntArray *dims_signature;
} TfLiteTensor;

typedef struct {
    TfLiteIntArray *inputs;
    TfLiteIntArray *outputs;
    TfLiteIntArray *intermediates;
    TfLiteIntArray *temporaries;
    void *user_data;
    void *builtin_data;
    const void *custom_initial_data;
    int custom_initial_data_size;
    void *delegate;                          /* struct TfLiteDelegate* */
    _Bool might_have_side_effect;
} TfLiteNode;

struct TfLiteContext;

/* Only the leading fields lpn uses; the interpreter owns the struct (never copied or allocated here). */
typedef struct TfLiteContext {
    size_t tensors_size;
    TfLiteStatus (*GetExecutionPlan)(struct TfLiteContext *context, TfLiteIntArray **execution_plan);
    TfLiteTensor *tensors;
    void *impl_;
    TfLiteStatus (*ResizeTensor)(struct TfLiteContext *context, TfLiteTensor *tensor, TfLiteIntArray *new_size);
    void (*ReportError)(struct TfLiteContext *context, const char *msg, ...);
} TfLiteContext;

typedef struct {
    void *(*init)(TfLiteContext *context, const char *buffer, size_t length);
    void (*free)(TfLiteContext *context, void *buffer);
    TfLiteStatus (*prepare)(TfLiteContext *context, TfLiteNode *node);
    TfLiteStatus (*invoke)(TfLiteContext *context, TfLiteNode *node);
    const char *(*profiling_string)(const TfLiteContext *context, const TfLiteNode *node);
    int32_t builtin_code;
    const char *custom_name;
    int version;
    void *registration_external;             /* TfLiteOperator* */
    void *(*async_kernel)(TfLiteContext *context, TfLiteNode *node);
    uint64_t inplace_operator;
} TfLiteRegistration;

/* The LP64 sizes of TF 2.21 / LiteRT 2.3. */
typedef char lpn_abi_check_tensor[(sizeof(void *) != 8 || sizeof(TfLiteTensor) == 112) ? 1 : -1];
typedef char lpn_abi_check_node[(sizeof(void *) != 8 || sizeof(TfLiteNode) == 80) ? 1 : -1];
typedef char lpn_abi_check_registration[(sizeof(void *) != 8 || sizeof(TfLiteRegistration) == 88) ? 1 : -1];

#endif
