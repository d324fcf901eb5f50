"""What an op costs, before prices: the op description (:class:`OpCount`) and its cost units.

An adapter (Keras model, integer graph, .tflite file) turns each layer/op into one or more
:class:`OpCount` records; :func:`units` turns a record into *units per cost term and category*, and a
:class:`~lpn_tf.ace.costs.CostTable` prices the units. Counts are per inference of one sample
(batch 1). Elementwise ops are counted once per output element.

The numbers follow ``docs/ace.md``:

- MAC: ``b_a · b_w`` units each (ACE v1 counts only these); MACs on zero-padding taps are a separate
  term (``pad_mac``, same default price) so that calibration can tell kernels that skip them;
- elementwise multiply ``b_x · b_y``, add and compare ``max(b_x, b_y)``, shift ``b_x``, table lookup
  ``b_y``, nonlinear function (float exp/tanh) ``b_x · b_y``;
- requantization (integer ops, once per output element): a multiply ``b_acc · b_scale``, a rounding
  shift ``b_acc`` and a zero-point add ``b_acc``;
- memory bytes: weights (packed at their bit width, plus biases) and input/output activations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from lpn_tf.ace.costs import CostTable

ELEMENTWISE_KINDS: tuple[str, ...] = ("mul", "add", "cmp", "shift", "lut", "func")
"""Elementwise op kinds; each is also the name of its cost term."""

CATEGORIES: tuple[str, ...] = ("mac", "elementwise", "requant", "memory", "overhead")
"""Report categories a cost falls into."""

ARITHS: tuple[str, ...] = ("float", "int", "shift")
"""Arithmetic of an op: float, integer (uniform) or shift (power-of-two weights)."""


class CountError(ValueError):
    """An op cannot be counted; the message names the layer or op at fault."""


@dataclass(frozen=True)
class Elementwise:
    """``count`` elementwise operations of one kind on operands of ``bits_x`` and ``bits_y`` bits.

    ``bits_y`` = 0 means "same width as x".
    """

    kind: str
    count: int
    bits_x: int
    bits_y: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ELEMENTWISE_KINDS:
            raise CountError(f"elementwise kind {self.kind!r} is not one of {list(ELEMENTWISE_KINDS)}")
        if self.count < 0 or self.bits_x <= 0 or self.bits_y < 0:
            raise CountError(
                f"elementwise {self.kind}: count {self.count} and bit widths "
                f"{self.bits_x}/{self.bits_y} must be non-negative (widths positive)"
            )

    @property
    def y(self) -> int:
        """The second operand's width (``bits_x`` when not given)."""
        return self.bits_y or self.bits_x

    def units_each(self) -> int:
        """Cost units of one operation (see the module docstring)."""
        if self.kind in ("mul", "func"):
            return self.bits_x * self.y
        if self.kind in ("add", "cmp"):
            return max(self.bits_x, self.y)
        if self.kind == "shift":
            return self.bits_x
        return self.y  # lut: one b_y-bit table read

    def label(self) -> str:
        """Short text such as ``mul32x32`` or ``add32``."""
        if self.kind in ("mul", "func") or (self.bits_y and self.bits_y != self.bits_x):
            return f"{self.kind}{self.bits_x}x{self.y}"
        return f"{self.kind}{self.bits_x}"


@dataclass(frozen=True)
class Numerics:
    """Bit widths an op computes with.

    Attributes:
        arith: one of :data:`ARITHS`.
        bits_weight: weight width (1 sign + exponent bits for shift weights).
        bits_activation: input activation width.
        bits_output: output activation width (0 = same as input).
        bits_accumulator: accumulator width (= float width for float ops).
        bits_scale: requantization multiplier width; 0 = no requantization (float ops).
    """

    arith: str
    bits_weight: int
    bits_activation: int
    bits_accumulator: int
    bits_scale: int = 0
    bits_output: int = 0

    def __post_init__(self) -> None:
        if self.arith not in ARITHS:
            raise CountError(f"arith {self.arith!r} is not one of {list(ARITHS)}")

    @staticmethod
    def floating(bits: int = 32) -> Numerics:
        """Float arithmetic at ``bits`` (32 = float32, 16 = bfloat16): everything that width, no requant."""
        return Numerics("float", bits, bits, bits, 0, bits)

    @staticmethod
    def integer(
        bits_weight: int = 8,
        bits_activation: int = 8,
        bits_accumulator: int = 32,
        bits_scale: int = 32,
        arith: str = "int",
    ) -> Numerics:
        """Integer arithmetic with requantization (TFLite int8: 8/8/32 with 32-bit multipliers)."""
        return Numerics(arith, bits_weight, bits_activation, bits_accumulator, bits_scale, bits_activation)

    @property
    def out(self) -> int:
        """Output activation width."""
        return self.bits_output or self.bits_activation

    @property
    def requantizes(self) -> bool:
        return self.bits_scale > 0


@dataclass(frozen=True)
class OpCount:
    """Everything the cost model needs to know about one op (per sample).

    Attributes:
        name: the Keras layer name or graph op label (``layer/part`` for split layers).
        kind: op family such as ``conv2d``, ``depthwise_conv2d``, ``dense``, ``batch_norm``,
            ``quant_norm``, ``add``, ``activation``, ``max_pool``, ``avg_pool``, ``softmax``.
        arith: ``float``, ``int`` or ``shift`` (see :data:`ARITHS`).
        macs: multiply-accumulates (the ACE count: every kernel tap of every output, padding included).
        padding_macs: those of ``macs`` whose input tap falls in the zero padding (kernels that skip
            padded taps do not execute them; priced by the ``pad_mac`` term).
        taps: executed (output element, kernel tap) pairs, i.e. entries into the innermost MAC loop
            (conv: non-padding MACs / (C_in/groups); depthwise: non-padding MACs; dense: outputs);
            priced by the ``tap`` term (loop overhead; 0 in the default table).
        input_elements / output_elements / weight_elements: element counts (all inputs summed).
        bits_weight / bits_activation / bits_output / bits_accumulator / bits_scale: bit widths
            (0 where not applicable).
        elementwise: elementwise operations (bias adds, activations, BN, pooling, residual adds).
        requant_count: requantizations (each ``b_acc·b_scale`` multiply + ``b_acc`` shift + add).
        weight_bytes / input_bytes / output_bytes: memory traffic in bytes.
        input_shape / output_shape: informational shapes without the batch dimension.
        note: free text shown in reports (e.g. ``"folded into conv1"``).
    """

    name: str
    kind: str
    arith: str
    macs: int = 0
    padding_macs: int = 0
    taps: int = 0
    input_elements: int = 0
    output_elements: int = 0
    weight_elements: int = 0
    bits_weight: int = 0
    bits_activation: int = 0
    bits_output: int = 0
    bits_accumulator: int = 0
    bits_scale: int = 0
    elementwise: tuple[Elementwise, ...] = ()
    requant_count: int = 0
    weight_bytes: int = 0
    input_bytes: int = 0
    output_bytes: int = 0
    input_shape: tuple[int, ...] = ()
    output_shape: tuple[int, ...] = field(default=())
    note: str = ""

    def __post_init__(self) -> None:
        if self.arith not in ARITHS:
            raise CountError(f"{self.name!r}: arith {self.arith!r} is not one of {list(ARITHS)}")
        for attr in (
            "macs",
            "input_elements",
            "output_elements",
            "weight_elements",
            "requant_count",
            "weight_bytes",
            "input_bytes",
            "output_bytes",
            "bits_weight",
            "bits_activation",
            "bits_output",
            "bits_accumulator",
            "bits_scale",
        ):
            if getattr(self, attr) < 0:
                raise CountError(f"{self.name!r}: {attr} = {getattr(self, attr)} is negative")
        if self.padding_macs > self.macs:
            raise CountError(f"{self.name!r}: padding_macs {self.padding_macs} > macs {self.macs}")
        if self.macs and not (self.bits_weight and self.bits_activation):
            raise CountError(f"{self.name!r}: {self.macs} MACs need bits_weight and bits_activation")
        if self.requant_count and not (self.bits_accumulator and self.bits_scale):
            raise CountError(f"{self.name!r}: requantization needs bits_accumulator and bits_scale")

    @property
    def family(self) -> str:
        """``kind:arith``, the key of per-family cost-table overrides."""
        return f"{self.kind}:{self.arith}"

    @property
    def memory_bytes(self) -> int:
        """Weight + input + output bytes."""
        return self.weight_bytes + self.input_bytes + self.output_bytes

    def bits_label(self) -> str:
        """Bit widths as text, e.g. ``w8 a8 acc32 s32`` (only the widths that apply)."""
        parts = []
        if self.bits_weight:
            parts.append(f"w{self.bits_weight}")
        if self.bits_activation:
            parts.append(f"a{self.bits_activation}")
        if self.requant_count:
            parts.append(f"acc{self.bits_accumulator}")
            parts.append(f"s{self.bits_scale}")
        return " ".join(parts)


def nbytes(elements: int, bits: int) -> int:
    """Bytes of ``elements`` values packed at ``bits`` bits each (rounded up to whole bytes)."""
    return math.ceil(elements * bits / 8)


def valid_taps(
    in_size: int, out_size: int, kernel: int, stride: int = 1, padding: str = "valid", dilation: int = 1
) -> int:
    """Along one spatial dimension: the (output position, kernel tap) pairs whose input index lies inside
    the input (not in the zero padding). ``padding``: ``valid``, ``same`` (TFLite/Keras: the smaller half
    of the padding before) or ``causal`` (all padding before)."""
    span = (kernel - 1) * dilation + 1
    total = max((out_size - 1) * stride + span - in_size, 0)
    mode = padding.lower()
    before = 0 if mode == "valid" else total if mode == "causal" else total // 2
    return sum(
        1 for o in range(out_size) for k in range(kernel) if 0 <= o * stride - before + k * dilation < in_size
    )


def window_pairs(
    in_spatial: tuple[int, ...],
    out_spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    padding: str,
    dilation: tuple[int, ...] | None = None,
) -> tuple[int, int]:
    """``(all, valid)`` (output position, kernel tap) pairs of a sliding window over all spatial dims."""
    dilation = dilation or (1,) * len(kernel)
    total = math.prod(out_spatial) * math.prod(kernel)
    valid = math.prod(
        valid_taps(i, o, k, s, padding, d)
        for i, o, k, s, d in zip(in_spatial, out_spatial, kernel, strides, dilation, strict=True)
    )
    return total, valid


def ace_v1(op: OpCount) -> int:
    """ACE v1 of an op: ``macs · b_a · b_w`` (everything else is free)."""
    return op.macs * op.bits_activation * op.bits_weight


def units(op: OpCount) -> dict[tuple[str, str], float]:
    """Cost units of ``op`` by ``(category, term)``; a cost is ``Σ coefficient(term) · units``."""
    out: dict[tuple[str, str], float] = {}

    def put(category: str, term: str, value: float) -> None:
        if value:
            out[(category, term)] = out.get((category, term), 0.0) + float(value)

    put("mac", "mac", (op.macs - op.padding_macs) * op.bits_activation * op.bits_weight)
    put("mac", "pad_mac", op.padding_macs * op.bits_activation * op.bits_weight)
    for ew in op.elementwise:
        put("elementwise", ew.kind, ew.count * ew.units_each())
    if op.requant_count:
        put("requant", "mul", op.requant_count * op.bits_accumulator * op.bits_scale)
        put("requant", "shift", op.requant_count * op.bits_accumulator)
        put("requant", "add", op.requant_count * op.bits_accumulator)
    put("memory", "load_byte", op.weight_bytes + op.input_bytes)
    put("memory", "store_byte", op.output_bytes)
    put("overhead", "tap", op.taps)
    if out:  # a row with no work (e.g. a BN folded into its conv) is no op on the device: no overhead
        put("overhead", "op", 1)
    return out


def term_units(op: OpCount) -> dict[str, float]:
    """Cost units of ``op`` summed per term (the calibration features)."""
    out: dict[str, float] = {}
    for (_, term), value in units(op).items():
        out[term] = out.get(term, 0.0) + value
    return out


def price(op: OpCount, table: CostTable) -> dict[str, float]:
    """Cost of ``op`` per category of :data:`CATEGORIES`, priced with ``table``."""
    costs = dict.fromkeys(CATEGORIES, 0.0)
    for (category, term), value in units(op).items():
        costs[category] += table.coefficient(term, op.family) * value
    return costs


# ---- op builders shared by the adapters (Keras layers, integer graph ops) -----------------------------

ACTIVATION_RECIPES: dict[str, tuple[tuple[str, int], ...]] = {
    "linear": (),
    "relu": (("cmp", 1),),
    "relu6": (("cmp", 2),),
    "leaky_relu": (("cmp", 1), ("mul", 1)),
    "hard_sigmoid": (("mul", 1), ("add", 1), ("cmp", 2)),
    "hard_swish": (("mul", 2), ("add", 1), ("cmp", 2)),
    "sigmoid": (("func", 1),),
    "tanh": (("func", 1),),
    "swish": (("func", 1), ("mul", 1)),
    "silu": (("func", 1), ("mul", 1)),
    "gelu": (("func", 1), ("mul", 2), ("add", 1)),
    "elu": (("cmp", 1), ("func", 1)),
    "selu": (("cmp", 1), ("func", 1), ("mul", 1)),
    "softplus": (("func", 1), ("add", 1)),
}
"""Elementwise ops per element for each float activation function (an integer kernel replaces the
nonlinear ones, ``func``, by one table lookup)."""


def activation_ops(activation: str, elements: int, num: Numerics, where: str) -> tuple[Elementwise, ...]:
    """Elementwise ops of ``activation`` applied to ``elements`` values with numerics ``num``."""
    recipe = ACTIVATION_RECIPES.get(activation)
    if recipe is None:
        raise CountError(
            f"{where}: activation {activation!r} has no cost recipe "
            f"(known: {', '.join(sorted(ACTIVATION_RECIPES))})"
        )
    bits = num.out
    if num.arith != "float" and any(kind == "func" for kind, _ in recipe):
        return (Elementwise("lut", elements, bits, bits),)
    return tuple(Elementwise(kind, n * elements, bits) for kind, n in recipe)


def weighted(
    name: str,
    kind: str,
    num: Numerics,
    *,
    macs: int,
    input_shape: tuple[int, ...],
    output_shape: tuple[int, ...],
    weight_elements: int,
    bias_elements: int,
    activation: str = "linear",
    fused_activation: bool = True,
    padding_macs: int = 0,
    macs_per_tap: int = 0,
) -> OpCount:
    """A conv / depthwise / dense op: MACs, bias add and activation (float) or requantization (integer).

    Args:
        macs: multiply-accumulates per sample.
        input_shape / output_shape: without the batch dimension.
        weight_elements: kernel elements (packed at ``num.bits_weight``).
        bias_elements: bias length (0 without bias); biases are stored at the accumulator width.
        activation: the fused activation (a key of :data:`ACTIVATION_RECIPES`).
        fused_activation: integer ops clamp in the requantization, so a fused ReLU/ReLU6 is free.
        padding_macs: MACs (of ``macs``) on zero-padding taps.
        macs_per_tap: MACs of one (output element, kernel tap) pair (conv: C_in/groups, depthwise: 1,
            dense: in_features); 0 = do not count taps.
    """
    out_el = math.prod(output_shape)
    in_el = math.prod(input_shape)
    ew: list[Elementwise] = []
    if bias_elements:
        ew.append(Elementwise("add", out_el, num.bits_accumulator))
    free = num.requantizes and fused_activation and activation in ("linear", "relu", "relu6")
    if not free:
        ew.extend(activation_ops(activation, out_el, num, name))
    return OpCount(
        name=name,
        kind=kind,
        arith=num.arith,
        macs=macs,
        padding_macs=padding_macs,
        taps=(macs - padding_macs) // macs_per_tap if macs_per_tap else 0,
        input_elements=in_el,
        output_elements=out_el,
        weight_elements=weight_elements,
        bits_weight=num.bits_weight,
        bits_activation=num.bits_activation,
        bits_output=num.out,
        bits_accumulator=num.bits_accumulator,
        bits_scale=num.bits_scale if num.requantizes else 0,
        elementwise=tuple(ew),
        requant_count=out_el if num.requantizes else 0,
        weight_bytes=nbytes(weight_elements, num.bits_weight) + nbytes(bias_elements, num.bits_accumulator),
        input_bytes=nbytes(in_el, num.bits_activation),
        output_bytes=nbytes(out_el, num.out),
        input_shape=tuple(input_shape),
        output_shape=tuple(output_shape),
    )


def elementwise_op(
    name: str,
    kind: str,
    num: Numerics,
    shape: tuple[int, ...],
    ops: tuple[Elementwise, ...],
    *,
    n_inputs: int = 1,
    requant_per_element: int = 0,
    param_elements: int = 0,
    output_shape: tuple[int, ...] | None = None,
    note: str = "",
) -> OpCount:
    """An op without MACs (BN, activation, add, pool, softmax).

    Args:
        shape: one input's shape (without batch); all ``n_inputs`` inputs have it.
        ops: its elementwise operations (already multiplied by the element count).
        requant_per_element: requantizations per output element (integer ops).
        param_elements: per-channel parameters stored with the op (BN multipliers and offsets).
        output_shape: when it differs from ``shape`` (pools).
    """
    out_shape = tuple(shape if output_shape is None else output_shape)
    in_el = math.prod(shape) * n_inputs
    out_el = math.prod(out_shape)
    rq = requant_per_element * out_el
    return OpCount(
        name=name,
        kind=kind,
        arith=num.arith,
        input_elements=in_el,
        output_elements=out_el,
        weight_elements=param_elements,
        bits_activation=num.bits_activation,
        bits_output=num.out,
        bits_accumulator=num.bits_accumulator if (rq or num.arith == "float") else 0,
        bits_scale=num.bits_scale if rq else 0,
        elementwise=ops,
        requant_count=rq,
        weight_bytes=nbytes(param_elements, num.bits_accumulator if rq else num.bits_weight),
        input_bytes=nbytes(in_el, num.bits_activation),
        output_bytes=nbytes(out_el, num.out),
        input_shape=tuple(shape),
        output_shape=out_shape,
        note=note,
    )


def batch_norm(name: str, num: Numerics, shape: tuple[int, ...], kind: str = "batch_norm") -> OpCount:
    """Per-element BN. Float: one multiply and one add at the float width per element. Integer
    (QuantNorm-style): an accumulator-width add of the folded offset, then one requantization whose
    multiplier carries the folded BN scale."""
    el = math.prod(shape)
    channels = shape[-1] if shape else 1
    if num.arith == "float":
        ops = (Elementwise("mul", el, num.bits_activation), Elementwise("add", el, num.bits_activation))
        return elementwise_op(name, kind, num, shape, ops, param_elements=2 * channels)
    ops = (Elementwise("add", el, num.bits_accumulator),)
    return elementwise_op(name, kind, num, shape, ops, requant_per_element=1, param_elements=2 * channels)


def residual_add(
    name: str, num: Numerics, shape: tuple[int, ...], n_inputs: int = 2, activation: str = "linear"
) -> OpCount:
    """Sum of ``n_inputs`` same-shape tensors. Integer (TFLite ADD): each input is rescaled to a common
    scale and the sum requantized (``n_inputs + 1`` requantizations per element), adds at accumulator
    width; a fused ReLU/ReLU6 is free (the output clamp)."""
    el = math.prod(shape)
    if num.arith == "float":
        ops = (
            Elementwise("add", (n_inputs - 1) * el, num.bits_activation),
            *activation_ops(activation, el, num, name),
        )
        return elementwise_op(name, "add", num, shape, ops, n_inputs=n_inputs)
    ops = (Elementwise("add", (n_inputs - 1) * el, num.bits_accumulator),)
    if activation not in ("linear", "relu", "relu6"):
        ops = ops + activation_ops(activation, el, num, name)
    return elementwise_op(name, "add", num, shape, ops, n_inputs=n_inputs, requant_per_element=n_inputs + 1)


def pool(
    name: str,
    num: Numerics,
    mode: str,
    input_shape: tuple[int, ...],
    output_shape: tuple[int, ...],
    window: int,
    valid_pairs: int | None = None,
) -> OpCount:
    """Max or average pooling with ``window`` inputs per output element (global pools: ``window = H·W``).

    Only inputs inside the image are pooled (padding is not an input), so with ``valid_pairs`` = the
    (output position, window tap) pairs inside the input (:func:`window_pairs`; default: all
    ``window · outputs``) there are ``valid_pairs − outputs`` reductions per channel. Max: one compare
    each. Average: one add each (accumulator width) and a division per output — a float multiply by
    the reciprocal, or one requantization in integer arithmetic.
    """
    out_el = math.prod(output_shape)
    channels = output_shape[-1] if output_shape else 1
    positions = out_el // max(channels, 1)
    pairs = window * positions if valid_pairs is None else valid_pairs
    reductions = max(pairs - positions, 0) * channels
    if mode == "max":
        ops = (Elementwise("cmp", reductions, num.bits_activation),)
        return elementwise_op(name, "max_pool", num, input_shape, ops, output_shape=output_shape)
    if mode != "avg":
        raise CountError(f"{name}: pool mode {mode!r} is not 'max' or 'avg'")
    adds = Elementwise("add", reductions, num.bits_accumulator)
    if num.arith == "float":
        ops = (adds, Elementwise("mul", out_el, num.bits_activation))
        return elementwise_op(name, "avg_pool", num, input_shape, ops, output_shape=output_shape)
    return elementwise_op(
        name,
        "avg_pool",
        num,
        input_shape,
        (adds,),
        output_shape=output_shape,
        requant_per_element=1,
    )


def softmax(name: str, num: Numerics, shape: tuple[int, ...]) -> OpCount:
    """Softmax over the last axis: per element a max-compare, an exp (float) or lookup (integer), an
    add into the sum and a multiply by the reciprocal."""
    el = math.prod(shape)
    b = num.bits_activation
    if num.arith == "float":
        ops = (
            Elementwise("cmp", el, b),
            Elementwise("func", el, b),
            Elementwise("add", el, b),
            Elementwise("mul", el, b),
        )
    else:
        acc = num.bits_accumulator
        ops = (
            Elementwise("cmp", el, b),
            Elementwise("lut", el, b, acc),
            Elementwise("add", el, acc),
            Elementwise("mul", el, acc, acc),
        )
    return elementwise_op(name, "softmax", num, shape, ops)
