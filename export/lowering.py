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
Shift or uniform *activations* (scheme ``"shift-wa"``) are refused in both flavors: their ceil-log2 /
ceil grids are not produced by any op yet (docs/integer-spec.md, "Lowering").
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
from lpn_tf.export.graph import IntGraph, Quant, Tensor

__all__ = [
    "FLAVORS",
    "IntValue",
    "LoweringContext",
    "LoweringError",
    "OutQuant",
    "Pending",
    "Value",
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


@dataclasses.dataclass(frozen=True)
class OutQuant:
    """The int8 quantization a ``QuantizeTensor`` gives a tensor: ``real = scale·(q − zero_point)``."""

    scale: float
    zero_point: int
    name: str

    def quant(self) -> Quant:
        return Quant.per_tensor(self.scale, self.zero_point)


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
    """

    def __init__(self, ops: str, mantissa_bits: int, batch: int) -> None:
        self.builder = GraphBuilder()
        self.ops = ops
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


def out_quant(layer: Any) -> OutQuant:
    """The int8 grid of a ``QuantizeTensor``; refuse what no op can produce exactly."""
    q = layer.quantizer
    if isinstance(q, qz.AffineQuantizer) and q.bits == 8 and not q.narrow_range:
        if q.fixed_range is None and float(q._state["count"].numpy()) == 0:
            raise LoweringError(
                f"tensor {layer.name!r}: its quantizer never saw data (no range); train the model or run "
                "lpn_tf.quantize.calibrate_activations first"
            )
        spec = q.integer_spec()
        return OutQuant(float(spec.scale[0]), int(spec.zero_point[0]), layer.name)
    raise LoweringError(
        f"tensor {layer.name!r} is quantized by {type(q).__name__} ({q.precision}-bit activations, e.g. "
        "scheme 'shift-wa'): such activations lie on a ceil (log2) grid that no builtin or LPN op produces "
        "yet; only int8 affine activations can be lowered (docs/integer-spec.md, Lowering)"
    )


@dataclasses.dataclass
class _FloatInput(Pending):
    """A model input before its QuantizeTensor: becomes a graph input."""

    producer: str
    shape: tuple[int, ...]

    def emit(self, ctx: LoweringContext, out: OutQuant) -> int:
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
    """``"shift"`` if any kernel uses shift weights, ``"uniform"`` for uniform weights, else ``"int8"``."""
    kinds = set()
    for layer in model.layers:
        if isinstance(layer, ql.QuantizedLayerMixin):
            kinds |= {type(q).__name__ for q in layer.kernel_quantizers().values()}
    if "Shift" in kinds:
        return "shift"
    if "Uniform" in kinds:
        return "uniform"
    return "int8"


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
    ctx = LoweringContext(ops, mantissa_bits, batch)
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
    graph.metadata.update(
        scheme=scheme_name(model), flavor=ops, notes=list(ctx.notes), points=dict(ctx.points)
    )
    graph.validate()
    return graph


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
