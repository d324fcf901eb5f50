"""The integer graph: a plain, inspectable data structure between lowering, executors and writers.

An :class:`IntGraph` is a list of :class:`Tensor` and a list of :class:`Op` in execution order (one
subgraph, NHWC layout, batch first). Everything an executor needs is an integer except the tensors'
real-valued ``scale`` (float32, as TFLite stores it): builtin ops derive their integer multipliers from
scales once, at prepare time, exactly like TFLite; LPN custom ops carry all their integer parameters
explicitly (see docs/custom-ops.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# dtype name -> numpy dtype; "uint8" also holds packed sub-byte codes (then Tensor.bits < 8).
DTYPES: dict[str, type[np.integer]] = {
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "uint8": np.uint8,
}

BUILTIN_OPS: tuple[str, ...] = (
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "ADD",
    "AVERAGE_POOL_2D",
    "MAX_POOL_2D",
    "RESHAPE",
    "MEAN",
    "SOFTMAX",
)
LPN_OPS: tuple[str, ...] = (
    "LPN_SHIFT_CONV_2D",
    "LPN_SHIFT_DEPTHWISE_CONV_2D",
    "LPN_SHIFT_FULLY_CONNECTED",
    "LPN_QUANT_NORM",
    "LPN_CONV_2D",
    "LPN_DEPTHWISE_CONV_2D",
)
ACTIVATIONS: tuple[str, ...] = ("NONE", "RELU", "RELU6")
PADDINGS: tuple[str, ...] = ("SAME", "VALID")

OptionValue = int | str | tuple[int, ...]


class GraphError(ValueError):
    """An integer graph is malformed; the message names the op or tensor at fault."""


@dataclass(frozen=True)
class Quant:
    """Affine quantization ``real = scale · (q − zero_point)``.

    Attributes:
        scale: float32 array, shape ``(1,)`` (per tensor) or ``(C,)`` (per channel along ``axis``).
        zero_point: int64 array of the same shape.
        axis: the quantized dimension for per-channel parameters.
    """

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int = 0

    @staticmethod
    def per_tensor(scale: float, zero_point: int = 0) -> Quant:
        """One scale and zero point for the whole tensor."""
        return Quant(np.array([scale], np.float32), np.array([zero_point], np.int64), 0)

    @staticmethod
    def per_channel(scales: np.ndarray, axis: int) -> Quant:
        """Symmetric per-channel parameters (zero points 0) along ``axis``."""
        scales = np.asarray(scales, np.float32).reshape(-1)
        return Quant(scales, np.zeros(scales.shape, np.int64), axis)

    @property
    def is_per_channel(self) -> bool:
        return self.scale.size > 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quant):
            return NotImplemented
        return (
            self.axis == other.axis
            and np.array_equal(self.scale, other.scale)
            and np.array_equal(self.zero_point, other.zero_point)
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass
class Tensor:
    """One tensor of the graph.

    Attributes:
        name: unique, human-readable (error messages use it).
        shape: dimensions (NHWC for activations; TFLite filter layouts for weights). For packed code
            tensors the shape is the byte count ``(n_bytes,)``; the logical shape is in the op options.
        dtype: one of :data:`DTYPES`.
        quant: quantization parameters, or None (int32 shape tensors, packed codes, LPN parameters).
        data: constant contents (numpy array of ``dtype`` and ``shape``), or None for activations.
        bits: meaningful bit width of the values (8 for int8, e.g. 3 for 3-bit shift codes).
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: Quant | None = None
    data: np.ndarray | None = None
    bits: int = 0

    def __post_init__(self) -> None:
        self.shape = tuple(int(d) for d in self.shape)
        if self.bits == 0 and self.dtype in DTYPES:
            self.bits = np.dtype(DTYPES[self.dtype]).itemsize * 8

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def nbytes(self) -> int:
        """Bytes of the stored representation (``prod(shape) · itemsize``)."""
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(DTYPES[self.dtype]).itemsize

    @property
    def zero_point(self) -> int:
        """The per-tensor zero point (0 without quantization)."""
        return 0 if self.quant is None else int(self.quant.zero_point[0])

    @property
    def scale(self) -> float:
        """The per-tensor scale (raises for unquantized tensors)."""
        if self.quant is None:
            raise GraphError(f"tensor {self.name!r} has no quantization parameters")
        return float(self.quant.scale[0])


@dataclass
class Op:
    """One operation.

    Attributes:
        kind: a builtin name from :data:`BUILTIN_OPS` or an LPN custom code from :data:`LPN_OPS`.
        inputs: tensor indices (``-1`` for an absent optional input, e.g. no bias).
        outputs: tensor indices.
        options: integer parameters (and enum names such as ``padding="SAME"``); never floats.
        name: optional label (the Keras layer it came from), used in error messages.
    """

    kind: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, OptionValue] = field(default_factory=dict)
    name: str = ""

    def label(self, index: int) -> str:
        return f"op {index} ({self.kind}{', ' + self.name if self.name else ''})"


@dataclass
class IntGraph:
    """A whole integer model: tensors, ops in execution order, graph inputs/outputs, metadata."""

    tensors: list[Tensor] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def add_tensor(self, tensor: Tensor) -> int:
        """Append a tensor and return its index."""
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def add_op(self, op: Op) -> int:
        """Append an op and return its index."""
        self.ops.append(op)
        return len(self.ops) - 1

    def tensor_index(self, name: str) -> int:
        """Index of the tensor called ``name``."""
        for i, t in enumerate(self.tensors):
            if t.name == name:
                return i
        raise KeyError(f"no tensor named {name!r}")

    def producers(self) -> dict[int, int]:
        """Map tensor index -> index of the op that writes it."""
        return {t: i for i, op in enumerate(self.ops) for t in op.outputs}

    def used_kinds(self) -> list[str]:
        """Op kinds in first-use order."""
        return list(dict.fromkeys(op.kind for op in self.ops))

    def constant_bytes(self) -> int:
        """Bytes of all constant tensors (weights, biases, requantization parameters)."""
        return sum(t.nbytes for t in self.tensors if t.is_constant)

    def copy(self) -> IntGraph:
        """A deep copy (arrays copied)."""
        return dataclasses.replace(
            self,
            tensors=[
                dataclasses.replace(t, data=None if t.data is None else t.data.copy()) for t in self.tensors
            ],
            ops=[
                dataclasses.replace(
                    o, inputs=list(o.inputs), outputs=list(o.outputs), options=dict(o.options)
                )
                for o in self.ops
            ],
            inputs=list(self.inputs),
            outputs=list(self.outputs),
            metadata=dict(self.metadata),
        )

    def validate(self) -> None:
        """Check structural consistency; raise :class:`GraphError` naming the op or tensor at fault.

        Checks: tensor dtypes, constant data shape/dtype, quantization shapes and axes, index ranges,
        single producer per tensor, topological order (every input is a constant, a graph input or
        written by an earlier op), graph inputs/outputs not constant, op kinds known, option value types.
        """
        n = len(self.tensors)
        names: set[str] = set()
        for i, t in enumerate(self.tensors):
            where = f"tensor {i} ({t.name!r})"
            if t.name in names:
                raise GraphError(f"{where}: duplicate tensor name")
            names.add(t.name)
            if t.dtype not in DTYPES:
                raise GraphError(f"{where}: dtype {t.dtype!r} not one of {sorted(DTYPES)}")
            if any(d < 0 for d in t.shape):
                raise GraphError(f"{where}: negative dimension in shape {t.shape}")
            if not 1 <= t.bits <= np.dtype(DTYPES[t.dtype]).itemsize * 8:
                raise GraphError(f"{where}: bit width {t.bits} does not fit dtype {t.dtype}")
            if t.data is not None:
                if t.data.dtype != np.dtype(DTYPES[t.dtype]):
                    raise GraphError(f"{where}: data dtype {t.data.dtype} != declared {t.dtype}")
                if tuple(t.data.shape) != t.shape:
                    raise GraphError(f"{where}: data shape {t.data.shape} != declared {t.shape}")
            if t.quant is not None:
                q = t.quant
                if q.scale.shape != q.zero_point.shape or q.scale.ndim != 1 or q.scale.size == 0:
                    raise GraphError(f"{where}: scale/zero_point must be equal-length non-empty vectors")
                if not np.all(np.isfinite(q.scale)) or np.any(q.scale <= 0):
                    raise GraphError(f"{where}: scales must be finite and > 0")
                if q.is_per_channel:
                    if not 0 <= q.axis < len(t.shape) or t.shape[q.axis] != q.scale.size:
                        raise GraphError(
                            f"{where}: {q.scale.size} per-channel scales do not match axis {q.axis} "
                            f"of shape {t.shape}"
                        )
        for role, idx in (("input", self.inputs), ("output", self.outputs)):
            for i in idx:
                if not 0 <= i < n:
                    raise GraphError(f"graph {role} index {i} out of range ({n} tensors)")
                if self.tensors[i].is_constant:
                    raise GraphError(f"graph {role} tensor {i} ({self.tensors[i].name!r}) is constant")
        available = set(self.inputs) | {i for i, t in enumerate(self.tensors) if t.is_constant}
        written: set[int] = set()
        for k, op in enumerate(self.ops):
            where = op.label(k)
            if op.kind not in BUILTIN_OPS and op.kind not in LPN_OPS:
                raise GraphError(f"{where}: unknown op kind")
            for key, value in op.options.items():
                ok = isinstance(value, int | str) or (
                    isinstance(value, tuple) and all(isinstance(v, int) for v in value)
                )
                if not ok or isinstance(value, float):
                    raise GraphError(f"{where}: option {key!r}={value!r} is not an int, str or int tuple")
            for i in op.inputs:
                if i == -1:
                    continue
                if not 0 <= i < n:
                    raise GraphError(f"{where}: input index {i} out of range ({n} tensors)")
                if i not in available:
                    raise GraphError(
                        f"{where}: input tensor {i} ({self.tensors[i].name!r}) is read before it is written"
                    )
            for i in op.outputs:
                if not 0 <= i < n:
                    raise GraphError(f"{where}: output index {i} out of range ({n} tensors)")
                t = self.tensors[i]
                if t.is_constant or i in self.inputs:
                    raise GraphError(f"{where}: writes constant or graph-input tensor {i} ({t.name!r})")
                if i in written:
                    raise GraphError(f"{where}: tensor {i} ({t.name!r}) has a second producer")
                written.add(i)
                available.add(i)
        for i in self.outputs:
            if i not in available:
                raise GraphError(f"graph output tensor {i} ({self.tensors[i].name!r}) is never written")
