"""Lowering: a QAT Keras model (made by :func:`lpn_tf.quantize_model`, λ = 0) → an :class:`IntGraph`.

The walk follows docs/qat.md's contract: every integer tensor of the device carries exactly one
:class:`lpn_tf.layers.QuantizeTensor`, which fixes its int8 scale and zero point. Each Keras tensor is
tracked as a *value*:

* :class:`IntValue` — an integer tensor of the graph (shape = the Keras shape with batch ``batch``);
* :class:`Pending` — a real-valued tensor that is not on the device yet (a conv's output before its
  requantization, an ADD before its output scale is known, a model input before its quantization…).
  BatchNormalization folds into a pending conv (per-channel scale and bias), ReLU/ReLU6 fuse into it as
  the integer clamp, and the next ``QuantizeTensor`` *emits* it as ops with that output quantization.

Layers that inherit the quantization of their input (Flatten, Reshape, Dropout, MaxPooling,
GlobalMaxPooling) map an :class:`IntValue` to an :class:`IntValue` with the same scale and zero point.

This module holds the values, the registry, the context and the walk; the lowerings of the stock Keras
layers and the lpn Q-layers live in :mod:`lpn_tf.export.lower_keras` and register themselves the same
way any other module does.

Registration hook (stable API; the PikeLPN layers use it from their own module)::

    from lpn_tf.export.lowering import IntValue, LoweringContext, Pending, register_lowering

    @register_lowering(MyLayer)
    def lower_my_layer(ctx: LoweringContext, layer, inputs: list[Value]) -> list[Value]:
        x = ctx.require_int(inputs[0], layer)          # graph tensor index of an integer input
        return [MyPending(layer.name, x)]                # or [IntValue(ctx.builder.<op>(...))]

A lowering function receives the layer and the values of its inputs (in ``node.flat_input_ids`` order)
and returns one value per output. ``Pending`` subclasses implement :meth:`Pending.emit` (and optionally
:meth:`Pending.with_activation` / :meth:`Pending.fold_affine`). Lookup is by the layer's exact class
(a subclass must register itself); the latest registration for a class wins. A layer with no lowering
is refused with an error naming the layer and its class.

Flavors (``ops``): ``"builtin"`` — only TFLite builtins, int8 weights (shift weights as their integer
values widened exactly by ``floor(127 / max|w_c|)`` per channel: shift3 ``±{8,4,2,1}·15`` at ``α_c/120``);
``"lpn"`` — shift-weight convs, depthwise convs and dense layers become ``LPN_SHIFT_*`` ops with packed
codes (≤ 4-bit codes stored with ``exponent_bits = 3``, same nibble) and LPN requantization
(``mantissa_bits``-bit mantissa × ``2^-k`` per channel, :func:`fixed_point.double_quantize`); everything
else stays builtin.
Every Dense becomes a 1×1 conv on a ``[B, 1, 1, I]`` view with RESHAPEs around it (integer-spec §6).
Shift or uniform *activations* (schemes ``"shift-wa"``, ``"pikelpn"``) lower in the lpn flavor only: an
LPN op with requantization option ``grid`` (1 ceil, 2 pow2; docs/integer-spec.md §5) produces them
exactly, int8-weight producers becoming LPN_CONV_2D / LPN_DEPTHWISE_CONV_2D. In such a model every
requantizing op of the lpn flavor is an LPN op (integer parameters only, see
:func:`integer_only_violations`); a residual ADD onto such a grid is refused naming the tensor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lpn_tf import layers as ql
from lpn_tf import quantizers as qz
from lpn_tf._keras import keras
from lpn_tf.export.builder import GraphBuilder
from lpn_tf.export.graph import DTYPES, LPN_OPS, IntGraph, Quant, Tensor

__all__ = [
    "FLAVORS",
    "GRID_NAMES",
    "IntValue",
    "LoweringContext",
    "LoweringError",
    "OutQuant",
    "Pending",
    "Value",
    "integer_only_violations",
    "layer_label",
    "lower",
    "lowering_for",
    "register_lowering",
    "registered_layers",
]

FLAVORS = ("lpn", "builtin")
DEFAULT_MANTISSA_BITS = 16
K = keras.layers


class LoweringError(ValueError):
    """The model cannot be lowered; the message names the Keras layer (and class) or tensor at fault."""


def layer_label(layer: Any) -> str:
    """``layer 'name' (Class)`` — how every lowering error names a Keras layer."""
    return f"layer {layer.name!r} ({type(layer).__name__})"


# ------------------------------------------------------------------------------------------------
# values
# ------------------------------------------------------------------------------------------------


GRID_NAMES = {0: "nearest", 1: "ceil", 2: "pow2"}


@dataclasses.dataclass(frozen=True)
class OutQuant:
    """The quantization a ``QuantizeTensor`` gives a tensor: ``real = scale·(q − zero_point)``, int8 values.

    Attributes:
        scale, zero_point: of the int8 tensor (a sub-8-bit grid: its unit scale, zero point 0).
        name: the QuantizeTensor's name (errors name it).
        grid: how reals round onto the tensor: 0 nearest (int8 affine), 1 ceil (Uniform), 2 pow2 (Shift)
            — the LPN requantization option ``grid`` (:func:`lpn_tf.export.fixed_point.grid_round`).
        quantizer: the Uniform/Shift quantizer of a sub-8-bit grid (None for int8).
    """

    scale: float
    zero_point: int
    name: str
    grid: int = 0
    quantizer: Any = None

    def quant(self) -> Quant:
        return Quant.per_tensor(self.scale, self.zero_point)

    def act_range(self, activation: str) -> tuple[int, int]:
        """The integer clamp ``[act_min, act_max]`` of a producer with fused ``activation`` (NONE, RELU,
        RELU6). On a sub-8-bit grid the clamp is the grid image of the real range (the rounding is
        monotone, so clamping after it equals clamping before it, as the QAT model does)."""
        from lpn_tf.export.reference import activation_range

        if self.grid == 0:
            return activation_range(activation, Tensor("out", (1,), "int8", self.quant()))
        spec = self.quantizer.integer_spec()
        lo, hi = int(spec.qmin), int(spec.qmax)
        if activation in ("RELU", "RELU6"):
            lo = max(lo, int(self.quantizer.to_integer(np.zeros(1, np.float32))[0]))
        if activation == "RELU6":
            hi = min(hi, int(self.quantizer.to_integer(np.full(1, 6.0, np.float32))[0]))
        return lo, hi


@dataclasses.dataclass(frozen=True)
class IntValue:
    """An integer tensor of the graph (``index`` into ``graph.tensors``)."""

    index: int


class Pending:
    """A real-valued tensor that becomes ops once its output quantization is known.

    Attributes:
        producer: name of the Keras layer that produced it (for error messages).
    """

    producer: str

    def emit(self, ctx: LoweringContext, out: OutQuant) -> int:
        """Append the ops computing this value on the int8 grid ``out``; return the output tensor index."""
        raise NotImplementedError

    def with_activation(self, activation: str, layer: Any) -> Pending:
        """This value followed by ReLU (``"RELU"``) or ReLU6 (``"RELU6"``); refuse by default."""
        raise LoweringError(
            f"{layer_label(layer)}: cannot fuse {activation} into the unquantized output of {self.producer!r}"
        )

    def fold_affine(self, scale: np.ndarray, offset: np.ndarray, layer: Any) -> Pending | None:
        """This value followed by ``y = scale_c·v + offset_c`` per channel, or None if it cannot fold."""
        return None

    def not_integer(self, layer: Any) -> str:
        """The error message when ``layer`` needs this value as an integer tensor."""
        return (
            f"{layer_label(layer)} reads the output of {self.producer!r}, which has no quantization "
            "(a QuantizeTensor) in between; lowering needs every device tensor quantized (docs/qat.md)"
        )


Value = IntValue | Pending
LoweringFn = Callable[["LoweringContext", Any, list[Value]], list[Value]]

_REGISTRY: dict[type, LoweringFn] = {}


def register_lowering(*classes: type) -> Callable[[LoweringFn], LoweringFn]:
    """Decorator: register ``fn(ctx, layer, inputs) -> outputs`` for Keras layer ``classes``."""

    def wrap(fn: LoweringFn) -> LoweringFn:
        for cls in classes:
            _REGISTRY[cls] = fn
        return fn

    return wrap


def lowering_for(layer: Any) -> LoweringFn:
    """The lowering function of ``layer``'s exact class, or raise naming the layer.

    Exact, not by base class: a subclass (e.g. a PikeLPN ``QuantAdd(keras.layers.Add)``) usually changes
    the arithmetic, so it must register its own lowering rather than silently get its parent's.
    """
    fn = _REGISTRY.get(type(layer))
    if fn is not None:
        return fn
    raise LoweringError(
        f"{layer_label(layer)} cannot be lowered to an integer graph; "
        f"lowerable classes: {registered_layers()}"
    )


def registered_layers() -> list[str]:
    """Names of the layer classes with a lowering."""
    return sorted({cls.__name__ for cls in _REGISTRY})


# ------------------------------------------------------------------------------------------------
# context
# ------------------------------------------------------------------------------------------------


class LoweringContext:
    """State of one lowering: the builder, the flavor and helpers shared by the lowering functions.

    Attributes:
        builder: the :class:`GraphBuilder` that owns the graph being built.
        ops: ``"lpn"`` or ``"builtin"``.
        mantissa_bits: width of LPN requantization mantissas (2..16).
        batch: the batch dimension of every activation tensor.
        notes: human-readable notes on approximations the lowering made (copied to the graph metadata).
        points: ``QuantizeTensor`` layer name → index of the graph tensor it quantizes.
        integer_requant: every requantizing op must be an LPN op (int8-weight convs become LPN_CONV_2D /
            LPN_DEPTHWISE_CONV_2D): set in the lpn flavor for models with sub-8-bit activations.
    """

    def __init__(self, ops: str, mantissa_bits: int, batch: int, integer_requant: bool = False) -> None:
        self.builder = GraphBuilder()
        self.ops = ops
        self.integer_requant = integer_requant
        self.mantissa_bits = mantissa_bits
        self.batch = batch
        self.notes: list[str] = []
        self.points: dict[str, int] = {}
        self._views: dict[tuple[int, tuple[int, ...]], int] = {}

    @property
    def graph(self) -> IntGraph:
        return self.builder.graph

    def tensor(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def require_int(self, value: Value, layer: Any) -> int:
        """The graph tensor of ``value``, or raise if it is not an integer tensor (no quantization)."""
        if isinstance(value, IntValue):
            return value.index
        raise LoweringError(value.not_integer(layer))

    def keras_shape(self, shape: Any, layer: Any) -> tuple[int, ...]:
        """A Keras shape with the batch dimension set to :attr:`batch` (other dims must be known)."""
        dims = list(shape)[1:]
        if any(d is None for d in dims):
            raise LoweringError(f"{layer_label(layer)}: shape {tuple(shape)} has unknown dimensions")
        return (self.batch, *(int(d) for d in dims))

    def view(self, index: int, shape: tuple[int, ...], name: str) -> int:
        """``index`` reshaped to ``shape`` (a RESHAPE op, shared quantization), or itself if equal."""
        if self.tensor(index).shape == tuple(shape):
            return index
        key = (index, tuple(shape))
        if key not in self._views:
            self._views[key] = self.builder.reshape(index, tuple(shape), name=name)
        return self._views[key]

    def as_4d(self, index: int, name: str) -> int:
        """A rank-2/3/4 tensor as NHWC: ``[B, C] → [B, 1, 1, C]``, ``[B, L, C] → [B, L, 1, C]``."""
        shape = self.tensor(index).shape
        if len(shape) == 4:
            return index
        if len(shape) == 2:
            return self.view(index, (shape[0], 1, 1, shape[1]), name)
        if len(shape) == 3:
            return self.view(index, (shape[0], shape[1], 1, shape[2]), name)
        raise LoweringError(f"tensor {self.tensor(index).name!r}: rank {len(shape)} has no NHWC view")


# ------------------------------------------------------------------------------------------------
# tensor quantization (QuantizeTensor)
# ------------------------------------------------------------------------------------------------


def _grid_of(q: Any) -> int | None:
    """The LPN output grid of an activation quantizer (None: not an lpn sub-8-bit grid)."""
    if isinstance(q, qz.Uniform | qz.Shift) and q.effective_scale == "per_tensor":
        return 1 if isinstance(q, qz.Uniform) else 2
    return None


def out_quant(layer: Any) -> OutQuant:
    """The grid of a ``QuantizeTensor``; refuse what no op can produce exactly."""
    q = layer.quantizer
    grid = _grid_of(q)
    if grid is not None:
        if float(q._state["count"].numpy()) == 0:
            raise LoweringError(
                f"tensor {layer.name!r}: its quantizer never saw data (no scale); train the model or run "
                "lpn_tf.quantize.calibrate_activations first"
            )
        spec = q.integer_spec()
        if spec.qmin < -128 or spec.qmax > 127:
            raise LoweringError(
                f"tensor {layer.name!r}: {type(q).__name__} levels [{spec.qmin}, {spec.qmax}] do not fit int8"
            )
        return OutQuant(float(spec.scale[0]), 0, layer.name, grid, q)
    if isinstance(q, qz.AffineQuantizer) and q.bits == 8 and not q.narrow_range:
        if q.fixed_range is None and float(q._state["count"].numpy()) == 0:
            raise LoweringError(
                f"tensor {layer.name!r}: its quantizer never saw data (no range); train the model or run "
                "lpn_tf.quantize.calibrate_activations first"
            )
        spec = q.integer_spec()
        return OutQuant(float(spec.scale[0]), int(spec.zero_point[0]), layer.name)
    raise LoweringError(
        f"tensor {layer.name!r} is quantized by {type(q).__name__} ({q.precision} bits, scale "
        f"{getattr(q, 'effective_scale', '?')}): only int8 affine and per-tensor Uniform/Shift activations "
        "can be lowered (docs/integer-spec.md, Lowering)"
    )


@dataclasses.dataclass
class _FloatInput(Pending):
    """A model input before its QuantizeTensor: becomes a graph input."""

    producer: str
    shape: tuple[int, ...]

    def emit(self, ctx: LoweringContext, out: OutQuant) -> int:
        if out.grid != 0:
            raise LoweringError(
                f"tensor {out.name!r}: a model input quantized onto a {GRID_NAMES[out.grid]} grid; graph "
                "inputs must be int8 affine (the scheme's 'inputs' quantizer)"
            )
        return ctx.builder.input(self.producer, self.shape, out.scale, out.zero_point)


@register_lowering(ql.QuantizeTensor)
def _lower_quantize(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    out = out_quant(layer)
    value = inputs[0]
    if isinstance(value, Pending):
        index = value.emit(ctx, out)
        ctx.points[layer.name] = index
        return [IntValue(index)]
    t = ctx.tensor(value.index)
    if t.quant == out.quant():
        ctx.points[layer.name] = value.index
        return [value]
    raise LoweringError(
        f"{layer_label(layer)} requantizes tensor {t.name!r}, which already has its own quantization; "
        "lowering supports one quantization per tensor (docs/qat.md)"
    )


# ------------------------------------------------------------------------------------------------
# the walk
# ------------------------------------------------------------------------------------------------


def _ordered_nodes(model: Any) -> list[Any]:
    if not getattr(model, "_is_graph_network", False) or model.inputs is None:
        raise LoweringError(
            f"model {model.name!r}: lowering needs a Functional or Sequential model with a known input shape"
        )
    ordered: list[Any] = []
    for depth in sorted(model._nodes_by_depth, reverse=True):
        ordered.extend(model._nodes_by_depth[depth])
    return ordered


def _check_finalized(model: Any) -> None:
    from lpn_tf.schedule import lambda_variables

    live = [v.name for v in lambda_variables(model) if float(v.numpy()) != 0.0]
    if live:
        raise LoweringError(
            f"model {model.name!r}: λ is not 0 in {len(live)} quantizer(s) (e.g. {live[0]!r}); call "
            "lpn_tf.finalize(model) before lowering (the exported model is the hard-quantized one)"
        )


def scheme_name(model: Any) -> str:
    """The quantization scheme of a QAT model, for export metadata.

    ``model.lpn_scheme`` when the model records it (the :class:`lpn_tf.quantize.Scheme` name); otherwise
    inferred from the quantizers — the named scheme with the model's kinds of weights and activations:
    sub-8-bit Uniform activations → ``"pikelpn"``, Shift activations → ``"shift-wa"``; int8 activations with
    shift weights → ``"pikelpn-a8"`` if a QuantNorm is present, else ``"shift"``; ``"uniform"`` for uniform
    weights, else ``"int8"``. A custom :class:`Scheme` reads as the named scheme it resembles.
    """
    recorded = getattr(model, "lpn_scheme", None)
    if isinstance(recorded, str) and recorded:
        return recorded
    from lpn_tf.pikelpn import QuantNorm

    kinds, acts, quant_norm = set(), set(), False
    for layer in model.layers:
        if isinstance(layer, ql.QuantizedLayerMixin):
            kinds |= {type(q).__name__ for q in layer.kernel_quantizers().values()}
        if isinstance(layer, ql.QuantizeTensor) and _grid_of(layer.quantizer) is not None:
            acts.add(type(layer.quantizer).__name__)
        quant_norm = quant_norm or isinstance(layer, QuantNorm)
    if "Uniform" in acts:
        return "pikelpn"
    if "Shift" in acts:
        return "shift-wa"
    if "Shift" in kinds:
        return "pikelpn-a8" if quant_norm else "shift"
    if "Uniform" in kinds:
        return "uniform"
    return "int8"


def _record_activation_bits(model: Any, graph: IntGraph, points: dict[str, int]) -> None:
    """Tensors on a sub-8-bit grid get the quantizer's precision as :attr:`Tensor.bits` (int8 storage, e.g.
    5 meaningful bits for Uniform(5)), and so do the RESHAPE views of them (same values)."""
    bits = {
        index: int(model.get_layer(name).quantizer.precision)
        for name, index in points.items()
        if _grid_of(model.get_layer(name).quantizer) is not None
    }
    changed = True
    while changed:  # views: both ways along RESHAPE chains
        changed = False
        for op in graph.ops:
            if op.kind != "RESHAPE":
                continue
            a, b = op.inputs[0], op.outputs[0]
            for src, dst in ((a, b), (b, a)):
                if src in bits and dst not in bits:
                    bits[dst] = bits[src]
                    changed = True
    for index, width in bits.items():
        graph.tensors[index].bits = width


def lower(
    model: Any,
    ops: str = "lpn",
    *,
    mantissa_bits: int = DEFAULT_MANTISSA_BITS,
    batch: int = 1,
) -> IntGraph:
    """Lower a QAT model to an integer graph.

    Args:
        model: a model made by :func:`lpn_tf.quantize_model` (Functional, every device tensor quantized by
            one ``QuantizeTensor``), with λ = 0 (:func:`lpn_tf.finalize`) and activation ranges set.
        ops: ``"lpn"`` (LPN shift ops for shift weights) or ``"builtin"`` (TFLite builtins only).
        mantissa_bits: width of the LPN requantization mantissas (2..16; lpn flavor).
        batch: batch dimension of the graph's activations (1 for devices; larger for fast evaluation).

    Returns:
        A validated :class:`IntGraph` with ``metadata["scheme"]``, ``metadata["flavor"]`` and
        ``metadata["notes"]`` (approximations made, e.g. a SeparableConv2D's extra tensor) and
        ``metadata["points"]`` (``QuantizeTensor`` name → graph tensor index).

    Raises:
        LoweringError: naming the Keras layer (and class) or tensor that cannot be lowered.
    """
    if ops not in FLAVORS:
        raise LoweringError(f"ops must be one of {FLAVORS}, got {ops!r}")
    if not 2 <= mantissa_bits <= 16:
        raise LoweringError(f"mantissa_bits must be in 2..16, got {mantissa_bits}")
    if batch < 1:
        raise LoweringError(f"batch must be >= 1, got {batch}")
    nodes = _ordered_nodes(model)
    _check_finalized(model)
    sub_byte = any(
        isinstance(layer, ql.QuantizeTensor) and _grid_of(layer.quantizer) is not None
        for layer in model.layers
    )
    ctx = LoweringContext(ops, mantissa_bits, batch, integer_requant=sub_byte and ops == "lpn")
    values: dict[str, Value] = {}
    for kt in model.inputs:
        layer = kt._keras_history.layer
        values[str(id(kt))] = _FloatInput(layer.name, ctx.keras_shape(kt.shape, layer))
    for node in nodes:
        if node.is_input:
            continue
        layer = node.layer
        if isinstance(layer, keras.Model):
            raise LoweringError(f"{layer_label(layer)} is a nested model; flatten it first")
        fn = lowering_for(layer)
        try:
            ins = [values[t] for t in node.flat_input_ids]
        except KeyError:
            message = f"{layer_label(layer)}: an input comes from outside the model graph"
            raise LoweringError(message) from None
        outs = fn(ctx, layer, ins)
        if len(outs) != len(node.flat_output_ids):
            raise LoweringError(
                f"{layer_label(layer)}: lowering returned {len(outs)} values for "
                f"{len(node.flat_output_ids)} outputs"
            )
        values.update(zip(node.flat_output_ids, outs, strict=True))
    for kt in model.outputs:
        value = values[str(id(kt))]
        layer = kt._keras_history.layer
        if not isinstance(value, IntValue):
            raise LoweringError(
                f"model output of {layer_label(layer)} is not quantized: end the model with a QuantizeTensor"
            )
        if value.index in ctx.graph.outputs or value.index in ctx.graph.inputs:
            raise LoweringError(f"model output of {layer_label(layer)} repeats another input/output tensor")
        ctx.builder.output(value.index)
    graph = ctx.graph
    _record_activation_bits(model, graph, ctx.points)
    graph.metadata.update(
        scheme=scheme_name(model), flavor=ops, notes=list(ctx.notes), points=dict(ctx.points)
    )
    graph.validate()
    return graph


# ops whose arithmetic uses nothing but the integers stored in the file
_INTEGER_OPS = {"MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE", *LPN_OPS}


def integer_only_violations(graph: IntGraph) -> list[str]:
    """Why ``graph`` is not integer-only; empty when it is.

    Integer-only means: every tensor has an integer dtype, and every op computes from the integers stored in
    the file alone — LPN ops (integer mantissas and shifts), MAX/AVERAGE_POOL_2D and RESHAPE. Builtin ops
    that requantize (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, MEAN, SOFTMAX) derive their
    multipliers from float32 scales when they are prepared (floating point on the device at init), so
    they are listed, naming the op.

    Returns:
        One line per violation (``op 3 (CONV_2D, dense): ...`` / ``tensor 'x': ...``).
    """
    problems = []
    for t in graph.tensors:
        if t.dtype not in DTYPES or not np.issubdtype(np.dtype(DTYPES[t.dtype]), np.integer):
            problems.append(f"tensor {t.name!r}: dtype {t.dtype} is not an integer type")
        if t.data is not None and not np.issubdtype(t.data.dtype, np.integer):
            problems.append(f"tensor {t.name!r}: constant data of dtype {t.data.dtype}")
    for k, op in enumerate(graph.ops):
        if op.kind not in _INTEGER_OPS:
            problems.append(f"{op.label(k)}: requantization derived from float scales at prepare time")
        for key, value in op.options.items():
            if isinstance(value, float):
                problems.append(f"{op.label(k)}: option {key!r} is a float")
    return problems


def input_quantizers(model: Any) -> list[qz.Quantizer]:
    """The quantizer of each model input (its one consuming ``QuantizeTensor``), in ``model.inputs`` order."""
    out = []
    for kt in model.inputs:
        consumers = [n.outbound_layer for n in kt._keras_history.layer._outbound_nodes]
        quant = [layer for layer in consumers if isinstance(layer, ql.QuantizeTensor)]
        if len(quant) != 1 or len(consumers) != 1:
            raise LoweringError(f"model input {kt.name!r} is not consumed by exactly one QuantizeTensor")
        out.append(quant[0].quantizer)
    return out


def quantize_inputs(model: Any, x: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    """Float model inputs → the int8 graph inputs (each by its ``QuantizeTensor``'s ``to_integer``)."""
    arrays = [x] if isinstance(x, np.ndarray) else list(x)
    quantizers = input_quantizers(model)
    return [
        q.to_integer(np.asarray(a, np.float32)).astype(np.int8)
        for q, a in zip(quantizers, arrays, strict=True)
    ]


# the stock Keras and lpn layer lowerings register themselves on import (after the names above exist)
from lpn_tf.export import lower_keras  # noqa: E402, F401
