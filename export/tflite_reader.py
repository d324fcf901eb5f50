""".tflite bytes -> IntGraph, for files written by lpn and int8 files written by TFLiteConverter.

Every field is read through a guard that turns decoding failures into :class:`TFLiteFormatError`
naming the field path (``subgraphs[0].tensors[3].quantization``) and the byte offset of its table.
Semantic checks (buffer sizes, index ranges, op support) name the tensor, op or buffer at fault.
Version checks (docs/runtime.md, "Model versions") come first: a file that needs a newer lpn raises
:class:`ModelVersionError` naming the op and the versions; a file without lpn metadata is read when its
ops are supported.
"""

from __future__ import annotations

import contextlib
import json
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from lpn_tf.export import lpn_ops
from lpn_tf.export import tflite_format as fmt
from lpn_tf.export.graph import DTYPES, GraphError, IntGraph, Op, Quant, Tensor


class TFLiteFormatError(ValueError):
    """A .tflite file is malformed or uses something lpn cannot represent; names the field and byte."""


class ModelVersionError(TFLiteFormatError):
    """The file needs a newer lpn: its ``min_reader_version`` is newer than the installed lpn, or it uses an
    LPN custom op, op version or options version this lpn does not know. The message names the op and the
    versions and says "upgrade lpn"."""


class _Location:
    """The table being decoded (set once fetched) so errors can give its byte offset."""

    table: Any = None


@contextlib.contextmanager
def _field(path: str, table: Any = None) -> Iterator[_Location]:
    loc = _Location()
    loc.table = table
    try:
        yield loc
    except TFLiteFormatError:
        raise
    except (struct.error, IndexError, TypeError, ValueError, UnicodeDecodeError, OverflowError) as err:
        where = f" (table at byte {loc.table._tab.Pos})" if loc.table is not None else ""
        raise TFLiteFormatError(f"{path}{where}: cannot decode: {err}") from None


def _options(op: Any, kind: str, path: str) -> dict[str, Any]:
    """Builtin options of one operator as a graph options dict."""
    t = op.BuiltinOptionsType()
    table = op.BuiltinOptions()
    if kind == "RESHAPE":
        return {}
    if kind == "SOFTMAX":
        if t != schema.BuiltinOptions.SoftmaxOptions or table is None:
            raise TFLiteFormatError(f"{path}: builtin_options type {t} does not match SOFTMAX")
        o = schema.SoftmaxOptions()
        o.Init(table.Bytes, table.Pos)
        if o.Beta() != 1.0:
            raise TFLiteFormatError(f"{path}: SOFTMAX beta {o.Beta()} is not supported (only 1.0)")
        return {}
    expected = {
        "CONV_2D": schema.BuiltinOptions.Conv2DOptions,
        "DEPTHWISE_CONV_2D": schema.BuiltinOptions.DepthwiseConv2DOptions,
        "FULLY_CONNECTED": schema.BuiltinOptions.FullyConnectedOptions,
        "ADD": schema.BuiltinOptions.AddOptions,
        "AVERAGE_POOL_2D": schema.BuiltinOptions.Pool2DOptions,
        "MAX_POOL_2D": schema.BuiltinOptions.Pool2DOptions,
        "MEAN": schema.BuiltinOptions.ReducerOptions,
    }[kind]
    if t != expected or table is None:
        raise TFLiteFormatError(f"{path}: builtin_options type {t} does not match {kind}")
    cls = {
        schema.BuiltinOptions.Conv2DOptions: schema.Conv2DOptions,
        schema.BuiltinOptions.DepthwiseConv2DOptions: schema.DepthwiseConv2DOptions,
        schema.BuiltinOptions.FullyConnectedOptions: schema.FullyConnectedOptions,
        schema.BuiltinOptions.AddOptions: schema.AddOptions,
        schema.BuiltinOptions.Pool2DOptions: schema.Pool2DOptions,
        schema.BuiltinOptions.ReducerOptions: schema.ReducerOptions,
    }[t]
    o = cls()
    o.Init(table.Bytes, table.Pos)
    out: dict[str, Any] = {}

    def activation() -> None:
        code = o.FusedActivationFunction()
        if code not in fmt.ACTIVATION_NAMES:
            raise TFLiteFormatError(f"{path}: fused activation code {code} not supported (NONE, RELU, RELU6)")
        out["activation"] = fmt.ACTIVATION_NAMES[code]

    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"):
        if o.Padding() not in fmt.PADDING_NAMES:
            raise TFLiteFormatError(f"{path}: padding code {o.Padding()} unknown")
        out.update(padding=fmt.PADDING_NAMES[o.Padding()], stride_h=o.StrideH(), stride_w=o.StrideW())
        activation()
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D") and (o.DilationHFactor(), o.DilationWFactor()) != (1, 1):
        raise TFLiteFormatError(f"{path}: dilation {o.DilationHFactor()}x{o.DilationWFactor()} not supported")
    if kind == "DEPTHWISE_CONV_2D":
        out["depth_multiplier"] = o.DepthMultiplier()
    if kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        out.update(filter_h=o.FilterHeight(), filter_w=o.FilterWidth())
    if kind in ("FULLY_CONNECTED", "ADD"):
        activation()
    if kind == "FULLY_CONNECTED":
        out["keep_num_dims"] = int(bool(o.KeepNumDims()))
    if kind == "MEAN":
        out["keep_dims"] = int(bool(o.KeepDims()))
    return out


def _quant(tensor: Any, path: str) -> Quant | None:
    q = tensor.Quantization()
    if q is None or q.ScaleIsNone() or q.ScaleLength() == 0:
        return None
    with _field(f"{path}.quantization", q):
        scale = np.asarray(q.ScaleAsNumpy(), np.float32).copy()
        zp = (
            np.asarray(q.ZeroPointAsNumpy(), np.int64).copy()
            if q.ZeroPointLength()
            else np.zeros(scale.shape, np.int64)
        )
        axis = q.QuantizedDimension()
    if zp.shape != scale.shape:
        raise TFLiteFormatError(f"{path}.quantization: {scale.size} scales but {zp.size} zero points")
    return Quant(scale, zp, axis)


def read_tflite(data: bytes | bytearray | memoryview | str | Path) -> IntGraph:
    """Parse a .tflite file (bytes or a path) into an :class:`IntGraph`.

    Raises:
        TFLiteFormatError: malformed bytes, unsupported tensor types or ops; the message names the field
            path and byte offset (or the tensor / op / buffer index).
    """
    if isinstance(data, str | Path):
        data = Path(data).read_bytes()
    buf = bytes(data)
    if len(buf) < 8:
        raise TFLiteFormatError(f"file is {len(buf)} bytes, too short for a flatbuffer header (8 bytes)")
    if buf[4:8] != fmt.FILE_IDENTIFIER:
        raise TFLiteFormatError(f"bytes 4..8: file identifier {buf[4:8]!r}, expected {fmt.FILE_IDENTIFIER!r}")
    root = struct.unpack_from("<I", buf, 0)[0]
    if root + 4 > len(buf):
        raise TFLiteFormatError(
            f"byte 0: root table offset {root} beyond the end of the file ({len(buf)} bytes)"
        )
    with _field("model"):
        model = schema.Model.GetRootAs(buf, 0)
        version = model.Version()
        n_sub = model.SubgraphsLength()
        n_buf = model.BuffersLength()
        n_codes = model.OperatorCodesLength()
    if version != fmt.SCHEMA_VERSION:
        raise TFLiteFormatError(f"model.version: schema version {version}, expected {fmt.SCHEMA_VERSION}")
    if n_sub != 1:
        raise TFLiteFormatError(f"model.subgraphs: {n_sub} subgraphs, lpn reads exactly one")

    def buffer_bytes(index: int, who: str) -> bytes | None:
        if not 0 <= index < n_buf:
            raise TFLiteFormatError(f"{who}: buffer index {index} out of range ({n_buf} buffers)")
        with _field(f"model.buffers[{index}]") as loc:
            b = loc.table = model.Buffers(index)
            if b.Offset() > 1 or b.Size() > 0:
                raise TFLiteFormatError(
                    f"model.buffers[{index}]: external (offset) buffers are not supported"
                )
            if b.DataIsNone() or b.DataLength() == 0:
                return None
            return b.DataAsNumpy().tobytes()

    meta_index, meta = _read_metadata(model, buffer_bytes)
    if meta is not None:
        check_versions(meta, f"model.metadata[{meta_index}] ('lpn')")
    written_by = _written_by(meta)
    # an unknown op or version in a file lpn wrote means a newer lpn wrote it
    too_new = ModelVersionError if meta is not None else TFLiteFormatError
    kinds: list[str] = []
    for i in range(n_codes):
        with _field(f"model.operator_codes[{i}]") as loc:
            c = loc.table = model.OperatorCodes(i)
            code = max(c.BuiltinCode(), c.DeprecatedBuiltinCode())
            custom = c.CustomCode()
            op_version = c.Version()
        if code == schema.BuiltinOperator.CUSTOM:
            name = (custom or b"").decode(errors="replace")
            if name not in lpn_ops.SPECS:
                raise too_new(
                    f"model.operator_codes[{i}]: custom op {name!r} (op version {op_version}) is not an LPN "
                    f"op known to lpn {_installed()} (known: {sorted(lpn_ops.SPECS)}); {written_by}"
                )
            if not 1 <= op_version <= fmt.LPN_OP_VERSION:
                raise too_new(
                    f"model.operator_codes[{i}]: LPN op {name} has op version {op_version}; "
                    f"lpn {_installed()} reads op versions 1..{fmt.LPN_OP_VERSION}; {written_by}"
                )
            kinds.append(name)
        elif code in fmt.BUILTIN_NAMES:
            kinds.append(fmt.BUILTIN_NAMES[code])
        else:
            name = fmt.ALL_BUILTIN_NAMES.get(code, str(code))
            raise TFLiteFormatError(f"model.operator_codes[{i}]: builtin op {name} is not supported by lpn")

    graph = IntGraph()
    with _field("subgraphs[0]") as loc:
        sub = loc.table = model.Subgraphs(0)
        n_tensors = sub.TensorsLength()
        graph.inputs = [int(i) for i in sub.InputsAsNumpy()] if sub.InputsLength() else []
        graph.outputs = [int(i) for i in sub.OutputsAsNumpy()] if sub.OutputsLength() else []
        n_ops = sub.OperatorsLength()
    for ti in range(n_tensors):
        path = f"subgraphs[0].tensors[{ti}]"
        with _field(path) as loc:
            t = loc.table = sub.Tensors(ti)
            name = (t.Name() or b"").decode() or f"tensor_{ti}"
            shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
            ttype = t.Type()
            raw = buffer_bytes(t.Buffer(), path)
            quant = _quant(t, path)
            if t.Sparsity() is not None:
                raise TFLiteFormatError(f"{path} ({name!r}): sparse tensors are not supported")
        if ttype not in fmt.TENSOR_TYPE_NAMES:
            type_name = fmt.ALL_TENSOR_TYPE_NAMES.get(ttype, str(ttype))
            raise TFLiteFormatError(
                f"{path} ({name!r}): tensor type {type_name} is not supported (int8, int16, int32, uint8)"
            )
        dtype = fmt.TENSOR_TYPE_NAMES[ttype]
        const = None
        if raw is not None:
            np_dtype = np.dtype(DTYPES[dtype]).newbyteorder("<")
            need = int(np.prod(shape, dtype=np.int64)) * np_dtype.itemsize
            if len(raw) != need:
                raise TFLiteFormatError(
                    f"{path} ({name!r}): buffer {t.Buffer()} holds {len(raw)} bytes, shape {list(shape)} "
                    f"of {dtype} needs {need}"
                )
            const = np.frombuffer(raw, np_dtype).astype(DTYPES[dtype]).reshape(shape)
        graph.tensors.append(Tensor(name, shape, dtype, quant, const))
    for k in range(n_ops):
        path = f"subgraphs[0].operators[{k}]"
        with _field(path) as loc:
            o = loc.table = sub.Operators(k)
            idx = o.OpcodeIndex()
            if not 0 <= idx < len(kinds):
                raise TFLiteFormatError(f"{path}: opcode_index {idx} out of range ({len(kinds)} codes)")
            kind = kinds[idx]
            inputs = [int(i) for i in o.InputsAsNumpy()] if o.InputsLength() else []
            outputs = [int(i) for i in o.OutputsAsNumpy()] if o.OutputsLength() else []
            if kind in lpn_ops.SPECS:
                if o.CustomOptionsFormat() != schema.CustomOptionsFormat.FLEXBUFFERS:
                    raise TFLiteFormatError(f"{path}: custom options of {kind} must be FLEXBUFFERS")
                raw_opts = o.CustomOptionsAsNumpy().tobytes() if o.CustomOptionsLength() else b""
                try:
                    options = lpn_ops.decode_options(kind, raw_opts)
                except GraphError as err:
                    raise TFLiteFormatError(f"{path}: {err}") from None
                if options.get("version", lpn_ops.OPTIONS_VERSION) != lpn_ops.OPTIONS_VERSION:
                    raise too_new(
                        f"{path}: {kind} options version {options['version']}; lpn {_installed()} reads "
                        f"options version {lpn_ops.OPTIONS_VERSION}; {written_by}"
                    )
            else:
                options = _options(o, kind, path)
        graph.ops.append(Op(kind, inputs, outputs, options, name=graph_name(graph, outputs)))
    if meta is not None:
        _apply_metadata(meta, f"model.metadata[{meta_index}] ('lpn')", graph)
    try:
        graph.validate()
    except GraphError as err:
        raise TFLiteFormatError(f"subgraphs[0]: {err}") from None
    return graph


def graph_name(graph: IntGraph, outputs: list[int]) -> str:
    """Label an op by the name of its first output tensor (TFLiteConverter names them after layers)."""
    if outputs and 0 <= outputs[0] < len(graph.tensors):
        return graph.tensors[outputs[0]].name
    return ""


def _installed() -> str:
    from lpn_tf import __version__

    return __version__


def parse_version(text: object, where: str) -> tuple[int, ...]:
    """``"0.1.0"`` -> ``(0, 1, 0)``: the leading numeric components of a version string (a suffix such as
    ``"0.2.0.dev1"`` or ``"1.0rc1"`` is ignored). Raises TFLiteFormatError naming ``where`` otherwise."""
    parts: list[int] = []
    for part in str(text).split(".") if isinstance(text, str) else ():
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.end() != len(part):
            break
    if not parts:
        raise TFLiteFormatError(f"{where}: {text!r} is not a version string like '0.1.0'")
    return tuple(parts)


def _written_by(meta: dict[str, Any] | None) -> str:
    """The tail of an unknown-op message: who wrote the file, and what to do."""
    if meta is None:
        return "the file has no lpn metadata (not written by lpn): only builtin ops and LPN ops can be read"
    return f"the file was written by lpn {meta.get('lpn_version', '?')}; a newer lpn may know it: upgrade lpn"


def check_versions(meta: dict[str, Any], where: str) -> None:
    """Refuse lpn metadata that needs a newer lpn than the installed one.

    Args:
        meta: the decoded ``"lpn"`` metadata object.
        where: the field path for messages (``"model.metadata[0] ('lpn')"``).

    Raises:
        ModelVersionError: ``min_reader_version`` is newer than the installed lpn, or ``lpn_ops`` names an
            LPN op, op version or options version this lpn does not know (message: the op, the versions,
            "upgrade lpn").
        TFLiteFormatError: a version field is malformed.
    """
    installed = _installed()
    writer = meta.get("lpn_version", "?")
    if "min_reader_version" in meta:
        need = meta["min_reader_version"]
        if parse_version(need, f"{where}.min_reader_version") > parse_version(installed, "lpn version"):
            raise ModelVersionError(
                f"{where}: the file was written by lpn {writer} and needs lpn >= {need} to be read; this is "
                f"lpn {installed}: upgrade lpn"
            )
    ops = meta.get("lpn_ops", {})
    if not isinstance(ops, dict):
        raise TFLiteFormatError(f"{where}.lpn_ops: expected an object, got {type(ops).__name__}")
    for code, versions in sorted(ops.items()):
        if not isinstance(versions, dict) or not all(
            isinstance(versions.get(k), int) for k in ("op_version", "options_version")
        ):
            raise TFLiteFormatError(
                f"{where}.lpn_ops[{code!r}]: expected {{'op_version': int, 'options_version': int}}, got "
                f"{versions!r:.80}"
            )
        op_version, options_version = versions["op_version"], versions["options_version"]
        used = f"LPN op {code!r} (op version {op_version}, options version {options_version})"
        if code not in lpn_ops.SPECS:
            raise ModelVersionError(
                f"{where}: the file uses {used}, which lpn {installed} does not know (known: "
                f"{sorted(lpn_ops.SPECS)}); {_written_by(meta)}"
            )
        if not 1 <= op_version <= fmt.LPN_OP_VERSION or options_version != lpn_ops.OPTIONS_VERSION:
            raise ModelVersionError(
                f"{where}: the file uses {used}; lpn {installed} reads op versions 1..{fmt.LPN_OP_VERSION} "
                f"and options version {lpn_ops.OPTIONS_VERSION}; {_written_by(meta)}"
            )


def _read_metadata(model: Any, buffer_bytes: Any) -> tuple[int, dict[str, Any] | None]:
    """The index and decoded JSON object of the ``"lpn"`` metadata entry, or ``(-1, None)`` without one."""
    with _field("model.metadata"):
        n_meta = model.MetadataLength()
    for i in range(n_meta):
        with _field(f"model.metadata[{i}]") as loc:
            m = loc.table = model.Metadata(i)
            name = (m.Name() or b"").decode()
            if name != fmt.METADATA_NAME:
                continue
            raw = buffer_bytes(m.Buffer(), f"model.metadata[{i}]") or b""
        try:
            meta = json.loads(raw.decode())
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise TFLiteFormatError(f"model.metadata[{i}] ('lpn'): not valid JSON ({err})") from None
        if not isinstance(meta, dict) or meta.get("format") != 1:
            raise TFLiteFormatError(f"model.metadata[{i}] ('lpn'): unknown metadata format {meta!r:.80}")
        return i, meta
    return -1, None


def _apply_metadata(meta: dict[str, Any], where: str, graph: IntGraph) -> None:
    """Copy the ``"lpn"`` metadata into ``graph.metadata`` and the tensors' bit widths."""
    bits = meta.get("tensor_bits", [])
    if len(bits) != len(graph.tensors):
        raise TFLiteFormatError(f"{where}: {len(bits)} tensor bit widths for {len(graph.tensors)} tensors")
    for t, b in zip(graph.tensors, bits, strict=True):
        t.bits = int(b)
    graph.metadata.update({k: v for k, v in meta.items() if k != "tensor_bits"})
