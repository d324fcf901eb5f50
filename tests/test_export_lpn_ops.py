"""LPN custom ops: code packing, options encoding, and the reference kernels against an independent
formulation (unpacked codes -> integer weights -> the builtin integer convolution, then the LPN
requantization evaluated with Python integers element by element)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpn_tf.export import kernels as K
from lpn_tf.export import lpn_ops, packing
from lpn_tf.export.builder import GraphBuilder
from lpn_tf.export.graph import GraphError, Op
from lpn_tf.export.random_graphs import LayerSpec, random_graph
from lpn_tf.export.reference import ReferenceExecutor
from lpn_tf.export.tflite_reader import TFLiteFormatError, read_tflite
from lpn_tf.export.tflite_writer import to_tflite_bytes


def lpn_requant_slow(acc: int, m: int, k: int, zp: int, lo: int, hi: int) -> int:
    """docs/custom-ops.md, "Requantization", with Python integers (floor division = arithmetic shift)."""
    v = acc * m
    if k > 0:
        v = (v + (1 << (k - 1))) // (1 << k)
    v = max(-(2**31), min(2**31 - 1, v))
    return max(lo, min(hi, v + zp))


def test_pack_order_pinned() -> None:
    # 3-bit codes 1, 2, 3: low nibble first, odd count pads the last high nibble with 0.
    assert packing.pack(np.array([1, 2, 3]), 3).tolist() == [0x21, 0x03]
    assert packing.pack(np.array([0x1F, 0x05]), 5).tolist() == [0x1F, 0x05]
    assert packing.packed_size(7, 4) == 4 and packing.packed_size(7, 5) == 7


@given(st.integers(0, 7), st.integers(0, 60), st.integers(0, 2**31 - 1))
def test_pack_unpack_round_trip(s: int, count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 1 << (s + 1), count).astype(np.uint8)
    assert np.array_equal(packing.unpack(packing.pack(codes, s + 1), count, s + 1), codes)


def test_code_semantics() -> None:
    # s = 2: E_max = 3; code (sign << 2) | e -> ±2^(3 − e) in units of 2^-3
    codes = packing.encode(np.array([False, True, False, True]), np.array([0, 0, 3, 2]), 2)
    assert codes.tolist() == [0, 4, 3, 6]
    assert packing.shift_weights(codes, 2).tolist() == [8, -8, 1, -2]
    with pytest.raises(ValueError, match="exponents"):
        packing.encode(np.array([False]), np.array([4]), 2)


def test_unpack_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="padding nibble"):
        packing.unpack(np.array([0x21, 0x13], np.uint8), 3, 3)
    with pytest.raises(ValueError, match="packed bytes"):
        packing.unpack(np.array([0x21], np.uint8), 3, 3)
    with pytest.raises(ValueError, match="bits set above"):
        packing.unpack(np.array([0x0F], np.uint8), 1, 3)


@st.composite
def shift_cases(draw: st.DrawFn) -> dict:
    return dict(
        kind=draw(st.sampled_from(["conv", "dw", "fc"])),
        s=draw(st.integers(0, 3)),
        k=draw(st.integers(1, 5)),
        stride=draw(st.integers(1, 2)),
        padding=draw(st.sampled_from(["SAME", "VALID"])),
        hw=draw(st.integers(5, 8)),
        cin=draw(st.sampled_from([1, 3, 5, 7])),
        cout=draw(st.sampled_from([1, 2, 5, 7])),
        mult=draw(st.integers(1, 3)),
        zp_in=draw(st.integers(-128, 127)),
        zp_out=draw(st.integers(-30, 30)),
        relu=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def run_shift_case(c: dict) -> None:
    rng = np.random.default_rng(c["seed"])
    s, k, hw, cin = c["s"], min(c["k"], c["hw"]), c["hw"], c["cin"]
    b = GraphBuilder("shift")
    x = b.input("x", (1, hw, hw, cin), 0.05, c["zp_in"])
    if c["kind"] == "conv":
        shape = (c["cout"], k, k, cin)
    elif c["kind"] == "dw":
        shape = (1, k, k, cin * c["mult"])
    else:
        shape = (c["cout"], hw * hw * cin)
    o = shape[0] if c["kind"] != "dw" else shape[3]
    codes = rng.integers(0, 1 << (s + 1), shape).astype(np.uint8)
    bias = rng.integers(-20000, 20001, o)
    mant = rng.integers(-(2**11) + 1, 2**11, o)
    shift = rng.integers(0, 20, o)
    act = (c["zp_out"], 127) if c["relu"] else (-128, 127)
    common = dict(out_scale=0.1, out_zero_point=c["zp_out"], mantissa_bits=12, act_range=act)
    if c["kind"] == "conv":
        y = b.shift_conv_2d(
            x, codes, s, bias, mant, shift, stride=(c["stride"],) * 2, padding=c["padding"], **common
        )
    elif c["kind"] == "dw":
        y = b.shift_depthwise_conv_2d(
            x,
            codes,
            s,
            bias,
            mant,
            shift,
            depth_multiplier=c["mult"],
            stride=(c["stride"],) * 2,
            padding=c["padding"],
            **common,
        )
    else:
        flat = b.reshape(x, (1, hw * hw * cin))
        y = b.shift_fully_connected(flat, codes, s, bias, mant, shift, **common)
    b.output(y)
    xin = rng.integers(-128, 128, (1, hw, hw, cin)).astype(np.int8)
    got = ReferenceExecutor(b.graph).run(xin)[0]

    # Independent formulation: integer weights ±2^(E_max − e) through the builtin accumulators.
    weights = packing.shift_weights(codes, s).reshape(shape)
    win = K.Window(k, k, c["stride"], c["stride"], c["padding"])
    if c["kind"] == "conv":
        acc = K.conv_accumulate(xin, c["zp_in"], weights, bias, win)
    elif c["kind"] == "dw":
        acc = K.depthwise_accumulate(xin, c["zp_in"], weights, bias, win, c["mult"])
    else:
        acc = K.fully_connected_accumulate(xin.reshape(1, -1), c["zp_in"], weights, bias)
    expected = np.array(
        [
            lpn_requant_slow(int(a), int(mant[i % o]), int(shift[i % o]), c["zp_out"], *act)
            for i, a in enumerate(acc.reshape(-1))
        ],
        np.int8,
    ).reshape(acc.shape)
    assert np.array_equal(got.reshape(acc.shape), expected)


@settings(max_examples=200, deadline=None)
@given(shift_cases())
def test_shift_ops_equal_unpacked_integer_formulation(case: dict) -> None:
    run_shift_case(case)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(shift_cases())
def test_shift_ops_equal_unpacked_integer_formulation_many(case: dict) -> None:
    run_shift_case(case)


@given(st.integers(0, 2**32 - 1), st.integers(-128, 127))
@settings(max_examples=40, deadline=None)
def test_quant_norm_matches_slow_formula(seed: int, zp_in: int) -> None:
    rng = np.random.default_rng(seed)
    c = int(rng.integers(1, 8))
    b = GraphBuilder()
    x = b.input("x", (1, 3, 4, c), 0.05, zp_in)
    bias = rng.integers(-(2**20), 2**20, c)
    mant = rng.integers(-(2**15) + 1, 2**15, c)
    shift = rng.integers(0, 24, c)
    y = b.quant_norm(x, bias, mant, shift, 0.1, 3, mantissa_bits=16, act_range=(-100, 120))
    b.output(y)
    xin = rng.integers(-128, 128, (1, 3, 4, c)).astype(np.int8)
    got = ReferenceExecutor(b.graph).run(xin)[0].reshape(-1)
    flat = xin.reshape(-1).astype(int)
    for i, v in enumerate(flat):
        ch = i % c
        # bias folded into the accumulator: ((x − zp)·m + b) then the rounding shift
        pre = (v - zp_in) * int(mant[ch]) + int(bias[ch])
        expect = lpn_requant_slow(pre, 1, int(shift[ch]), 3, -100, 120)
        assert got[i] == expect


def test_rounding_shift_is_half_up() -> None:
    from lpn_tf.export import fixed_point as fp

    assert fp.rounding_shift_right(np.array([5, -5, -6, 6, 7, -7]), 1).tolist() == [3, -2, -3, 3, 4, -3]
    assert fp.rounding_shift_right(np.array([-6]), 2).tolist() == [-1]  # −1.5 -> −1 (towards +∞)
    assert fp.rounding_shift_right(np.array([123]), 0).tolist() == [123]


def test_double_quantize() -> None:
    from lpn_tf.export import fixed_point as fp

    m, k = fp.double_quantize(0.3, 8)
    assert abs(m) <= 127 and abs(m / 2**k - 0.3) <= 2.0 ** -(k + 1)
    assert fp.double_quantize(-0.3, 8)[0] == -m
    assert fp.power_of_two(0.25) == 2
    with pytest.raises(ValueError, match="mantissa range"):
        fp.double_quantize(1000.0, 8)


def _lpn_graph(seed: int = 0):
    layers = [
        LayerSpec("shift_conv", 3, 1, "SAME", 5, exponent_bits=2),
        LayerSpec("shift_dwconv", 3, 2, "VALID", multiplier=2, exponent_bits=1),
        LayerSpec("quant_norm"),
        LayerSpec("conv", 1, 1, "SAME", 3),
    ]
    return random_graph(np.random.default_rng(seed), (8, 8), 3, layers, 4, "shift_dense")


def test_lpn_flavor_round_trip() -> None:
    graph = _lpn_graph()
    data = to_tflite_bytes(graph, "lpn")
    back = read_tflite(data)
    assert [op.kind for op in back.ops] == [op.kind for op in graph.ops]
    assert [op.options for op in back.ops] == [op.options for op in graph.ops]
    assert [t.bits for t in back.tensors] == [t.bits for t in graph.tensors]
    x = np.random.default_rng(1).integers(-128, 128, (1, 8, 8, 3)).astype(np.int8)
    for a, b in zip(ReferenceExecutor(graph).run(x), ReferenceExecutor(back).run(x), strict=True):
        assert np.array_equal(a, b)
    assert to_tflite_bytes(back, "lpn") == data  # reading and writing again is the identity
    with pytest.raises(GraphError, match="not allowed in the 'builtin' flavor"):
        to_tflite_bytes(graph, "builtin")


def test_options_bytes_are_deterministic_and_pinned() -> None:
    op = Op(
        "LPN_QUANT_NORM",
        [0, 1, 2, 3],
        [4],
        {"version": 1, "mantissa_bits": 8, "act_min": -128, "act_max": 127},
    )
    shuffled = Op(
        "LPN_QUANT_NORM",
        [0, 1, 2, 3],
        [4],
        {"act_max": 127, "act_min": -128, "mantissa_bits": 8, "version": 1},
    )
    data = lpn_ops.encode_options(op)
    assert data == lpn_ops.encode_options(shuffled)
    assert lpn_ops.decode_options("LPN_QUANT_NORM", data) == op.options
    from flatbuffers import flexbuffers

    assert list(flexbuffers.Loads(data)) == ["act_max", "act_min", "mantissa_bits", "version"]


def test_option_errors_name_the_op() -> None:
    op = Op(
        "LPN_QUANT_NORM",
        [0, 1, 2, 3],
        [4],
        {"version": 2, "mantissa_bits": 8, "act_min": -128, "act_max": 127},
        name="bn3",
    )
    with pytest.raises(GraphError, match="bn3.*version 2"):
        lpn_ops.encode_options(op)
    with pytest.raises(GraphError, match="LPN_SHIFT_CONV_2D.*not a valid flexbuffer|LPN_SHIFT_CONV_2D.*map"):
        lpn_ops.decode_options("LPN_SHIFT_CONV_2D", b"\x00\x01")


def test_unknown_custom_op_is_refused_clearly() -> None:
    graph = _lpn_graph()
    data = bytearray(to_tflite_bytes(graph, "lpn"))
    pos = bytes(data).find(b"LPN_QUANT_NORM")
    data[pos : pos + 14] = b"LPN_QUANT_NORX"
    with pytest.raises(TFLiteFormatError, match="LPN_QUANT_NORX.*newer lpn"):
        read_tflite(bytes(data))


def test_shift_weight_bytes_at_most_055_of_int8() -> None:
    """Packed 3-bit codes (2 per byte) + per-channel parameters vs. int8 weights of the same layer."""
    rng = np.random.default_rng(0)
    o, i = 32, 288
    codes = rng.integers(0, 8, (o, 3, 3, i // 9)).astype(np.uint8)
    packed = packing.pack(codes, 3).nbytes
    per_channel = o * (4 + 2 + 1)  # bias int32, mantissa int16, shift int8
    int8_bytes = codes.size + o * 4  # int8 weights + int32 bias
    assert (packed + per_channel) / int8_bytes <= 0.55
