"""Random graphs, bit for bit on every executor: reference == host runtime == LiteRT (+ LPN ops) == QEMU M4
== QEMU M7 == QEMU M33 (issue 6 acceptance).

Graphs come from the exporter's random-graph generator (``export/random_graphs.py``) in both flavors:
builtin-only, and LPN layers mixed with builtins. Every op's output is a graph output, so the comparison is
op by op. The Cortex-M builds use the optimized kernels (``LPN_KERNELS=cortex-m``, SIMD where a kernel
has one). Each model runs a few random inputs plus the all-qmin and all-qmax inputs, all samples in one
QEMU boot per target. 6 graphs in the fast suite, 120 with ``-m slow``.

One documented difference (docs/runtime.md, ``MULTIPLIER``): the firmware refuses a SOFTMAX whose
``input_scale · 2^26`` reaches TFLite's clamp at ``2^31 − 1`` (a left shift of 31). Such draws are
replaced by the next draw, and one of them is checked on its own: refused identically by the host build
and the three emulated targets, while the reference and LiteRT still agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from lpn_tf.export.graph import LPN_OPS, IntGraph
from lpn_tf.export.random_graphs import BUILTIN_LAYERS, LPN_LAYERS, LayerSpec, output_shapes_ok, random_graph
from lpn_tf.export.tflite_reader import read_tflite
from lpn_tf.export.tflite_writer import to_tflite_bytes
from lpn_tf.runtime import host, litert, qemu
from lpn_tf.runtime.api import first_difference
from lpn_tf.runtime.reference import ReferenceRunner

pytestmark = pytest.mark.qemu

FLAVORS = ("builtin", "lpn")
HEADS = {"builtin": ("dense", "mean_dense", "dense_softmax", "none"),
         "lpn": ("shift_dense", "shift_dense", "mean_dense", "dense", "none")}
CHANNELS = (1, 2, 3, 5, 7, 8)
RANDOM_SAMPLES = 3
TARGETS = ("m4", "m7", "m33")
FAST_MODELS = 6
SLOW_MODELS = 120


@dataclass(frozen=True)
class RandomModel:
    """One drawn model: its structure (for messages), the graph and the exported bytes."""

    seed: int
    flavor: str
    structure: str
    graph: IntGraph
    data: bytes


def layer(rng: np.random.Generator, kinds: tuple[str, ...]) -> LayerSpec:
    return LayerSpec(
        kind=str(rng.choice(kinds)), kernel=int(rng.integers(1, 5)), stride=int(rng.integers(1, 3)),
        padding=str(rng.choice(["SAME", "VALID"])), channels=int(rng.choice(CHANNELS)),
        multiplier=int(rng.integers(1, 3)), activation=str(rng.choice(["NONE", "RELU", "RELU6"])),
        exponent_bits=int(rng.integers(1, 4)),
    )  # fmt: skip


def softmax_over_clamp(graph: IntGraph) -> bool:
    """A SOFTMAX whose ``input_scale · 2^26`` reaches ``2^31 − 1``: refused by the firmware."""
    limit = float(2**31 - 1)
    return any(op.kind == "SOFTMAX" and float(graph.tensors[op.inputs[0]].quant.scale[0]) * 2.0**26 >= limit
               for op in graph.ops)


def draw_model(seed: int, softmax_clamp: bool = False) -> RandomModel:
    """Model ``seed``: even seeds builtin-only, odd seeds with LPN layers (at least one LPN op). Draws with a
    SOFTMAX over the clamp are skipped (``softmax_clamp=True``: only those are kept)."""
    flavor = FLAVORS[seed % 2]
    rng = np.random.default_rng(1000 + seed)
    kinds = BUILTIN_LAYERS if flavor == "builtin" else (*BUILTIN_LAYERS, *LPN_LAYERS, *LPN_LAYERS)
    while True:
        hw = (int(rng.integers(3, 9)), int(rng.integers(3, 9)))
        layers = [layer(rng, kinds) for _ in range(int(rng.integers(1, 5)))]
        head = str(rng.choice(HEADS[flavor]))
        if not output_shapes_ok(hw, layers):
            continue
        cin = int(rng.choice(CHANNELS))
        units = 0 if head == "none" else int(rng.integers(1, 11))
        graph = random_graph(rng, hw, cin, layers, units, head if units else "dense")
        if (flavor == "builtin" or any(op.kind in LPN_OPS for op in graph.ops)) and (
            softmax_over_clamp(graph) == softmax_clamp
        ):
            break
    structure = (f"{flavor} {hw[0]}x{hw[1]}x{cin} [" + ", ".join(
        f"{s.kind} k{s.kernel} s{s.stride} {s.padding} c{s.channels} m{s.multiplier} {s.activation} "
        f"e{s.exponent_bits}" for s in layers) + f"] head {head} {units}")
    return RandomModel(seed, flavor, structure, graph, to_tflite_bytes(graph, flavor=flavor))


def samples(model: RandomModel) -> np.ndarray:
    """RANDOM_SAMPLES random int8 inputs, then all −128 and all 127, stacked on the batch axis."""
    shape = model.graph.tensors[model.graph.inputs[0]].shape
    rng = np.random.default_rng(model.seed)
    random = rng.integers(-128, 128, (RANDOM_SAMPLES, *shape[1:]), dtype=np.int8)
    extremes = np.stack([np.full(shape[1:], -128, np.int8), np.full(shape[1:], 127, np.int8)])
    return np.concatenate([random, extremes])


def as_list(y: np.ndarray | list[np.ndarray]) -> list[np.ndarray]:
    return y if isinstance(y, list) else [y]


def check_model(seed: int) -> None:
    """Every executor's every output equals the reference executor's, element for element."""
    model = draw_model(seed)
    x = samples(model)
    reference = ReferenceRunner(model.graph, source="graph")
    want = as_list(reference.run(x))
    names = [model.graph.tensors[i].name for i in model.graph.outputs]
    runners = {
        "reference (file read back)": ReferenceRunner(read_tflite(model.data), source="file"),
        "host": host.HostRuntime(model.data, source="host"),
        "litert": litert.LiteRTRunner(model.data, "litert"),
        **{f"qemu-{t}": qemu.QemuRuntime(model.data, t, kernels="cortex-m", source=f"model {seed}")
           for t in TARGETS},
    }
    for name, runner in runners.items():
        got = as_list(runner.run(x))
        assert len(got) == len(want), f"model {seed} ({model.structure}): {name} has {len(got)} outputs"
        for tensor, a, b in zip(names, want, got, strict=True):
            difference = first_difference(a, b)
            assert difference is None, (
                f"model {seed} ({model.structure}): {name} vs the reference at {tensor!r}: {difference}"
            )


def test_softmax_over_the_clamp_is_refused_alike_on_every_build(cortex_m_toolchain: None) -> None:
    """The documented refusal (MULTIPLIER at the SOFTMAX, detail 31) is the same on host and on all devices;
    the reference and LiteRT, which clamp, agree with each other."""
    model = draw_model(0, softmax_clamp=True)
    softmax = next(k for k, op in enumerate(model.graph.ops) if op.kind == "SOFTMAX")
    with pytest.raises(host.FirmwareError) as info:
        host.HostRuntime(model.data)
    want = info.value
    assert (want.status_name, want.op_index, want.detail) == ("MULTIPLIER", softmax, 31), str(want)
    for target in TARGETS:
        got = qemu.device_init_error(model.data, target, kernels="cortex-m", source="softmax clamp")
        assert got is not None and (got.status_name, got.op_index, got.offset, got.detail) == (
            want.status_name, want.op_index, want.offset, want.detail), f"qemu-{target}: {got}"
    x = samples(model)
    for a, b in zip(as_list(ReferenceRunner(model.graph).run(x)),
                    as_list(litert.LiteRTRunner(model.data, "litert").run(x)), strict=True):
        np.testing.assert_array_equal(a, b)


def test_draws_cover_both_flavors_and_many_ops() -> None:
    """The sample is not degenerate: both flavors, every LPN op kind of the generator, most builtins."""
    kinds = [{op.kind for op in draw_model(seed).graph.ops} for seed in range(SLOW_MODELS)]
    assert all(not (k & set(LPN_OPS)) for k in kinds[0::2]) and all(k & set(LPN_OPS) for k in kinds[1::2])
    seen = set().union(*kinds)
    assert {"LPN_SHIFT_CONV_2D", "LPN_SHIFT_DEPTHWISE_CONV_2D", "LPN_QUANT_NORM",
            "LPN_SHIFT_FULLY_CONNECTED"} <= seen
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "AVERAGE_POOL_2D", "MAX_POOL_2D",
            "MEAN", "RESHAPE", "SOFTMAX"} <= seen
    fast = [{op.kind for op in draw_model(seed).graph.ops} for seed in range(FAST_MODELS)]
    assert {"LPN_SHIFT_CONV_2D", "CONV_2D", "FULLY_CONNECTED"} <= set().union(*fast)


@pytest.mark.parametrize("seed", range(FAST_MODELS))
def test_random_graph_is_bit_exact_on_every_executor(seed: int, cortex_m_toolchain: None) -> None:
    check_model(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(FAST_MODELS, SLOW_MODELS))
def test_random_graph_is_bit_exact_on_every_executor_many(seed: int, cortex_m_toolchain: None) -> None:
    check_model(seed)
