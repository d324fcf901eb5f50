"""Overflow analysis: a proof, from the constants of an integer graph, that no intermediate leaves its type.

For every op of an :class:`~lpn_tf.export.graph.IntGraph` a *bound function* (one per op kind, in
:data:`BOUNDS`) computes an upper bound on the magnitude of each integer intermediate that the integer
spec (docs/integer-spec.md) computes in int32 — or in int64 where the spec says so — for **every**
possible input, and the limit of its type. Executors saturate some intermediates by definition
(SaturatingRoundingDoublingHighMul, the int32 saturation of the LPN and FULLY_CONNECTED requantization,
the int8 clamps); those need no bound. Everything else — accumulators, their partial sums, the ``x·2^left``
of a requantization, ADD's ``(x − zp)·2^20`` and their rescaled sum, MEAN / average-pool sums, the int64
products of the LPN ops — is bounded here. The formulas and why they are sound: docs/overflow.md.

Input ranges: a graph input may hold any int8 value; an op's output is known to lie in its clamp
range (fused activation / ``act_min..act_max``), which pass-through ops (RESHAPE, MAX_POOL_2D,
AVERAGE_POOL_2D) propagate. The accumulator bounds use the range of the op's input, so a consumer of a
ReLU output gets ``max|x − zp| = 127 − zp`` instead of the full int8 worst case.

API: :func:`analyze` → :class:`OverflowReport` (one :class:`BoundRow` per op and quantity);
:func:`check` raises :class:`AccumulatorOverflowError` naming the op (the Keras layer), the quantity,
its bound and the limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lpn_tf.export import fixed_point as fp
from lpn_tf.export import kernels, packing
from lpn_tf.export.graph import GraphError, IntGraph, Op, Tensor
from lpn_tf.export.reference import activation_range, add_params, per_channel_requant

__all__ = [
    "BOUNDS",
    "INT32_LIMIT",
    "INT64_LIMIT",
    "AccumulatorOverflowError",
    "BoundRow",
    "OpContext",
    "OverflowReport",
    "analyze",
    "check",
    "register_bound",
]

INT32_LIMIT = fp.INT32_MAX  # |v| ≤ 2^31 − 1 is safe for both signs
INT64_LIMIT = 2**63 - 1
INT8_RANGE = (-128, 127)
ACCUMULATOR_QUANTITIES = ("accumulator", "partial sums (any order)")


class AccumulatorOverflowError(ValueError):
    """An intermediate of an op can leave its integer type for some input; the model is refused.

    Attributes:
        op_index: index of the op in the graph.
        op_name: the op's name (the Keras layer it was lowered from).
        kind: op kind.
        quantity: which intermediate (e.g. ``"accumulator"``).
        bound: the largest magnitude it can reach.
        limit: the largest magnitude its type holds.
    """

    def __init__(self, op_index: int, op_name: str, kind: str, quantity: str, bound: int, limit: int) -> None:
        self.op_index, self.op_name, self.kind = op_index, op_name, kind
        self.quantity, self.bound, self.limit = quantity, bound, limit
        width = 32 if limit == INT32_LIMIT else 64
        super().__init__(
            f"layer {op_name!r} (op {op_index}, {kind}): the {quantity} can reach {bound} "
            f"(2^{math.log2(bound):.2f}) for some input, beyond the int{width} limit {limit}; "
            "reduce the layer's fan-in, weight magnitudes or bias, or narrow its input range "
            "(docs/overflow.md)"
        )


@dataclass(frozen=True)
class BoundRow:
    """One bounded intermediate of one op.

    Attributes:
        op: op index; name: op name (Keras layer); kind: op kind.
        quantity: the intermediate (a short phrase, see docs/overflow.md).
        bound: an upper bound on its magnitude over all inputs (integer units of the intermediate).
        limit: the largest magnitude of its type (``2^31 − 1`` or ``2^63 − 1``).
    """

    op: int
    name: str
    kind: str
    quantity: str
    bound: int
    limit: int

    @property
    def ok(self) -> bool:
        return self.bound <= self.limit

    @property
    def headroom_bits(self) -> int:
        """Unused high bits: ``bit_length(limit) − bit_length(bound)`` (negative: it can overflow)."""
        return self.limit.bit_length() - self.bound.bit_length()


@dataclass(frozen=True)
class OverflowReport:
    """All rows of :func:`analyze`, in op order."""

    rows: tuple[BoundRow, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def failures(self) -> list[BoundRow]:
        return [r for r in self.rows if not r.ok]

    def tightest(self) -> BoundRow | None:
        """The row with the least headroom (None for a graph without ops)."""
        return min(self.rows, key=lambda r: r.headroom_bits, default=None)

    def min_headroom_bits(self, limit: int = INT32_LIMIT) -> int | None:
        """Least headroom among rows with this limit (int32 by default); None without such rows."""
        return min((r.headroom_bits for r in self.rows if r.limit == limit), default=None)

    def summary(self) -> str:
        """One line: whether every intermediate fits; the least int32 headroom (accumulators, overall)."""
        if not self.rows:
            return "overflow analysis: no ops"
        bad = self.failures()
        if bad:
            r = bad[0]
            return (
                f"overflow analysis: {len(bad)} intermediate(s) can overflow, first: {r.quantity} of "
                f"{r.name!r} (op {r.op}) reaches {r.bound} > {r.limit}"
            )
        acc = [r for r in self.rows if r.quantity in ACCUMULATOR_QUANTITIES]
        parts = [f"overflow analysis: all {len(self.rows)} bounded intermediates fit"]
        if acc:
            a = min(acc, key=lambda r: r.headroom_bits)
            parts.append(f"accumulators ≥ {a.headroom_bits} bits of int32 headroom ({a.name!r})")
        t = self.tightest()
        assert t is not None
        parts.append(f"tightest: {t.quantity} of {t.name!r}, {t.headroom_bits} bits")
        return "; ".join(parts)

    def format(self) -> str:
        """A table: op, kind, name, quantity, bound, limit, headroom bits, ok."""
        lines = [
            f"{'op':>4} {'kind':28s} {'name':28s} {'quantity':34s} {'bound':>20s} {'limit':>5s} {'bits':>5s}"
        ]
        for r in self.rows:
            limit = "int32" if r.limit == INT32_LIMIT else "int64"
            mark = "" if r.ok else "  OVERFLOW"
            lines.append(
                f"{r.op:4d} {r.kind:28s} {r.name[:28]:28s} {r.quantity[:34]:34s} {r.bound:20d} {limit:>5s} "
                f"{r.headroom_bits:5d}{mark}"
            )
        return "\n".join(lines)


@dataclass
class OpContext:
    """What a bound function sees: the graph, the op, and the value range of every int8 tensor so far.

    Attributes:
        graph: the graph; index: the op's index; op: the op.
        ranges: tensor index → ``(lo, hi)``, the int8 values the tensor can hold.
    """

    graph: IntGraph
    index: int
    op: Op
    ranges: dict[int, tuple[int, int]] = field(default_factory=dict)

    def tensor(self, position: int) -> Tensor:
        return self.graph.tensors[self.op.inputs[position]]

    @property
    def output(self) -> Tensor:
        return self.graph.tensors[self.op.outputs[0]]

    def input_range(self, position: int = 0) -> tuple[int, int]:
        return self.ranges.get(self.op.inputs[position], INT8_RANGE)

    def max_offset(self, position: int = 0) -> int:
        """``max |x − zp|`` over the input's value range."""
        lo, hi = self.input_range(position)
        zp = self.tensor(position).zero_point
        return max(abs(lo - zp), abs(hi - zp))

    def constant(self, position: int) -> np.ndarray | None:
        """An input's constant data as int64; None for an absent optional input (index −1).

        Raises:
            GraphError: naming the op, if the input is not a constant tensor.
        """
        if position >= len(self.op.inputs) or self.op.inputs[position] == -1:
            return None
        data = self.graph.tensors[self.op.inputs[position]].data
        if data is None:
            raise GraphError(f"{self.op.label(self.index)}: input {position} must be a constant")
        return np.asarray(data, np.int64)


# A bound function returns (quantity, bound, limit) triples and the op's output value range.
Quantity = tuple[str, int, int]
BoundFn = Callable[[OpContext], tuple[list[Quantity], tuple[int, int]]]
BOUNDS: dict[str, BoundFn] = {}


def register_bound(*kinds: str) -> Callable[[BoundFn], BoundFn]:
    """Decorator: ``fn`` bounds the intermediates of ops of ``kinds`` (one function per kind)."""

    def deco(fn: BoundFn) -> BoundFn:
        for kind in kinds:
            BOUNDS[kind] = fn
        return fn

    return deco


# ---------------------------------------------------------------------------------------------------
# shared pieces


@dataclass(frozen=True)
class AccumulatorBounds:
    """Exact per-channel accumulator range and the any-order partial-sum bound of a weighted op.

    Attributes:
        low, high: int64 ``[C]``: the least and largest value of ``bias + Σ w·(x − zp)`` over all inputs
            (exact for an output position whose window lies inside the image).
        partial: int64 ``[C]``: ``|bias| + Σ |w|·max|x − zp|``, a bound on every partial sum in any order.
    """

    low: np.ndarray
    high: np.ndarray
    partial: np.ndarray

    @property
    def magnitude(self) -> np.ndarray:
        """``max(|low|, |high|)`` per channel."""
        return np.maximum(np.abs(self.low), np.abs(self.high))


def accumulator_bounds(
    weights: np.ndarray, bias: np.ndarray | None, offset_range: tuple[int, int], padded: bool
) -> AccumulatorBounds:
    """Bounds of ``acc[c] = bias[c] + Σ_i weights[c, i] · d_i`` with every ``d_i ∈ [a, b]``.

    Args:
        weights: integer weights ``[C, taps]`` (one row per output channel).
        bias: ``[C]`` or None.
        offset_range: ``(a, b) = (lo − zp_in, hi − zp_in)``, the range of ``x − zp_in``.
        padded: some output position has taps outside the image; such a tap contributes 0, so each term's
            range is widened to include 0.
    """
    w = np.asarray(weights)
    exact = object if w.dtype == object else np.int64  # object: Python integers for huge shift weights
    w = w.astype(exact)
    a, b = offset_range
    t_hi = np.maximum(w * a, w * b)
    t_lo = np.minimum(w * a, w * b)
    if padded:
        t_hi, t_lo = np.maximum(t_hi, 0), np.minimum(t_lo, 0)
    c0 = np.zeros(w.shape[0], np.int64) if bias is None else np.asarray(bias, np.int64).reshape(-1)
    c0 = c0.astype(exact)
    partial = np.abs(c0) + np.maximum(np.abs(t_hi), np.abs(t_lo)).sum(axis=1)
    return AccumulatorBounds(c0 + t_lo.sum(axis=1), c0 + t_hi.sum(axis=1), partial)


def mbqm_bound(magnitude: int, multiplier: int, shift: int) -> tuple[int, int]:
    """Bounds of TFLite's ``MultiplyByQuantizedMultiplier`` on ``|x| ≤ magnitude``.

    Returns:
        ``(|x·2^left|, |result|)``: the left-shifted input (must fit int32: not saturated) and the result
        (``|SRDHM| ≤ (|x1|·q + 2^30) >> 31``, then RDBP adds at most 1 after the shift).
    """
    left, right = max(shift, 0), max(-shift, 0)
    x1 = magnitude << left
    high = (x1 * multiplier + (1 << 30)) >> 31
    return x1, (high >> right) + (1 if right else 0)


def _window_padded(x: Tensor, kh: int, kw: int, op: Op) -> bool:
    """True if some output position of a window op reads outside the image (padding taps)."""
    if str(op.options.get("padding", "VALID")) != "SAME":
        return False
    sh, sw = int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))
    h, w = x.shape[1], x.shape[2]
    for size, k, s in ((h, kh, sh), (w, kw, sw)):
        out = kernels.output_size(size, k, s, "SAME")
        if (out - 1) * s + k > size:
            return True
    return False


def _offset_range(ctx: OpContext) -> tuple[int, int]:
    lo, hi = ctx.input_range(0)
    zp = ctx.tensor(0).zero_point
    return lo - zp, hi - zp


def _accumulator_rows(acc: AccumulatorBounds) -> list[Quantity]:
    return [
        (ACCUMULATOR_QUANTITIES[0], int(acc.magnitude.max(initial=0)), INT32_LIMIT),
        (ACCUMULATOR_QUANTITIES[1], int(acc.partial.max(initial=0)), INT32_LIMIT),
    ]


# layout of the filter of each weighted op kind: "conv" [O,KH,KW,I], "depthwise" [1,KH,KW,I·M], "fc" [O,I]
_LAYOUTS = {
    "CONV_2D": "conv",
    "DEPTHWISE_CONV_2D": "depthwise",
    "FULLY_CONNECTED": "fc",
    "LPN_CONV_2D": "conv",
    "LPN_DEPTHWISE_CONV_2D": "depthwise",
    "LPN_SHIFT_CONV_2D": "conv",
    "LPN_SHIFT_DEPTHWISE_CONV_2D": "depthwise",
    "LPN_SHIFT_FULLY_CONNECTED": "fc",
}


def _weighted_accumulators(ctx: OpContext) -> AccumulatorBounds:
    """Accumulator bounds of a weighted op: its integer weights per output channel, bias, input range."""
    if ctx.op.kind.startswith("LPN_SHIFT_"):
        o = ctx.op.options
        shape = tuple(int(d) for d in o["filter_shape"])  # type: ignore[union-attr]
        s = int(o["exponent_bits"])
        packed = ctx.constant(1)
        assert packed is not None
        codes = packing.unpack(packed.astype(np.uint8), int(np.prod(shape)), s + 1).reshape(shape)
        if s < 6:
            filt = packing.shift_weights(codes, s)  # ±2^(E_max − e), at most 2^31: int64 is exact
        else:  # weights up to 2^127: exact Python integers (int64 would wrap)
            negative, exponent = packing.decode(codes, s)
            e_max = packing.max_exponent(s)
            magnitudes = [1 << (e_max - int(e)) for e in exponent.reshape(-1)]
            signed = [-m if n else m for m, n in zip(magnitudes, negative.reshape(-1).tolist(), strict=True)]
            filt = np.array(signed, dtype=object).reshape(shape)
    else:
        filt = ctx.constant(1)
        if filt is None:
            raise GraphError(f"{ctx.op.label(ctx.index)}: the filter must be a constant")
    layout = _LAYOUTS[ctx.op.kind]
    if layout == "fc":
        weights, padded = filt, False
    else:
        weights = (
            filt.reshape(filt.shape[0], -1) if layout == "conv" else filt[0].reshape(-1, filt.shape[3]).T
        )
        padded = _window_padded(ctx.tensor(0), filt.shape[1], filt.shape[2], ctx.op)
    return accumulator_bounds(weights, ctx.constant(2), _offset_range(ctx), padded)


def _clamp_range(ctx: OpContext) -> tuple[int, int]:
    if "act_min" in ctx.op.options:
        return int(ctx.op.options["act_min"]), int(ctx.op.options["act_max"])
    return activation_range(str(ctx.op.options.get("activation", "NONE")), ctx.output)


def _intersect(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else (lo, lo)  # an empty intersection: clamping pins every value to one end


# ---------------------------------------------------------------------------------------------------
# builtin ops


@register_bound("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
def _builtin_weighted(ctx: OpContext) -> tuple[list[Quantity], tuple[int, int]]:
    """Accumulators, then TFLite requantization: double rounding (conv, depthwise) or single (dense)."""
    acc = _weighted_accumulators(ctx)
    rows = _accumulator_rows(acc)
    act = str(ctx.op.options.get("activation", "NONE"))
    rq = per_channel_requant(ctx.tensor(0), ctx.tensor(1), ctx.output, acc.magnitude.size, act)
    channels = list(zip(acc.magnitude.tolist(), rq.multiplier.tolist(), rq.shift.tolist(), strict=True))
    if ctx.op.kind == "FULLY_CONNECTED":
        # (acc·q + 2^(30−shift)) >> (31−shift): exact in int64, then saturated to int32
        scaled = max(((m * q + (1 << (30 - s))) >> (31 - s)) + 1 for m, q, s in channels)
        scaled = min(scaled, INT32_LIMIT)
    else:
        pairs = [mbqm_bound(m, q, s) for m, q, s in channels]
        if max(s for _, _, s in channels) > 0:
            rows.append(("accumulator·2^left (requantization)", max(p[0] for p in pairs), INT32_LIMIT))
        scaled = max(p[1] for p in pairs)
    rows.append(("requantized + output zero point", scaled + abs(ctx.output.zero_point), INT32_LIMIT))
    return rows, _clamp_range(ctx)


@register_bound("ADD")
def _add(ctx: OpContext) -> tuple[list[Quantity], tuple[int, int]]:
    # the multipliers the executors use (docs/integer-spec.md §3, ADD); the activation does not matter here
    p = add_params(ctx.tensor(0), ctx.tensor(1), ctx.output, "NONE")
    rows: list[Quantity] = []
    total = 0
    inputs = ((p.input1_multiplier, p.input1_shift), (p.input2_multiplier, p.input2_shift))
    for k, (q, shift) in enumerate(inputs):
        shifted = ctx.max_offset(k) << p.left_shift
        rows.append((f"input {k + 1} (x − zp)·2^{p.left_shift}", shifted, INT32_LIMIT))
        x1, scaled = mbqm_bound(shifted, q, shift)
        if shift > 0:
            rows.append((f"input {k + 1} rescale ·2^left", x1, INT32_LIMIT))
        total += scaled
    rows.append(("rescaled sum", total, INT32_LIMIT))
    x1, out = mbqm_bound(total, p.output_multiplier, p.output_shift)
    if shift > 0:
        rows.append(("rescaled sum·2^left (output requantization)", x1, INT32_LIMIT))
    rows.append(("requantized + output zero point", out + abs(ctx.output.zero_point), INT32_LIMIT))
    return rows, _clamp_range(ctx)


@register_bound("AVERAGE_POOL_2D")
def _average_pool(ctx: OpContext) -> tuple[list[Quantity], tuple[int, int]]:
    n = int(ctx.op.options["filter_h"]) * int(ctx.op.options["filter_w"])
    lo, hi = ctx.input_range(0)
    rows = [("window sum ± n/2", n * max(abs(lo), abs(hi)) + n // 2, INT32_LIMIT)]
    return rows, _intersect((lo, hi), _clamp_range(ctx))  # an average of values in [lo, hi] stays there


@register_bound("MAX_POOL_2D")
def _max_pool(ctx: OpContext) -> tuple[list[Quantity], tuple[int, int]]:
    lo, hi = ctx.input_range(0)
    return [("window maximum (no arithmetic)", max(abs(lo), abs(hi)), INT32_LIMIT)], _intersect(
        (lo, hi), _clamp_range(ctx)
    )


@register_bound("RESHAPE")
def _reshape(ctx: OpContext) -> tuple[list[Quantity], tuple[int, int]]:
    lo, hi = ctx.input_range(0)
    return [("copy (no arithmetic)", max(abs(lo), abs(hi)), INT32_LIMIT)], (lo, hi)


@register_bound("MEAN")
def _mean(ctx: OpContext) -> tuple[list[Quantity], tuple[int, int]]:
    x = ctx.tensor(0)
    count = x.shape[1] * x.shape[2]
    total = count * ctx.max_offset(0)
    rows = [("sum of (x − zp)", total, INT32_LIMIT)]
    q, shift = fp.quantize_multiplier(float(np.float64(x.scale)) / float(np.float64(ctx.output.scale)))
    q, shift = kernels.mean_multiplier(q, shift, count)
    x1, out = mbqm_bound(total, q, shift)
    if shift > 0:
        rows.append(("sum·2^left (requantization)", x1, INT32_LIMIT))
    rows.append(("requantized + output zero point", out + abs(ctx.output.zero_point), INT32_LIMIT))
    return rows, INT8_RANGE


@register_bound("SOFTMAX")
def _softmax(ctx: OpContext) -> tuple[list[Quantity], tuple[int, int]]:
    lo, hi = ctx.input_range(0)
    p = kernels.softmax_params(float(np.float64(ctx.tensor(0).scale)))
    # only differences d ≥ diff_min are scaled: |d| ≤ min(hi − lo, −diff_min)
    scaled = min(hi - lo, -p.diff_min) << p.input_left_shift
    row_length = ctx.tensor(0).shape[-1]
    rows = [
        ("difference·2^left (input scaling)", scaled, INT32_LIMIT),
        ("sum of exps (Q12.19)", row_length << 19, INT32_LIMIT),
    ]
    return rows, INT8_RANGE


# ---------------------------------------------------------------------------------------------------
# LPN custom ops


def _lpn_requant_rows(
    ctx: OpContext, magnitude: np.ndarray, params: int, addend: np.ndarray
) -> list[Quantity]:
    """The int64 row of an LPN requantization of ``p = v·m_c + addend_c`` (docs/integer-spec.md §5).

    ``magnitude`` bounds ``|v|`` per channel; mantissas and shifts are the op's inputs ``params`` and
    ``params + 1``. Rounding adds ``2^(k−1)`` (grid nearest) or at most ``2^k − 1`` (ceil grids) to
    ``|p|``; the shifted result is saturated to int32 and the zero point added in int64, so only this
    int64 sum needs a bound.
    """
    m = ctx.constant(params)
    k = ctx.constant(params + 1)
    if m is None or k is None:
        raise GraphError(f"{ctx.op.label(ctx.index)}: mantissa and shift must be constants")
    nearest = int(ctx.op.options.get("grid", fp.GRID_NEAREST)) == fp.GRID_NEAREST
    terms = [
        v * abs(mc) + a + (((1 << (kc - 1)) if kc > 0 else 0) if nearest else (1 << kc) - 1)
        for v, mc, a, kc in zip(magnitude.tolist(), m.tolist(), addend.tolist(), k.tolist(), strict=True)
    ]
    return [("requantization product + rounding (int64)", max(terms, default=0), INT64_LIMIT)]


@register_bound(
    "LPN_CONV_2D",
    "LPN_DEPTHWISE_CONV_2D",
    "LPN_SHIFT_CONV_2D",
    "LPN_SHIFT_DEPTHWISE_CONV_2D",
    "LPN_SHIFT_FULLY_CONNECTED",
)
def _lpn_weighted(ctx: OpContext) -> tuple[list[Quantity], tuple[int, int]]:
    """Accumulators (int8 filter or shift codes ±2^(E_max − e)), then the LPN requantization."""
    acc = _weighted_accumulators(ctx)
    requant = _lpn_requant_rows(ctx, acc.magnitude, 3, np.zeros_like(acc.magnitude))
    return _accumulator_rows(acc) + requant, _clamp_range(ctx)


@register_bound("LPN_QUANT_NORM")
def _quant_norm(ctx: OpContext) -> tuple[list[Quantity], tuple[int, int]]:
    """``(x − zp)·m_c + b_c`` and its rounding, in int64."""
    bias = ctx.constant(1)
    if bias is None:
        raise GraphError(f"{ctx.op.label(ctx.index)}: the bias must be a constant")
    magnitude = np.full(ctx.tensor(0).shape[-1], ctx.max_offset(0), np.int64)
    return _lpn_requant_rows(ctx, magnitude, 2, np.abs(bias)), _clamp_range(ctx)


# ---------------------------------------------------------------------------------------------------
# driver


def analyze(graph: IntGraph) -> OverflowReport:
    """Bound every integer intermediate of every op of ``graph`` (see the module docstring).

    Raises:
        GraphError: an op kind without a registered bound function, or a malformed op (naming it).
    """
    ranges: dict[int, tuple[int, int]] = {i: INT8_RANGE for i in graph.inputs}
    rows: list[BoundRow] = []
    for k, op in enumerate(graph.ops):
        fn = BOUNDS.get(op.kind)
        if fn is None:
            raise GraphError(f"{op.label(k)}: no overflow bound is registered for op kind {op.kind!r}")
        try:
            quantities, out_range = fn(OpContext(graph, k, op, ranges))
        except (KeyError, IndexError, ValueError) as err:
            raise GraphError(f"{op.label(k)}: overflow analysis failed: {err}") from None
        ranges[op.outputs[0]] = out_range
        rows.extend(BoundRow(k, op.name, op.kind, q, int(b), int(lim)) for q, b, lim in quantities)
    return OverflowReport(tuple(rows))


def check(graph: IntGraph) -> OverflowReport:
    """:func:`analyze`, then raise :class:`AccumulatorOverflowError` for the first row that can overflow."""
    report = analyze(graph)
    for r in report.failures():
        raise AccumulatorOverflowError(r.op, r.name, r.kind, r.quantity, r.bound, r.limit)
    return report
