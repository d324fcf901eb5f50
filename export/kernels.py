"""Integer-only numpy kernels: the arithmetic of every op, exactly as docs/integer-spec.md states it.

Each kernel takes integer numpy arrays and integer parameters (already derived from scales by
:mod:`lpn_tf.export.reference` at prepare time) and computes in int64 with explicit int32 range checks;
no floating point is used. Layouts: activations NHWC; conv filters ``[O, KH, KW, I]``; depthwise
filters ``[1, KH, KW, I·M]``; fully connected filters ``[O, I]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lpn_tf.export import fixed_point as fp
from lpn_tf.export import packing


@dataclass(frozen=True)
class Window:
    """Spatial window parameters shared by convolutions and pools."""

    kernel_h: int
    kernel_w: int
    stride_h: int
    stride_w: int
    padding: str  # "SAME" | "VALID"


def output_size(in_size: int, kernel: int, stride: int, padding: str) -> int:
    """TFLite output size: ``ceil(in/stride)`` for SAME, ``ceil((in − k + 1)/stride)`` for VALID."""
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    if padding == "VALID":
        return (in_size - kernel + stride) // stride
    raise ValueError(f"padding must be SAME or VALID, got {padding!r}")


def padding_before(in_size: int, kernel: int, stride: int, padding: str) -> int:
    """Rows/columns of padding before the input: ``max(0, (out−1)·stride + k − in) // 2`` (TFLite)."""
    out = output_size(in_size, kernel, stride, padding)
    return max(0, (out - 1) * stride + kernel - in_size) // 2


def _patches(x: np.ndarray, win: Window, pad_value: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``x`` [N,H,W,C] as [N,OH,OW,KH,KW,C] (int64) plus a validity mask [OH,OW,KH,KW].

    Out-of-image positions hold ``pad_value``; the mask marks in-image positions.
    """
    n, h, w, c = x.shape
    oh = output_size(h, win.kernel_h, win.stride_h, win.padding)
    ow = output_size(w, win.kernel_w, win.stride_w, win.padding)
    if oh <= 0 or ow <= 0:
        raise ValueError(f"window {win.kernel_h}x{win.kernel_w} larger than input {h}x{w} with VALID padding")
    ph = padding_before(h, win.kernel_h, win.stride_h, win.padding)
    pw = padding_before(w, win.kernel_w, win.stride_w, win.padding)
    rows = np.arange(oh)[:, None] * win.stride_h - ph + np.arange(win.kernel_h)[None, :]  # [OH, KH]
    cols = np.arange(ow)[:, None] * win.stride_w - pw + np.arange(win.kernel_w)[None, :]  # [OW, KW]
    row_ok = (rows >= 0) & (rows < h)
    col_ok = (cols >= 0) & (cols < w)
    xp = np.asarray(x, np.int64)
    gathered = xp[:, np.clip(rows, 0, h - 1)][:, :, :, np.clip(cols, 0, w - 1)]  # [N,OH,KH,OW,KW,C]
    gathered = gathered.transpose(0, 1, 3, 2, 4, 5)  # [N,OH,OW,KH,KW,C]
    mask = row_ok[:, None, :, None] & col_ok[None, :, None, :]  # [OH,OW,KH,KW]
    return np.where(mask[None, :, :, :, :, None], gathered, np.int64(pad_value)), mask


def clamp_to(values: np.ndarray, act_min: int, act_max: int, dtype: type[np.integer]) -> np.ndarray:
    """Clamp to ``[act_min, act_max]`` and cast to the output dtype."""
    return np.clip(values, act_min, act_max).astype(dtype)


@dataclass(frozen=True)
class Requant:
    """Per-channel TFLite requantization: int32 significands, shifts, output zero point, clamp range."""

    multiplier: np.ndarray  # int64 [C]
    shift: np.ndarray  # int64 [C]
    output_zero_point: int
    act_min: int
    act_max: int


def _requantize_tflite(acc: np.ndarray, rq: Requant, what: str) -> np.ndarray:
    scaled = fp.multiply_by_quantized_multiplier(acc, rq.multiplier, rq.shift, what)
    return clamp_to(scaled + rq.output_zero_point, rq.act_min, rq.act_max, np.int8)


def conv_accumulate(
    x: np.ndarray, input_zero_point: int, filt: np.ndarray, bias: np.ndarray | None, win: Window
) -> np.ndarray:
    """Int32 accumulators of a 2-D convolution: ``Σ w · (x − zp_in) + bias`` → [N,OH,OW,O] (int64).

    Padded positions contribute 0 (as if the input held its zero point there).
    """
    patches, _ = _patches(np.asarray(x, np.int64) - input_zero_point, win, 0)
    acc = np.tensordot(patches, np.asarray(filt, np.int64), axes=([3, 4, 5], [1, 2, 3]))
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)
    return fp.check_int32(acc, "conv accumulator")


def depthwise_accumulate(
    x: np.ndarray,
    input_zero_point: int,
    filt: np.ndarray,
    bias: np.ndarray | None,
    win: Window,
    multiplier: int,
) -> np.ndarray:
    """Int32 accumulators of a depthwise convolution → [N,OH,OW,I·M]; output channel ``i·M + m``."""
    patches, _ = _patches(np.asarray(x, np.int64) - input_zero_point, win, 0)  # [N,OH,OW,KH,KW,I]
    patches = np.repeat(patches, multiplier, axis=-1)  # channel i -> i*M .. i*M+M-1
    acc = np.einsum("nyxhwc,hwc->nyxc", patches, np.asarray(filt, np.int64)[0])
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)
    return fp.check_int32(acc, "depthwise accumulator")


def fully_connected_accumulate(
    x: np.ndarray, input_zero_point: int, filt: np.ndarray, bias: np.ndarray | None
) -> np.ndarray:
    """Int32 accumulators ``Σ_i w[o,i] · (x[b,i] − zp_in) + bias[o]`` → [B, O]; ``x`` flattened to [B, I]."""
    filt = np.asarray(filt, np.int64)
    xb = np.asarray(x, np.int64).reshape(-1, filt.shape[1]) - input_zero_point
    acc = xb @ filt.T
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)
    return fp.check_int32(acc, "fully connected accumulator")


def conv_2d(x, zp_in, filt, bias, win: Window, rq: Requant) -> np.ndarray:
    """CONV_2D int8: accumulate, TFLite per-channel requantization, add zero point, clamp."""
    return _requantize_tflite(conv_accumulate(x, zp_in, filt, bias, win), rq, "CONV_2D")


def depthwise_conv_2d(x, zp_in, filt, bias, win: Window, depth_multiplier: int, rq: Requant) -> np.ndarray:
    """DEPTHWISE_CONV_2D int8 (depth multiplier ``M``)."""
    acc = depthwise_accumulate(x, zp_in, filt, bias, win, depth_multiplier)
    return _requantize_tflite(acc, rq, "DEPTHWISE_CONV_2D")


def fully_connected(x, zp_in, filt, bias, rq: Requant) -> np.ndarray:
    """FULLY_CONNECTED int8 (per-tensor or per-channel weights); requantization rounds ONCE."""
    acc = fully_connected_accumulate(x, zp_in, filt, bias)
    scaled = fp.multiply_by_quantized_multiplier_single(acc, rq.multiplier, rq.shift, "FULLY_CONNECTED")
    return clamp_to(scaled + rq.output_zero_point, rq.act_min, rq.act_max, np.int8)


@dataclass(frozen=True)
class AddParams:
    """TFLite int8 ADD parameters (left shift 20, input and output rescaling)."""

    left_shift: int
    input1_offset: int
    input1_multiplier: int
    input1_shift: int
    input2_offset: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    output_zero_point: int
    act_min: int
    act_max: int


def add(x1: np.ndarray, x2: np.ndarray, p: AddParams) -> np.ndarray:
    """ADD int8, same shapes: rescale both inputs to a common 2^20-finer grid, add, rescale to the output."""
    a = (np.asarray(x1, np.int64) + p.input1_offset) << p.left_shift
    b = (np.asarray(x2, np.int64) + p.input2_offset) << p.left_shift
    a = fp.multiply_by_quantized_multiplier(a, p.input1_multiplier, p.input1_shift, "ADD input 1")
    b = fp.multiply_by_quantized_multiplier(b, p.input2_multiplier, p.input2_shift, "ADD input 2")
    out = fp.multiply_by_quantized_multiplier(a + b, p.output_multiplier, p.output_shift, "ADD output")
    return clamp_to(out + p.output_zero_point, p.act_min, p.act_max, np.int8)


def average_pool_2d(x: np.ndarray, win: Window, act_min: int, act_max: int) -> np.ndarray:
    """AVERAGE_POOL_2D int8: sum of in-image values / their count, rounded half away from zero.

    Input and output share scale and zero point; padding is excluded from the count.
    """
    patches, mask = _patches(x, win, 0)
    total = patches.sum(axis=(3, 4))  # [N,OH,OW,C]
    count = mask.sum(axis=(2, 3)).astype(np.int64)[None, :, :, None]
    half = count // 2
    # C division truncates towards zero.
    avg = np.where(total > 0, (total + half) // count, -((-total + half) // count))
    return clamp_to(avg, act_min, act_max, np.int8)


def max_pool_2d(x: np.ndarray, win: Window, act_min: int, act_max: int) -> np.ndarray:
    """MAX_POOL_2D int8: maximum over in-image positions; input and output share quantization."""
    patches, _ = _patches(x, win, -(2**40))
    return clamp_to(patches.max(axis=(3, 4)), act_min, act_max, np.int8)


def mean_multiplier(multiplier: int, shift: int, count: int) -> tuple[int, int]:
    """Fold the division by ``count`` into a TFLite multiplier (LiteRT/TFLM ``QuantizedMeanOrSum``).

    ``n = min(floor(log2 count), 32, 31 + shift)``; ``q' = floor(q · 2^n / count)``; ``shift' = shift − n``.
    Done once at prepare time, in integers.
    """
    n = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << n) // count, shift - n


def mean_hw(x: np.ndarray, zp_in: int, multiplier: int, shift: int, zp_out: int) -> np.ndarray:
    """MEAN over H and W of int8 [N,H,W,C] → [N,1,1,C].

    ``y = sat8(MultiplyByQuantizedMultiplier(Σ (x − zp_in), q', shift') + zp_out)`` with ``(q', shift')``
    from :func:`mean_multiplier` applied to the multiplier of ``s_in / s_out``.
    """
    acc = fp.check_int32((np.asarray(x, np.int64) - zp_in).sum(axis=(1, 2), keepdims=True), "MEAN sum")
    acc = fp.multiply_by_quantized_multiplier(acc, multiplier, shift, "MEAN")
    return clamp_to(acc + zp_out, -128, 127, np.int8)


# ---------------------------------------------------------------------------------------------------
# LPN custom ops (docs/custom-ops.md)


@dataclass(frozen=True)
class LpnRequant:
    """LPN requantization: ``y = clamp(zp_out + sat32(round_grid(acc · m_c · 2^-k_c)))``.

    ``grid`` 0 (nearest) is ``(acc · m_c + 2^(k_c−1)) >> k_c``; 1 (ceil) and 2 (pow2) are the sub-8-bit
    activation grids of :func:`fixed_point.grid_round`.
    """

    mantissa: np.ndarray  # int64 [C]
    shift: np.ndarray  # int64 [C]
    output_zero_point: int
    act_min: int
    act_max: int
    grid: int = fp.GRID_NEAREST


def lpn_requantize(acc: np.ndarray, rq: LpnRequant, what: str) -> np.ndarray:
    """Apply :class:`LpnRequant` on the last axis of int32 accumulators; returns int8."""
    scaled = fp.lpn_requantize(acc, rq.mantissa, rq.shift, what, rq.grid)
    return clamp_to(scaled + rq.output_zero_point, rq.act_min, rq.act_max, np.int8)


def _shift_accumulate(patches: np.ndarray, codes: np.ndarray, exponent_bits: int, contract) -> np.ndarray:
    """``Σ ±(a << (E_max − e))``, grouped by exponent: for each e, add the signed sum of the activations
    whose weight has exponent e, shifted left by ``E_max − e``. No multiplications by weight values."""
    negative, exponent = packing.decode(codes, exponent_bits)
    e_max = packing.max_exponent(exponent_bits)
    acc = None
    for e in range(e_max + 1):
        sign_matrix = np.where(exponent == e, np.where(negative, -1, 1), 0).astype(np.int64)
        part = contract(patches, sign_matrix) << (e_max - e)
        acc = part if acc is None else acc + part
    return acc


def shift_conv_2d(x, zp_in, codes, exponent_bits, bias, win: Window, rq: LpnRequant) -> np.ndarray:
    """LPN_SHIFT_CONV_2D: ``codes`` unpacked to [O,KH,KW,I]; shift-accumulate; LPN requantization."""
    patches, _ = _patches(np.asarray(x, np.int64) - zp_in, win, 0)
    acc = _shift_accumulate(
        patches, codes, exponent_bits, lambda p, s: np.tensordot(p, s, axes=([3, 4, 5], [1, 2, 3]))
    )
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)
    return lpn_requantize(fp.check_int32(acc, "LPN_SHIFT_CONV_2D accumulator"), rq, "LPN_SHIFT_CONV_2D")


def shift_depthwise_conv_2d(
    x, zp_in, codes, exponent_bits, bias, win: Window, depth_multiplier: int, rq: LpnRequant
) -> np.ndarray:
    """LPN_SHIFT_DEPTHWISE_CONV_2D: codes unpacked to [1,KH,KW,I·M]."""
    patches, _ = _patches(np.asarray(x, np.int64) - zp_in, win, 0)
    patches = np.repeat(patches, depth_multiplier, axis=-1)
    acc = _shift_accumulate(
        patches, codes, exponent_bits, lambda p, s: np.einsum("nyxhwc,hwc->nyxc", p, s[0])
    )
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)
    acc = fp.check_int32(acc, "LPN_SHIFT_DEPTHWISE_CONV_2D accumulator")
    return lpn_requantize(acc, rq, "LPN_SHIFT_DEPTHWISE_CONV_2D")


def shift_fully_connected(x, zp_in, codes, exponent_bits, bias, rq: LpnRequant) -> np.ndarray:
    """LPN_SHIFT_FULLY_CONNECTED: codes unpacked to [O, I]; ``x`` flattened to [B, I]."""
    xb = np.asarray(x, np.int64).reshape(-1, codes.shape[1]) - zp_in
    acc = _shift_accumulate(xb, codes, exponent_bits, lambda p, s: p @ s.T)
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)
    acc = fp.check_int32(acc, "LPN_SHIFT_FULLY_CONNECTED accumulator")
    return lpn_requantize(acc, rq, "LPN_SHIFT_FULLY_CONNECTED")


def lpn_conv_2d(x, zp_in, filt, bias, win: Window, rq: LpnRequant) -> np.ndarray:
    """LPN_CONV_2D: int8 filter ``[O, KH, KW, I]``, the CONV_2D accumulation, LPN requantization."""
    return lpn_requantize(conv_accumulate(x, zp_in, filt, bias, win), rq, "LPN_CONV_2D")


def lpn_depthwise_conv_2d(
    x, zp_in, filt, bias, win: Window, depth_multiplier: int, rq: LpnRequant
) -> np.ndarray:
    """LPN_DEPTHWISE_CONV_2D: int8 filter ``[1, KH, KW, I·M]``, the DEPTHWISE_CONV_2D accumulation, LPN
    requantization."""
    acc = depthwise_accumulate(x, zp_in, filt, bias, win, depth_multiplier)
    return lpn_requantize(acc, rq, "LPN_DEPTHWISE_CONV_2D")


def quant_norm(x: np.ndarray, zp_in: int, bias: np.ndarray, rq: LpnRequant) -> np.ndarray:
    """LPN_QUANT_NORM: per-channel integer affine map ``clamp(zp_out + ((x − zp_in)·m_c + b_c) ⟫ k_c)``.

    Here ``⟫`` is the LPN rounding shift; ``b_c`` is on the ``m_c``-scaled grid (int32).
    """
    xi = fp.check_int32(np.asarray(x, np.int64) - zp_in, "LPN_QUANT_NORM input")
    prod = xi * rq.mantissa + np.asarray(bias, np.int64)
    scaled = np.clip(fp.grid_round(prod, rq.shift, rq.grid), fp.INT32_MIN, fp.INT32_MAX)
    return clamp_to(scaled + rq.output_zero_point, rq.act_min, rq.act_max, np.int8)


# ---------------------------------------------------------------------------------------------------
# SOFTMAX (int8 -> int8): gemmlowp fixed-point exp and reciprocal, as TFLite's reference kernel


def _srdhm(a, b):
    return fp.saturating_rounding_doubling_high_mul(a, b)


def _sat_shift_left(x: np.ndarray, exponent: int) -> np.ndarray:
    """gemmlowp ``SaturatingRoundingMultiplyByPOT`` for a positive exponent: saturating ``x << exponent``."""
    threshold = (1 << (31 - exponent)) - 1
    shifted = np.asarray(x, np.int64) << exponent
    return np.where(x > threshold, fp.INT32_MAX, np.where(x < -threshold, fp.INT32_MIN, shifted))


def _wrap32(x: np.ndarray) -> np.ndarray:
    """Two's-complement int32 wrap of a raw fixed-point addition (gemmlowp adds raws without saturation)."""
    return ((np.asarray(x, np.int64) + 2**31) % 2**32) - 2**31


# exp(-2^k) in Q0.31 for the barrel shifter, k = -2..4 (gemmlowp constants)
_EXP_BARREL = (
    (-2, 1672461947),
    (-1, 1302514674),
    (0, 790015084),
    (1, 290630308),
    (2, 39332535),
    (3, 720401),
    (4, 242),
)


def exp_on_negative_values_q5_26(a: np.ndarray) -> np.ndarray:
    """``exp(a)`` for ``a ≤ 0`` in Q5.26 → Q0.31 (gemmlowp ``exp_on_negative_values``, 5 integer bits)."""
    a = np.asarray(a, np.int64)
    one_quarter = 1 << 24
    a_mod = (a & (one_quarter - 1)) - one_quarter  # in [-1/4, 0)
    x = _wrap32(_sat_shift_left(a_mod, 5) + (1 << 28))  # Rescale to Q0.31, change of variable x = a + 1/8
    x2 = _srdhm(x, x)
    x3 = _srdhm(x2, x)
    x4 = _srdhm(x2, x2)
    x4_over_4 = fp.rounding_divide_by_pot(x4, 2)
    poly = fp.rounding_divide_by_pot(_wrap32(_srdhm(_wrap32(x4_over_4 + x3), 715827883) + x2), 1)
    constant = 1895147668  # exp(-1/8)
    result = _wrap32(constant + _srdhm(constant, _wrap32(x + poly)))
    remainder = _wrap32(a_mod - a)
    for k, multiplier in _EXP_BARREL:
        bit = (remainder & (1 << (26 + k))) != 0
        result = np.where(bit, _srdhm(result, multiplier), result)
    return np.where(a == 0, fp.INT32_MAX, result)


def _one_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    """gemmlowp ``one_over_one_plus_x_for_x_in_0_1``: Q0.31 in [0, 1) → 1/(1+a) in Q0.31 (Newton–Raphson)."""
    total = np.asarray(a, np.int64) + fp.INT32_MAX
    half_denominator = np.where(total >= 0, (total + 1) // 2, -((-total + 1) // 2))  # RoundingHalfSum
    x = _wrap32(1515870810 + _srdhm(half_denominator, -1010580540))  # Q2.29: 48/17 − 32/17·d
    for _ in range(3):
        one_minus = _wrap32((1 << 29) - _srdhm(half_denominator, x))
        x = _wrap32(x + _sat_shift_left(_srdhm(x, one_minus), 2))
    return _sat_shift_left(x, 1)


@dataclass(frozen=True)
class SoftmaxParams:
    """Prepared SOFTMAX parameters: input multiplier (Q0.31), its left shift, and the cut-off ``diff_min``."""

    input_multiplier: int
    input_left_shift: int
    diff_min: int


def softmax_params(input_scale: float, beta: float = 1.0) -> SoftmaxParams:
    """TFLite ``PreprocessSoftmaxScaling`` (5 integer bits for the scaled difference) and ``diff_min``."""
    real = min(beta * input_scale * float(1 << 26), float(2**31 - 1))
    q, shift = fp.quantize_multiplier(real)
    radius = math.floor(((1 << 5) - 1) * float(1 << 26) / float(1 << shift))
    return SoftmaxParams(q, shift, -radius)


def softmax(x: np.ndarray, p: SoftmaxParams) -> np.ndarray:
    """SOFTMAX over the last axis, int8 → int8 (output scale 1/256, zero point −128)."""
    xi = np.asarray(x, np.int64)
    diff = xi - xi.max(axis=-1, keepdims=True)
    valid = diff >= p.diff_min
    scaled = _srdhm(diff << p.input_left_shift, p.input_multiplier)
    exps = np.where(valid, exp_on_negative_values_q5_26(np.where(valid, scaled, 0)), 0)
    sum_of_exps = _wrap32(fp.rounding_divide_by_pot(exps, 12).sum(axis=-1, keepdims=True))  # Q12.19
    headroom = np.array([32 - int(v).bit_length() for v in sum_of_exps.reshape(-1)], np.int64).reshape(
        sum_of_exps.shape
    )
    bits_over_unit = 12 - headroom
    shifted_minus_one = _wrap32(((sum_of_exps << headroom) & 0xFFFFFFFF) - (1 << 31))
    scale = _one_over_one_plus_x(shifted_minus_one)
    out = fp.rounding_divide_by_pot(_srdhm(scale, exps), bits_over_unit + 31 - 8) - 128
    return np.where(valid, np.clip(out, -128, 127), -128).astype(np.int8)
