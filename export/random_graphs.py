"""Random small integer graphs for property tests and golden data (exporter and firmware tests).

A :class:`LayerSpec` list describes the structure; :func:`random_graph` fills in random int8 weights,
int32 biases, scales chosen so outputs use a good part of the int8 range (not all saturated), and
zero points. Every op's output is also made a graph output so executors can be compared op by op.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lpn_tf.export import fixed_point as fp
from lpn_tf.export import kernels
from lpn_tf.export.builder import GraphBuilder
from lpn_tf.export.graph import IntGraph

BUILTIN_LAYERS = ("conv", "dwconv", "residual", "avgpool", "maxpool")
LPN_LAYERS = ("shift_conv", "shift_dwconv", "quant_norm")


@dataclass(frozen=True)
class LayerSpec:
    """One layer of a random graph.

    Attributes:
        kind: one of :data:`BUILTIN_LAYERS` or :data:`LPN_LAYERS`.
        kernel: square kernel / pool size.
        stride: both spatial strides.
        padding: "SAME" or "VALID" (VALID falls back to SAME when the kernel exceeds the input).
        channels: output channels (conv kinds) — ignored by depthwise, pools and quant_norm.
        multiplier: depth multiplier (depthwise kinds).
        activation: fused activation for builtin kinds ("NONE", "RELU", "RELU6").
        exponent_bits: shift code exponent bits (shift kinds).
    """

    kind: str
    kernel: int = 3
    stride: int = 1
    padding: str = "SAME"
    channels: int = 3
    multiplier: int = 1
    activation: str = "NONE"
    exponent_bits: int = 2


def _out_scale(
    rng: np.random.Generator,
    in_scale: float,
    w_scales: np.ndarray,
    fan_in: int,
    w_std: float,
    x_std: float = 60.0,
) -> float:
    """An output scale that maps the accumulator's typical spread to roughly ±(10..120) levels."""
    real_std = math.sqrt(fan_in) * w_std * x_std * in_scale * float(np.median(w_scales))
    return float(real_std * rng.uniform(0.5, 3.0) / 40.0)


def random_graph(
    rng: np.random.Generator,
    input_hw: tuple[int, int],
    input_channels: int,
    layers: list[LayerSpec],
    head_units: int = 0,
    head: str = "dense",
) -> IntGraph:
    """Build a random integer graph.

    Args:
        rng: numpy generator for all weights, biases, scales and zero points.
        input_hw: input height and width; batch is 1.
        input_channels: input channels.
        layers: body layers in order.
        head_units: units of the final dense layer (0: no head).
        head: "dense" (flatten + FULLY_CONNECTED) or "mean_dense" (MEAN over H, W + RESHAPE + dense),
            "shift_dense" (flatten + LPN_SHIFT_FULLY_CONNECTED), "dense_softmax" (dense + SOFTMAX).

    Returns:
        A validated :class:`IntGraph` whose outputs are every op's output, last op last.
    """
    b = GraphBuilder()
    scale = float(rng.uniform(0.01, 0.1))
    x = b.input("input", (1, *input_hw, input_channels), scale, int(rng.integers(-20, 21)))
    outputs: list[int] = []

    def zp() -> int:
        return int(rng.integers(-30, 31))

    def w_scales(n: int) -> np.ndarray:
        return (float(rng.uniform(0.002, 0.02)) * rng.uniform(0.25, 1.0, n)).astype(np.float32)

    for k, spec in enumerate(layers):
        t = b.graph.tensors[x]
        _, h, w, c = t.shape
        kernel = min(spec.kernel, h, w) if spec.padding == "VALID" else spec.kernel
        name = f"l{k}_{spec.kind}"
        if spec.kind in ("conv", "residual"):
            o = c if spec.kind == "residual" else spec.channels
            stride = 1 if spec.kind == "residual" else spec.stride
            padding = "SAME" if spec.kind == "residual" else spec.padding
            wq = rng.integers(-127, 128, (o, kernel, kernel, c))
            ws = w_scales(o)
            bias = rng.integers(-3000, 3001, o)
            s_out = _out_scale(rng, t.scale, ws, kernel * kernel * c, 73.0)
            y = b.conv_2d(x, wq, bias, ws, s_out, zp(), (stride, stride), padding, spec.activation, name)
            if spec.kind == "residual":
                outputs.append(y)
                s_sum = max(t.scale, s_out) * float(rng.uniform(0.8, 2.0))
                y = b.add(x, y, s_sum, zp(), spec.activation, f"{name}_add")
        elif spec.kind == "dwconv":
            cm = c * spec.multiplier
            wq = rng.integers(-127, 128, (1, kernel, kernel, cm))
            ws = w_scales(cm)
            s_out = _out_scale(rng, t.scale, ws, kernel * kernel, 73.0)
            y = b.depthwise_conv_2d(
                x,
                wq,
                rng.integers(-3000, 3001, cm),
                ws,
                s_out,
                zp(),
                spec.multiplier,
                (spec.stride, spec.stride),
                spec.padding,
                spec.activation,
                name,
            )
        elif spec.kind in ("avgpool", "maxpool"):
            kind = "AVERAGE_POOL_2D" if spec.kind == "avgpool" else "MAX_POOL_2D"
            y = b.pool_2d(kind, x, (kernel, kernel), (spec.stride, spec.stride), spec.padding, name)
        elif spec.kind in ("shift_conv", "shift_dwconv"):
            s = spec.exponent_bits
            if spec.kind == "shift_conv":
                o, shape, fan_in = spec.channels, (spec.channels, kernel, kernel, c), kernel * kernel * c
            else:
                o = c * spec.multiplier
                shape, fan_in = (1, kernel, kernel, o), kernel * kernel
            codes = rng.integers(0, 1 << (s + 1), shape).astype(np.uint8)
            # accumulator spread: weights ±2^(E_max−e) have std about 2^(E_max−1)
            acc_std = math.sqrt(fan_in) * 60.0 * 2.0 ** ((1 << s) - 2)
            mant, shifts = zip(
                *(
                    fp.double_quantize(
                        float(rng.uniform(20, 120)) / acc_std * rng.choice([-1, 1])
                        if rng.random() < 0.1
                        else float(rng.uniform(20, 120)) / acc_std,
                        12,
                    )
                    for _ in range(o)
                ),
                strict=True,
            )
            bias = rng.integers(-int(acc_std), int(acc_std) + 1, o)
            out_zp = zp()
            act = (-128, 127) if spec.activation == "NONE" else (out_zp, 127)
            common = dict(
                out_scale=float(rng.uniform(0.02, 0.1)),
                out_zero_point=out_zp,
                stride=(spec.stride, spec.stride),
                padding=spec.padding,
                mantissa_bits=12,
                act_range=act,
                name=name,
            )
            if spec.kind == "shift_conv":
                y = b.shift_conv_2d(x, codes, s, bias, np.array(mant), np.array(shifts), **common)
            else:
                y = b.shift_depthwise_conv_2d(
                    x,
                    codes,
                    s,
                    bias,
                    np.array(mant),
                    np.array(shifts),
                    depth_multiplier=spec.multiplier,
                    **common,
                )
        elif spec.kind == "quant_norm":
            mant = rng.integers(-2000, 2001, c)
            shifts = rng.integers(8, 13, c)
            bias = rng.integers(-50000, 50001, c)
            y = b.quant_norm(
                x, bias, mant, shifts, float(rng.uniform(0.02, 0.1)), zp(), mantissa_bits=12, name=name
            )
        else:
            raise ValueError(f"unknown layer kind {spec.kind!r}")
        outputs.append(y)
        x = y
    if head_units:
        t = b.graph.tensors[x]
        if head == "mean_dense" and len(t.shape) == 4:
            x = b.mean_hw(x, t.scale * float(rng.uniform(0.5, 1.5)), zp(), "head_mean")
            outputs.append(x)
        flat = int(np.prod(b.graph.tensors[x].shape[1:]))
        x = b.reshape(x, (1, flat), "head_flatten")
        outputs.append(x)
        t = b.graph.tensors[x]
        if head == "shift_dense":
            s = 2
            codes = rng.integers(0, 1 << (s + 1), (head_units, flat)).astype(np.uint8)
            acc_std = math.sqrt(flat) * 60.0 * 2.0 ** ((1 << s) - 2)
            mant, shifts = zip(
                *(fp.double_quantize(float(rng.uniform(20, 120)) / acc_std, 12) for _ in range(head_units)),
                strict=True,
            )
            y = b.shift_fully_connected(
                x,
                codes,
                s,
                rng.integers(-500, 501, head_units),
                np.array(mant),
                np.array(shifts),
                0.1,
                zp(),
                mantissa_bits=12,
                name="head_dense",
            )
        else:
            ws = w_scales(head_units) if rng.random() < 0.5 else w_scales(1)
            s_out = _out_scale(rng, t.scale, ws, flat, 73.0)
            y = b.fully_connected(
                x,
                rng.integers(-127, 128, (head_units, flat)),
                rng.integers(-3000, 3001, head_units),
                ws,
                s_out,
                zp(),
                "NONE",
                "head_dense",
            )
        outputs.append(y)
        if head == "dense_softmax":
            outputs.append(b.softmax(y, "head_softmax"))
    for i in outputs:
        b.output(i)
    b.graph.validate()
    return b.graph


def output_shapes_ok(input_hw: tuple[int, int], layers: list[LayerSpec]) -> bool:
    """True if every layer keeps a spatial size >= 1 (for generating valid structures)."""
    h, w = input_hw
    for spec in layers:
        if spec.kind in ("residual", "quant_norm"):
            continue
        kernel = min(spec.kernel, h, w) if spec.padding == "VALID" else spec.kernel
        h = kernels.output_size(h, kernel, spec.stride, spec.padding)
        w = kernels.output_size(w, kernel, spec.stride, spec.padding)
        if h < 1 or w < 1:
            return False
    return True
