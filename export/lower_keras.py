"""Lowerings of the stock Keras layers and the lpn QAT layers (registered into :mod:`lowering`).

Conv2D/Conv1D/DepthwiseConv2D/Dense/SeparableConv2D → pending convs (CONV_2D, DEPTHWISE_CONV_2D, or
LPN_SHIFT_* in the lpn flavor), BatchNormalization (folded, or a 1×1 depthwise), ReLU/ReLU6/Softmax,
Add, average pools (depthwise with unit weights), max pools, Flatten/Reshape, Dropout and ZeroPadding
(as the SAME padding of the next conv). The rules and the measurements behind them:
docs/integer-spec.md §7.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from lpn_tf import layers as ql
from lpn_tf import quantizers as qz
from lpn_tf._keras import keras
from lpn_tf.export import fixed_point, kernels, packing
from lpn_tf.export.lowering import (
    GRID_NAMES,
    IntValue,
    LoweringContext,
    LoweringError,
    OutQuant,
    Pending,
    Value,
    layer_label,
    register_lowering,
)

K = keras.layers


# ------------------------------------------------------------------------------------------------
# weighted layers (conv, depthwise, dense)
# ------------------------------------------------------------------------------------------------


def _activation(layer: Any) -> str:
    act = getattr(layer, "activation", None)
    if act is None:
        return "NONE"
    name = keras.activations.serialize(act)
    if isinstance(name, dict):
        name = name.get("config", name.get("class_name"))
    table = {"linear": "NONE", "relu": "RELU", "relu6": "RELU6"}
    if name not in table:
        raise LoweringError(
            f"{layer_label(layer)}: fused activation {name!r} cannot be lowered; use one of {list(table)}"
        )
    return table[name]


@dataclasses.dataclass
class _Weights:
    """Integer weights in TFLite layout with per-channel real scales (``real = scale_c · n``)."""

    values: np.ndarray  # int64, [O, KH, KW, I] (conv) or [1, KH, KW, C] (depthwise)
    scales: np.ndarray  # float64, per output channel
    quantizer: qz.Quantizer
    axis: int  # output-channel axis of ``values``


def _weights(layer: Any, attr: str, quantizer: qz.Quantizer | None, layout: str) -> _Weights:
    if quantizer is None:
        raise LoweringError(f"{layer_label(layer)}: kernel {attr!r} has no quantizer (not a QAT layer?)")
    kernel = getattr(layer, attr).numpy()
    spec = quantizer.integer_spec(kernel)
    if spec.zero_point.any():
        raise LoweringError(f"{layer_label(layer)}: kernel {attr!r} has a non-zero weight zero point")
    n = quantizer.to_integer(kernel).astype(np.int64)
    if layout == "conv2d":  # (kh, kw, I, O) -> [O, KH, KW, I]
        values, axis = n.transpose(3, 0, 1, 2), 0
    elif layout == "conv1d":  # (k, I, O) -> [O, k, 1, I]
        values, axis = n.transpose(2, 0, 1)[:, :, None, :], 0
    elif layout == "dense":  # (I, O) -> [O, 1, 1, I]
        values, axis = n.T[:, None, None, :], 0
    else:  # depthwise (kh, kw, I, M) -> [1, KH, KW, I·M], channel c = i·M + m
        values, axis = n.reshape(1, n.shape[0], n.shape[1], -1), 3
    channels = values.shape[axis]
    scales = np.broadcast_to(spec.scale.astype(np.float64), (channels,)).copy()
    return _Weights(np.ascontiguousarray(values), scales, quantizer, axis)


@dataclasses.dataclass
class _PendingConv(Pending):
    """A conv-like op (CONV_2D or DEPTHWISE_CONV_2D on an NHWC view) before its requantization."""

    producer: str
    x: int  # 4-D input tensor
    weights: _Weights
    bias: np.ndarray  # float64 per output channel (real units)
    depthwise: bool
    stride: tuple[int, int]
    padding: str
    depth_multiplier: int
    out_shape: tuple[int, ...]  # the Keras output shape (batch set)
    activation: str = "NONE"
    layer: Any = None

    def with_activation(self, activation: str, layer: Any) -> Pending:
        if self.activation != "NONE":
            return super().with_activation(activation, layer)
        return dataclasses.replace(self, activation=activation)

    def fold_affine(self, scale: np.ndarray, offset: np.ndarray, layer: Any) -> Pending | None:
        if self.activation != "NONE":
            return None
        w = self.weights
        scale = np.asarray(scale, np.float64)
        sign = np.where(scale < 0, -1, 1)
        zero = scale == 0
        shape = [1] * w.values.ndim
        shape[w.axis] = -1
        values = w.values * sign.reshape(shape)
        values = np.where(zero.reshape(shape), 0, values)
        scales = np.where(zero, w.scales, w.scales * np.abs(scale))
        weights = dataclasses.replace(w, values=values, scales=scales)
        return dataclasses.replace(self, weights=weights, bias=self.bias * scale + offset)

    def emit(self, ctx: LoweringContext, out: OutQuant) -> int:
        return _emit_conv(ctx, self, out)


def _lpn_shift_exponent_bits(w: _Weights) -> int | None:
    q = w.quantizer
    return q.exponent_bits if isinstance(q, qz.Shift) and not q.unsigned else None


def _int_bias(p: _PendingConv, s_in: np.float32, w_scales: np.ndarray) -> np.ndarray:
    """The real bias on the accumulator grid ``s_in · s_w[c]`` (float32 product, as TFLite's bias scale)."""
    bias_scale = (s_in * w_scales.astype(np.float32)).astype(np.float64)
    bias = np.rint(p.bias / bias_scale)
    if np.any(np.abs(bias) > 2**31 - 1):
        raise LoweringError(f"{layer_label(p.layer)}: a folded bias does not fit int32 at scale s_in·s_w")
    return bias.astype(np.int64)


def _emit_conv(ctx: LoweringContext, p: _PendingConv, out: OutQuant) -> int:
    """Emit a pending conv as an LPN shift op (lpn flavor, shift weights), an LPN int8-weight conv (lpn
    flavor of a model with sub-8-bit activations) or a builtin; reshape to the Keras shape."""
    if out.grid != 0 and ctx.ops != "lpn":
        raise LoweringError(
            f"tensor {out.name!r} (produced by {p.producer!r}) lies on a {GRID_NAMES[out.grid]} grid "
            "(sub-8-bit activations): no builtin op rounds onto it; use ops='lpn'"
        )
    exponent_bits = _lpn_shift_exponent_bits(p.weights) if ctx.ops == "lpn" else None
    if exponent_bits is not None:
        y = _emit_shift_conv(ctx, p, out, exponent_bits)
    elif ctx.integer_requant:
        y = _emit_lpn_conv(ctx, p, out)
    else:
        y = _emit_builtin_conv(ctx, p, out)
    return ctx.view(y, p.out_shape, f"{p.producer}/reshape")


def _lpn_multipliers(
    ctx: LoweringContext, p: _PendingConv, s_in: np.float32, w_scales: np.ndarray, out: OutQuant
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel LPN ``(mantissa, shift)`` of ``s_in · s_w,c / s_out`` (``ctx.mantissa_bits`` wide)."""
    real = s_in.astype(np.float64) * w_scales.astype(np.float64) / np.float64(np.float32(out.scale))
    pairs = [fixed_point.double_quantize(float(m), ctx.mantissa_bits) for m in real]
    mantissa = np.array([m for m, _ in pairs], np.int64)
    if np.any(mantissa == 0):
        raise LoweringError(f"{layer_label(p.layer)}: a requantization multiplier underflows the mantissa")
    return mantissa, np.array([k for _, k in pairs], np.int64)


def _require_int8_weights(p: _PendingConv, hint: str) -> None:
    """Refuse, naming the layer, integer weights outside int8 (``hint`` ends the message)."""
    w = p.weights
    if w.values.min() < -128 or w.values.max() > 127:
        raise LoweringError(
            f"{layer_label(p.layer)}: weights quantized by {type(w.quantizer).__name__} "
            f"({w.quantizer.precision} bits) take values in [{w.values.min()}, {w.values.max()}], "
            f"which do not fit int8{hint}"
        )


def _emit_lpn_conv(ctx: LoweringContext, p: _PendingConv, out: OutQuant) -> int:
    """LPN_CONV_2D / LPN_DEPTHWISE_CONV_2D: int8 weights, LPN requantization onto ``out``'s grid."""
    w = p.weights
    _require_int8_weights(p, "")
    s_in = np.float32(ctx.tensor(p.x).scale)
    w_scales = w.scales.astype(np.float32)
    mantissa, shift = _lpn_multipliers(ctx, p, s_in, w_scales, out)
    return ctx.builder.lpn_conv(
        p.x,
        w.values,
        _int_bias(p, s_in, w_scales),
        mantissa,
        shift,
        out.scale,
        out.zero_point,
        depthwise=p.depthwise,
        depth_multiplier=p.depth_multiplier,
        stride=p.stride,
        padding=p.padding,
        mantissa_bits=ctx.mantissa_bits,
        act_range=out.act_range(p.activation),
        grid=out.grid,
        name=p.producer,
    )


def _emit_shift_conv(ctx: LoweringContext, p: _PendingConv, out: OutQuant, exponent_bits: int) -> int:
    w = p.weights
    if np.any(w.values == 0):
        raise LoweringError(
            f"{layer_label(p.layer)}: a channel has a zero BatchNormalization scale; shift codes have no zero"
        )
    # codes of 1 + s ≤ 4 bits take a nibble either way: store them with s = 3 (same exponents e, unit
    # 2^-7 instead of 2^-E_max), which makes the accumulator grid — and the int32 bias — up to 16× finer
    stored_bits = 3 if exponent_bits < 3 else exponent_bits
    widen = packing.max_exponent(stored_bits) - packing.max_exponent(exponent_bits)
    exponent = packing.max_exponent(exponent_bits) - (np.frexp(np.abs(w.values).astype(np.float64))[1] - 1)
    codes = packing.encode(w.values < 0, exponent, stored_bits)
    s_in = np.float32(ctx.tensor(p.x).scale)
    w_scales = (w.scales / 2.0**widen).astype(np.float32)
    mantissa, shift = _lpn_multipliers(ctx, p, s_in, w_scales, out)
    common = dict(
        bias=_int_bias(p, s_in, w_scales),
        mantissa=mantissa,
        shift=shift,
        out_scale=out.scale,
        out_zero_point=out.zero_point,
        stride=p.stride,
        padding=p.padding,
        mantissa_bits=ctx.mantissa_bits,
        act_range=out.act_range(p.activation),
        name=p.producer,
    )
    b = ctx.builder
    if p.depthwise:
        y = b.shift_depthwise_conv_2d(p.x, codes, stored_bits, depth_multiplier=p.depth_multiplier, **common)
    else:
        y = b.shift_conv_2d(p.x, codes, stored_bits, **common)
    if out.grid != 0:
        ctx.graph.ops[-1].options["grid"] = out.grid
    return y


def _emit_builtin_conv(ctx: LoweringContext, p: _PendingConv, out: OutQuant) -> int:
    w = p.weights
    _require_int8_weights(
        p, f"; ops={ctx.ops!r} cannot store them"
        + (" (use ops='lpn' for packed shift codes)" if isinstance(w.quantizer, qz.Shift) else "")
    )
    # widen narrow weights (e.g. shift3 ±8) by an integer factor per channel: exact, same bits of
    # information, and a finer accumulator grid for the int32 bias
    shape = [1] * w.values.ndim
    shape[w.axis] = -1
    peak = np.abs(w.values).max(axis=tuple(a for a in range(w.values.ndim) if a != w.axis))
    factor = np.maximum(127 // np.maximum(peak, 1), 1)
    values = w.values * factor.reshape(shape)
    w_scales = (w.scales / factor).astype(np.float32)
    bias = _int_bias(p, np.float32(ctx.tensor(p.x).scale), w_scales)
    common = dict(
        out_scale=out.scale,
        out_zero_point=out.zero_point,
        stride=p.stride,
        padding=p.padding,
        activation=p.activation,
        name=p.producer,
    )
    b = ctx.builder
    if p.depthwise:
        y = b.depthwise_conv_2d(p.x, values, bias, w_scales, depth_multiplier=p.depth_multiplier, **common)
    else:
        y = b.conv_2d(p.x, values, bias, w_scales, **common)
    ctx.tensor(ctx.graph.ops[-1].inputs[1]).bits = max(1, min(8, int(w.quantizer.precision)))
    return y


def _conv_geometry(layer: Any, rank: int) -> tuple[tuple[int, int], str]:
    if any(d != 1 for d in layer.dilation_rate):
        raise LoweringError(f"{layer_label(layer)}: dilation {layer.dilation_rate} is not supported (only 1)")
    if getattr(layer, "groups", 1) != 1:
        raise LoweringError(
            f"{layer_label(layer)}: grouped convolution (groups={layer.groups}) is unsupported"
        )
    if layer.data_format not in (None, "channels_last"):
        raise LoweringError(f"{layer_label(layer)}: data_format {layer.data_format!r}; only channels_last")
    padding = str(layer.padding).upper()
    if padding not in ("SAME", "VALID"):
        raise LoweringError(f"{layer_label(layer)}: padding {layer.padding!r} is not supported")
    strides = tuple(int(s) for s in layer.strides)
    return (strides[0], strides[1] if rank == 2 else 1), padding


def _layer_bias(layer: Any, channels: int) -> np.ndarray:
    if getattr(layer, "use_bias", False) and getattr(layer, "bias", None) is not None:
        return layer.bias.numpy().astype(np.float64).reshape(-1)
    return np.zeros(channels, np.float64)


def _check_qat_layer(layer: Any) -> None:
    for attr in ("input_quantizer", "output_quantizer"):
        if getattr(layer, attr, None) is not None:
            raise LoweringError(
                f"{layer_label(layer)} has its own {attr}; lowering needs tensor quantization by "
                "QuantizeTensor layers (as quantize_model builds)"
            )


@dataclasses.dataclass
class _ZeroPadded(Pending):
    """The output of ZeroPadding: lowered only as the SAME padding of the conv it feeds (no PAD op)."""

    producer: str
    x: int  # the unpadded integer tensor
    pads: tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right)) of the NHWC view

    def emit(self, ctx: LoweringContext, out: OutQuant) -> int:
        raise LoweringError(
            f"tensor {out.name!r}: the output of ZeroPadding {self.producer!r} is only lowered as the "
            "padding of a following conv"
        )

    def not_integer(self, layer: Any) -> str:
        return (
            f"{layer_label(layer)} reads the output of ZeroPadding {self.producer!r}; integer graphs have no "
            "PAD op, so ZeroPadding is only lowered as the SAME padding of a following conv"
        )


@register_lowering(K.ZeroPadding1D, K.ZeroPadding2D)
def _lower_zero_padding(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    x = ctx.require_int(inputs[0], layer)
    pad = layer.padding
    pads = (
        ((int(pad[0]), int(pad[1])), (0, 0))
        if isinstance(layer, K.ZeroPadding1D)
        else (
            (int(pad[0][0]), int(pad[0][1])),
            (int(pad[1][0]), int(pad[1][1])),
        )
    )
    if getattr(layer, "data_format", None) not in (None, "channels_last"):
        raise LoweringError(f"{layer_label(layer)}: data_format {layer.data_format!r}; only channels_last")
    return [_ZeroPadded(layer.name, ctx.as_4d(x, f"{layer.name}/input_nhwc"), pads)]


def _conv_input(
    ctx: LoweringContext,
    value: Value,
    layer: Any,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: str,
) -> tuple[int, str]:
    """The conv's NHWC input and padding; a ZeroPadding before a VALID conv becomes SAME if it equals it.

    Keras pads with real 0 (the integer zero point) and SAME padding contributes exactly that, so the
    two agree when the amounts are SAME's: ``total = max((out − 1)·stride + k − in, 0)``, half before.
    """
    if not isinstance(value, _ZeroPadded):
        return ctx.as_4d(ctx.require_int(value, layer), f"{layer.name}/input_nhwc"), padding
    _, h, w, _ = ctx.tensor(value.x).shape
    same = []
    for size, k, s in ((h, kernel[0], stride[0]), (w, kernel[1], stride[1])):
        total = max((kernels.output_size(size, k, s, "SAME") - 1) * s + k - size, 0)
        same.append((total // 2, total - total // 2))
    if padding != "VALID" or tuple(same) != value.pads:
        raise LoweringError(
            f"{layer_label(layer)}: the ZeroPadding {value.producer!r} before it pads {value.pads}, which is "
            f"not the SAME padding {tuple(same)} of this {padding} conv (integer graphs have no PAD op)"
        )
    return value.x, "SAME"


@register_lowering(ql.QConv2D, ql.QConv1D)
def _lower_conv(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    _check_qat_layer(layer)
    one_d = isinstance(layer, K.Conv1D)
    stride, padding = _conv_geometry(layer, 1 if one_d else 2)
    w = _weights(layer, "kernel", layer.kernel_quantizer, "conv1d" if one_d else "conv2d")
    x, padding = _conv_input(ctx, inputs[0], layer, w.values.shape[1:3], stride, padding)
    pending = _PendingConv(
        producer=layer.name,
        x=x,
        weights=w,
        bias=_layer_bias(layer, w.values.shape[0]),
        depthwise=False,
        stride=stride,
        padding=padding,
        depth_multiplier=1,
        out_shape=ctx.keras_shape(layer.output_shape, layer),
        layer=layer,
    )
    return [_with_layer_activation(pending, layer)]


def _with_layer_activation(pending: Pending, layer: Any) -> Pending:
    act = _activation(layer)
    return pending if act == "NONE" else pending.with_activation(act, layer)


@register_lowering(ql.QDepthwiseConv2D)
def _lower_depthwise(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    _check_qat_layer(layer)
    stride, padding = _conv_geometry(layer, 2)
    w = _weights(layer, "depthwise_kernel", layer.kernel_quantizer, "depthwise")
    x, padding = _conv_input(ctx, inputs[0], layer, w.values.shape[1:3], stride, padding)
    pending = _PendingConv(
        producer=layer.name,
        x=x,
        weights=w,
        bias=_layer_bias(layer, w.values.shape[3]),
        depthwise=True,
        stride=stride,
        padding=padding,
        depth_multiplier=int(layer.depth_multiplier),
        out_shape=ctx.keras_shape(layer.output_shape, layer),
        layer=layer,
    )
    return [_with_layer_activation(pending, layer)]


@register_lowering(ql.QDense)
def _lower_dense(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    _check_qat_layer(layer)
    x = ctx.require_int(inputs[0], layer)
    shape = ctx.tensor(x).shape
    rows = int(np.prod(shape[1:-1], dtype=np.int64))
    view = ctx.view(x, (shape[0], rows, 1, shape[-1]), f"{layer.name}/input_nhwc")
    w = _weights(layer, "kernel", layer.kernel_quantizer, "dense")
    return [_with_layer_activation(_pointwise(ctx, layer, view, w), layer)]


def _pointwise(ctx: LoweringContext, layer: Any, x: int, w: _Weights) -> _PendingConv:
    """A 1×1, stride-1 convolution of ``x`` with ``w`` and the layer's bias, producing the layer's output
    (a Dense on its [B, rows, 1, I] view, or the pointwise half of a SeparableConv2D)."""
    return _PendingConv(
        producer=layer.name,
        x=x,
        weights=w,
        bias=_layer_bias(layer, w.values.shape[0]),
        depthwise=False,
        stride=(1, 1),
        padding="VALID",
        depth_multiplier=1,
        out_shape=ctx.keras_shape(layer.output_shape, layer),
        layer=layer,
    )


def _worst_case_scale(ctx: LoweringContext, x: int, w: _Weights) -> float:
    """A symmetric int8 scale that holds any output of a depthwise conv with these weights."""
    t = ctx.tensor(x)
    reach = max(127 - t.zero_point, t.zero_point + 128)
    per_channel = np.abs(w.values).sum(axis=(0, 1, 2)) * w.scales * t.scale * reach
    return float(max(per_channel.max(), 1e-12) / 127.0)


@register_lowering(ql.QSeparableConv2D)
def _lower_separable(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    _check_qat_layer(layer)
    x = ctx.as_4d(ctx.require_int(inputs[0], layer), f"{layer.name}/input_nhwc")
    stride, padding = _conv_geometry(layer, 2)
    dw = _weights(layer, "depthwise_kernel", layer.depthwise_quantizer, "depthwise")
    n, h, wd, _ = ctx.tensor(x).shape
    _, kh, kw, c = dw.values.shape
    mid_shape = (
        n,
        kernels.output_size(h, kh, stride[0], padding),
        kernels.output_size(wd, kw, stride[1], padding),
        c,
    )
    depthwise = _PendingConv(
        producer=f"{layer.name}/depthwise",
        x=x,
        weights=dw,
        bias=np.zeros(c, np.float64),
        depthwise=True,
        stride=stride,
        padding=padding,
        depth_multiplier=int(layer.depth_multiplier),
        out_shape=mid_shape,
        layer=layer,
    )
    mid_scale = _worst_case_scale(ctx, x, dw)
    ctx.notes.append(
        f"{layer.name}: SeparableConv2D split into depthwise + pointwise with an extra int8 tensor at "
        f"scale {mid_scale:.6g} (worst-case range; the QAT model keeps it in float)"
    )
    mid = depthwise.emit(ctx, OutQuant(mid_scale, 0, f"{layer.name}/depthwise"))
    pw = _weights(layer, "pointwise_kernel", layer.pointwise_quantizer, "conv2d")
    return [_with_layer_activation(_pointwise(ctx, layer, mid, pw), layer)]


# ------------------------------------------------------------------------------------------------
# BatchNormalization, activations
# ------------------------------------------------------------------------------------------------


def _batch_norm_affine(layer: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(scale_c, offset_c)`` of an inference-mode BatchNormalization: ``y = scale_c·x + offset_c``."""
    axis = layer.axis if isinstance(layer.axis, int) else (layer.axis[0] if len(layer.axis) == 1 else None)
    rank = len(layer.input_shape)
    if axis is None or axis % rank != rank - 1:
        raise LoweringError(f"{layer_label(layer)}: only normalization over the last axis is supported")
    mean = layer.moving_mean.numpy().astype(np.float32)
    var = layer.moving_variance.numpy().astype(np.float32)
    gamma = layer.gamma.numpy().astype(np.float32) if layer.scale else np.ones_like(mean)
    beta = layer.beta.numpy().astype(np.float32) if layer.center else np.zeros_like(mean)
    inv = (gamma / np.sqrt(var + np.float32(layer.epsilon))).astype(np.float32)
    return inv.astype(np.float64), (beta.astype(np.float64) - mean.astype(np.float64) * inv)


@register_lowering(K.BatchNormalization)
def _lower_batch_norm(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    scale, offset = _batch_norm_affine(layer)
    value = inputs[0]
    if isinstance(value, Pending):
        folded = value.fold_affine(scale, offset, layer)
        if folded is None:
            raise LoweringError(
                f"{layer_label(layer)} cannot fold into the unquantized output of {value.producer!r} "
                "(only into a conv/dense without activation); quantize its input first"
            )
        return [folded]
    x = ctx.as_4d(value.index, f"{layer.name}/input_nhwc")
    c = ctx.tensor(x).shape[-1]
    # a per-channel affine map on an int8 tensor: a 1×1 depthwise conv with weights ±1 at scale |scale_c|
    weights = _Weights(np.ones((1, 1, 1, c), np.int64), np.ones(c), qz.SymmetricQuantizer(), 3)
    pending = _PendingConv(
        producer=layer.name,
        x=x,
        weights=weights,
        bias=np.zeros(c),
        depthwise=True,
        stride=(1, 1),
        padding="VALID",
        depth_multiplier=1,
        out_shape=ctx.keras_shape(layer.output_shape, layer),
        layer=layer,
    )
    return [pending.fold_affine(scale, offset, layer)]


def _activation_layer_kind(layer: Any) -> str:
    if isinstance(layer, K.ReLU):
        cfg = layer.get_config()
        if cfg.get("negative_slope") or cfg.get("threshold") or cfg.get("max_value") not in (None, 6, 6.0):
            raise LoweringError(f"{layer_label(layer)}: only ReLU and ReLU6 (zero slope and threshold) lower")
        return "RELU" if cfg.get("max_value") is None else "RELU6"
    name = keras.activations.serialize(layer.activation)
    if isinstance(name, dict):
        name = name.get("config", name.get("class_name"))
    table = {"linear": "NONE", "relu": "RELU", "relu6": "RELU6", "softmax": "SOFTMAX"}
    if name not in table:
        raise LoweringError(
            f"{layer_label(layer)}: activation {name!r} cannot be lowered; use one of {list(table)}"
        )
    return table[name]


@dataclasses.dataclass
class _PendingSoftmax(Pending):
    producer: str
    x: int

    def emit(self, ctx: LoweringContext, out: OutQuant) -> int:
        if np.float32(out.scale) != np.float32(1 / 256) or out.zero_point != -128:
            raise LoweringError(
                f"tensor {out.name!r}: a softmax output must be quantized with scale 1/256 and zero point "
                f"-128 (TFLite int8 SOFTMAX), got scale {out.scale} and zero point {out.zero_point}"
            )
        return ctx.builder.softmax(self.x, name=self.producer)


@register_lowering(K.ReLU, K.Activation)
def _lower_activation(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    kind = _activation_layer_kind(layer)
    value = inputs[0]
    if kind == "NONE":
        return [value]
    if kind == "SOFTMAX":
        return [_PendingSoftmax(layer.name, ctx.require_int(value, layer))]
    if isinstance(value, Pending):
        return [value.with_activation(kind, layer)]
    raise LoweringError(
        f"{layer_label(layer)}: a {kind} on the already quantized tensor {ctx.tensor(value.index).name!r} "
        "is not fused into a producing op; lowering supports ReLU only as part of a conv/dense/add block"
    )


@register_lowering(K.Softmax)
def _lower_softmax(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    axis = layer.axis if isinstance(layer.axis, int) else None
    x = ctx.require_int(inputs[0], layer)
    if axis is None or axis % len(ctx.tensor(x).shape) != len(ctx.tensor(x).shape) - 1:
        raise LoweringError(f"{layer_label(layer)}: only softmax over the last axis is supported")
    return [_PendingSoftmax(layer.name, x)]


# ------------------------------------------------------------------------------------------------
# Add, pools, shape layers
# ------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _PendingAdd(Pending):
    producer: str
    a: int
    b: int
    activation: str = "NONE"

    def with_activation(self, activation: str, layer: Any) -> Pending:
        if self.activation != "NONE":
            return super().with_activation(activation, layer)
        return dataclasses.replace(self, activation=activation)

    def emit(self, ctx: LoweringContext, out: OutQuant) -> int:
        if out.grid != 0:
            raise LoweringError(
                f"tensor {out.name!r}: the ADD {self.producer!r} would round onto a {GRID_NAMES[out.grid]} "
                "grid (sub-8-bit activations); no ADD op rounds onto it (builtin ADD rounds to nearest), so "
                "a residual add needs an int8 output quantizer (e.g. Scheme overrides {name: {'output': "
                "'int8'}})"
            )
        return ctx.builder.add(self.a, self.b, out.scale, out.zero_point, self.activation, name=self.producer)


@register_lowering(K.Add)
def lower_add(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    """Two equal-shape integer tensors added (ADD; refused onto a sub-8-bit grid when emitted)."""
    if len(inputs) != 2:
        raise LoweringError(f"{layer_label(layer)}: ADD of {len(inputs)} tensors; only two are supported")
    a, b = (ctx.require_int(v, layer) for v in inputs)
    if ctx.tensor(a).shape != ctx.tensor(b).shape:
        raise LoweringError(f"{layer_label(layer)}: broadcasting ADD is not supported")
    return [_PendingAdd(layer.name, a, b)]


def _pool_geometry(ctx: LoweringContext, x: int, layer: Any) -> tuple[tuple[int, int], tuple[int, int], str]:
    one_d = len(ctx.tensor(x).shape) == 3
    size = tuple(int(s) for s in layer.pool_size)
    strides = tuple(int(s) for s in layer.strides)
    padding = str(layer.padding).upper()
    if layer.data_format not in (None, "channels_last"):
        raise LoweringError(f"{layer_label(layer)}: data_format {layer.data_format!r}; only channels_last")
    if one_d:
        return (size[0], 1), (strides[0], 1), padding
    return (size[0], size[1]), (strides[0], strides[1]), padding


@dataclasses.dataclass
class _PendingAveragePool(Pending):
    """An average pool with its own output quantization: a depthwise conv with weights 1 at scale 1/n.

    (AVERAGE_POOL_2D needs equal input and output quantization, which a QuantizeTensor of its own breaks.)
    """

    producer: str
    x: int
    size: tuple[int, int]
    stride: tuple[int, int]
    padding: str
    out_shape: tuple[int, ...]
    layer: Any = None

    def emit(self, ctx: LoweringContext, out: OutQuant) -> int:
        c = ctx.tensor(self.x).shape[-1]
        count = self.size[0] * self.size[1]
        weights = _Weights(
            np.ones((1, *self.size, c), np.int64), np.full(c, 1.0 / count), qz.SymmetricQuantizer(), 3
        )
        conv = _PendingConv(
            producer=self.producer,
            x=self.x,
            weights=weights,
            bias=np.zeros(c),
            depthwise=True,
            stride=self.stride,
            padding="VALID",
            depth_multiplier=1,
            out_shape=self.out_shape,
            layer=self.layer,
        )
        return _emit_conv(ctx, conv, out)


@dataclasses.dataclass
class _PendingRescaledPool(Pending):
    """A window sum times an LPN multiplier the QAT layer fixed (PikeLPN QuantAveragePooling2D /
    QuantGlobalAveragePooling2D): in the lpn flavor an LPN_DEPTHWISE_CONV_2D with unit int8 weights and
    that mantissa / shift on every channel, so the device computes what training saw; in the builtin
    flavor the stock average-pool lowering (builtin multiplier, not the double-quantized one)."""

    producer: str
    x: int
    size: tuple[int, int]
    stride: tuple[int, int]
    mantissa: int
    shift: int
    mantissa_bits: int
    out_shape: tuple[int, ...]
    layer: Any = None

    def emit(self, ctx: LoweringContext, out: OutQuant) -> int:
        if ctx.ops != "lpn":
            ctx.notes.append(
                f"{self.producer}: builtin average pool (its double-quantized multiplier is not kept)"
            )
            pool = _PendingAveragePool(
                self.producer, self.x, self.size, self.stride, "VALID", self.out_shape, self.layer
            )
            return pool.emit(ctx, out)
        c = ctx.tensor(self.x).shape[-1]
        y = ctx.builder.lpn_conv(
            self.x,
            np.ones((1, *self.size, c), np.int8),
            None,
            np.full(c, self.mantissa, np.int64),
            np.full(c, self.shift, np.int64),
            out.scale,
            out.zero_point,
            depthwise=True,
            stride=self.stride,
            padding="VALID",
            mantissa_bits=self.mantissa_bits,
            act_range=out.act_range("NONE"),
            grid=out.grid,
            name=self.producer,
        )
        return ctx.view(y, self.out_shape, f"{self.producer}/reshape")


def lower_rescaled_pool(
    ctx: LoweringContext,
    layer: Any,
    inputs: list[Value],
    mantissa: int,
    shift: int,
    mantissa_bits: int,
    global_pool: bool,
) -> list[Value]:
    """Lowering of an average pool whose integer multiplier ``mantissa · 2^-shift`` (``mantissa_bits`` wide)
    is fixed by its layer (PikeLPN rescaling layers register this from :mod:`lpn_tf.pikelpn`)."""
    x = ctx.as_4d(ctx.require_int(inputs[0], layer), f"{layer.name}/input_nhwc")
    _, h, w, _ = ctx.tensor(x).shape
    if global_pool:
        size, stride = (h, w), (1, 1)
    else:
        size, stride, padding = _pool_geometry(ctx, x, layer)
        if padding != "VALID":
            raise LoweringError(f"{layer_label(layer)}: only padding='valid' lowers exactly")
    out_shape = ctx.keras_shape(layer.output_shape, layer)
    return [
        _PendingRescaledPool(layer.name, x, size, stride, mantissa, shift, mantissa_bits, out_shape, layer)
    ]


@register_lowering(K.AveragePooling1D, K.AveragePooling2D)
def _lower_average_pool(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    x = ctx.as_4d(ctx.require_int(inputs[0], layer), f"{layer.name}/input_nhwc")
    size, stride, padding = _pool_geometry(ctx, ctx.require_int(inputs[0], layer), layer)
    _, h, w, _ = ctx.tensor(x).shape
    if padding == "SAME":
        for dim, k, s in ((h, size[0], stride[0]), (w, size[1], stride[1])):
            out = kernels.output_size(dim, k, s, "SAME")
            if max(0, (out - 1) * s + k - dim) > 0:
                raise LoweringError(
                    f"{layer_label(layer)}: padding='same' pads this input (Keras averages only the in-image "
                    "values, which an int8 op with its own output quantization cannot reproduce); use "
                    "padding='valid' or a size that divides the input"
                )
    return [
        _PendingAveragePool(
            layer.name, x, size, stride, padding, ctx.keras_shape(layer.output_shape, layer), layer
        )
    ]


@register_lowering(K.GlobalAveragePooling1D, K.GlobalAveragePooling2D)
def _lower_global_average(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    # a depthwise conv over the whole image (weights 1, widened to 127) rather than MEAN: TFLite's MEAN
    # folds 1/N into its multiplier and rounds the small sum twice, off by 1 LSB on ~25 % of outputs
    if layer.data_format not in (None, "channels_last"):
        raise LoweringError(f"{layer_label(layer)}: data_format {layer.data_format!r}; only channels_last")
    x = ctx.as_4d(ctx.require_int(inputs[0], layer), f"{layer.name}/input_nhwc")
    _, h, w, _ = ctx.tensor(x).shape
    out_shape = ctx.keras_shape(layer.output_shape, layer)
    return [_PendingAveragePool(layer.name, x, (h, w), (1, 1), "VALID", out_shape, layer)]


@register_lowering(K.MaxPooling1D, K.MaxPooling2D)
def _lower_max_pool(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    x0 = ctx.require_int(inputs[0], layer)
    size, stride, padding = _pool_geometry(ctx, x0, layer)
    x = ctx.as_4d(x0, f"{layer.name}/input_nhwc")
    y = ctx.builder.pool_2d("MAX_POOL_2D", x, size, stride, padding, name=layer.name)
    return [IntValue(ctx.view(y, ctx.keras_shape(layer.output_shape, layer), f"{layer.name}/reshape"))]


@register_lowering(K.GlobalMaxPooling1D, K.GlobalMaxPooling2D)
def _lower_global_max(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    x = ctx.as_4d(ctx.require_int(inputs[0], layer), f"{layer.name}/input_nhwc")
    _, h, w, _ = ctx.tensor(x).shape
    y = ctx.builder.pool_2d("MAX_POOL_2D", x, (h, w), (1, 1), "VALID", name=layer.name)
    return [IntValue(ctx.view(y, ctx.keras_shape(layer.output_shape, layer), f"{layer.name}/reshape"))]


@register_lowering(K.Flatten, K.Reshape)
def _lower_reshape(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    x = ctx.require_int(inputs[0], layer)
    return [IntValue(ctx.view(x, ctx.keras_shape(layer.output_shape, layer), layer.name))]


@register_lowering(K.Dropout, K.SpatialDropout1D, K.SpatialDropout2D)
def _lower_identity(ctx: LoweringContext, layer: Any, inputs: list[Value]) -> list[Value]:
    return [inputs[0]]
