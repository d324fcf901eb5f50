"""QuantNorm and double quantization (lpn_tf.pikelpn): BN equivalence, graceful degradation, exact
representability of the quantized scales, folding in training and inference mode."""

from __future__ import annotations

import numpy as np
import pytest

from lpn_tf import layers as ql
from lpn_tf._keras import keras, tf
from lpn_tf.export import fixed_point
from lpn_tf.pikelpn import QuantNorm, double_quantize

K = keras.layers


def _bn_pair(channels: int = 6, seed: int = 0, **qn: object) -> tuple[object, QuantNorm]:
    rng = np.random.default_rng(seed)
    bn = K.BatchNormalization(momentum=0.9, epsilon=1e-3)
    bn.build((None, 5, 5, channels))
    weights = [
        rng.uniform(0.5, 2.0, channels) * rng.choice([-1, 1], channels),  # gamma, some negative
        rng.normal(0, 1, channels),  # beta
        rng.normal(0, 1, channels),  # moving mean
        rng.uniform(0.2, 3.0, channels),  # moving variance
    ]
    bn.set_weights([w.astype(np.float32) for w in weights])
    layer = QuantNorm.from_batch_norm(bn, **qn)
    layer.build((None, 5, 5, channels))
    layer.set_weights(bn.get_weights())
    return bn, layer


def test_double_quantize_matches_exporter_encoding() -> None:
    rng = np.random.default_rng(1)
    values = np.concatenate(
        [rng.uniform(-1, 1, 200) * 10.0 ** rng.integers(-9, 2, 200), [2.0**-5, 0.75, -1.0, 126.6]]
    ).astype(np.float32)
    for bits in (2, 4, 8, 12, 16):
        q, mant, shift = (t.numpy() for t in double_quantize(values, bits))
        limit = 2 ** (bits - 1) - 1
        for v, m, k, qv in zip(values, mant, shift, q, strict=True):
            try:
                ref = fixed_point.double_quantize(float(v), bits)
            except ValueError:  # too large for the mantissa at shift 0: saturated
                assert abs(m) == limit and k == 0
                continue
            assert (int(m), int(k)) == ref, (v, bits)
            assert float(qv) == float(m) * 2.0 ** -float(k)  # exactly representable
            assert abs(m) <= limit and float(m).is_integer()
    small = np.abs(values[:200])
    small = small[small < 0.7]  # multipliers that need a right shift
    q, mant, shift = (t.numpy() for t in double_quantize(small, power_of_two=True))
    for v, m, k in zip(small, mant, shift, strict=True):
        assert m == 1.0 and int(k) == fixed_point.power_of_two(float(v)), v


@pytest.mark.parametrize("training", [False, True])
def test_float_quantnorm_equals_batch_norm(training: bool) -> None:
    bn, qn = _bn_pair(mantissa_bits=None)
    x = np.random.default_rng(2).normal(1, 2, (8, 5, 5, 6)).astype(np.float32)
    bn_k = K.BatchNormalization(momentum=0.9, epsilon=1e-3, fused=False)
    bn_k.build(x.shape)
    bn_k.set_weights(bn.get_weights())
    np.testing.assert_allclose(qn(x, training=training), bn_k(x, training=training), rtol=1e-5, atol=1e-5)
    # moving statistics updated (training) or untouched (inference) exactly like BN
    for a, b in zip(qn.get_weights(), bn_k.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    if training:
        assert not np.allclose(qn.get_weights()[2], bn.get_weights()[2])


def test_quantnorm_degrades_gracefully_as_bits_drop() -> None:
    x = np.random.default_rng(3).normal(0, 2, (8, 5, 5, 6)).astype(np.float32)
    bn, _ = _bn_pair()
    ref = bn(x, training=False).numpy()
    errors = []
    for bits in (16, 10, 8, 6, 4, 3):
        # accumulator unit 2^-12, output unit 2^-5: a typical fused requantization
        _, qn = _bn_pair(mantissa_bits=bits, accumulator_scale=2.0**-12, output_scale=2.0**-5)
        errors.append(float(np.max(np.abs(qn(x, training=False).numpy() - ref) / (np.abs(ref) + 1))))
    assert errors[0] < 1e-3  # 16 bits: BN at high precision
    assert all(a <= b + 1e-6 for a, b in zip(errors, errors[1:], strict=False)), errors  # monotone
    assert errors[2] < 2.0**-6 and errors[-1] < 0.5, errors  # 8 bits: < 1.6 %; 3 bits still bounded


def test_power_of_two_multipliers() -> None:
    _, qn = _bn_pair(power_of_two=True, accumulator_scale=2.0**-10, output_scale=2.0**-4)
    gamma, _, _, var = qn.get_weights()
    m = gamma / np.sqrt(var + 1e-3)
    # the multiplier used is m · (power of two)/(M): recover it from two inputs differing by 1
    y1 = qn(np.ones((1, 5, 5, 6), np.float32), training=False).numpy()[0, 0, 0]
    y0 = qn(np.zeros((1, 5, 5, 6), np.float32), training=False).numpy()[0, 0, 0]
    big_m_hat = (y1 - y0) * 2.0**-10 / 2.0**-4  # the slope m̂ as a requantization factor m̂·s_acc/s_out
    log2 = np.log2(np.abs(big_m_hat))
    np.testing.assert_allclose(log2, np.round(log2), atol=1e-4)
    np.testing.assert_allclose(np.sign(big_m_hat), np.sign(m))


def _linked_model(weights: str = "shift3", act: str = "relu") -> keras.Model:
    inp = keras.Input((6, 6, 3))
    x = ql.QuantizeTensor("int8", name="in_q")(inp)
    x = ql.QConv2D(8, 3, padding="same", use_bias=True, kernel_quantizer=weights, name="conv")(x)
    x = QuantNorm(mantissa_bits=8, activation=act, name="qn")(x)
    out = ql.QuantizeTensor("uniform8", name="out_q")(x)
    model = keras.Model(inp, out)
    rng = np.random.default_rng(5)
    conv = model.get_layer("conv")
    conv.kernel.assign(rng.normal(0, 0.3, conv.kernel.shape))
    conv.bias.assign(rng.normal(0, 0.2, (8,)))
    conv.calibrate()
    model.get_layer("qn").set_weights(
        [rng.uniform(0.5, 1.5, 8), rng.normal(0, 0.3, 8), rng.normal(0, 0.2, 8), rng.uniform(0.5, 2, 8)]
    )
    return model


@pytest.mark.parametrize("weights", ["shift3", "int8_weight"])
def test_integer_params_reproduce_the_qat_forward(weights: str) -> None:
    """Folding in inference mode: the integer requantization (acc + B)·m >> k from integer_params equals
    the QAT QuantNorm output on the output grid (before the output quantizer's rounding)."""
    model = _linked_model(weights, act="linear")
    x = np.random.default_rng(6).uniform(-1, 1, (4, 6, 6, 3)).astype(np.float32)
    model(x, training=True)  # set the activation ranges
    in_q, conv, qn = model.get_layer("in_q"), model.get_layer("conv"), model.get_layer("qn")
    params = qn.integer_params()
    # exactly representable in the declared format
    assert params.mantissa_bits == 8
    assert np.all(np.abs(params.mantissa) <= 127) and np.all((params.shift >= 0) & (params.shift <= 47))
    np.testing.assert_array_equal(params.multiplier, params.mantissa * np.exp2(-params.shift.astype(float)))
    for m, k, mult in zip(params.mantissa, params.shift, params.multiplier, strict=True):
        assert fixed_point.double_quantize(float(mult), 8) == (int(m), int(k))
    # integer accumulator of the conv (no bias), from the integer input and weights
    spec_in = in_q.quantizer.integer_spec()
    x_int = in_q.quantizer.to_integer(x) - spec_in.zero_point[0]
    wq = conv.kernel_quantizer
    w_int = wq.to_integer(conv.kernel.numpy())
    acc = tf.nn.conv2d(x_int.astype(np.float64), w_int.astype(np.float64), 1, "SAME").numpy()
    s_acc = spec_in.scale[0] * wq.integer_spec(conv.kernel.numpy()).scale
    np.testing.assert_allclose(params.accumulator_scale, s_acc, rtol=1e-6)
    y_int = fixed_point.lpn_requantize(acc.astype(np.int64) + params.bias, params.mantissa, params.shift)
    qat_pre = keras.Model(model.inputs, qn.output)(x, training=False).numpy() / params.output_scale
    np.testing.assert_allclose(qat_pre, (acc + params.bias) * params.multiplier, rtol=1e-4, atol=1e-3)
    assert np.max(np.abs(y_int - qat_pre)) <= 0.5 + 1e-3


def test_training_mode_sees_quantized_scales_and_batch_statistics() -> None:
    """Folding in training mode: batch statistics are folded, and the multiplier is double-quantized."""
    model = _linked_model(act="linear")
    x = np.random.default_rng(7).uniform(-1, 1, (4, 6, 6, 3)).astype(np.float32)
    model(x, training=True)
    qn = model.get_layer("qn")
    pre = keras.Model(model.inputs, qn.input)(x, training=False).numpy()
    float_qn = QuantNorm(mantissa_bits=None, quantize_bias=False, momentum=qn.momentum)
    float_qn.build(pre.shape)
    float_qn.set_weights(qn.get_weights())
    y_q = keras.Model(model.inputs, qn.output)(x, training=True).numpy()
    y_f = float_qn(pre, training=True).numpy()
    assert not np.allclose(y_q, y_f, rtol=1e-6, atol=1e-7)  # quantized ≠ float …
    np.testing.assert_allclose(y_q, y_f, rtol=0.02, atol=0.05 * np.abs(y_f).max())  # … but close
    # gradients reach gamma and beta through the straight-through estimators
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x, training=True) ** 2)
    grads = tape.gradient(loss, [qn.gamma, qn.beta])
    assert all(g is not None and float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads)


def test_integer_params_refuses_unlinked_layer() -> None:
    _, qn = _bn_pair()
    with pytest.raises(ValueError, match="accumulator"):
        qn.integer_params()


def test_quantnorm_serialization_round_trip(tmp_path: object) -> None:
    model = _linked_model(act="relu6")
    x = np.random.default_rng(8).uniform(-1, 1, (2, 6, 6, 3)).astype(np.float32)
    model(x, training=True)
    path = f"{tmp_path}/m.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={**ql.custom_objects, "QuantNorm": QuantNorm})
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6, atol=1e-6)
    assert loaded.get_layer("qn").activation == "relu6"
