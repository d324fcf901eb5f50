"""quantize_model(model, "pikelpn"): QuantNorm replacement, DHQ, rescaling ops, ACEv2, DHQ statistics."""

from __future__ import annotations

import numpy as np
import pytest

import lpn_tf
from lpn_tf import layers as ql
from lpn_tf import quantizers as qz
from lpn_tf._keras import keras
from lpn_tf.export import fixed_point
from lpn_tf.models import digits_cnn, ds_cnn, resnet8
from lpn_tf.pikelpn import (
    DHQ,
    QuantAdd,
    QuantGlobalAveragePooling2D,
    QuantNorm,
    channel_range_stats,
)

K = keras.layers


def _tiny_separable() -> keras.Model:
    inp = keras.Input((8, 8, 2))
    x = K.Conv2D(4, 3, padding="same", use_bias=False, name="stem")(inp)
    x = K.BatchNormalization(name="stem_bn")(x)
    x = K.ReLU(6.0)(x)
    x = K.DepthwiseConv2D(3, padding="same", use_bias=False, name="dw")(x)
    x = K.BatchNormalization(name="dw_bn")(x)
    x = K.ReLU(6.0)(x)
    x = K.Conv2D(6, 1, use_bias=False, name="pw")(x)
    x = K.BatchNormalization(name="pw_bn")(x)
    y = K.ReLU()(x)
    z = K.Conv2D(6, 1, use_bias=False, name="branch")(y)
    z = K.BatchNormalization(name="branch_bn")(z)
    x = K.ReLU(name="add_relu")(K.Add(name="add")([y, z]))
    x = K.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inp, K.Dense(3, name="logits")(x))


def test_pikelpn_replaces_bn_with_quantnorm_and_absorbs_relu() -> None:
    fm = _tiny_separable()
    rng = np.random.default_rng(0)
    for layer in fm.layers:
        if isinstance(layer, K.BatchNormalization):
            layer.set_weights(
                [rng.uniform(0.5, 1.5, w.shape).astype(np.float32) for w in layer.get_weights()]
            )
    qm = lpn_tf.quantize_model(fm, "pikelpn")
    names = {type(layer).__name__ for layer in qm.layers}
    assert "BatchNormalization" not in names and "ReLU" not in {
        type(layer).__name__ for layer in qm.layers if layer.name != "add_relu"
    }
    qns = {layer.name: layer for layer in qm.layers if isinstance(layer, QuantNorm)}
    assert set(qns) == {"stem_bn", "dw_bn", "pw_bn", "branch_bn"}
    assert qns["dw_bn"].activation == "relu6" and qns["pw_bn"].activation == "relu"
    assert qns["branch_bn"].activation == "linear"
    np.testing.assert_array_equal(qns["dw_bn"].get_weights()[0], fm.get_layer("dw_bn").get_weights()[0])
    # DHQ: depthwise 8-bit per-channel symmetric, pointwise shift3; first/last int8
    assert isinstance(qm.get_layer("dw").kernel_quantizer, qz.SymmetricQuantizer)
    assert isinstance(qm.get_layer("pw").kernel_quantizer, qz.Shift)
    assert isinstance(qm.get_layer("logits").kernel_quantizer, qz.SymmetricQuantizer)
    assert isinstance(qm.get_layer("add"), QuantAdd)
    assert isinstance(qm.get_layer("gap"), QuantGlobalAveragePooling2D)
    # one quantization per integer tensor, the ReLU'd add keeps its own point
    assert "add_relu_quant" in {layer.name for layer in qm.layers}
    x = rng.uniform(-1, 1, (4, 8, 8, 2)).astype(np.float32)
    qm(x, training=True)
    for qn in qns.values():
        p = qn.integer_params()
        assert np.all(np.abs(p.mantissa) <= 127)
    out = qm(x, training=False).numpy()
    assert out.shape == (4, 3) and np.all(np.isfinite(out))


def test_dhq_config_and_separable_layer() -> None:
    dhq = DHQ(depthwise="uniform8", pointwise="shift3")
    layer = ql.QSeparableConv2D(4, 3, **dhq.separable_kwargs())
    layer.build((None, 8, 8, 3))
    kq = layer.kernel_quantizers()
    assert isinstance(kq["depthwise_kernel"], qz.Uniform) and isinstance(kq["pointwise_kernel"], qz.Shift)
    scheme = lpn_tf.Scheme.get("pikelpn", **DHQ("shift4", "uniform4").scheme_changes())
    qm = lpn_tf.quantize_model(_tiny_separable(), scheme)
    assert qm.get_layer("dw").kernel_quantizer.precision == 4
    assert isinstance(qm.get_layer("dw").kernel_quantizer, qz.Shift)
    assert isinstance(qm.get_layer("pw").kernel_quantizer, qz.Uniform)


def test_residual_add_and_pooling_rescaling_is_double_quantized() -> None:
    qm = lpn_tf.quantize_model(_tiny_separable(), "pikelpn")
    x = np.random.default_rng(1).uniform(-1, 1, (4, 8, 8, 2)).astype(np.float32)
    qm(x, training=True)
    for name, n_inputs in (("add", 2), ("gap", 1)):
        p = qm.get_layer(name).integer_params()
        assert p.mantissa.shape == (n_inputs,)
        for m, k, real, mult in zip(p.mantissa, p.shift, p.real_multiplier, p.multiplier, strict=True):
            assert fixed_point.double_quantize(float(np.float32(real)), 8) == (int(m), int(k))
            assert mult == m * 2.0 ** -float(k)
            assert abs(mult / real - 1) < 2.0**-6
    # the add's forward uses exactly Σ x_i·M̂_i/M_i
    add = qm.get_layer("add")
    probe = keras.Model(qm.inputs, add.input)
    a, b = (t.numpy() for t in probe(x, training=False))
    p = add.integer_params()
    want = a * (p.multiplier[0] / p.real_multiplier[0]) + b * (p.multiplier[1] / p.real_multiplier[1])
    got = keras.Model(qm.inputs, add.output)(x, training=False).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_pikelpn_ace_is_three_times_below_int8() -> None:
    fm = digits_cnn()
    int8 = lpn_tf.ace(lpn_tf.quantize_model(fm, "int8")).total
    report = lpn_tf.ace(lpn_tf.quantize_model(fm, "pikelpn"), mantissa_bits=8)
    assert int8 / report.total >= 3.0
    qn_rows = [r for r in report.rows if r.op == "quant_norm"]
    assert len(qn_rows) == 3 and all(r.ace_v2 == 0 for r in qn_rows)  # fused into the conv requantization


def test_standalone_quantnorm_is_priced_as_an_integer_op() -> None:
    inp = keras.Input((4, 4, 3))
    x = ql.QuantizeTensor("int8")(inp)
    x = QuantNorm(mantissa_bits=6, name="qn")(x)
    x = ql.QuantizeTensor("int8")(x)
    model = keras.Model(inp, x)
    from lpn_tf.ace.registry import count_model

    rows = {r.name: r for r in count_model(model)}
    assert rows["qn"].kind == "quant_norm" and rows["qn"].requant_count == 48 and rows["qn"].bits_scale == 6


@pytest.mark.parametrize("builder", [resnet8, ds_cnn])
def test_pikelpn_on_mlperf_tiny_models(builder: object) -> None:
    fm = builder()  # type: ignore[operator]
    qm = lpn_tf.quantize_model(fm, "pikelpn")
    assert not any(isinstance(layer, K.BatchNormalization) for layer in qm.layers)
    x = np.random.default_rng(2).uniform(-1, 1, (2, *fm.input_shape[1:])).astype(np.float32)
    assert qm(x, training=False).shape == fm(x).shape


def test_channel_range_stats_shows_depthwise_spread() -> None:
    rng = np.random.default_rng(3)
    dw = rng.normal(0, 1, (3, 3, 16, 1)) * rng.lognormal(0, 1, (1, 1, 16, 1))  # per-channel scales vary
    pw = rng.normal(0, 1, (1, 1, 16, 32))
    s_dw, s_pw = channel_range_stats(dw, (2, 3)), channel_range_stats(pw)
    assert s_dw["absmax"].shape == (16,) and s_pw["absmax"].shape == (32,)
    cv = lambda s: s["absmax"].std() / s["absmax"].mean()  # noqa: E731
    assert cv(s_dw) > 2 * cv(s_pw)
    np.testing.assert_allclose(s_pw["std"], pw.reshape(16, 32).std(axis=0))


def test_pikelpn_model_keras_round_trip(tmp_path: object) -> None:
    qm = lpn_tf.quantize_model(_tiny_separable(), "pikelpn")
    x = np.random.default_rng(4).uniform(-1, 1, (4, 8, 8, 2)).astype(np.float32)
    qm(x, training=True)
    path = f"{tmp_path}/pikelpn.keras"
    qm.save(path)
    loaded = keras.models.load_model(path, custom_objects=ql.custom_objects)
    assert isinstance(loaded.get_layer("add"), QuantAdd) and isinstance(loaded.get_layer("dw_bn"), QuantNorm)
    np.testing.assert_allclose(loaded(x), qm(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(
        loaded.get_layer("dw_bn").integer_params().mantissa, qm.get_layer("dw_bn").integer_params().mantissa
    )
