"""Quantized layers: stock Keras behaviour with quantized kernels, config round trip, save/load, training."""

from __future__ import annotations

import numpy as np
import pytest

import lpn_tf
from lpn_tf import layers as ql
from lpn_tf import quantizers as qz
from lpn_tf._keras import keras, tf

CASES = [
    (
        ql.QConv2D,
        keras.layers.Conv2D,
        dict(filters=5, kernel_size=3, strides=2, padding="same", activation="relu"),
        (2, 7, 7, 3),
    ),
    (ql.QConv1D, keras.layers.Conv1D, dict(filters=4, kernel_size=3, dilation_rate=2), (2, 11, 3)),
    (ql.QDense, keras.layers.Dense, dict(units=6, use_bias=False), (2, 5)),
    (
        ql.QDepthwiseConv2D,
        keras.layers.DepthwiseConv2D,
        dict(kernel_size=3, depth_multiplier=2),
        (2, 6, 6, 3),
    ),
    (
        ql.QSeparableConv2D,
        keras.layers.SeparableConv2D,
        dict(filters=4, kernel_size=3, padding="same"),
        (2, 6, 6, 3),
    ),
]


@pytest.mark.parametrize("qcls, fcls, kwargs, shape", CASES, ids=[c[0].__name__ for c in CASES])
def test_forward_equals_stock_layer_with_quantized_kernel(qcls, fcls, kwargs, shape) -> None:
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    layer = qcls(kernel_quantizer="shift3", **kwargs)
    y = layer(x).numpy()
    ref = fcls(**kwargs)
    ref(x)
    qk = layer.quantized_kernels()
    weights = [
        qk.get(attr, getattr(layer, attr)).numpy()
        if hasattr(layer, attr) and getattr(layer, attr) is not None
        else None
        for attr in ("depthwise_kernel", "pointwise_kernel", "kernel", "bias")
    ]
    ref.set_weights(
        [
            w
            for w, attr in zip(
                weights, ("depthwise_kernel", "pointwise_kernel", "kernel", "bias"), strict=True
            )
            if w is not None and getattr(ref, attr, None) is not None
        ]
    )
    np.testing.assert_allclose(y, ref(x).numpy(), rtol=1e-5, atol=1e-5)
    for attr, q in layer.kernel_quantizers().items():
        assert q.effective_scale == "per_channel"
        n = q.to_integer(getattr(layer, attr).numpy())
        np.testing.assert_array_equal(q.from_integer(n), qk[attr].numpy())  # integer form of the used kernel


@pytest.mark.parametrize("qcls, fcls, kwargs, shape", CASES, ids=[c[0].__name__ for c in CASES])
def test_config_round_trip(qcls, fcls, kwargs, shape) -> None:
    layer = qcls(
        kernel_quantizer="uniform4",
        input_quantizer="int8",
        output_quantizer="shift3",
        kernel_regularizer=keras.regularizers.L2(1e-4),
        **kwargs,
    )
    config = layer.get_config()
    clone = qcls.from_config(config)
    assert clone.get_config() == config
    assert isinstance(clone.input_quantizer, qz.AffineQuantizer)
    assert (
        isinstance(clone.output_quantizer, qz.Shift)
        and clone.output_quantizer.effective_scale == "per_tensor"
    )
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(restored) is qcls and restored.get_config() == config


def test_separable_takes_two_quantizers() -> None:
    layer = ql.QSeparableConv2D(4, 3, depthwise_quantizer="int8_weight", pointwise_quantizer="shift4")
    layer(np.zeros((1, 5, 5, 2), np.float32))
    assert isinstance(layer.depthwise_quantizer, qz.SymmetricQuantizer)
    assert layer.depthwise_quantizer.channel_axes == (2, 3)
    assert isinstance(layer.pointwise_quantizer, qz.Shift) and layer.pointwise_quantizer.exponent_bits == 3
    default = ql.QSeparableConv2D(4, 3, kernel_quantizer="shift3")
    assert default.depthwise_quantizer is not default.pointwise_quantizer  # separate state


def _small_model() -> keras.Model:
    inp = keras.Input((8, 8, 2))
    x = ql.QConv2D(
        4,
        3,
        padding="same",
        kernel_quantizer="shift3",
        input_quantizer="int8",
        output_quantizer=qz.Shift(2, unsigned=True),
        activation="relu",
    )(inp)
    x = ql.QDepthwiseConv2D(3, kernel_quantizer="uniform4")(x)
    x = ql.QSeparableConv2D(4, 3, kernel_quantizer="shift3")(x)
    x = keras.layers.Flatten()(x)
    x = ql.QuantizeTensor("int8")(x)
    return keras.Model(inp, ql.QDense(3, kernel_quantizer="shift3")(x))


def test_training_step_updates_weights_and_ranges() -> None:
    model = _small_model()
    model.compile(keras.optimizers.SGD(0.1), "mse")
    lpn_tf.set_lambda(model, 0.0)
    x = np.random.default_rng(1).normal(size=(16, 8, 8, 2)).astype(np.float32)
    y = np.random.default_rng(2).normal(size=(16, 3)).astype(np.float32)
    before = [w.numpy().copy() for w in model.trainable_weights]
    count = model.layers[1].input_quantizer._state["count"]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    after = [w.numpy() for w in model.trainable_weights]
    assert all(
        not np.array_equal(a, b) for a, b in zip(before, after, strict=True)
    )  # every weight learns at λ = 0
    assert count.numpy() == 2  # moving ranges updated once per training step
    assert np.isfinite(model.evaluate(x, y, verbose=0))


@pytest.mark.parametrize("fmt", ["keras", "tf"])
def test_save_load(tmp_path, fmt: str) -> None:
    model = _small_model()
    model.compile("adam", "mse")
    x = np.random.default_rng(3).normal(size=(8, 8, 8, 2)).astype(np.float32)
    model.fit(x, np.zeros((8, 3), np.float32), epochs=1, verbose=0)
    lpn_tf.set_lambda(model, 0.25)
    expected = model.predict(x, verbose=0)
    path = str(tmp_path / ("m.keras" if fmt == "keras" else "saved"))
    model.save(path, save_format=fmt)
    loaded = keras.models.load_model(path, custom_objects=lpn_tf.custom_objects)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    assert len(loaded.weights) == len(model.weights)
    for v, w in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(v.numpy(), w.numpy())  # λ, α_c, moving ranges restored


def test_custom_objects_cover_all_classes() -> None:
    for name in (
        "QConv2D",
        "QConv1D",
        "QDense",
        "QDepthwiseConv2D",
        "QSeparableConv2D",
        "QuantizeTensor",
        "Shift",
        "Uniform",
        "AffineQuantizer",
        "SymmetricQuantizer",
    ):
        assert name in lpn_tf.custom_objects


def test_quantize_tensor_requires_quantizer() -> None:
    with pytest.raises(ValueError, match="needs a quantizer"):
        ql.QuantizeTensor(None)
    layer = ql.QuantizeTensor("shift3")
    out = layer(tf.constant([[0.3, -0.3]]), training=True)
    assert out.shape == (1, 2)
