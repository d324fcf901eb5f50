"""IntGraph -> .tflite flatbuffer bytes (schema object API + flatbuffers/flexbuffers).

Two flavors: ``"builtin"`` (only TFLite builtin ops: runs on stock LiteRT and TFLite Micro) and
``"lpn"`` (builtins plus the LPN custom ops of docs/custom-ops.md). Every file carries a metadata entry
named ``"lpn"`` holding a JSON object (sorted keys, :func:`lpn_metadata`): the writing lpn's version, the
oldest lpn that can read the file, the LPN custom ops used with their op and options versions, scheme,
flavor, per-tensor bit widths and the planned arena bytes. The same graph always gives the same bytes
(for one lpn version). Constant buffers are 16-byte aligned so a runtime can read weights in place.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

from lpn_tf.export import lpn_ops, memory_plan
from lpn_tf.export import tflite_format as fmt
from lpn_tf.export.graph import GraphError, IntGraph, Op, Tensor

FLAVORS = ("builtin", "lpn")
BUFFER_ALIGNMENT = 16


class _AlignedBufferT(schema.BufferT):
    """A Buffer whose data vector starts on a 16-byte boundary of the final file."""

    def Pack(self, builder: flatbuffers.Builder) -> int:  # noqa: N802 - flatbuffers API name
        data_offset = None
        if self.data is not None:
            raw = bytes(self.data)
            builder.StartVector(1, len(raw), BUFFER_ALIGNMENT)
            builder.head = builder.head - len(raw)
            builder.Bytes[builder.head : builder.head + len(raw)] = raw
            data_offset = builder.EndVector(len(raw))
        schema.BufferStart(builder)
        if data_offset is not None:
            schema.BufferAddData(builder, data_offset)
        return schema.BufferEnd(builder)


def _features(graph: IntGraph) -> set[str]:
    """The versioned features a graph uses: its LPN ops ("op:<code>") and their non-default options."""
    used: set[str] = set()
    for op in graph.ops:
        if op.kind in lpn_ops.SPECS:
            used.add(f"op:{op.kind}")
            if int(op.options.get("grid", 0)) != 0:
                used.add("option:grid")
    return used


def lpn_metadata(graph: IntGraph, flavor: str) -> dict[str, Any]:
    """The JSON object stored under metadata name ``"lpn"`` (docs/runtime.md, "Model versions").

    Keys: ``format`` (1), ``lpn_version`` (the writer), ``min_reader_version`` (the oldest lpn that reads
    the file, from the features it uses: :func:`tflite_format.reader_version_for`), ``lpn_ops`` (custom
    code -> ``{"op_version", "options_version"}`` for each LPN op in the graph; empty for builtin-only
    graphs), ``flavor``, ``scheme``, ``tensor_bits`` (one bit width per tensor) and ``arena_bytes``
    (planned arena size).
    """
    from lpn_tf import __version__

    return {
        "format": 1,
        "lpn_version": __version__,
        "min_reader_version": fmt.reader_version_for(_features(graph)),
        "lpn_ops": {
            op.kind: {"op_version": fmt.LPN_OP_VERSION, "options_version": int(op.options["version"])}
            for op in graph.ops
            if op.kind in lpn_ops.SPECS
        },
        "flavor": flavor,
        "scheme": str(graph.metadata.get("scheme", "int8")),
        "tensor_bits": [t.bits for t in graph.tensors],
        "arena_bytes": memory_plan.plan(graph).arena_bytes,
    }


def _quantization(t: Tensor) -> schema.QuantizationParametersT | None:
    if t.quant is None:
        return None
    q = schema.QuantizationParametersT()
    q.scale = [float(s) for s in t.quant.scale.astype(np.float32)]
    q.zeroPoint = [int(z) for z in t.quant.zero_point]
    q.quantizedDimension = int(t.quant.axis)
    return q


def _builtin_options(op: Op) -> tuple[int, Any]:
    o = op.options
    act = fmt.ACTIVATIONS[str(o.get("activation", "NONE"))]
    kind = op.kind
    if kind == "CONV_2D":
        opt = schema.Conv2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = fmt.PADDINGS[str(o["padding"])], o["stride_h"], o["stride_w"]
        opt.fusedActivationFunction, opt.dilationHFactor, opt.dilationWFactor = act, 1, 1
        return schema.BuiltinOptions.Conv2DOptions, opt
    if kind == "DEPTHWISE_CONV_2D":
        opt = schema.DepthwiseConv2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = fmt.PADDINGS[str(o["padding"])], o["stride_h"], o["stride_w"]
        opt.depthMultiplier = o.get("depth_multiplier", 1)
        opt.fusedActivationFunction, opt.dilationHFactor, opt.dilationWFactor = act, 1, 1
        return schema.BuiltinOptions.DepthwiseConv2DOptions, opt
    if kind == "FULLY_CONNECTED":
        opt = schema.FullyConnectedOptionsT()
        opt.fusedActivationFunction = act
        opt.keepNumDims = bool(o.get("keep_num_dims", 0))
        return schema.BuiltinOptions.FullyConnectedOptions, opt
    if kind == "ADD":
        opt = schema.AddOptionsT()
        opt.fusedActivationFunction = act
        return schema.BuiltinOptions.AddOptions, opt
    if kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        opt = schema.Pool2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = fmt.PADDINGS[str(o["padding"])], o["stride_h"], o["stride_w"]
        opt.filterHeight, opt.filterWidth, opt.fusedActivationFunction = o["filter_h"], o["filter_w"], act
        return schema.BuiltinOptions.Pool2DOptions, opt
    if kind == "RESHAPE":
        return schema.BuiltinOptions.NONE, None
    if kind == "MEAN":
        opt = schema.ReducerOptionsT()
        opt.keepDims = bool(o.get("keep_dims", 0))
        return schema.BuiltinOptions.ReducerOptions, opt
    if kind == "SOFTMAX":
        opt = schema.SoftmaxOptionsT()
        opt.beta = 1.0
        return schema.BuiltinOptions.SoftmaxOptions, opt
    raise GraphError(f"op kind {kind!r} has no builtin encoding")


def to_tflite_bytes(graph: IntGraph, flavor: str = "lpn", description: str | None = None) -> bytes:
    """Serialize ``graph`` to .tflite bytes.

    Args:
        graph: the integer graph (validated here).
        flavor: ``"builtin"`` refuses LPN custom ops; ``"lpn"`` allows them.
        description: the model description string (default ``"lpn <version> (<flavor>)"``).

    Raises:
        GraphError: naming the op that the flavor cannot express.
    """
    if flavor not in FLAVORS:
        raise ValueError(f"flavor must be one of {FLAVORS}, got {flavor!r}")
    graph.validate()
    for k, op in enumerate(graph.ops):
        if op.kind in lpn_ops.SPECS and flavor == "builtin":
            raise GraphError(f"{op.label(k)}: LPN custom op not allowed in the 'builtin' flavor")
    meta = lpn_metadata(graph, flavor)

    buffers: list[schema.BufferT] = [_AlignedBufferT()]
    tensors = []
    for t in graph.tensors:
        tt = schema.TensorT()
        tt.name = t.name
        tt.shape = list(t.shape)
        tt.type = fmt.TENSOR_TYPES[t.dtype]
        tt.quantization = _quantization(t)
        tt.buffer = 0
        if t.data is not None:
            buf = _AlignedBufferT()
            buf.data = np.ascontiguousarray(t.data).astype(t.data.dtype.newbyteorder("<")).tobytes()
            buffers.append(buf)
            tt.buffer = len(buffers) - 1
        tensors.append(tt)

    opcodes: list[schema.OperatorCodeT] = []
    opcode_index: dict[str, int] = {}
    operators = []
    for op in graph.ops:
        if op.kind not in opcode_index:
            code = schema.OperatorCodeT()
            if op.kind in lpn_ops.SPECS:
                code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
                code.customCode = op.kind
                code.version = fmt.LPN_OP_VERSION
            else:
                code.builtinCode = fmt.BUILTIN_CODES[op.kind]
                code.deprecatedBuiltinCode = min(code.builtinCode, 127)
                code.version = fmt.BUILTIN_VERSIONS[op.kind]
            opcode_index[op.kind] = len(opcodes)
            opcodes.append(code)
        ot = schema.OperatorT()
        ot.opcodeIndex = opcode_index[op.kind]
        ot.inputs = list(op.inputs)
        ot.outputs = list(op.outputs)
        if op.kind in lpn_ops.SPECS:
            ot.customOptions = list(lpn_ops.encode_options(op))
            ot.customOptionsFormat = schema.CustomOptionsFormat.FLEXBUFFERS
        else:
            ot.builtinOptionsType, ot.builtinOptions = _builtin_options(op)
        operators.append(ot)

    sub = schema.SubGraphT()
    sub.tensors, sub.operators = tensors, operators
    sub.inputs, sub.outputs = list(graph.inputs), list(graph.outputs)
    sub.name = "main"

    meta_buf = _AlignedBufferT()
    meta_buf.data = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    buffers.append(meta_buf)
    md = schema.MetadataT()
    md.name = fmt.METADATA_NAME
    md.buffer = len(buffers) - 1

    model = schema.ModelT()
    model.version = fmt.SCHEMA_VERSION
    model.operatorCodes = opcodes
    model.subgraphs = [sub]
    model.buffers = buffers
    model.metadata = [md]
    model.description = description or f"lpn {meta['lpn_version']} ({flavor})"

    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=fmt.FILE_IDENTIFIER)
    return bytes(builder.Output())


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    A crash or error never leaves a partial file at ``path``.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_tflite(graph: IntGraph, path: str | os.PathLike[str], flavor: str = "lpn") -> Path:
    """Serialize ``graph`` (see :func:`to_tflite_bytes`) and write it atomically to ``path``."""
    return write_atomic(path, to_tflite_bytes(graph, flavor))
