"""Counting tf_keras models: plain float models and tfmot QAT models.

Float layers compute at ``float_bits`` (32 = float32, 16 = bfloat16) everywhere; a BN costs a float
multiply and add per element (unless ``fold_batch_norm=True``). Layers inside a tfmot
``QuantizeWrapper`` are priced as their TFLite int8 deployment: 8-bit weights and activations, 32-bit
accumulators, one requantization per output element with a 32-bit multiplier (tfmot keeps the scale
as float32; the deployed kernel uses a Q31 multiplier: both 32 bits), a BN right after a conv/dense
folded into it, and a ReLU/ReLU6 after a requantizing op fused into its output clamp.

Each layer class is counted by a function in :data:`lpn_tf.ace.registry.LAYER_COUNTERS`; the
functions for stock Keras layers are registered here, lpn's QAT layers register theirs in their own
adapter module.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from lpn_tf.ace import ops
from lpn_tf.ace.ops import CountError, Numerics, OpCount
from lpn_tf.ace.registry import LAYER_COUNTERS, LayerInfo, ModelAdapter, register_layer, register_model

TFMOT_WRAPPERS = ("QuantizeWrapper", "QuantizeWrapperV2")
SKIPPED = ("InputLayer", "QuantizeLayer")
"""Layers that are no op on the device (the input quantization is part of the model's input)."""

FREE_LAYERS = (
    "Flatten",
    "Reshape",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
    "Permute",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "Cropping1D",
    "Cropping2D",
    "Concatenate",
    "UpSampling1D",
    "UpSampling2D",
    "RepeatVector",
)
"""Layers that only move or re-view data: no arithmetic, no row."""

WEIGHTED_KINDS = ("conv2d", "depthwise_conv2d", "dense", "separable_conv2d")
FUSIBLE_ACTIVATIONS = ("linear", "relu", "relu6")
ACTIVATION_LAYERS = ("ReLU", "Activation")


def is_keras_model(obj: Any) -> bool:
    """True for tf_keras models (Sequential, functional, subclassed with layers)."""
    from lpn_tf._keras import keras

    return isinstance(obj, keras.Model)


def count_keras(
    model: Any,
    *,
    float_bits: int = 32,
    fold_batch_norm: bool | None = None,
    int_numerics: Numerics | None = None,
    numerics: Callable[[Any], Numerics | None] | None = None,
    **options: Any,
) -> list[OpCount]:
    """The op rows of a tf_keras model, in layer order.

    Args:
        model: a built tf_keras model with fixed input shape (batch dimension free).
        float_bits: width of float arithmetic (32 or 16).
        fold_batch_norm: fold a BN that directly follows a conv/dense (sole consumer) into it; default:
            True for quantized (tfmot) models, False for float models.
        int_numerics: widths for tfmot-wrapped layers (default TFLite int8: w8 a8 acc32 s32).
        numerics: ``numerics(layer)`` -> the widths of a layer (None: the defaults above); used by the
            adapters of other QAT layer families (lpn's).
        options: passed on to layer counters in :attr:`LayerInfo.options`.

    Raises:
        CountError: naming the layer whose class has no counter or whose shape is unknown.
    """
    layers = list(_flatten(model))
    quantized = numerics is not None or any(type(layer).__name__ in TFMOT_WRAPPERS for layer, _ in layers)
    fold = quantized if fold_batch_norm is None else fold_batch_norm
    int_num = int_numerics or Numerics.integer()
    float_num = Numerics.floating(float_bits)
    options = {"float_bits": float_bits, **options}

    weighted_out: set[str] = set()  # layers whose output comes straight from a conv/dense (no activation)
    requant_of: dict[str, str] = {}  # layer -> row name of the op whose requantization produced its output
    rows: list[OpCount] = []
    for layer, name in layers:
        cls = type(layer).__name__
        if cls in SKIPPED:
            continue
        inner = layer.layer if cls in TFMOT_WRAPPERS else layer
        inner_cls = type(inner).__name__
        if inner_cls in FREE_LAYERS:
            continue
        producers = _producers(layer)
        single = producers[0] if len(producers) == 1 else None
        sole = single is not None and _consumers(single) == 1
        num = (numerics(layer) if numerics else None) or (int_num if cls in TFMOT_WRAPPERS else float_num)
        info = LayerInfo(
            inner, name, _input_shapes(layer, name), _output_shape(layer, name), num, fold, options=options
        )
        single_name = _name_of(single) if single is not None else ""
        if inner_cls == "BatchNormalization" and fold and sole and single_name in weighted_out:
            info.fused_into = single_name
        elif (
            num.requantizes
            and sole
            and single_name in requant_of
            and inner_cls in ACTIVATION_LAYERS
            and _activation_name(inner, name) in FUSIBLE_ACTIVATIONS
        ):
            info.fused_into = requant_of[single_name]
        if info.fused_into:
            rows.append(
                OpCount(
                    name,
                    _kind_of(inner_cls),
                    num.arith,
                    input_shape=info.input_shape,
                    output_shape=info.output_shape,
                    note=f"fused into {info.fused_into}",
                )
            )
            if single_name in weighted_out:
                weighted_out.add(layer.name)
            if single_name in requant_of:
                requant_of[layer.name] = requant_of[single_name]
            continue
        counter = LAYER_COUNTERS.get(inner_cls)
        if counter is None:
            raise CountError(
                f"layer {name!r}: no ACE counter for Keras class {inner_cls} (register one with "
                "lpn_tf.ace.registry.register_layer)"
            )
        counted = counter(info)
        rows.extend(counted)
        if counted and counted[-1].kind in WEIGHTED_KINDS and _activation_name(inner, name) == "linear":
            weighted_out.add(layer.name)  # a BN right after it can be folded into its weights
        if counted and counted[-1].requant_count:
            requant_of[layer.name] = counted[-1].name
    return with_folded_biases(rows) if fold else rows


# layer kinds that, when folded into the weighted op before them, give it a bias if it had none
FOLDED_KINDS = ("batch_norm", "quant_norm")


def with_folded_biases(rows: list[OpCount]) -> list[OpCount]:
    """``rows`` with the bias that folding a BN / QuantNorm gives a weighted op without one: one
    ``b_acc``-bit add per output element and ``C_out`` ``b_acc``-bit biases in its weight bytes."""
    index = {row.name: i for i, row in enumerate(rows)}
    out = list(rows)
    for row in rows:
        target = row.note.removeprefix("fused into ") if row.note.startswith("fused into ") else ""
        target = target if target in index else f"{target}/pointwise"  # separable: its pointwise half
        if row.kind not in FOLDED_KINDS or target not in index:
            continue
        i = index[target]
        op = out[i]
        if not op.macs or any(ew.kind == "add" and ew.bits_x == op.bits_accumulator for ew in op.elementwise):
            continue  # not a weighted op, or it already has a bias
        channels = op.output_shape[-1] if op.output_shape else 1
        out[i] = dataclasses.replace(
            op,
            elementwise=(ops.Elementwise("add", op.output_elements, op.bits_accumulator), *op.elementwise),
            weight_bytes=op.weight_bytes + ops.nbytes(channels, op.bits_accumulator),
        )
    return out


# ---- model walking --------------------------------------------------------------------------------


def _flatten(model: Any, prefix: str = "") -> Any:
    """Yield ``(layer, report_name)`` for every layer, descending into nested models."""
    from lpn_tf._keras import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _flatten(layer, f"{prefix}{layer.name}/")
        else:
            yield layer, prefix + layer.name


def _name_of(layer: Any) -> str:
    return str(layer.name)


def _producers(layer: Any) -> list[Any]:
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes:
        return []
    inbound = nodes[0].inbound_layers
    return list(inbound) if isinstance(inbound, list | tuple) else [inbound]


def _consumers(layer: Any) -> int:
    return len(getattr(layer, "_outbound_nodes", []))


def _strip_batch(shape: Any, name: str, what: str) -> tuple[int, ...]:
    dims = tuple(shape)[1:]
    if any(d is None for d in dims):
        raise CountError(
            f"layer {name!r}: {what} shape {tuple(shape)} has an unknown dimension; "
            "build the model with a fixed input shape"
        )
    return tuple(int(d) for d in dims)


def _input_shapes(layer: Any, name: str) -> list[tuple[int, ...]]:
    try:
        shape = layer.input_shape
    except (AttributeError, RuntimeError) as err:
        raise CountError(f"layer {name!r}: input shape unavailable ({err})") from None
    shapes = shape if isinstance(shape, list) else [shape]
    return [_strip_batch(s, name, "input") for s in shapes]


def _output_shape(layer: Any, name: str) -> tuple[int, ...]:
    try:
        shape = layer.output_shape
    except (AttributeError, RuntimeError) as err:
        raise CountError(f"layer {name!r}: output shape unavailable ({err})") from None
    if isinstance(shape, list):
        raise CountError(f"layer {name!r}: layers with several outputs are not supported")
    return _strip_batch(shape, name, "output")


def _activation_name(layer: Any, name: str) -> str:
    """The activation a layer applies, as a key of :data:`lpn_tf.ace.ops.ACTIVATION_RECIPES`."""
    from lpn_tf._keras import keras

    cls = type(layer).__name__
    if cls == "ReLU":
        if float(layer.negative_slope or 0.0) != 0.0:
            return "leaky_relu"
        if layer.max_value is not None:
            return "relu6"  # any cap costs what ReLU6 costs: two compares
        return "relu"
    if cls == "LeakyReLU":
        return "leaky_relu"
    if cls == "ELU":
        return "elu"
    fn = getattr(layer, "activation", None)
    if fn is None:
        raise CountError(f"layer {name!r}: {cls} has no activation attribute")
    fn = getattr(fn, "activation", fn) if type(fn).__name__ == "QuantizeAwareActivation" else fn
    if type(fn).__name__ == "NoOpActivation":  # tfmot: the activation moved to a later layer
        return "linear"
    serialized = keras.activations.serialize(fn)
    if isinstance(serialized, dict):
        serialized = serialized.get("config", {}).get("name", serialized.get("class_name", ""))
    return str(serialized)


def _kind_of(cls: str) -> str:
    return {
        "Conv1D": "conv2d",
        "Conv2D": "conv2d",
        "DepthwiseConv1D": "depthwise_conv2d",
        "DepthwiseConv2D": "depthwise_conv2d",
        "SeparableConv1D": "separable_conv2d",
        "SeparableConv2D": "separable_conv2d",
        "Dense": "dense",
        "BatchNormalization": "batch_norm",
    }.get(cls, "activation" if cls in ("ReLU", "Activation", "LeakyReLU", "ELU", "PReLU") else cls.lower())


# ---- counters for stock Keras layers --------------------------------------------------------------


def _window(
    layer: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...], kernel: Any
) -> tuple[int, int]:
    """``(all, valid)`` (output position, tap) pairs of a conv / pool layer's sliding window."""
    dims = len(in_shape) - 1
    as_tuple = lambda v: tuple(v) if isinstance(v, list | tuple) else (int(v),) * dims  # noqa: E731
    return ops.window_pairs(
        in_shape[:-1],
        out_shape[:-1],
        as_tuple(kernel),
        as_tuple(layer.strides),
        str(layer.padding),
        as_tuple(getattr(layer, "dilation_rate", 1)),
    )


def _padding_macs(layer: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...], macs: int) -> int:
    """MACs of a conv layer on zero-padding taps (every tap carries the same number of MACs)."""
    total, valid = _window(layer, in_shape, out_shape, layer.kernel_size)
    return macs * (total - valid) // total if total else 0


def _with_activation(info: LayerInfo, row: OpCount, activation: str) -> list[OpCount]:
    """A weighted row plus a separate softmax row when the layer ends in softmax."""
    if activation != "softmax":
        return [row]
    return [row, ops.softmax(f"{info.name}/softmax", info.numerics, info.output_shape)]


def _fused(activation: str) -> str:
    return "linear" if activation == "softmax" else activation


@register_layer("Conv1D", "Conv2D")
def count_conv(info: LayerInfo) -> list[OpCount]:
    """Convolution: ``H_out·W_out·k_h·k_w·(C_in/groups)·C_out`` MACs."""
    layer = info.layer
    c_in = info.input_shape[-1]
    groups = int(getattr(layer, "groups", 1) or 1)
    k = math.prod(layer.kernel_size)
    macs = math.prod(info.output_shape) * k * (c_in // groups)
    act = _activation_name(layer, info.name)
    row = ops.weighted(
        info.name,
        "conv2d",
        info.numerics,
        macs=macs,
        input_shape=info.input_shape,
        output_shape=info.output_shape,
        weight_elements=k * (c_in // groups) * layer.filters,
        bias_elements=layer.filters if layer.use_bias else 0,
        activation=_fused(act),
        padding_macs=_padding_macs(layer, info.input_shape, info.output_shape, macs),
        macs_per_tap=c_in // groups,
    )
    return _with_activation(info, row, act)


@register_layer("DepthwiseConv1D", "DepthwiseConv2D")
def count_depthwise(info: LayerInfo) -> list[OpCount]:
    """Depthwise convolution: ``H_out·W_out·C_out·k_h·k_w`` MACs (``C_out = C_in·depth_multiplier``)."""
    layer = info.layer
    k = math.prod(layer.kernel_size)
    c_out = info.output_shape[-1]
    act = _activation_name(layer, info.name)
    macs = math.prod(info.output_shape) * k
    row = ops.weighted(
        info.name,
        "depthwise_conv2d",
        info.numerics,
        macs=macs,
        input_shape=info.input_shape,
        output_shape=info.output_shape,
        weight_elements=k * c_out,
        bias_elements=c_out if layer.use_bias else 0,
        activation=_fused(act),
        padding_macs=_padding_macs(layer, info.input_shape, info.output_shape, macs),
        macs_per_tap=1,
    )
    return _with_activation(info, row, act)


@register_layer("SeparableConv1D", "SeparableConv2D")
def count_separable(info: LayerInfo, depthwise_numerics: Numerics | None = None) -> list[OpCount]:
    """Separable convolution as two rows, ``name/depthwise`` and ``name/pointwise`` (as deployed);
    the depthwise half computes with ``depthwise_numerics`` when given (different weight quantizers)."""
    layer = info.layer
    k = math.prod(layer.kernel_size)
    c_mid = info.input_shape[-1] * int(layer.depth_multiplier)
    mid_shape = (*info.output_shape[:-1], c_mid)
    spatial = math.prod(info.output_shape[:-1])
    act = _activation_name(layer, info.name)
    dw = ops.weighted(
        f"{info.name}/depthwise",
        "depthwise_conv2d",
        depthwise_numerics or info.numerics,
        macs=spatial * c_mid * k,
        input_shape=info.input_shape,
        output_shape=mid_shape,
        weight_elements=k * c_mid,
        bias_elements=0,
        padding_macs=_padding_macs(layer, info.input_shape, mid_shape, spatial * c_mid * k),
        macs_per_tap=1,
    )
    pw = ops.weighted(
        f"{info.name}/pointwise",
        "conv2d",
        info.numerics,
        macs=spatial * c_mid * layer.filters,
        input_shape=mid_shape,
        output_shape=info.output_shape,
        weight_elements=c_mid * layer.filters,
        bias_elements=layer.filters if layer.use_bias else 0,
        activation=_fused(act),
        macs_per_tap=c_mid,
    )
    return [dw, *_with_activation(info, pw, act)]


@register_layer("Dense")
def count_dense(info: LayerInfo) -> list[OpCount]:
    """Dense: ``(elements before the last axis)·in_features·units`` MACs."""
    layer = info.layer
    in_features = info.input_shape[-1]
    rows = math.prod(info.input_shape[:-1])
    act = _activation_name(layer, info.name)
    row = ops.weighted(
        info.name,
        "dense",
        info.numerics,
        macs=rows * in_features * layer.units,
        input_shape=info.input_shape,
        output_shape=info.output_shape,
        weight_elements=in_features * layer.units,
        bias_elements=layer.units if layer.use_bias else 0,
        activation=_fused(act),
        macs_per_tap=in_features,
    )
    return _with_activation(info, row, act)


@register_layer("BatchNormalization")
def count_batch_norm(info: LayerInfo) -> list[OpCount]:
    """BN that was not folded: float multiply + add per element, or integer add + requantization."""
    return [ops.batch_norm(info.name, info.numerics, info.output_shape)]


@register_layer("ReLU", "Activation", "LeakyReLU", "ELU")
def count_activation(info: LayerInfo) -> list[OpCount]:
    """A standalone activation: its elementwise recipe per element (softmax: its own row kind)."""
    act = _activation_name(info.layer, info.name)
    if act == "softmax":
        return [ops.softmax(info.name, info.numerics, info.output_shape)]
    el = math.prod(info.output_shape)
    return [
        ops.elementwise_op(
            info.name,
            "activation",
            info.numerics,
            info.output_shape,
            ops.activation_ops(act, el, info.numerics, info.name),
            note=act,
        )
    ]


@register_layer("PReLU")
def count_prelu(info: LayerInfo) -> list[OpCount]:
    """Parametric ReLU: a compare and a multiply per element, one slope per channel."""
    el = math.prod(info.output_shape)
    b = info.numerics.out
    return [
        ops.elementwise_op(
            info.name,
            "activation",
            info.numerics,
            info.output_shape,
            (ops.Elementwise("cmp", el, b), ops.Elementwise("mul", el, b)),
            param_elements=info.output_shape[-1],
            note="prelu",
        )
    ]


@register_layer("Softmax")
def count_softmax(info: LayerInfo) -> list[OpCount]:
    return [ops.softmax(info.name, info.numerics, info.output_shape)]


@register_layer("Add", "Subtract")
def count_add(info: LayerInfo) -> list[OpCount]:
    """Residual add of equal-shape inputs (broadcast inputs are priced at the output shape)."""
    return [ops.residual_add(info.name, info.numerics, info.output_shape, len(info.input_shapes))]


@register_layer("Multiply")
def count_multiply(info: LayerInfo) -> list[OpCount]:
    el = math.prod(info.output_shape)
    n = len(info.input_shapes)
    num = info.numerics
    b = num.bits_activation
    return [
        ops.elementwise_op(
            info.name,
            "mul",
            num,
            info.output_shape,
            (ops.Elementwise("mul", (n - 1) * el, b),),
            n_inputs=n,
            requant_per_element=1 if num.requantizes else 0,
        )
    ]


@register_layer("Maximum", "Minimum")
def count_max_min(info: LayerInfo) -> list[OpCount]:
    el = math.prod(info.output_shape)
    n = len(info.input_shapes)
    return [
        ops.elementwise_op(
            info.name,
            "cmp",
            info.numerics,
            info.output_shape,
            (ops.Elementwise("cmp", (n - 1) * el, info.numerics.bits_activation),),
            n_inputs=n,
        )
    ]


@register_layer("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D")
def count_pool(info: LayerInfo) -> list[OpCount]:
    layer = info.layer
    mode = "max" if type(layer).__name__.startswith("Max") else "avg"
    _, valid = _window(layer, info.input_shape, info.output_shape, layer.pool_size)
    window = math.prod(layer.pool_size)
    return [ops.pool(info.name, info.numerics, mode, info.input_shape, info.output_shape, window, valid)]


@register_layer(
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D"
)
def count_global_pool(info: LayerInfo) -> list[OpCount]:
    mode = "max" if "Max" in type(info.layer).__name__ else "avg"
    window = math.prod(info.input_shape[:-1])
    return [ops.pool(info.name, info.numerics, mode, info.input_shape, info.output_shape, window)]


@register_layer("Rescaling")
def count_rescaling(info: LayerInfo) -> list[OpCount]:
    """``x·scale + offset``: a multiply and an add per element."""
    el = math.prod(info.output_shape)
    b = info.numerics.bits_activation
    return [
        ops.elementwise_op(
            info.name,
            "rescaling",
            info.numerics,
            info.output_shape,
            (ops.Elementwise("mul", el, b), ops.Elementwise("add", el, b)),
        )
    ]


KERAS_ADAPTER = register_model(ModelAdapter("keras", is_keras_model, count_keras))
