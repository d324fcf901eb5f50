"""``export_tflite``: QAT Keras model → integer .tflite (lower, check, write atomically), and the agreement
measure between an integer graph and the QAT model it came from.

Agreement is measured on the int8 grid of every ``QuantizeTensor`` (docs/qat.md): the QAT model's
float value ``y`` of a quantized tensor is ``scale·(q − zp)`` up to float rounding, so
``q = round(y/scale) + zp``. Two numbers are reported:

* **local** — every op of the graph run by the reference kernels on the QAT model's own integer inputs
  (so one op's rounding difference does not propagate): the lowering's per-op exactness;
* **end to end** — the reference executor on the quantized model inputs versus the QAT model's outputs.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lpn_tf.export import memory_plan
from lpn_tf.export.graph import DTYPES, IntGraph
from lpn_tf.export.lowering import DEFAULT_MANTISSA_BITS, lower, quantize_inputs
from lpn_tf.export.overflow import OverflowReport
from lpn_tf.export.overflow import analyze as analyze_overflow
from lpn_tf.export.overflow import check as check_overflow
from lpn_tf.export.reference import ReferenceExecutor
from lpn_tf.export.summary import WEIGHTED_OPS
from lpn_tf.export.tflite_writer import to_tflite_bytes, write_atomic

__all__ = ["Agreement", "ExportReport", "agreement", "export_tflite", "weight_bytes"]


@dataclasses.dataclass(frozen=True)
class Agreement:
    """How closely an integer graph reproduces the QAT model on the int8 grid.

    Attributes:
        local_identical: fraction of quantized-tensor values equal when each op gets the QAT model's inputs.
        local_max_lsb: largest difference (in LSB of the tensor's grid) in that comparison.
        output_identical: fraction of model-output values equal end to end.
        output_max_lsb: largest end-to-end output difference in LSB.
        per_tensor: ``QuantizeTensor`` name → (local identical fraction, local max LSB).
        samples: number of input samples compared.
    """

    local_identical: float
    local_max_lsb: int
    output_identical: float
    output_max_lsb: int
    per_tensor: dict[str, tuple[float, int]]
    samples: int


def _qat_integers(model: Any, graph: IntGraph, x: Any) -> dict[int, np.ndarray]:
    """Graph tensor index → the QAT model's int8 values of that quantized tensor (inference mode)."""
    from lpn_tf._keras import keras

    points: dict[str, int] = graph.metadata["points"]
    names = list(points)
    probe = keras.Model(model.inputs, [model.get_layer(n).output for n in names])
    outs = probe(x, training=False)
    outs = outs if isinstance(outs, list | tuple) else [outs]
    result = {}
    for name, y in zip(names, outs, strict=True):
        t = graph.tensors[points[name]]
        q = np.round(np.asarray(y, np.float64) / np.float32(t.scale)) + t.zero_point
        result[points[name]] = np.clip(q, -128, 127).astype(np.int8).reshape(t.shape)
    return result


def agreement(model: Any, graph: IntGraph, x: np.ndarray | Sequence[np.ndarray]) -> Agreement:
    """Compare ``graph`` (lowered with ``batch`` = number of samples in ``x``) to the QAT ``model``.

    Args:
        model: the QAT model the graph was lowered from.
        graph: its integer graph; its batch dimension must equal the number of samples in ``x``.
        x: float model inputs (one array, or one per input), shape ``(batch, ...)``.
    """
    exe = ReferenceExecutor(graph)
    qat = _qat_integers(model, graph, x)
    ints = quantize_inputs(model, x)
    # local: every op on the QAT model's values of its inputs
    values: dict[int, np.ndarray] = {i: v for i, v in zip(graph.inputs, ints, strict=True)}
    values.update(qat)
    stats: dict[int, tuple[int, int, int]] = {}
    for op, kernel in zip(graph.ops, exe._kernels, strict=True):
        args = [None if i == -1 else values.get(i, graph.tensors[i].data) for i in op.inputs]
        y_idx = op.outputs[0]
        out = np.asarray(kernel(args)).astype(DTYPES[graph.tensors[y_idx].dtype])
        if y_idx in qat:
            d = np.abs(out.astype(np.int64) - qat[y_idx].astype(np.int64))
            stats[y_idx] = (int(np.sum(d == 0)), d.size, int(d.max(initial=0)))
        else:
            values[y_idx] = out
    same = sum(s[0] for s in stats.values())
    total = sum(s[1] for s in stats.values())
    # end to end
    outs = exe.run(*ints)
    e_same = e_total = e_max = 0
    for idx, y in zip(graph.outputs, outs, strict=True):
        d = np.abs(y.astype(np.int64) - qat[idx].astype(np.int64)) if idx in qat else None
        if d is None:
            continue
        e_same, e_total, e_max = e_same + int(np.sum(d == 0)), e_total + d.size, max(e_max, int(d.max()))
    names = {v: k for k, v in graph.metadata["points"].items()}
    return Agreement(
        local_identical=same / max(total, 1),
        local_max_lsb=max((s[2] for s in stats.values()), default=0),
        output_identical=e_same / max(e_total, 1),
        output_max_lsb=e_max,
        per_tensor={names[i]: (s[0] / s[1], s[2]) for i, s in stats.items()},
        samples=int(graph.tensors[graph.inputs[0]].shape[0]),
    )


def weight_bytes(graph: IntGraph) -> int:
    """Bytes of the filter tensors (int8 weights or packed shift codes) of all weighted ops
    (:data:`lpn_tf.export.summary.WEIGHTED_OPS`; a filter shared by several ops counts once)."""
    seen = {op.inputs[1] for op in graph.ops if op.kind in WEIGHTED_OPS}
    return sum(graph.tensors[i].nbytes for i in seen)


@dataclasses.dataclass(frozen=True)
class ExportReport:
    """What :func:`export_tflite` wrote.

    Attributes:
        path: the .tflite file.
        flavor: ``"lpn"`` or ``"builtin"``.
        scheme: the quantization scheme (metadata ``scheme``).
        ops: op kind → count, in first-use order.
        weight_bytes: bytes of filters (int8 weights / packed codes).
        constant_bytes: bytes of all constants (filters, biases, LPN mantissas and shifts, shapes).
        arena_bytes: the planned activation arena (docs/memory-planning.md).
        file_bytes: size of the .tflite file.
        tensor_bits: tensor name → meaningful bit width.
        notes: approximations the lowering made (empty when every op reproduces the QAT model).
        agreement: measured on ``representative_data`` (None without it).
        overflow: the overflow analysis of the written graph (docs/overflow.md): a bound and the int32 /
            int64 headroom of every accumulator and intermediate.
    """

    path: Path
    flavor: str
    scheme: str
    ops: dict[str, int]
    weight_bytes: int
    constant_bytes: int
    arena_bytes: int
    file_bytes: int
    tensor_bits: dict[str, int]
    notes: tuple[str, ...]
    agreement: Agreement | None
    overflow: OverflowReport | None = None

    def format(self) -> str:
        """A few human-readable lines."""
        lines = [
            f"{self.path} ({self.flavor} ops, scheme {self.scheme}): {self.file_bytes} bytes",
            "  ops: " + ", ".join(f"{k}×{v}" for k, v in self.ops.items()),
            f"  weights {self.weight_bytes} B, constants {self.constant_bytes} B, arena {self.arena_bytes} B",
        ]
        if self.agreement is not None:
            a = self.agreement
            lines.append(
                f"  agreement with the QAT model on {a.samples} samples: "
                f"per op {100 * a.local_identical:.2f}% identical (max {a.local_max_lsb} LSB), "
                f"outputs {100 * a.output_identical:.2f}% (max {a.output_max_lsb} LSB)"
            )
        if self.overflow is not None:
            lines.append(f"  {self.overflow.summary()}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def export_tflite(
    model: Any,
    path: str | os.PathLike[str],
    ops: str = "lpn",
    representative_data: np.ndarray | Sequence[np.ndarray] | None = None,
    *,
    mantissa_bits: int = DEFAULT_MANTISSA_BITS,
    allow_overflow: bool = False,
) -> ExportReport:
    """Lower a QAT model and write it as an integer .tflite (atomically: temp file, then rename).

    Args:
        model: a model from :func:`lpn_tf.quantize_model`, finalized (λ = 0) and with activation ranges.
        path: output file.
        ops: ``"lpn"`` (LPN custom ops for shift weights) or ``"builtin"`` (stock TFLite only).
        representative_data: optional float inputs ``(N, ...)``; the report then measures the integer
            model's agreement with the QAT model on them (the model is not changed).
        mantissa_bits: width of the LPN requantization mantissas.
        allow_overflow: write the model even if the overflow analysis finds an intermediate that can
            leave int32 for some input (the report and a note record it). For models whose real inputs
            are known to stay far from the worst case; the C kernels then wrap, the reference raises.

    Returns:
        An :class:`ExportReport`.

    Raises:
        lpn_tf.export.lowering.LoweringError: naming the layer that cannot be lowered (nothing written).
        lpn_tf.export.overflow.AccumulatorOverflowError: an accumulator or intermediate of the named layer
            can overflow for some input; the message has its bound and limit (nothing written).
    """
    graph = lower(model, ops, mantissa_bits=mantissa_bits)
    bounds = analyze_overflow(graph) if allow_overflow else check_overflow(graph)
    notes = tuple(graph.metadata.get("notes", ()))
    if not bounds.ok:
        notes += (f"written with allow_overflow=True: {bounds.summary()}",)
    data = to_tflite_bytes(graph, flavor=ops)
    measured = None
    if representative_data is not None:
        arrays = [representative_data] if isinstance(representative_data, np.ndarray) else representative_data
        batch = int(np.asarray(arrays[0]).shape[0])
        measured = agreement(model, lower(model, ops, mantissa_bits=mantissa_bits, batch=batch), arrays)
    target = write_atomic(path, data)
    return ExportReport(
        path=target,
        flavor=ops,
        scheme=str(graph.metadata["scheme"]),
        ops=dict(Counter(op.kind for op in graph.ops)),
        weight_bytes=weight_bytes(graph),
        constant_bytes=graph.constant_bytes(),
        arena_bytes=memory_plan.plan(graph).arena_bytes,
        file_bytes=len(data),
        tensor_bits={t.name: t.bits for t in graph.tensors},
        notes=notes,
        agreement=measured,
        overflow=bounds,
    )
