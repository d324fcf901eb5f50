"""Counting lpn integer graphs (:class:`lpn_tf.export.graph.IntGraph`) and the .tflite files they
are written to.

Builtin int8 ops use 32-bit accumulators and 32-bit (Q31) requantization multipliers; LPN shift ops
have ``1 + exponent_bits``-bit weights and ``mantissa_bits``-bit multipliers (double quantization);
LPN_CONV_2D / LPN_DEPTHWISE_CONV_2D are CONV_2D / DEPTHWISE_CONV_2D (int8 weights, the filter tensor's
bits) with ``mantissa_bits``-bit multipliers; LPN_QUANT_NORM is a QuantNorm (accumulator add +
requantization). The output ``grid`` option of LPN ops does not change the count: every grid is one
requantization (multiply, rounding shift, zero-point add) per output element. Fused RELU/RELU6 are free
(output clamp); RESHAPE costs nothing. Shapes are per sample (the leading batch dimension is dropped).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from lpn_tf.ace import ops
from lpn_tf.ace.ops import CountError, Numerics, OpCount
from lpn_tf.ace.registry import ModelAdapter, register_model

ACCUMULATOR_BITS = 32
BUILTIN_SCALE_BITS = 32
FREE_KINDS = ("RESHAPE",)
_ACTIVATIONS = {"NONE": "linear", "RELU": "relu", "RELU6": "relu6"}


def is_int_graph(obj: Any) -> bool:
    """True for :class:`lpn_tf.export.graph.IntGraph` objects (checked without importing export/)."""
    return type(obj).__name__ == "IntGraph" and hasattr(obj, "ops") and hasattr(obj, "tensors")


def _per_sample(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(shape[1:]) if len(shape) > 1 else tuple(shape)


def count_int_graph(graph: Any, **options: Any) -> list[OpCount]:
    """The op rows of an integer graph, in execution order.

    Raises:
        CountError: naming the op (index, kind, name) that cannot be counted.
    """
    rows: list[OpCount] = []
    for index, op in enumerate(graph.ops):
        if op.kind in FREE_KINDS:
            continue
        try:
            rows.extend(count_graph_op(graph, op, op.name or f"op{index}"))
        except CountError:
            raise
        except (KeyError, IndexError, ValueError, TypeError) as err:
            raise CountError(f"op {index} ({op.kind}, {op.name!r}): cannot count: {err}") from None
    return rows


def count_graph_op(graph: Any, op: Any, name: str) -> list[OpCount]:
    """Rows of one graph op (see the module docstring for the widths)."""
    t = graph.tensors
    x = t[op.inputs[0]]
    y = t[op.outputs[0]]
    x_shape, y_shape = _per_sample(x.shape), _per_sample(y.shape)
    o = op.options
    act = _ACTIVATIONS.get(str(o.get("activation", "NONE")), "linear")
    has_bias = len(op.inputs) > 2 and op.inputs[2] != -1
    builtin = Numerics("int", 8, x.bits, ACCUMULATOR_BITS, BUILTIN_SCALE_BITS, y.bits)
    kind = op.kind
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        w = t[op.inputs[1]]
        num = Numerics("int", w.bits, x.bits, ACCUMULATOR_BITS, BUILTIN_SCALE_BITS, y.bits)
        return [_weighted(name, kind, num, tuple(w.shape), x_shape, y_shape, has_bias, act, o)]
    if kind in ("LPN_CONV_2D", "LPN_DEPTHWISE_CONV_2D"):
        w = t[op.inputs[1]]
        num = Numerics("int", w.bits, x.bits, ACCUMULATOR_BITS, int(o["mantissa_bits"]), y.bits)
        base = kind.removeprefix("LPN_")
        return [_weighted(name, base, num, tuple(w.shape), x_shape, y_shape, has_bias, "linear", o)]
    if kind.startswith("LPN_SHIFT_"):
        num = Numerics(
            "shift", 1 + int(o["exponent_bits"]), x.bits, ACCUMULATOR_BITS, int(o["mantissa_bits"]), y.bits
        )
        filter_shape = tuple(int(d) for d in o["filter_shape"])
        return [
            _weighted(
                name,
                kind.removeprefix("LPN_SHIFT_"),
                num,
                filter_shape,
                x_shape,
                y_shape,
                has_bias,
                "linear",
                o,
            )
        ]
    if kind == "LPN_QUANT_NORM":
        num = Numerics("int", 0, x.bits, ACCUMULATOR_BITS, int(o["mantissa_bits"]), y.bits)
        return [ops.batch_norm(name, num, y_shape, kind="quant_norm")]
    if kind == "ADD":
        return [ops.residual_add(name, builtin, y_shape, len(op.inputs), act)]
    if kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        kernel = (int(o["filter_h"]), int(o["filter_w"]))
        _, valid = _pairs(x_shape, y_shape, kernel, o)
        mode = "max" if kind == "MAX_POOL_2D" else "avg"
        return [ops.pool(name, builtin, mode, x_shape, y_shape, kernel[0] * kernel[1], valid)]
    if kind == "MEAN":
        window = math.prod(x_shape) // max(1, math.prod(y_shape))
        return [ops.pool(name, builtin, "avg", x_shape, y_shape, window)]
    if kind == "SOFTMAX":
        return [ops.softmax(name, builtin, y_shape)]
    raise CountError(f"{kind} {name!r}: no ACE counter for this op kind")


def _pairs(
    x_shape: tuple[int, ...], y_shape: tuple[int, ...], kernel: tuple[int, int], o: Any
) -> tuple[int, int]:
    """``(all, valid)`` window pairs of a 2-D conv / pool op (NHWC shapes without batch)."""
    strides = (int(o.get("stride_h", 1)), int(o.get("stride_w", 1)))
    return ops.window_pairs(x_shape[:2], y_shape[:2], kernel, strides, str(o.get("padding", "VALID")))


def _weighted(
    name: str,
    kind: str,
    num: Numerics,
    filter_shape: tuple[int, ...],
    x_shape: tuple[int, ...],
    y_shape: tuple[int, ...],
    has_bias: bool,
    act: str,
    options: Any,
) -> OpCount:
    """Conv (filter ``[C_out, k_h, k_w, C_in]``), depthwise (``[1, k_h, k_w, C_out]``) or fully
    connected (``[units, in]``) in TFLite filter layout."""
    padding_macs = 0
    per_tap = filter_shape[-1]  # conv: C_in; fully connected: in_features
    if kind == "CONV_2D":
        c_out, kh, kw, c_in = filter_shape
        macs = math.prod(y_shape) * kh * kw * c_in
        label, bias = "conv2d", c_out
        total, valid = _pairs(x_shape, y_shape, (kh, kw), options)
        padding_macs = macs * (total - valid) // total
    elif kind == "DEPTHWISE_CONV_2D":
        _, kh, kw, c_out = filter_shape
        macs = math.prod(y_shape) * kh * kw
        label, bias, per_tap = "depthwise_conv2d", c_out, 1
        total, valid = _pairs(x_shape, y_shape, (kh, kw), options)
        padding_macs = macs * (total - valid) // total
    else:
        units, in_features = filter_shape
        macs = (math.prod(x_shape) // in_features) * in_features * units
        label, bias = "dense", units
    return ops.weighted(
        name,
        label,
        num,
        macs=macs,
        input_shape=x_shape,
        output_shape=y_shape,
        weight_elements=math.prod(filter_shape),
        bias_elements=bias if has_bias else 0,
        activation=act,
        padding_macs=padding_macs,
        macs_per_tap=per_tap,
    )


def is_tflite_path(obj: Any) -> bool:
    """True for a path (str or Path) ending in ``.tflite``."""
    return isinstance(obj, str | Path) and str(obj).endswith(".tflite")


def count_tflite(path: str | Path, **options: Any) -> list[OpCount]:
    """Read a .tflite file with lpn's reader (builtin int8 and LPN custom ops) and count its graph."""
    from lpn_tf.export.tflite_reader import read_tflite

    return count_int_graph(read_tflite(Path(path)), **options)


INT_GRAPH_ADAPTER = register_model(ModelAdapter("int-graph", is_int_graph, count_int_graph))
TFLITE_ADAPTER = register_model(ModelAdapter("tflite", is_tflite_path, count_tflite))
