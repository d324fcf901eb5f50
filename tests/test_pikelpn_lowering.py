"""A pikelpn model lowers to an integer graph that agrees with the QAT model (QuantNorm's lowering)."""

from __future__ import annotations

import numpy as np
import pytest

import lpn_tf
from lpn_tf._keras import keras
from lpn_tf.export import lower
from lpn_tf.export.api import agreement
from lpn_tf.pikelpn import QuantNorm
from lpn_tf.quantize import calibrate_activations

L = keras.layers


def _float_model() -> keras.Model:
    keras.utils.set_random_seed(4)
    inp = keras.Input((8, 8, 3))
    x = L.Conv2D(6, 3, padding="same", use_bias=False)(inp)
    x = L.BatchNormalization()(x)
    x = L.ReLU()(x)
    x = L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    x = L.ReLU(6.0)(x)
    x = L.Conv2D(8, 1, use_bias=True)(x)
    x = L.BatchNormalization()(x)
    x = L.ReLU()(x)
    x = L.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, L.Dense(4)(x))
    rng = np.random.default_rng(5)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            c = layer.gamma.shape[0]
            gamma = rng.uniform(0.5, 1.5, c) * np.where(rng.random(c) < 0.2, -1, 1)
            layer.set_weights(
                [gamma, rng.normal(size=c) * 0.1, rng.normal(size=c) * 0.1, rng.uniform(0.5, 2, c)]
            )
    return model


@pytest.mark.parametrize("ops", ["lpn", "builtin"])
def test_pikelpn_a8_lowers_and_agrees(ops: str) -> None:
    model = lpn_tf.quantize_model(_float_model(), "pikelpn-a8")
    assert sum(isinstance(layer, QuantNorm) for layer in model.layers) == 3
    x = np.random.default_rng(0).normal(size=(64, 8, 8, 3)).astype(np.float32)
    calibrate_activations(model, np.random.default_rng(1).normal(size=(256, 8, 8, 3)).astype(np.float32))
    model(x[:32], training=True)  # BN statistics and ranges move once more: QuantNorm uses moving stats
    lpn_tf.finalize(model)
    graph = lower(model, ops, mantissa_bits=8, batch=len(x))
    kinds = [op.kind for op in graph.ops]
    assert "BATCH_NORM" not in kinds and all(t.dtype != "float32" for t in graph.tensors)
    if ops == "lpn":
        assert kinds.count("LPN_SHIFT_CONV_2D") == 1  # the pointwise conv (first layer is int8)
    a = agreement(model, graph, x)
    assert a.local_identical >= 0.99, a.per_tensor
    assert a.local_max_lsb <= 1, a.per_tensor


def test_pikelpn_with_low_bit_activations_lowers_integer_only() -> None:
    """uniform5 activations: every requantization an LPN op on the ceil grid (lpn flavor); the builtin flavor
    has no op that rounds up, and refuses naming the tensor."""
    from lpn_tf.export.lowering import LoweringError, integer_only_violations

    model = lpn_tf.quantize_model(_float_model(), "pikelpn")
    x = np.random.default_rng(1).normal(size=(64, 8, 8, 3)).astype(np.float32)
    calibrate_activations(model, x)
    lpn_tf.finalize(model)
    graph = lower(model, "lpn", batch=len(x))
    assert integer_only_violations(graph) == []
    kinds = [op.kind for op in graph.ops]
    assert kinds.count("LPN_CONV_2D") == 2 and "LPN_DEPTHWISE_CONV_2D" in kinds  # stem, head; int8 depthwise
    grids = [op.options.get("grid", 0) for op in graph.ops if op.kind.startswith("LPN_")]
    assert grids[:-1] == [1] * (len(grids) - 1) and grids[-1] == 0  # int8 logits round to nearest
    a = agreement(model, graph, x)
    assert a.local_identical >= 0.99, a.per_tensor
    with pytest.raises(LoweringError, match="tensor .* ceil grid"):
        lower(model, "builtin")
