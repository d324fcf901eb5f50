"""Property test: random small QAT models lower to graphs that every executor runs bit for bit alike.

Random Keras models (kernel sizes 1–5, depthwise 2–5, ≥ 3 channels, strides 1–2, SAME/VALID, odd channel
counts, depth multipliers,
BatchNormalization, ReLU/ReLU6, residual adds, GAP or Flatten, dense heads) under the int8 or
all-layers-shift scheme, lowered in both flavors: reference == LiteRT (BUILTIN_REF, with the LPN ops
registered for the lpn flavor) == the host firmware, and == TFLite Micro for the builtin flavor; the
per-op agreement with the QAT model stays ≥ 99 % and ≤ 1 LSB. A few examples by default, 60 with
``-m slow``. (With only 2 weights per output channel, e.g. a 1×1 conv on 2 channels, the real outputs
often fall exactly on half-LSB ties — 3 % in one example — where TFLite rounds half away from zero and
TensorFlow's fake-quant half up: hence ≥ 3 channels here.)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lpn_tf
from lpn_tf import runtime
from lpn_tf._keras import keras
from lpn_tf.export import lower
from lpn_tf.export.api import agreement
from lpn_tf.export.tflite_writer import to_tflite_bytes
from lpn_tf.quantize import calibrate_activations

L = keras.layers
SAMPLES = 24


@st.composite
def architectures(draw: st.DrawFn) -> dict:
    size = draw(st.integers(4, 9))
    blocks = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "depthwise", "residual"]))
        blocks.append(
            {
                "kind": kind,
                "k": draw(st.integers(1, 5)),
                "stride": draw(st.integers(1, 2)),
                "padding": draw(st.sampled_from(["same", "valid"])),
                "filters": draw(st.integers(3, 7)),
                "multiplier": draw(st.integers(1, 2)),
                "bn": draw(st.booleans()),
                "act": draw(st.sampled_from(["linear", "relu", "relu6"])),
            }
        )
    return {
        "size": size,
        "channels": draw(st.integers(3, 5)),
        "blocks": blocks,
        "head": draw(st.sampled_from(["gap", "flatten"])),
        "classes": draw(st.integers(2, 6)),
        "scheme": draw(st.sampled_from(["int8", "shift-all"])),
        "seed": draw(st.integers(0, 2**16)),
    }


def _activation(x, act: str):
    return x if act == "linear" else (L.ReLU()(x) if act == "relu" else L.ReLU(6.0)(x))


def _build(arch: dict) -> keras.Model:
    keras.utils.set_random_seed(arch["seed"])
    inp = keras.Input((arch["size"], arch["size"], arch["channels"]))
    x = inp
    for b in arch["blocks"]:
        spatial = int(x.shape[1])
        # a depthwise channel needs ≥ 2 weights: a shift quantizer's α_c = 3σ_c of one weight is 0 (→ ε)
        if b["kind"] == "depthwise" and spatial < 2:
            continue
        k = min(max(b["k"], 2) if b["kind"] == "depthwise" else b["k"], spatial)
        padding = b["padding"] if spatial >= k else "same"
        if b["kind"] == "residual":
            y = L.Conv2D(int(x.shape[-1]), k, padding="same")(x)
            y = L.BatchNormalization()(y) if b["bn"] else y
            x = _activation(L.Add()([x, y]), b["act"])
            continue
        if b["kind"] == "conv":
            x = L.Conv2D(b["filters"], k, strides=b["stride"], padding=padding)(x)
        else:
            x = L.DepthwiseConv2D(k, strides=b["stride"], padding=padding, depth_multiplier=b["multiplier"])(
                x
            )
        x = L.BatchNormalization()(x) if b["bn"] else x
        x = _activation(x, b["act"])
    x = L.GlobalAveragePooling2D()(x) if arch["head"] == "gap" else L.Flatten()(x)
    model = keras.Model(inp, L.Dense(arch["classes"])(x))
    rng = np.random.default_rng(arch["seed"])
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            c = layer.gamma.shape[0]
            gamma = rng.uniform(0.5, 1.5, c) * np.where(rng.random(c) < 0.2, -1, 1)
            layer.set_weights(
                [gamma, rng.normal(size=c) * 0.1, rng.normal(size=c) * 0.1, rng.uniform(0.5, 2, c)]
            )
    return model


def _check(arch: dict, tmp_path) -> None:
    from tflite_micro.python.tflite_micro import runtime as tflm

    scheme = (
        lpn_tf.Scheme.get("int8")
        if arch["scheme"] == "int8"
        else lpn_tf.Scheme.get("shift", first_layer="scheme", last_layer="scheme")
    )
    model = lpn_tf.quantize_model(_build(arch), scheme)
    rng = np.random.default_rng(arch["seed"])
    x = rng.normal(size=(SAMPLES, *model.input_shape[1:])).astype(np.float32)
    calibrate_activations(model, x)
    if arch["scheme"] != "int8":
        lpn_tf.finalize(model)
    for ops in ("builtin", "lpn"):
        a = agreement(model, lower(model, ops, batch=SAMPLES), x)
        assert a.local_identical >= 0.99 and a.local_max_lsb <= 1, (ops, a.per_tensor)
        path = tmp_path / f"{ops}.tflite"
        path.write_bytes(to_tflite_bytes(lower(model, ops), flavor=ops))
        ref = runtime.load(path, backend="reference")
        xi = rng.integers(-128, 128, (8, *ref.inputs[0].shape[1:])).astype(np.int8)
        want = ref.run(xi)
        for backend in ("litert", "host"):
            np.testing.assert_array_equal(runtime.load(path, backend=backend).run(xi), want, err_msg=backend)
        if ops == "builtin":
            interpreter = tflm.Interpreter.from_bytes(path.read_bytes())
            for k in range(len(xi)):
                interpreter.set_input(xi[k : k + 1], 0)
                interpreter.invoke()
                np.testing.assert_array_equal(interpreter.get_output(0), want[k : k + 1], err_msg="tflm")


_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(max_examples=6, derandomize=True, **_SETTINGS)
@given(arch=architectures())
def test_random_models_lower_bit_exactly(arch: dict, tmp_path) -> None:
    _check(arch, tmp_path)


@pytest.mark.slow
@settings(max_examples=60, **_SETTINGS)
@given(arch=architectures())
def test_random_models_lower_bit_exactly_many(arch: dict, tmp_path) -> None:
    _check(arch, tmp_path)
