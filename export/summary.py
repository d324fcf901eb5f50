"""What ``lpn inspect`` prints: ops, tensors, bit widths and sizes of an integer graph / .tflite file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lpn_tf.export import memory_plan
from lpn_tf.export.graph import GraphError, IntGraph, Op
from lpn_tf.export.overflow import analyze as analyze_overflow
from lpn_tf.export.tflite_reader import read_tflite

WEIGHTED_OPS: dict[str, str] = {
    "CONV_2D": "conv",
    "LPN_SHIFT_CONV_2D": "conv",
    "LPN_CONV_2D": "conv",
    "DEPTHWISE_CONV_2D": "depthwise",
    "LPN_SHIFT_DEPTHWISE_CONV_2D": "depthwise",
    "LPN_DEPTHWISE_CONV_2D": "depthwise",
    "FULLY_CONNECTED": "dense",
    "LPN_SHIFT_FULLY_CONNECTED": "dense",
}
"""Op kinds with a filter (input 1: int8 weights, or the packed codes of a ``LPN_SHIFT_*`` op) → its
arithmetic: ``conv`` (filter ``[O, KH, KW, I]``), ``depthwise`` (``[1, KH, KW, I·M]``), ``dense``
(``[O, I]``)."""


def filter_shape(graph: IntGraph, op: Op) -> tuple[int, ...]:
    """The logical filter shape of a :data:`WEIGHTED_OPS` op: the option ``filter_shape`` of a shift op
    (its input 1 is packed codes), else the shape of its filter tensor."""
    if op.kind.startswith("LPN_SHIFT_"):
        return tuple(int(d) for d in op.options["filter_shape"])  # type: ignore[union-attr]
    return tuple(graph.tensors[op.inputs[1]].shape)


def op_macs(graph: IntGraph, op: Op) -> int:
    """Multiply-accumulates of one op per invoke (0 for pools, adds, reshapes, QuantNorm): output elements
    times the filter taps each reads (conv ``KH·KW·I``, depthwise ``KH·KW``, dense ``I``)."""
    arith = WEIGHTED_OPS.get(op.kind)
    if arith is None:
        return 0
    kshape = filter_shape(graph, op)
    out = int(np.prod(graph.tensors[op.outputs[0]].shape))
    if arith == "conv":
        return out * kshape[1] * kshape[2] * kshape[3]
    if arith == "depthwise":
        return out * kshape[1] * kshape[2]
    return out * kshape[1]


@dataclass(frozen=True)
class Summary:
    """Totals of a graph: constant (weight) bytes, planned arena bytes, MACs per invoke, ops by kind."""

    weight_bytes: int
    arena_bytes: int
    macs: int
    op_counts: dict[str, int]


def summarize(graph: IntGraph) -> Summary:
    """Compute the :class:`Summary` of ``graph``."""
    counts: dict[str, int] = {}
    for op in graph.ops:
        counts[op.kind] = counts.get(op.kind, 0) + 1
    return Summary(
        weight_bytes=graph.constant_bytes(),
        arena_bytes=memory_plan.plan(graph).arena_bytes,
        macs=sum(op_macs(graph, op) for op in graph.ops),
        op_counts=counts,
    )


def op_rows(graph: IntGraph) -> list[dict[str, Any]]:
    """One row per op (``op`` index, ``kind``, ``name``, ``output_shape``, ``macs``): the base of every
    runner's ``profile``; backends that measure add their columns."""
    return [
        {
            "op": k,
            "kind": op.kind,
            "name": op.name,
            "output_shape": graph.tensors[op.outputs[0]].shape,
            "macs": op_macs(graph, op),
        }
        for k, op in enumerate(graph.ops)
    ]


def format_graph(graph: IntGraph) -> str:
    """Plain-text report: a line per op, a line per tensor (dtype, bits, shape, bytes, quant.), totals."""
    lines = ["ops:"]
    for k, op in enumerate(graph.ops):
        shape = graph.tensors[op.outputs[0]].shape
        lines.append(
            f"  {k:3d} {op.kind:28s} {op.name[:40]:40s} out {list(shape)!s:18s} macs {op_macs(graph, op)}"
        )
    lines.append("tensors:")
    for i, t in enumerate(graph.tensors):
        if t.quant is None:
            q = "-"
        elif t.quant.is_per_channel:
            q = f"per-channel x{t.quant.scale.size} (axis {t.quant.axis})"
        else:
            q = f"scale {float(t.quant.scale[0]):.6g} zp {int(t.quant.zero_point[0])}"
        kind = "const" if t.is_constant else ("input" if i in graph.inputs else "act")
        lines.append(
            f"  {i:3d} {t.name[:40]:40s} {kind:5s} {t.dtype:5s} {t.bits:2d}b {list(t.shape)!s:18s} "
            f"{t.nbytes:8d} B  {q}"
        )
    s = summarize(graph)
    ops = ", ".join(f"{k} x{v}" for k, v in s.op_counts.items())
    lines.append(f"weights: {s.weight_bytes} B   arena (planned): {s.arena_bytes} B   MACs: {s.macs}")
    lines.append(f"ops: {ops}")
    lines.append(overflow_line(graph))
    if graph.metadata:
        meta = {k: v for k, v in sorted(graph.metadata.items())}
        lines.append(f"metadata: {meta}")
    return "\n".join(lines)


def overflow_line(graph: IntGraph) -> str:
    """The one-line overflow verdict of ``graph`` (docs/overflow.md), or why it could not be computed."""
    try:
        return analyze_overflow(graph).summary()
    except GraphError as err:
        return f"overflow analysis: not available ({err})"


def inspect_tflite(path: str | Path) -> str:
    """Read a .tflite file and return :func:`format_graph` of it."""
    return format_graph(read_tflite(Path(path)))
