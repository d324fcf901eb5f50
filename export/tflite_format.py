"""Name <-> code tables of the TFLite flatbuffer schema shared by the writer and the reader."""

from __future__ import annotations

from ai_edge_litert import schema_py_generated as schema

from lpn_tf.export.graph import BUILTIN_OPS

SCHEMA_VERSION = 3
FILE_IDENTIFIER = b"TFL3"
METADATA_NAME = "lpn"

TENSOR_TYPES: dict[str, int] = {
    "int8": schema.TensorType.INT8,
    "int16": schema.TensorType.INT16,
    "int32": schema.TensorType.INT32,
    "uint8": schema.TensorType.UINT8,
}
TENSOR_TYPE_NAMES: dict[int, str] = {v: k for k, v in TENSOR_TYPES.items()}
ALL_TENSOR_TYPE_NAMES: dict[int, str] = {
    v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")
}

ACTIVATIONS: dict[str, int] = {
    "NONE": schema.ActivationFunctionType.NONE,
    "RELU": schema.ActivationFunctionType.RELU,
    "RELU6": schema.ActivationFunctionType.RELU6,
}
ACTIVATION_NAMES: dict[int, str] = {v: k for k, v in ACTIVATIONS.items()}
PADDINGS: dict[str, int] = {"SAME": schema.Padding.SAME, "VALID": schema.Padding.VALID}
PADDING_NAMES: dict[int, str] = {v: k for k, v in PADDINGS.items()}

BUILTIN_CODES: dict[str, int] = {
    name: getattr(schema.BuiltinOperator, name)
    for name in BUILTIN_OPS
}
BUILTIN_NAMES: dict[int, str] = {v: k for k, v in BUILTIN_CODES.items()}
ALL_BUILTIN_NAMES: dict[int, str] = {
    v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")
}

# Op versions written for int8 kernels (what TFLiteConverter writes for the same int8 ops).
BUILTIN_VERSIONS: dict[str, int] = {
    "CONV_2D": 3,
    "DEPTHWISE_CONV_2D": 3,
    "FULLY_CONNECTED": 4,
    "ADD": 2,
    "AVERAGE_POOL_2D": 2,
    "MAX_POOL_2D": 2,
    "RESHAPE": 1,
    "MEAN": 2,
    "SOFTMAX": 2,
}
