"""LPN custom-op definitions: custom codes, inputs, flexbuffer options (docs/custom-ops.md).

Each op is a :class:`CustomOpSpec`: its custom_code, the roles of its inputs, and its option keys. In
the graph, options are Python ints, enum names (``padding``: ``"SAME"``/``"VALID"``) and int tuples; in
the .tflite file they are a flexbuffer map with keys in sorted order, ints as flexbuffer ints,
``padding`` as the TFLite enum (SAME = 0, VALID = 1) and tuples as int vectors.

Optional keys (every op): ``grid`` — the output grid of the requantization (0 nearest, 1 ceil, 2 pow2;
:data:`lpn_tf.export.fixed_point.GRIDS`). The writer leaves it out when it is 0, so files of models on
int8 grids are byte-for-byte what they were before the key existed.
"""

from __future__ import annotations

from dataclasses import dataclass

from flatbuffers import flexbuffers

from lpn_tf.export.graph import GraphError, Op

OPTIONS_VERSION = 1
PADDING_CODES: dict[str, int] = {"SAME": 0, "VALID": 1}

_OPTIONAL_KEYS = ("grid",)
GRID_MAX = 2

_CONV_KEYS = (
    "act_min",
    "act_max",
    "exponent_bits",
    "filter_shape",
    "mantissa_bits",
    "padding",
    "stride_h",
    "stride_w",
    "version",
)


@dataclass(frozen=True)
class CustomOpSpec:
    """One LPN custom op.

    Attributes:
        code: the flatbuffer ``custom_code`` string.
        inputs: input roles in order (``"bias"`` may be absent: index -1).
        keys: required option keys (the optional ``grid`` is accepted by every op).
    """

    code: str
    inputs: tuple[str, ...]
    keys: tuple[str, ...]

    def check_options(self, op: Op) -> None:
        """Raise :class:`GraphError` naming the op if options or input count do not match this spec."""
        missing = [k for k in self.keys if k not in op.options]
        extra = [k for k in op.options if k not in self.keys and k not in _OPTIONAL_KEYS]
        where = f"{op.kind} {op.name!r}"
        if missing or extra:
            raise GraphError(f"{where}: missing options {missing}, unknown options {extra}")
        if op.options["version"] != OPTIONS_VERSION:
            raise GraphError(
                f"{where}: options version {op.options['version']} not supported "
                f"(this lpn reads version {OPTIONS_VERSION})"
            )
        if len(op.inputs) != len(self.inputs):
            raise GraphError(f"{where}: {len(op.inputs)} inputs, expected {len(self.inputs)} {self.inputs}")
        if "exponent_bits" in op.options and not 0 <= int(op.options["exponent_bits"]) <= 7:
            raise GraphError(f"{where}: exponent_bits must be in [0, 7]")
        if not 2 <= int(op.options["mantissa_bits"]) <= 16:
            raise GraphError(f"{where}: mantissa_bits must be in [2, 16]")
        if not -128 <= int(op.options["act_min"]) <= int(op.options["act_max"]) <= 127:
            raise GraphError(f"{where}: need -128 <= act_min <= act_max <= 127")
        if "padding" in op.options and op.options["padding"] not in PADDING_CODES:
            raise GraphError(f"{where}: padding must be SAME or VALID")
        if not 0 <= int(op.options.get("grid", 0)) <= GRID_MAX:
            raise GraphError(f"{where}: grid must be 0 (nearest), 1 (ceil) or 2 (pow2)")


SPECS: dict[str, CustomOpSpec] = {
    "LPN_SHIFT_CONV_2D": CustomOpSpec(
        "LPN_SHIFT_CONV_2D", ("input", "codes", "bias", "mantissa", "shift"), _CONV_KEYS
    ),
    "LPN_SHIFT_DEPTHWISE_CONV_2D": CustomOpSpec(
        "LPN_SHIFT_DEPTHWISE_CONV_2D",
        ("input", "codes", "bias", "mantissa", "shift"),
        tuple(sorted((*_CONV_KEYS, "depth_multiplier"))),
    ),
    "LPN_SHIFT_FULLY_CONNECTED": CustomOpSpec(
        "LPN_SHIFT_FULLY_CONNECTED",
        ("input", "codes", "bias", "mantissa", "shift"),
        ("act_min", "act_max", "exponent_bits", "filter_shape", "mantissa_bits", "version"),
    ),
    "LPN_QUANT_NORM": CustomOpSpec(
        "LPN_QUANT_NORM",
        ("input", "bias", "mantissa", "shift"),
        ("act_min", "act_max", "mantissa_bits", "version"),
    ),
    "LPN_CONV_2D": CustomOpSpec(
        "LPN_CONV_2D",
        ("input", "filter", "bias", "mantissa", "shift"),
        tuple(k for k in _CONV_KEYS if k not in ("exponent_bits", "filter_shape")),
    ),
    "LPN_DEPTHWISE_CONV_2D": CustomOpSpec(
        "LPN_DEPTHWISE_CONV_2D",
        ("input", "filter", "bias", "mantissa", "shift"),
        tuple(
            sorted(k for k in (*_CONV_KEYS, "depth_multiplier") if k not in ("exponent_bits", "filter_shape"))
        ),
    ),
}


def encode_options(op: Op) -> bytes:
    """The flexbuffer map of an LPN op's options (sorted keys: byte-for-byte deterministic)."""
    SPECS[op.kind].check_options(op)
    out: dict[str, int | list[int]] = {}
    for key in sorted(op.options):
        value = op.options[key]
        if key == "grid" and int(value) == 0:
            continue  # the default: absent, so int8-grid files keep their bytes
        if key == "padding":
            out[key] = PADDING_CODES[str(value)]
        elif isinstance(value, tuple):
            out[key] = [int(v) for v in value]
        else:
            out[key] = int(value)
    return bytes(flexbuffers.Dumps(out))


def decode_options(kind: str, data: bytes) -> dict[str, int | str | tuple[int, ...]]:
    """Inverse of :func:`encode_options`; raises ``GraphError`` naming the op kind on malformed bytes."""
    try:
        raw = flexbuffers.Loads(bytes(data))
    except Exception as err:  # flexbuffers raises assorted errors on garbage
        raise GraphError(f"{kind}: custom options are not a valid flexbuffer ({err})") from None
    if not isinstance(raw, dict):
        raise GraphError(f"{kind}: custom options must be a flexbuffer map, got {type(raw).__name__}")
    names = {v: k for k, v in PADDING_CODES.items()}
    options: dict[str, int | str | tuple[int, ...]] = {}
    for key, value in raw.items():
        if key == "padding":
            if value not in names:
                raise GraphError(f"{kind}: padding code {value!r} is not 0 (SAME) or 1 (VALID)")
            options[key] = names[value]
        elif isinstance(value, list):
            if not all(isinstance(v, int) for v in value):
                raise GraphError(f"{kind}: option {key!r} must be a vector of ints")
            options[key] = tuple(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            options[key] = value
        else:
            raise GraphError(f"{kind}: option {key!r} has unsupported value {value!r}")
    return options
