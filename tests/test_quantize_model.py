"""quantize_model: graph rewriting, one quantization per integer tensor, weights reused, schemes, errors."""

from __future__ import annotations

import numpy as np
import pytest

import lpn_tf
from lpn_tf import layers as ql
from lpn_tf import quantizers as qz
from lpn_tf._keras import keras
from lpn_tf.quantize import Scheme, calibrate_activations, quantization_points

K = keras.layers


def _residual_model() -> keras.Model:
    inp = keras.Input((8, 8, 3), name="img")
    x = K.Conv2D(4, 3, padding="same", use_bias=False, name="stem")(inp)
    x = K.BatchNormalization(name="stem_bn")(x)
    x = K.ReLU(name="stem_relu")(x)
    y = K.Conv2D(4, 3, padding="same", name="branch")(x)
    y = K.BatchNormalization(name="branch_bn")(y)
    z = K.Add(name="add")([x, y])  # x is consumed twice
    z = K.ReLU(name="add_relu")(z)
    z = K.MaxPooling2D(name="pool")(z)
    z = K.DepthwiseConv2D(3, padding="same", activation="relu", name="dw")(z)
    z = K.GlobalAveragePooling2D(name="gap")(z)
    return keras.Model(inp, K.Dense(5, name="head")(z), name="res")


def _quant_layers(model: keras.Model) -> list[ql.QuantizeTensor]:
    return [layer for layer in model.layers if isinstance(layer, ql.QuantizeTensor)]


def _producer(model: keras.Model, layer: keras.layers.Layer) -> str:
    return layer._inbound_nodes[0].inbound_layers.name


def test_one_quantization_per_integer_tensor() -> None:
    fm = _residual_model()
    qm = lpn_tf.quantize_model(fm, "int8")
    producers = sorted(_producer(qm, q) for q in _quant_layers(qm))
    # model input, fused conv+BN+ReLU, conv+BN (the add's other input), add+ReLU, depthwise(+relu), GAP, dense
    assert producers == sorted(["img", "stem_relu", "branch_bn", "add_relu", "dw", "gap", "head"])
    # the residual tensor feeds the branch conv and the add through a single QuantizeTensor
    stem_q = next(q for q in _quant_layers(qm) if _producer(qm, q) == "stem_relu")
    assert sorted(n.layer.name for n in stem_q._outbound_nodes) == ["add", "branch"]
    for layer in qm.layers:  # quantized layers carry no tensor quantizers of their own
        if isinstance(layer, ql.QuantizedLayerMixin):
            assert layer.input_quantizer is None and layer.output_quantizer is None
    assert [p[1] for p in quantization_points(fm)] == [
        "stem_relu",
        "branch_bn",
        "add_relu",
        "dw",
        "gap",
        "head",
    ]
    assert qm.name == "res_qat" and qm.get_layer("stem").name == "stem"


def test_weights_reused_and_float_model_untouched() -> None:
    fm = _residual_model()
    before = [w.copy() for w in fm.get_weights()]
    qm = lpn_tf.quantize_model(fm, "shift")
    np.testing.assert_array_equal(
        qm.get_layer("branch").kernel.numpy(), fm.get_layer("branch").kernel.numpy()
    )
    np.testing.assert_array_equal(
        qm.get_layer("dw").depthwise_kernel.numpy(), fm.get_layer("dw").depthwise_kernel.numpy()
    )
    np.testing.assert_array_equal(
        qm.get_layer("branch_bn").moving_mean.numpy(), fm.get_layer("branch_bn").moving_mean.numpy()
    )
    assert qm.get_layer("branch_bn") is not fm.get_layer("branch_bn")
    qm.compile("sgd", "mse")
    qm.fit(np.ones((4, 8, 8, 3), np.float32), np.ones((4, 5), np.float32), verbose=0)
    for a, b in zip(before, fm.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # α_c calibrated from the float kernel: 3σ per output channel
    q = qm.get_layer("branch").kernel_quantizer
    k = fm.get_layer("branch").kernel.numpy()
    np.testing.assert_allclose(q._state["alpha"].numpy().ravel(), 3 * k.std(axis=(0, 1, 2)), rtol=1e-5)


def test_lambda_one_is_the_float_model() -> None:
    fm = _residual_model()
    all_blend = Scheme(weights="shift3", activations="shift3", inputs="shift3")
    qm = lpn_tf.quantize_model(fm, all_blend)
    lpn_tf.set_lambda(qm, 1.0)
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(
        qm(x, training=False).numpy(), fm(x, training=False).numpy(), rtol=1e-5, atol=1e-5
    )


def test_schemes_and_first_last_policy() -> None:
    fm = _residual_model()
    shift = lpn_tf.quantize_model(fm, "shift")
    assert isinstance(shift.get_layer("stem").kernel_quantizer, qz.SymmetricQuantizer)  # first layer int8
    assert isinstance(shift.get_layer("head").kernel_quantizer, qz.SymmetricQuantizer)  # last layer int8
    assert isinstance(shift.get_layer("branch").kernel_quantizer, qz.Shift)
    assert all(isinstance(q.quantizer, qz.AffineQuantizer) for q in _quant_layers(shift))
    wa = lpn_tf.quantize_model(fm, "shift-wa")
    quant = {_producer(wa, q): q.quantizer for q in _quant_layers(wa)}
    assert isinstance(quant["img"], qz.AffineQuantizer)  # model input int8
    assert isinstance(quant["head"], qz.AffineQuantizer)  # logits int8 (last-layer policy)
    assert isinstance(quant["branch_bn"], qz.Shift) and not quant["branch_bn"].unsigned
    assert isinstance(quant["stem_relu"], qz.Shift) and quant["stem_relu"].unsigned  # after ReLU
    everything = lpn_tf.quantize_model(fm, Scheme.get("shift", first_layer="scheme", last_layer="scheme"))
    assert isinstance(everything.get_layer("stem").kernel_quantizer, qz.Shift)
    custom = Scheme.get("int8", overrides={"branch": {"weights": "shift4", "output": "uniform4"}})
    cm = lpn_tf.quantize_model(fm, custom)
    assert cm.get_layer("branch").kernel_quantizer.exponent_bits == 3
    assert isinstance({_producer(cm, q): q.quantizer for q in _quant_layers(cm)}["branch_bn"], qz.Uniform)
    with pytest.raises(ValueError, match="not in model"):
        lpn_tf.quantize_model(fm, Scheme.get("int8", overrides={"nope": {"weights": "shift3"}}))
    with pytest.raises(ValueError, match="unknown scheme"):
        lpn_tf.quantize_model(fm, "int4")


def test_sequential_and_softmax_head() -> None:
    fm = keras.Sequential(
        [
            keras.Input((12, 2)),
            K.Conv1D(3, 3, activation="relu"),
            K.Flatten(),
            K.Dropout(0.1),
            K.Dense(4, activation="softmax"),
        ],
        name="seq",
    )
    qm = lpn_tf.quantize_model(fm, "shift")
    names = [layer.name for layer in qm.layers]
    assert isinstance(qm.layers[names.index("conv1d") if "conv1d" in names else 2], ql.QConv1D)
    assert qm.layers[-1].quantizer.fixed_range == (0.0, 255 / 256)  # TFLite's int8 softmax output
    assert any(isinstance(layer, K.Activation) for layer in qm.layers)
    out = qm.predict(np.random.default_rng(1).normal(size=(3, 12, 2)).astype(np.float32), verbose=0)
    assert out.shape == (3, 4)


def test_unsupported_layer_error_names_layer_and_class() -> None:
    fm = keras.Sequential([keras.Input((6,)), K.Dense(4), K.LayerNormalization(name="ln"), K.Dense(2)])
    with pytest.raises(ValueError, match=r"'ln' of class LayerNormalization.*supported layers: \[.*'Conv2D'"):
        lpn_tf.quantize_model(fm)
    act = keras.Sequential([keras.Input((6,)), K.Dense(4, activation="tanh", name="d")])
    with pytest.raises(ValueError, match=r"'d' \(Dense\): activation 'tanh'"):
        lpn_tf.quantize_model(act)
    with pytest.raises(ValueError, match="known input shape"):
        lpn_tf.quantize_model(keras.Sequential([K.Dense(2)]))


def test_quantized_tensors_sit_on_their_integer_grid() -> None:
    fm = _residual_model()
    qm = lpn_tf.quantize_model(fm, "shift-wa")
    x = np.random.default_rng(2).normal(size=(8, 8, 8, 3)).astype(np.float32)
    before = [w.numpy().copy() for w in qm.trainable_weights]
    calibrate_activations(qm, x)  # sets the activation ranges, nothing else
    for a, b in zip(before, qm.trainable_weights, strict=True):
        np.testing.assert_array_equal(a, b.numpy())
    ranges = {layer.name: layer.quantizer._state for layer in _quant_layers(qm)}
    assert ranges["img_quant"]["min"].numpy() == np.float32(x.min())  # first batch sets the range
    assert ranges["stem_relu_quant"]["scale"].numpy() > 0 and ranges["stem_relu_quant"]["count"].numpy() == 1
    lpn_tf.finalize(qm)
    quant = _quant_layers(qm)
    probe = keras.Model(qm.input, [layer.output for layer in quant])
    for layer, t in zip(quant, probe(x, training=False), strict=True):
        q, t = layer.quantizer, t.numpy()
        n = q.to_integer(t)
        spec = q.integer_spec()
        assert n.min() >= spec.qmin and n.max() <= spec.qmax, layer.name
        if spec.levels is not None:
            assert set(np.unique(n).tolist()) <= set(spec.levels.tolist()), layer.name
            np.testing.assert_array_equal(q.from_integer(n), t, err_msg=layer.name)  # bit-exact
        else:
            np.testing.assert_allclose(
                q.from_integer(n), t, atol=1e-5 * float(spec.scale[0]), err_msg=layer.name
            )


def test_first_last_policy_with_several_inputs_and_outputs() -> None:
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    x = K.Dense(5, activation="relu", name="da")(a)
    y = K.Dense(5, name="db")(K.Flatten(name="flat")(b))
    z = K.Dense(5, name="mid")(K.Add(name="add")([x, y]))
    fm = keras.Model([a, b], [K.Dense(2, name="o1")(z), K.Dense(1, name="o2")(x)])
    qm = lpn_tf.quantize_model(fm, "shift-wa")
    kinds = {
        name: type(qm.get_layer(name).kernel_quantizer).__name__ for name in ("da", "db", "mid", "o1", "o2")
    }
    assert kinds == {
        "da": "SymmetricQuantizer",  # fed by input a
        "db": "SymmetricQuantizer",  # fed by input b through Flatten
        "mid": "Shift",
        "o1": "SymmetricQuantizer",  # produce model outputs
        "o2": "SymmetricQuantizer",
    }
    quant = {_producer(qm, q): q.quantizer for q in _quant_layers(qm)}
    assert isinstance(quant["o1"], qz.AffineQuantizer) and isinstance(quant["mid"], qz.Shift)
    out = qm([np.ones((2, 4), np.float32), np.ones((2, 3), np.float32)])
    assert [tuple(t.shape) for t in out] == [(2, 2), (2, 1)]
