"""Overflow analysis at export (export/overflow.py, docs/overflow.md).

* every op kind of the graph registry has a bound function;
* the accumulator bound is exact on single-output-pixel ops (the worst-case input reaches it) and never
  exceeded by the reference kernels' accumulators on random graphs fed extreme inputs;
* graphs built to overflow (bias near INT32_MAX, huge fan-in) are refused naming the op and the bound,
  and the reference executor really does overflow on their worst-case input;
* extreme inputs (all qmin, all qmax, alternating, per-channel worst case) give identical outputs on the
  reference, LiteRT's reference kernels and the host firmware (and QEMU Cortex-M4 on a sample);
* real models (lpn_tf.models) export under the check.

Run the headroom table of the MLPerf / demo architectures with
``pytest tests/test_overflow.py -m slow -k headroom -s``.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lpn_tf.export import fixed_point as fp
from lpn_tf.export import kernels as K
from lpn_tf.export import lpn_ops, overflow, packing
from lpn_tf.export.builder import GraphBuilder
from lpn_tf.export.graph import BUILTIN_OPS, LPN_OPS, IntGraph
from lpn_tf.export.random_graphs import LayerSpec, output_shapes_ok, random_graph
from lpn_tf.export.reference import _SIGNATURES, ReferenceExecutor
from lpn_tf.export.summary import format_graph
from lpn_tf.export.tflite_writer import to_tflite_bytes

WEIGHTED = {
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "LPN_CONV_2D",
    "LPN_DEPTHWISE_CONV_2D",
    "LPN_SHIFT_CONV_2D",
    "LPN_SHIFT_DEPTHWISE_CONV_2D",
    "LPN_SHIFT_FULLY_CONNECTED",
}


def test_every_op_kind_of_the_registry_has_a_bound() -> None:
    kinds = set(BUILTIN_OPS) | set(LPN_OPS) | set(_SIGNATURES) | set(lpn_ops.SPECS)
    assert kinds - set(overflow.BOUNDS) == set(), "op kinds without an overflow bound (export/overflow.py)"


def test_an_unknown_kind_is_refused_by_name() -> None:
    graph = random_graph(np.random.default_rng(0), (4, 4), 2, [LayerSpec("maxpool", kernel=2)])
    graph.ops[0].kind = "FANCY_OP"
    with pytest.raises(ValueError, match="FANCY_OP"):
        overflow.analyze(graph)


# ---------------------------------------------------------------------------------------------------
# accumulators recomputed from the kernels' definitions


def _filter(graph: IntGraph, k: int) -> np.ndarray:
    op = graph.ops[k]
    data = graph.tensors[op.inputs[1]].data
    assert data is not None
    if not op.kind.startswith("LPN_SHIFT_"):
        return data.astype(np.int64)
    shape = tuple(int(d) for d in op.options["filter_shape"])  # type: ignore[union-attr]
    s = int(op.options["exponent_bits"])
    return packing.shift_weights(packing.unpack(data, int(np.prod(shape)), s + 1).reshape(shape), s)


def accumulators(graph: IntGraph, k: int, x: np.ndarray) -> np.ndarray:
    """The int32 accumulators of weighted op ``k`` on its input ``x``, from export/kernels.py's definitions
    (int64, without the int32 check: an overflow shows as a value beyond the limit)."""
    op = graph.ops[k]
    zp = graph.tensors[op.inputs[0]].zero_point
    bias = graph.tensors[op.inputs[2]].data if op.inputs[2] != -1 else None
    filt = _filter(graph, k)
    base = op.kind.removeprefix("LPN_SHIFT_").removeprefix("LPN_")
    xi = np.asarray(x, np.int64)
    b = np.zeros(1, np.int64) if bias is None else np.asarray(bias, np.int64)
    if base == "FULLY_CONNECTED":
        return (xi.reshape(-1, filt.shape[1]) - zp) @ filt.T + b
    win = K.Window(
        filt.shape[1],
        filt.shape[2],
        int(op.options.get("stride_h", 1)),
        int(op.options.get("stride_w", 1)),
        str(op.options.get("padding", "VALID")),
    )
    patches, _ = K._patches(xi - zp, win, 0)  # [N,OH,OW,KH,KW,C]
    if base == "CONV_2D":
        return np.tensordot(patches, filt, axes=([3, 4, 5], [1, 2, 3])) + b
    mult = filt.shape[3] // xi.shape[3]
    return np.einsum("nyxhwc,hwc->nyxc", np.repeat(patches, mult, axis=-1), filt[0]) + b


def row(report: overflow.OverflowReport, op: int, quantity: str) -> overflow.BoundRow:
    (r,) = [r for r in report.rows if r.op == op and r.quantity == quantity]
    return r


# ---------------------------------------------------------------------------------------------------
# (a) tight on one output pixel


def single_pixel_graph(
    kind: str, rng: np.random.Generator, kh: int, kw: int, cin: int, cout: int
) -> IntGraph:
    """One weighted op whose VALID window covers the whole input: a single output pixel."""
    b = GraphBuilder()
    zp = int(rng.integers(-128, 128))
    shape = (1, cin) if kind.endswith("FULLY_CONNECTED") else (1, kh, kw, cin)
    x = b.input("x", shape, 0.05, zp)
    bias = rng.integers(-(2**20), 2**20, cout * cin)
    depthwise = "DEPTHWISE" in kind
    o = cin * cout if depthwise else cout  # depthwise: cout is the depth multiplier
    bias = bias[:o]
    if kind.startswith("LPN_SHIFT_"):
        s = int(rng.integers(0, 5))
        fshape = (
            (o, cin)
            if kind.endswith("FULLY_CONNECTED")
            else ((1, kh, kw, o) if depthwise else (o, kh, kw, cin))
        )
        codes = rng.integers(0, 1 << (s + 1), fshape).astype(np.uint8)
        common = dict(mantissa_bits=12, name="op")
        mant, shifts = np.full(o, 1000), np.full(o, 40)
        if kind == "LPN_SHIFT_FULLY_CONNECTED":
            b.shift_fully_connected(x, codes, s, bias, mant, shifts, 0.1, 0, **common)
        elif depthwise:
            b.shift_depthwise_conv_2d(
                x, codes, s, bias, mant, shifts, 0.1, 0, depth_multiplier=cout, padding="VALID", **common
            )
        else:
            b.shift_conv_2d(x, codes, s, bias, mant, shifts, 0.1, 0, padding="VALID", **common)
        return b.graph
    weights = rng.integers(-127, 128, (1, kh, kw, o) if depthwise else (o, kh, kw, cin))
    if kind == "FULLY_CONNECTED":
        b.fully_connected(x, weights.reshape(o, -1)[:, :cin], bias, np.full(o, 0.01), 50.0, 0, name="op")
    elif kind == "CONV_2D":
        b.conv_2d(x, weights, bias, np.full(o, 0.01), 50.0, 0, padding="VALID", name="op")
    elif kind == "DEPTHWISE_CONV_2D":
        b.depthwise_conv_2d(x, weights, bias, np.full(o, 0.01), 50.0, 0, cout, padding="VALID", name="op")
    else:
        mant, shifts = np.full(o, 1000), np.full(o, 40)
        b.lpn_conv(x, weights, bias, mant, shifts, 0.1, 0, depthwise, cout, padding="VALID", name="op")
    return b.graph


def worst_case_inputs(graph: IntGraph, channel: int) -> list[np.ndarray]:
    """For output ``channel`` of op 0 (one output pixel): x = qmax where w > 0 and qmin where w < 0, and the
    reverse (the largest and the least accumulator)."""
    x = graph.tensors[graph.inputs[0]]
    filt = _filter(graph, 0)
    op = graph.ops[0]
    if "DEPTHWISE" in op.kind:
        w = np.zeros(x.shape[1:], np.int64)
        w[..., channel // (filt.shape[3] // x.shape[3])] = filt[0, ..., channel]
    else:
        w = filt[channel].reshape(x.shape[1:])
    high = np.where(w > 0, 127, -128).astype(np.int8)[None]
    low = np.where(w > 0, -128, 127).astype(np.int8)[None]
    return [high, low]


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(sorted(WEIGHTED)),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    cin=st.integers(1, 6),
    cout=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_accumulator_bound_is_reached_by_the_worst_case_input(kind, kh, kw, cin, cout, seed) -> None:
    graph = single_pixel_graph(kind, np.random.default_rng(seed), kh, kw, cin, cout)
    report = overflow.check(graph)
    acc_row = row(report, 0, "accumulator")
    channels = graph.tensors[graph.ops[0].outputs[0]].shape[-1]
    reached = 0
    for c in range(channels):
        high, low = (accumulators(graph, 0, x).reshape(-1)[c] for x in worst_case_inputs(graph, c))
        # no input gives more or less than these two (random inputs never beat them)
        rand = np.random.default_rng(seed).integers(
            -128, 128, (16, *graph.tensors[0].shape[1:]), dtype=np.int8
        )
        others = np.stack([accumulators(graph, 0, r[None]).reshape(-1)[c] for r in rand])
        assert low <= others.min() and others.max() <= high
        reached = max(reached, abs(int(high)), abs(int(low)))
    assert reached == acc_row.bound
    assert row(report, 0, "partial sums (any order)").bound >= acc_row.bound


# ---------------------------------------------------------------------------------------------------
# (a) sound on random graphs, (c) executors agree on extreme inputs

CHANNELS = st.sampled_from([1, 2, 3, 5, 8])


@st.composite
def layer_specs(draw: st.DrawFn) -> LayerSpec:
    return LayerSpec(
        kind=draw(
            st.sampled_from(
                [
                    "conv",
                    "dwconv",
                    "residual",
                    "avgpool",
                    "maxpool",
                    "shift_conv",
                    "shift_dwconv",
                    "quant_norm",
                ]
            )
        ),
        kernel=draw(st.integers(1, 4)),
        stride=draw(st.integers(1, 2)),
        padding=draw(st.sampled_from(["SAME", "VALID"])),
        channels=draw(CHANNELS),
        multiplier=draw(st.integers(1, 2)),
        activation=draw(st.sampled_from(["NONE", "RELU", "RELU6"])),
        exponent_bits=draw(st.integers(0, 3)),
    )


@st.composite
def random_models(draw: st.DrawFn) -> IntGraph:
    hw = (draw(st.integers(2, 7)), draw(st.integers(2, 7)))
    layers = draw(st.lists(layer_specs(), min_size=1, max_size=4).filter(lambda ls: output_shapes_ok(hw, ls)))
    head = draw(st.sampled_from(["dense", "mean_dense", "dense_softmax", "shift_dense", "none"]))
    units = 0 if head == "none" else draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    return random_graph(np.random.default_rng(seed), hw, draw(CHANNELS), layers, units, head)


def extreme_inputs(graph: IntGraph) -> list[np.ndarray]:
    """All qmin, all qmax, the two alternating patterns, and the per-channel worst case of the first op's
    output pixel (0, 0) for every channel of a weighted first op."""
    shape = graph.tensors[graph.inputs[0]].shape
    n = int(np.prod(shape))
    alternate = np.where(np.arange(n) % 2 == 0, 127, -128).reshape(shape).astype(np.int8)
    out = [
        np.full(shape, -128, np.int8),
        np.full(shape, 127, np.int8),
        alternate,
        (-1 - alternate).astype(np.int8),
    ]
    op = graph.ops[0]
    if op.kind in WEIGHTED and "FULLY_CONNECTED" not in op.kind:
        filt = _filter(graph, 0)
        kh, kw = filt.shape[1], filt.shape[2]
        ph = K.padding_before(shape[1], kh, int(op.options.get("stride_h", 1)), str(op.options["padding"]))
        pw = K.padding_before(shape[2], kw, int(op.options.get("stride_w", 1)), str(op.options["padding"]))
        depthwise = "DEPTHWISE" in op.kind
        for c in range(graph.tensors[op.outputs[0]].shape[-1]):
            x = np.asarray(alternate).copy()
            for ky in range(kh):
                for kx in range(kw):
                    iy, ix = ky - ph, kx - pw
                    if 0 <= iy < shape[1] and 0 <= ix < shape[2]:
                        if depthwise:
                            i = c // (filt.shape[3] // shape[3])
                            x[0, iy, ix, i] = 127 if filt[0, ky, kx, c] > 0 else -128
                        else:
                            x[0, iy, ix, :] = np.where(filt[c, ky, kx] > 0, 127, -128)
            out.append(x)
    return out


def check_bounds_hold(
    graph: IntGraph, report: overflow.OverflowReport, values: dict[int, np.ndarray]
) -> None:
    """Every recomputed accumulator / MEAN sum / pool sum is within its bound."""
    for k, op in enumerate(graph.ops):
        x = values[op.inputs[0]]
        if op.kind in WEIGHTED:
            acc = np.abs(accumulators(graph, k, x))
            assert acc.max() <= row(report, k, "accumulator").bound, op.label(k)
        elif op.kind == "MEAN":
            total = np.abs((x.astype(np.int64) - graph.tensors[op.inputs[0]].zero_point).sum(axis=(1, 2)))
            assert total.max() <= row(report, k, "sum of (x − zp)").bound
        elif op.kind == "ADD":
            for i in (0, 1):
                xi = values[op.inputs[i]].astype(np.int64) - graph.tensors[op.inputs[i]].zero_point
                assert np.abs(xi).max() << 20 <= row(report, k, f"input {i + 1} (x − zp)·2^20").bound


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=random_models())
def test_bounds_hold_on_random_graphs_with_extreme_inputs(graph: IntGraph) -> None:
    report = overflow.check(graph)
    executor = ReferenceExecutor(graph)
    for x in extreme_inputs(graph):
        check_bounds_hold(graph, report, executor.run_all([x]))  # the reference raises on any overflow


def _outputs(y: np.ndarray | list[np.ndarray]) -> list[np.ndarray]:
    return y if isinstance(y, list) else [y]


def executors_agree(graph: IntGraph, backends: tuple[str, ...]) -> None:
    from lpn_tf.runtime import load

    overflow.check(graph)
    flavor = "lpn" if any(op.kind in LPN_OPS for op in graph.ops) else "builtin"
    inputs = np.concatenate(extreme_inputs(graph), axis=0)
    expected = [
        np.concatenate(ys, axis=0)
        for ys in zip(*(ReferenceExecutor(graph).run(x[None]) for x in inputs), strict=True)
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.tflite"
        path.write_bytes(to_tflite_bytes(graph, flavor))
        for backend in backends:
            got = _outputs(load(path, backend=backend).run(inputs))
            assert len(got) == len(expected)
            for i, (g, e) in enumerate(zip(got, expected, strict=True)):
                np.testing.assert_array_equal(g.reshape(e.shape), e, err_msg=f"{backend}, output {i}")


def firmware_accepts(graph: IntGraph) -> bool:
    """The firmware refuses (status MULTIPLIER) a SOFTMAX whose input multiplier ``min(s·2^26, 2^31 − 1)``
    has shift 31 (input scale ≥ 16); LiteRT and the reference accept it. The random graphs' dense heads
    occasionally get such scales."""
    softmax_inputs = [graph.tensors[op.inputs[0]] for op in graph.ops if op.kind == "SOFTMAX"]
    return all(K.softmax_params(float(t.scale)).input_left_shift < 31 for t in softmax_inputs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=random_models())
def test_extreme_inputs_agree_on_reference_litert_and_host(graph: IntGraph) -> None:
    assume(firmware_accepts(graph))
    executors_agree(graph, ("litert", "host"))


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=random_models())
def test_extreme_inputs_agree_on_reference_litert_and_host_many(graph: IntGraph) -> None:
    assume(firmware_accepts(graph))
    executors_agree(graph, ("litert", "host"))


@pytest.mark.qemu
def test_extreme_inputs_agree_on_emulated_cortex_m4(cortex_m_toolchain: None) -> None:
    rng = np.random.default_rng(11)
    layers = [
        LayerSpec("shift_conv", kernel=3, channels=4, exponent_bits=3, activation="RELU"),
        LayerSpec("residual", kernel=3, activation="RELU"),
        LayerSpec("dwconv", kernel=3, multiplier=2, padding="VALID"),
        LayerSpec("quant_norm"),
        LayerSpec("avgpool", kernel=2, stride=2),
    ]
    executors_agree(random_graph(rng, (7, 7), 3, layers, 5, "mean_dense"), ("qemu-m4",))


# ---------------------------------------------------------------------------------------------------
# (b) graphs built to overflow are refused


def _conv_graph(weights: np.ndarray, bias: np.ndarray, name: str) -> IntGraph:
    b = GraphBuilder()
    x = b.input("x", (1, 1, 1, weights.shape[-1]), 0.05, 0)
    b.output(b.conv_2d(x, weights, bias, np.full(weights.shape[0], 0.01), 1e6, 0, padding="VALID", name=name))
    return b.graph


def test_a_bias_near_int32_max_is_refused_naming_the_layer_and_the_bound() -> None:
    weights = np.full((2, 1, 1, 4), 127)
    graph = _conv_graph(weights, np.array([0, fp.INT32_MAX - 1000]), "hot_conv")
    report = overflow.analyze(graph)
    bound = fp.INT32_MAX - 1000 + 4 * 127 * 127  # x = 127 everywhere, zero point 0
    assert row(report, 0, "accumulator").bound == bound and not report.ok
    assert row(report, 0, "partial sums (any order)").bound == fp.INT32_MAX - 1000 + 4 * 127 * 128
    with pytest.raises(overflow.AccumulatorOverflowError, match=rf"'hot_conv'.*accumulator.*{bound}") as err:
        overflow.check(graph)
    assert (err.value.op_name, err.value.bound, err.value.limit) == ("hot_conv", bound, fp.INT32_MAX)
    # the refusal is real: the worst-case input overflows the reference executor
    with pytest.raises(OverflowError, match="hot_conv"):
        ReferenceExecutor(graph).run(np.full((1, 1, 1, 4), 127, np.int8))


def test_a_huge_fan_in_is_refused_and_just_below_the_limit_passes() -> None:
    # Σ|w|·max|x − zp| = n·127·128 with zp = 0: n = 132104 is the largest fan-in that fits int32
    limit_fan_in = fp.INT32_MAX // (127 * 128)
    ok = _conv_graph(np.full((1, 1, 1, limit_fan_in), 127), np.zeros(1, np.int64), "wide_ok")
    assert overflow.check(ok).min_headroom_bits() == 0
    wide = _conv_graph(np.full((1, 1, 1, limit_fan_in + 1), -127), np.zeros(1, np.int64), "too_wide")
    with pytest.raises(overflow.AccumulatorOverflowError, match=r"'too_wide' \(op 0, CONV_2D\)"):
        overflow.check(wide)
    with pytest.raises(OverflowError):
        ReferenceExecutor(wide).run(np.full((1, 1, 1, limit_fan_in + 1), -128, np.int8))


def test_a_relu_clamped_input_tightens_the_bound() -> None:
    """A consumer of a ReLU output (values ≥ its zero point) is bounded with max |x − zp| = 127 − zp."""
    rng = np.random.default_rng(3)
    for act in ("NONE", "RELU"):
        g = random_graph(rng, (3, 3), 2, [LayerSpec("conv", activation=act), LayerSpec("conv", kernel=1)])
        consumer = g.ops[1]
        filt = np.abs(_filter(g, 1)).reshape(g.tensors[consumer.inputs[1]].shape[0], -1)
        bias = np.abs(g.tensors[consumer.inputs[2]].data.astype(np.int64))
        zp = g.tensors[consumer.inputs[0]].zero_point
        offset = 127 - zp if act == "RELU" else max(128 + zp, 127 - zp)
        expected = int((bias + filt.sum(axis=1) * offset).max())
        assert row(overflow.check(g), 1, "partial sums (any order)").bound == expected


def test_padding_taps_count_as_zero_when_the_input_range_excludes_the_zero_point() -> None:
    """A producer clamped to [50, 127] (zero point 0) feeds a SAME conv: at a corner the padded taps add 0,
    not ≥ 50·w, so the least accumulator is below the no-padding formula; the bound must still hold."""
    b = GraphBuilder()
    x = b.input("x", (1, 3, 3, 1), 0.05, 0)
    clamped = b.quant_norm(x, np.zeros(1), np.zeros(1), np.zeros(1), 0.05, 0, act_range=(50, 127), name="qn")
    bias = -1_000_000
    y = b.conv_2d(clamped, np.full((1, 3, 3, 1), 127), np.array([bias]), [0.01], 1e5, 0, padding="SAME")
    b.output(y)
    report = overflow.check(b.graph)
    values = ReferenceExecutor(b.graph).run_all([np.zeros((1, 3, 3, 1), np.int8)])
    acc = accumulators(b.graph, 1, values[clamped])
    assert int(acc.min()) == bias + 4 * 127 * 50  # a corner: 4 taps in the image
    unpadded = abs(bias + 9 * 127 * 50)
    assert unpadded < abs(int(acc.min())) <= row(report, 1, "accumulator").bound


def test_a_requantization_left_shift_that_overflows_is_refused() -> None:
    """An output scale 2^-16 times s_in·s_w gives M ≈ 2^16 > 1: the spec's x·2^left is not saturated."""
    graph = _conv_graph(np.full((1, 1, 1, 4), 127), np.zeros(1, np.int64), "amplify")
    out = graph.tensors[graph.ops[0].outputs[0]]
    out.quant.scale[0] = np.float32(np.float32(0.05) * np.float32(0.01) / 2**16)
    _, shift = fp.quantize_multiplier(0.05 * float(np.float32(0.01)) / float(out.quant.scale[0]))
    report = overflow.analyze(graph)
    shifted = row(report, 0, "accumulator·2^left (requantization)")
    assert shift in (16, 17) and shifted.bound == (4 * 127 * 128) << shift and not shifted.ok
    assert row(report, 0, "accumulator").ok
    with pytest.raises(overflow.AccumulatorOverflowError, match=r"accumulator·2\^left"):
        overflow.check(graph)
    with pytest.raises(OverflowError, match="left shift"):
        ReferenceExecutor(graph).run(np.full((1, 1, 1, 4), -128, np.int8))


def test_lpn_rounding_term_depends_on_the_output_grid() -> None:
    for grid, rounding in ((0, 2**39), (1, 2**40 - 1), (2, 2**40 - 1)):
        b = GraphBuilder()
        x = b.input("x", (1, 1, 1, 2), 0.05, 0)
        weights = np.array([[[[100, -50]]]])
        b.output(b.lpn_conv(x, weights, np.array([7]), np.array([-300]), np.array([40]), 0.1, grid=grid))
        magnitude = 12800 + 6350 - 7  # the least accumulator: x = -128 at w = 100, 127 at w = -50
        assert row(overflow.check(b.graph), 0, "requantization product + rounding (int64)").bound == (
            magnitude * 300 + rounding
        )


def test_huge_shift_exponents_are_bounded_exactly_not_wrapped() -> None:
    """exponent_bits 7: weights up to 2^127 would wrap int64; the bound is computed on Python integers."""
    b = GraphBuilder()
    x = b.input("x", (1, 1, 1, 2), 0.05, 0)
    codes = np.zeros((1, 1, 1, 2), np.uint8)  # exponent 0: weight 2^127
    b.output(b.shift_conv_2d(x, codes, 7, None, np.array([1]), np.array([0]), 0.1, 0, name="huge"))
    report = overflow.analyze(b.graph)
    assert row(report, 0, "accumulator").bound == 2 * 128 * 2**127
    with pytest.raises(overflow.AccumulatorOverflowError, match="'huge'"):
        overflow.check(b.graph)


def test_inspect_prints_the_overflow_verdict() -> None:
    graph = random_graph(np.random.default_rng(1), (4, 4), 2, [LayerSpec("conv")], 3, "dense")
    text = format_graph(graph)
    assert "overflow analysis: all" in text and "bits of int32 headroom" in text


# ---------------------------------------------------------------------------------------------------
# the export hook, and (d) real models


def _qat(float_model, scheme: str, seed: int = 0, samples: int = 8):
    import lpn_tf
    from lpn_tf.quantize import calibrate_activations

    qm = lpn_tf.quantize_model(float_model, scheme)
    x = np.random.default_rng(seed).normal(size=(samples, *float_model.input_shape[1:])).astype(np.float32)
    calibrate_activations(qm, x)
    if scheme != "int8":
        lpn_tf.finalize(qm)
    return qm


@functools.cache
def wide_dense_model():
    """A QAT ``Dense(2)``, 140 000 inputs, equal weights (widened to 127 each): 140000·127·128 > 2^31."""
    from lpn_tf._keras import keras

    inp = keras.Input((140_000,))
    model = keras.Model(inp, keras.layers.Dense(2, kernel_initializer="ones", name="wide_dense")(inp))
    return _qat(model, "int8", samples=4)


def test_export_refuses_a_dense_layer_that_can_overflow(tmp_path: Path) -> None:
    from lpn_tf.export.api import export_tflite

    target = tmp_path / "wide.tflite"
    with pytest.raises(overflow.AccumulatorOverflowError, match=r"layer 'wide_dense' .*can reach \d+") as err:
        export_tflite(wide_dense_model(), target, "builtin")
    assert err.value.op_name == "wide_dense" and err.value.bound > err.value.limit
    assert not target.exists() and list(tmp_path.iterdir()) == []
    report = export_tflite(wide_dense_model(), target, "builtin", allow_overflow=True)
    assert target.exists() and report.overflow is not None and not report.overflow.ok
    assert any("allow_overflow" in n and "wide_dense" in n for n in report.notes)
    assert "can overflow" in report.format()


def test_cli_export_refuses_and_allow_overflow_writes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from lpn_tf.cli import main

    saved = tmp_path / "wide.keras"
    wide_dense_model().save(saved)
    out = tmp_path / "wide.tflite"
    assert main(["export", str(saved), "-o", str(out), "--ops", "builtin"]) == 1
    assert "layer 'wide_dense'" in capsys.readouterr().err and not out.exists()
    assert main(["export", str(saved), "-o", str(out), "--ops", "builtin", "--allow-overflow"]) == 0
    assert "can overflow" in capsys.readouterr().out and out.exists()


def _model_row(name: str, scheme: str, ops: str, report) -> str:
    r = report.overflow
    acc = [x for x in r.rows if x.quantity in overflow.ACCUMULATOR_QUANTITIES]
    worst = min(acc, key=lambda x: x.headroom_bits)
    tight = r.tightest()
    return (
        f"| {name} | {scheme} | {ops} | {worst.headroom_bits} ({worst.name}) | "
        f"{tight.headroom_bits} ({tight.name}: {tight.quantity}) |"
    )


FLAVORS = (("int8", "builtin"), ("int8", "lpn"), ("shift", "builtin"), ("shift", "lpn"))
PIKELPN = (("pikelpn-a8", "builtin"), ("pikelpn-a8", "lpn"), ("pikelpn", "lpn"))  # sub-8-bit acts: lpn only


def export_models(names: list[str], cases: tuple[tuple[str, str], ...], tmp_path: Path) -> list[str]:
    """Export every model under every (scheme, ops) case with the overflow check on; print the headroom."""
    from lpn_tf import models
    from lpn_tf.export.api import export_tflite

    lines = []
    for name in names:
        qat = {scheme: _qat(getattr(models, name)(), scheme) for scheme in dict.fromkeys(s for s, _ in cases)}
        for scheme, ops in cases:
            report = export_tflite(qat[scheme], tmp_path / f"{name}_{scheme}_{ops}.tflite", ops)
            assert report.overflow is not None and report.overflow.ok
            assert report.overflow.min_headroom_bits() is not None
            assert "overflow analysis: all" in report.format()
            lines.append(_model_row(name, scheme, ops, report))
    print("\n| model | scheme | ops | least accumulator headroom, bits (layer) | least overall (layer) |")
    print("|---|---|---|---|---|")
    print("\n".join(lines))
    return lines


def test_small_real_models_export_under_the_check(tmp_path: Path) -> None:
    assert len(export_models(["digits_cnn"], FLAVORS, tmp_path)) == 4  # every model: the slow test below


@pytest.mark.slow
def test_headroom_of_every_model_in_lpn_tf_models(tmp_path: Path) -> None:
    from lpn_tf import models

    names = [n for n in models.__all__ if n not in ("mobilenet_v1", "resnet8")]  # mobilenet_v1: see below
    export_models(names, FLAVORS + PIKELPN, tmp_path)
    # resnet8's residual ADDs need int8 outputs: the lowering refuses sub-8-bit pikelpn there (by design)
    export_models(["resnet8"], FLAVORS + PIKELPN[:2], tmp_path)


@pytest.mark.slow
def test_full_mobilenet_v1_exports_under_the_check(tmp_path: Path) -> None:
    from lpn_tf import models
    from lpn_tf.export.api import export_tflite

    report = export_tflite(_qat(models.mobilenet_v1(), "shift", samples=2), tmp_path / "m.tflite")
    assert report.overflow is not None and report.overflow.ok
    print("\n" + _model_row("mobilenet_v1 (1.0, 224)", "shift", "lpn", report))
