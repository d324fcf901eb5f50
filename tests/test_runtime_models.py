"""Firmware runtime (host build) == LiteRT reference kernels, bit for bit, on tiny converted Keras models.

The models are tiny tf_keras float networks converted by TFLiteConverter to full int8 (representative
dataset, int8 input and output). Together they cover CONV_2D (SAME/VALID, stride 1/2, RELU/RELU6),
DEPTHWISE_CONV_2D (depth multiplier 1 and 2), FULLY_CONNECTED, ADD, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN
(keep_dims false and true), RESHAPE and SOFTMAX. Other runtime test modules import
:func:`converted_models` and :func:`litert_run` from here.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lpn_tf import toolchain
from lpn_tf.runtime import host

# Enough samples that a one-in-a-thousand rounding difference (e.g. FULLY_CONNECTED's single rounding in
# LiteRT vs the double rounding of CONV_2D) shows up on every model.
SAMPLES = 400


def _convert(model, input_shape: tuple[int, ...], seed: int, per_channel_dense: bool = False) -> bytes:
    from lpn_tf._keras import tf

    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(16):
            yield [rng.uniform(-1.0, 1.0, (1, *input_shape)).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    if not per_channel_dense:  # see test_per_channel_dense_requantization_matches_litert
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    return converter.convert()


@functools.cache
def converted_models() -> dict[str, bytes]:
    """name -> int8 .tflite bytes of each tiny test model (converted once per test session)."""
    from lpn_tf._keras import keras, tf

    tf.random.set_seed(7)
    layers = keras.layers
    models: dict[str, bytes] = {}

    x = inp = keras.Input((8, 8, 3))
    x = layers.Conv2D(6, 3, padding="same", activation="relu")(x)
    x = layers.DepthwiseConv2D(3, padding="valid", activation="relu6")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Softmax()(x)
    models["conv_dw_maxpool_mean_softmax"] = _convert(keras.Model(inp, x), (8, 8, 3), 1)

    x = inp = keras.Input((9, 9, 2))
    a = layers.Conv2D(6, 3, strides=2, padding="valid")(x)
    b = layers.Conv2D(6, 1, activation="relu")(a)
    x = layers.Add()([a, b])
    x = layers.AveragePooling2D(2, strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    models["residual_add_avgpool_reshape"] = _convert(keras.Model(inp, x), (9, 9, 2), 2)

    x = inp = keras.Input((6, 6, 3))
    x = layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)(x)
    x = layers.Conv2D(5, 1, activation="relu6")(x)
    x = layers.GlobalAveragePooling2D(keepdims=True)(x)
    x = layers.Flatten()(x)
    models["depth_multiplier_mean_keepdims"] = _convert(keras.Model(inp, x), (6, 6, 3), 3)

    # LiteRT's FULLY_CONNECTED requantizes with one rounding, unlike CONV_2D: many outputs needed
    x = inp = keras.Input((24,))
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dense(8)(x)
    models["dense_per_tensor"] = _convert(keras.Model(inp, x), (24,), 4)

    x = inp = keras.Input((24,))
    x = layers.Dense(16)(x)
    models["dense_per_channel"] = _convert(keras.Model(inp, x), (24,), 5, per_channel_dense=True)
    return models


def random_inputs(runner: host.HostRuntime, count: int, seed: int) -> np.ndarray:
    """``count`` random int8 samples for a batch-1, single-input model, stacked on axis 0."""
    shape = runner.inputs[0].shape
    return np.random.default_rng(seed).integers(-128, 128, (count, *shape[1:]), dtype=np.int8)


def litert_run(model: bytes, x: np.ndarray) -> np.ndarray:
    """LiteRT with its reference kernels (BUILTIN_REF), one sample after another."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    results = []
    for sample in x:
        interpreter.set_tensor(inp["index"], sample[None])
        interpreter.invoke()
        results.append(interpreter.get_tensor(out["index"]).copy())
    return np.concatenate(results, axis=0)


@pytest.fixture(scope="module")
def models() -> dict[str, bytes]:
    return converted_models()


@pytest.mark.parametrize("name", ["conv_dw_maxpool_mean_softmax", "residual_add_avgpool_reshape",
                                  "depth_multiplier_mean_keepdims", "dense_per_tensor", "dense_per_channel"])
def test_host_runtime_matches_litert_reference_bit_for_bit(models: dict[str, bytes], name: str) -> None:
    runner = host.HostRuntime(models[name], source=name)
    x = random_inputs(runner, SAMPLES, seed=len(name))
    expected = litert_run(models[name], x)
    got = runner.run(x)
    assert got.dtype == np.int8 and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    # outputs must not be constant: the comparison has to be able to fail
    assert len(np.unique(expected)) > 3


def test_every_builtin_op_is_exercised(models: dict[str, bytes]) -> None:
    kinds = {op.kind for data in models.values() for op in host.HostRuntime(data).ops()}
    assert kinds == {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "AVERAGE_POOL_2D",
                     "MAX_POOL_2D", "MEAN", "RESHAPE", "SOFTMAX"}


def test_run_checks_dtype_and_shape(models: dict[str, bytes]) -> None:
    runner = host.HostRuntime(models["dense_per_tensor"], source="dense_per_tensor")
    with pytest.raises(TypeError, match="int8"):
        runner.run(np.zeros((1, 24), np.float32))
    with pytest.raises(ValueError, match=r"\(1, 24\)"):
        runner.run(np.zeros((1, 25), np.int8))
    single = runner.run(np.zeros((1, 24), np.int8))
    assert single.shape == (1, 8)


def test_arena_is_sized_exactly_and_too_small_is_a_distinct_error(models: dict[str, bytes]) -> None:
    data = models["conv_dw_maxpool_mean_softmax"]
    runner = host.HostRuntime(data)
    stats = runner.arena
    assert stats.used_bytes == stats.arena_bytes  # sized from the runtime's own ARENA_TOO_SMALL report
    assert 0 < stats.planned_bytes < stats.used_bytes
    exact = host.HostRuntime(data, arena_bytes=stats.used_bytes)
    x = random_inputs(runner, 4, seed=5)
    np.testing.assert_array_equal(exact.run(x), runner.run(x))
    with pytest.raises(host.FirmwareError) as info:
        host.HostRuntime(data, arena_bytes=stats.used_bytes - 16)
    assert info.value.status_name == "ARENA_TOO_SMALL"
    assert info.value.detail == stats.used_bytes


def test_profiler_callback_brackets_every_op(models: dict[str, bytes]) -> None:
    """lpn_set_profiler: (op, 0) before and (op, 1) after each operator, in order; profile=True times ops."""
    data = models["conv_dw_maxpool_mean_softmax"]
    runner = host.HostRuntime(data)
    calls: list[tuple[int, int]] = []
    runner.set_profiler(lambda op, phase: calls.append((op, phase)))
    runner.run(random_inputs(runner, 1, seed=0))
    n_ops = len(runner.ops())
    assert calls == [(op, phase) for op in range(n_ops) for phase in (0, 1)]
    runner.set_profiler(None)
    runner.run(random_inputs(runner, 1, seed=0))
    assert len(calls) == 2 * n_ops
    timed = host.HostRuntime(data, profile=True)
    timed.run(random_inputs(timed, 2, seed=1))
    assert [row["kind"] for row in timed.profile] == [op.kind for op in timed.ops()]
    assert all(0.0 < row["seconds"] < 1.0 for row in timed.profile)


def test_planner_matches_the_exporters_plan_on_random_graphs() -> None:
    """Same arena offsets and size as lpn_tf.export.memory_plan for exporter-written models."""
    from lpn_tf.export import memory_plan, tflite_writer
    from lpn_tf.export.random_graphs import LayerSpec, random_graph
    from lpn_tf.export.reference import ReferenceExecutor

    rng = np.random.default_rng(11)
    kinds = ["conv", "dwconv", "residual", "avgpool", "maxpool"]
    for trial in range(6):
        layers = [LayerSpec(str(rng.choice(kinds)), kernel=int(rng.choice([1, 2, 3])),
                            stride=int(rng.choice([1, 2])), channels=int(rng.integers(2, 6)),
                            multiplier=int(rng.choice([1, 2])),
                            activation=str(rng.choice(["NONE", "RELU", "RELU6"])))
                  for _ in range(int(rng.integers(2, 5)))]
        graph = random_graph(rng, (10, 10), 3, layers, head_units=4, head=["dense", "mean_dense"][trial % 2])
        runner = host.HostRuntime(tflite_writer.to_tflite_bytes(graph, flavor="builtin"))
        plan = memory_plan.plan(graph)
        got = {t.index: t.arena_offset for t in runner.tensors() if t.arena_offset is not None}
        assert got == {i: p.offset for i, p in plan.placements.items()}, layers
        assert runner.arena.planned_bytes == plan.arena_bytes
        lifetimes = {t.index: (t.first_op, t.last_op) for t in runner.tensors() if t.arena_offset is not None}
        assert lifetimes == memory_plan.lifetimes(graph)
        # and the runtime computes what the exporter's reference executor computes
        x = rng.integers(-128, 128, runner.inputs[0].shape, dtype=np.int8)
        for want, have in zip(ReferenceExecutor(graph).run(x), runner.run(x), strict=True):
            np.testing.assert_array_equal(have, want)


def lpn_graph(rng: np.random.Generator, trial: int):
    """A random lpn-flavor integer graph: shift conv / depthwise / dense and QuantNorm between builtins."""
    from lpn_tf.export.random_graphs import LayerSpec, random_graph

    layers = [LayerSpec("shift_conv", kernel=int(rng.choice([1, 3])), stride=int(rng.choice([1, 2])),
                        channels=int(rng.integers(2, 6)), exponent_bits=int(rng.integers(0, 4)),
                        activation=str(rng.choice(["NONE", "RELU"]))),
              LayerSpec("shift_dwconv", multiplier=int(rng.choice([1, 2])),
                        exponent_bits=int(rng.integers(0, 4)),
                        padding=str(rng.choice(["SAME", "VALID"]))),
              LayerSpec("quant_norm"),
              LayerSpec(str(rng.choice(["conv", "maxpool", "residual"])), kernel=2)]
    head = ["shift_dense", "mean_dense"][trial % 2]
    return random_graph(rng, (9, 9), 3, layers, head_units=5, head=head)


def test_lpn_custom_ops_match_the_reference_executor() -> None:
    """LPN_SHIFT_CONV_2D, LPN_SHIFT_DEPTHWISE_CONV_2D, LPN_SHIFT_FULLY_CONNECTED and LPN_QUANT_NORM on the
    host == lpn_tf.export's numpy reference executor, every op output compared."""
    from lpn_tf.export import memory_plan, tflite_writer
    from lpn_tf.export.reference import ReferenceExecutor

    rng = np.random.default_rng(17)
    kinds: set[str] = set()
    for trial in range(6):
        graph = lpn_graph(rng, trial)
        runner = host.HostRuntime(tflite_writer.to_tflite_bytes(graph, flavor="lpn"))
        kinds |= {op.kind for op in runner.ops()}
        assert runner.arena.planned_bytes == memory_plan.plan(graph).arena_bytes
        executor = ReferenceExecutor(graph)
        for sample in random_inputs(runner, 8, seed=trial):
            for want, have in zip(executor.run(sample[None]), runner.run(sample[None]), strict=True):
                np.testing.assert_array_equal(have, want)
    assert {"LPN_SHIFT_CONV_2D", "LPN_SHIFT_DEPTHWISE_CONV_2D", "LPN_SHIFT_FULLY_CONNECTED",
            "LPN_QUANT_NORM"} <= kinds


def asan_runner() -> Path:
    """build/firmware/host-asan/lpn_run: the command-line runner under ASan + UBSan."""
    toolchain.make_firmware("host-asan")
    return toolchain.BUILD_DIR / "firmware" / "host-asan" / "lpn_run"


def run_cli(runner: Path, model: Path, x: np.ndarray, out: Path,
            arena_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    """Runs lpn_run on ``model`` with the samples of ``x``; sanitizer reports make it fail loudly."""
    inp = out.with_suffix(".in.bin")
    inp.write_bytes(np.ascontiguousarray(x).tobytes())
    cmd = [str(runner), str(model), str(inp), str(out)]
    if arena_bytes is not None:
        cmd.append(str(arena_bytes))
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                            env={"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0", "PATH": "/usr/bin:/bin"})
    assert "Sanitizer" not in result.stderr and "runtime error" not in result.stderr, result.stderr
    return result


def test_sanitized_runtime_matches_host_build(models: dict[str, bytes], tmp_path: Path) -> None:
    """The same models (and an lpn-flavor one) through the ASan + UBSan build: no report, the same bits as
    the plain build."""
    from lpn_tf.export import tflite_writer

    runner = asan_runner()
    lpn_model = tflite_writer.to_tflite_bytes(lpn_graph(np.random.default_rng(2), 0), flavor="lpn")
    for name, data in {**models, "lpn": lpn_model}.items():
        model = tmp_path / f"{name}.tflite"
        model.write_bytes(data)
        plain = host.HostRuntime(data)
        x = random_inputs(plain, 8, seed=3)
        result = run_cli(runner, model, x, tmp_path / f"{name}.out.bin")
        assert result.returncode == 0, result.stderr
        # the runner's file: every output of sample 0, then of sample 1, ...
        expected = b"".join(out.tobytes() for sample in x for out in _as_list(plain.run(sample[None])))
        assert (tmp_path / f"{name}.out.bin").read_bytes() == expected, name


def _as_list(y: np.ndarray | list[np.ndarray]) -> list[np.ndarray]:
    return y if isinstance(y, list) else [y]


def test_mean_with_equal_input_and_output_quantization_matches_reference() -> None:
    """MEAN whose input and output share scale and zero point uses the folded form too (as LiteRT 2.3 and
    TFLite Micro): host runtime == reference, on inputs where a plain rounded average would differ."""
    from lpn_tf.export import tflite_writer
    from lpn_tf.export.builder import GraphBuilder
    from lpn_tf.export.reference import ReferenceExecutor

    rng = np.random.default_rng(3)
    b = GraphBuilder()
    x = b.input("x", (1, 5, 7, 6), 0.05, 3)
    b.output(b.mean_hw(x, 0.05, 3))
    graph = b.graph
    runner = host.HostRuntime(tflite_writer.to_tflite_bytes(graph, flavor="builtin"))
    executor = ReferenceExecutor(graph)
    plain_differs = 0
    for _ in range(50):
        sample = rng.integers(-128, 128, (1, 5, 7, 6)).astype(np.int8)
        want = executor.run(sample)[0]
        np.testing.assert_array_equal(runner.run(sample), want)
        plain = np.round((sample.astype(np.float64) - 3).mean(axis=(1, 2), keepdims=True)) + 3
        plain_differs += int(np.sum(plain != want))
    assert plain_differs > 0  # the case distinguishes the two forms
