"""Name <-> code tables of the TFLite flatbuffer schema shared by the writer and the reader."""

from __future__ import annotations

from ai_edge_litert import schema_py_generated as schema

from lpn_tf.export.graph import BUILTIN_OPS

SCHEMA_VERSION = 3
FILE_IDENTIFIER = b"TFL3"
METADATA_NAME = "lpn"
# OperatorCode.version of every LPN custom op this lpn writes; its reader accepts 1..LPN_OP_VERSION.
LPN_OP_VERSION = 1
# The oldest lpn that reads what this writer writes (the "lpn" metadata's min_reader_version): the base
# version every file needs, raised per file by the features it uses (FEATURE_READER_VERSIONS). A release
# that adds a new LPN op, op version or option adds its feature here with the release's version.
MIN_READER_VERSION = "0.1.0"
FEATURE_READER_VERSIONS: dict[str, str] = {
    "op:LPN_CONV_2D": "0.2.0",  # int8-weight LPN ops (sub-8-bit activation grids)
    "op:LPN_DEPTHWISE_CONV_2D": "0.2.0",
    "option:grid": "0.2.0",  # ceil / pow2 output grids of the LPN requantization
}


def reader_version_for(features: set[str]) -> str:
    """The oldest lpn that reads a file using ``features`` ("op:<custom code>", "option:<key>")."""
    needed = [MIN_READER_VERSION, *(FEATURE_READER_VERSIONS.get(f, MIN_READER_VERSION) for f in features)]
    return max(needed, key=lambda v: tuple(int(p) for p in v.split(".")))

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
