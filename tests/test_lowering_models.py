"""Lowering small QAT models: agreement with the QAT model on the int8 grid; bit-exactness across executors.

Models (built once per session, ranges set by ``calibrate_activations``; other lowering test modules import
:func:`qat_model` and :func:`inputs` from here) cover Conv2D with (k, 1) and square kernels, Conv1D,
DepthwiseConv2D with multiplier 2, SeparableConv2D, Dense, BatchNormalization (folded, some γ < 0), ReLU,
ReLU6, residual Add, ZeroPadding, Max/Average/GlobalAverage pooling, Flatten, Dropout and Softmax,
Functional and Sequential, under the int8, shift and all-layers-shift schemes.

Agreement (:func:`lpn_tf.export.api.agreement`): *per op* — each op run by the reference kernels on the
QAT model's own integer inputs — must be ≥ 99 % identical with at most 1 LSB difference (float QAT and
integer arithmetic differ only at near-ties: bias rounding and float32 sums); end to end the differences
propagate, so outputs are asserted within a few LSB and the fractions are printed (``pytest -s``).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import lpn_tf
from lpn_tf import runtime
from lpn_tf._keras import keras
from lpn_tf.export import lower
from lpn_tf.export.api import agreement
from lpn_tf.export.tflite_writer import to_tflite_bytes
from lpn_tf.quantize import calibrate_activations

L = keras.layers
SAMPLES = 64


def _randomize_batch_norms(model: keras.Model, rng: np.random.Generator) -> None:
    """Non-trivial BN statistics (some negative γ) so that folding is exercised."""
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            c = layer.gamma.shape[0]
            gamma = rng.uniform(0.5, 1.5, c) * np.where(rng.random(c) < 0.2, -1, 1)
            beta, mean = rng.normal(size=c) * 0.1, rng.normal(size=c) * 0.1
            layer.set_weights([gamma, beta, mean, rng.uniform(0.5, 2, c)])


def _mixed() -> keras.Model:
    """Functional: conv+BN+ReLU, depthwise (multiplier 2)+BN+ReLU6, residual add+ReLU, ZeroPadding+strided
    conv, pools, two dense (the second with softmax)."""
    inp = keras.Input((9, 9, 3))
    x = L.Conv2D(6, 3, padding="same")(inp)
    x = L.BatchNormalization()(x)
    x = L.ReLU()(x)
    y = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, strides=1)(x)
    y = L.BatchNormalization()(y)
    y = L.ReLU(6.0)(y)
    y = L.Conv2D(6, 1, strides=1, use_bias=False)(y)
    z = L.Add()([x, y])
    z = L.ReLU()(z)
    z = L.ZeroPadding2D(((0, 1), (0, 1)))(z)  # becomes the SAME padding of the next conv
    z = L.Conv2D(5, 2, strides=2, padding="valid", activation="relu")(z)
    z = L.MaxPooling2D(2)(z)
    z = L.AveragePooling2D(2, padding="valid")(z)
    z = L.GlobalAveragePooling2D()(z)
    z = L.Dense(7, activation="relu")(z)
    z = L.Dense(4, activation="softmax")(z)
    return keras.Model(inp, z, name="mixed")


def _sequential() -> keras.Model:
    """Sequential: (k, 1) conv kernels (the MNIST-1D style), BN, Flatten, Dropout, Dense logits."""
    return keras.Sequential(
        [
            keras.Input((12, 1, 2)),
            L.Conv2D(4, (3, 1), padding="same", use_bias=False),
            L.BatchNormalization(),
            L.Activation("relu"),
            L.Conv2D(5, (3, 1), strides=(2, 1), padding="valid"),
            L.BatchNormalization(),
            L.ReLU(),
            L.Flatten(),
            L.Dropout(0.1),
            L.Dense(3),
        ],
        name="sequential",
    )


def _conv1d() -> keras.Model:
    """Conv1D (lowered on a [B, L, 1, C] view), MaxPooling1D, GlobalAveragePooling1D, Dense."""
    inp = keras.Input((10, 3))
    x = L.Conv1D(4, 3, padding="same", activation="relu")(inp)
    x = L.MaxPooling1D(2)(x)
    x = L.Conv1D(5, 2, padding="valid", activation="relu")(x)
    x = L.GlobalAveragePooling1D()(x)
    return keras.Model(inp, L.Dense(3)(x), name="conv1d")


def _separable() -> keras.Model:
    inp = keras.Input((6, 6, 3))
    x = L.SeparableConv2D(4, 3, padding="same", activation="relu")(inp)
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inp, L.Dense(3)(x), name="separable")


BUILDERS = {"mixed": _mixed, "sequential": _sequential, "conv1d": _conv1d, "separable": _separable}
SCHEMES = {
    "int8": lpn_tf.Scheme.get("int8"),
    "shift": lpn_tf.Scheme.get("shift"),
    "shift-all": lpn_tf.Scheme.get("shift", first_layer="scheme", last_layer="scheme"),
}


@functools.cache
def float_model(name: str) -> keras.Model:
    keras.utils.set_random_seed(3)
    model = BUILDERS[name]()
    _randomize_batch_norms(model, np.random.default_rng(5))
    return model


def inputs(name: str, count: int = SAMPLES, seed: int = 0) -> np.ndarray:
    shape = float_model(name).input_shape[1:]
    return np.random.default_rng(seed).normal(size=(count, *shape)).astype(np.float32)


@functools.cache
def qat_model(name: str, scheme: str) -> keras.Model:
    """The QAT model of ``name`` under ``scheme``, activation ranges calibrated, λ = 0."""
    model = lpn_tf.quantize_model(float_model(name), SCHEMES[scheme])
    calibrate_activations(model, inputs(name, 256, seed=1))
    if scheme != "int8":
        lpn_tf.finalize(model)
    return model


# ------------------------------------------------------------------------------------------------
# tests
# ------------------------------------------------------------------------------------------------


EXACT_MODELS = ("mixed", "sequential", "conv1d")
CASES = [(m, s, f) for m in EXACT_MODELS for s in SCHEMES for f in ("builtin", "lpn")]


@pytest.mark.parametrize(("name", "scheme", "ops"), CASES)
def test_lowered_graph_agrees_with_the_qat_model(name: str, scheme: str, ops: str) -> None:
    model = qat_model(name, scheme)
    graph = lower(model, ops, batch=SAMPLES)
    a = agreement(model, graph, inputs(name))
    print(
        f"{name}/{scheme}/{ops}: per op {100 * a.local_identical:.2f}% identical "
        f"(max {a.local_max_lsb} LSB); "
        f"outputs {100 * a.output_identical:.2f}% (max {a.output_max_lsb} LSB)"
    )
    assert graph.metadata["notes"] == []
    assert a.local_identical >= 0.99, a.per_tensor
    assert a.local_max_lsb <= 1, a.per_tensor
    assert a.output_max_lsb <= 4
    assert set(a.per_tensor) == {
        n for n in graph.metadata["points"] if graph.metadata["points"][n] not in graph.inputs
    }


def test_flavors_pick_the_documented_ops() -> None:
    shift = qat_model("mixed", "shift-all")
    lpn_kinds = lower(shift, "lpn").used_kinds()
    builtin_kinds = lower(shift, "builtin").used_kinds()
    assert {"LPN_SHIFT_CONV_2D", "LPN_SHIFT_DEPTHWISE_CONV_2D"} <= set(lpn_kinds)
    assert not any(k.startswith("LPN_") for k in builtin_kinds)
    for kinds in (lpn_kinds, builtin_kinds):
        assert "FULLY_CONNECTED" not in kinds and "LPN_SHIFT_FULLY_CONNECTED" not in kinds  # dense → 1×1 conv
        assert "SOFTMAX" in kinds
    # int8 weights stay builtins in the lpn flavor; the default shift scheme keeps first/last layers int8
    model = qat_model("mixed", "shift")
    first_conv = next(layer.name for layer in model.layers if isinstance(layer, lpn_tf.layers.QConv2D))
    first = lower(model, "lpn").ops[0]
    assert first.kind == "CONV_2D" and first.name == first_conv


def test_separable_conv_is_two_ops_with_a_noted_extra_tensor() -> None:
    model = qat_model("separable", "int8")
    graph = lower(model, "builtin", batch=SAMPLES)
    kinds = [op.kind for op in graph.ops]
    assert kinds[:2] == ["DEPTHWISE_CONV_2D", "CONV_2D"]
    assert len(graph.metadata["notes"]) == 1 and "separable_conv2d" in graph.metadata["notes"][0]
    a = agreement(model, graph, inputs("separable"))
    print(f"separable: per op {100 * a.local_identical:.2f}% (max {a.local_max_lsb} LSB)")
    assert a.local_max_lsb <= 24  # the documented approximation: worst-case scale of the extra tensor


def _run_all(path, backends, x):
    return {b: runtime.load(path, backend=b).run(x) for b in backends}


@pytest.mark.parametrize("name", EXACT_MODELS)
@pytest.mark.parametrize("scheme", ["int8", "shift-all"])
def test_builtin_flavor_is_bit_exact_on_litert_and_tflm(tmp_path, name: str, scheme: str) -> None:
    from tflite_micro.python.tflite_micro import runtime as tflm

    path = tmp_path / "m.tflite"
    path.write_bytes(to_tflite_bytes(lower(qat_model(name, scheme), "builtin"), flavor="builtin"))
    ref = runtime.load(path, backend="reference")
    x = np.random.default_rng(2).integers(-128, 128, (40, *ref.inputs[0].shape[1:])).astype(np.int8)
    want = ref.run(x)
    got = runtime.load(path, backend="litert").run(x)  # BUILTIN_REF kernels
    np.testing.assert_array_equal(got, want)
    interpreter = tflm.Interpreter.from_bytes(path.read_bytes())
    micro = []
    for k in range(len(x)):
        interpreter.set_input(x[k : k + 1], 0)
        interpreter.invoke()
        micro.append(interpreter.get_output(0))
    np.testing.assert_array_equal(np.concatenate(micro), want)


@pytest.mark.parametrize("name", EXACT_MODELS)
@pytest.mark.parametrize("scheme", ["shift", "shift-all"])
def test_lpn_flavor_is_bit_exact_on_litert_and_host_firmware(tmp_path, name: str, scheme: str) -> None:
    path = tmp_path / "m.tflite"
    graph = lower(qat_model(name, scheme), "lpn")
    assert any(op.kind.startswith("LPN_") for op in graph.ops)
    path.write_bytes(to_tflite_bytes(graph, flavor="lpn"))
    ref = runtime.load(path, backend="reference")
    x = np.random.default_rng(3).integers(-128, 128, (40, *ref.inputs[0].shape[1:])).astype(np.int8)
    want = ref.run(x)
    for backend in ("litert", "host"):
        np.testing.assert_array_equal(runtime.load(path, backend=backend).run(x), want, err_msg=backend)


@pytest.mark.qemu
def test_lpn_flavor_on_emulated_cortex_m4(tmp_path, cortex_m_toolchain) -> None:
    path = tmp_path / "m.tflite"
    path.write_bytes(to_tflite_bytes(lower(qat_model("mixed", "shift-all"), "lpn"), flavor="lpn"))
    ref = runtime.load(path, backend="reference")
    x = np.random.default_rng(4).integers(-128, 128, (2, *ref.inputs[0].shape[1:])).astype(np.int8)
    np.testing.assert_array_equal(runtime.load(path, backend="qemu-m4").run(x), ref.run(x))
