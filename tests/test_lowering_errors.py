"""Lowering refuses what it cannot lower exactly, with an error naming the layer (and class) or tensor."""

from __future__ import annotations

import numpy as np
import pytest

import lpn_tf
from lpn_tf import layers as ql
from lpn_tf._keras import keras
from lpn_tf.export import LoweringError, export_tflite, lower
from lpn_tf.quantize import calibrate_activations

L = keras.layers


def _calibrated(model: keras.Model, seed: int = 0) -> keras.Model:
    x = np.random.default_rng(seed).normal(size=(32, *model.input_shape[1:])).astype(np.float32)
    return calibrate_activations(model, x)


def _small_float() -> keras.Model:
    inp = keras.Input((6, 6, 2))
    x = L.Conv2D(3, 3, padding="same", activation="relu", name="c1")(inp)
    x = L.Conv2D(4, 3, padding="same", name="c2")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inp, L.Dense(2, name="head")(x))


def test_lambda_must_be_zero() -> None:
    model = _calibrated(lpn_tf.quantize_model(_small_float(), "shift"))
    lpn_tf.set_lambda(model, 0.25)
    with pytest.raises(LoweringError, match=r"λ is not 0.*lpn_tf.finalize"):
        lower(model)
    lpn_tf.finalize(model)
    assert lower(model).ops


def test_shift_activations_need_the_lpn_flavor() -> None:
    """Shift activations round up to a power of two: LPN ops do it (option grid 2), builtins cannot."""
    model = lpn_tf.finalize(_calibrated(lpn_tf.quantize_model(_small_float(), "shift-wa")))
    with pytest.raises(
        LoweringError, match=r"tensor 'c\w*_quant' \(produced by 'c\w*'\).*pow2 grid.*ops='lpn'"
    ):
        lower(model, "builtin")
    assert any(op.options.get("grid") == 2 for op in lower(model, "lpn").ops)


def test_wide_shift_weights_need_the_lpn_flavor() -> None:
    scheme = lpn_tf.Scheme.get("shift", weights="shift4")  # ±2^7 = ±128 does not fit int8
    model = lpn_tf.finalize(_calibrated(lpn_tf.quantize_model(_small_float(), scheme)))
    with pytest.raises(LoweringError, match=r"layer 'c2' \(QConv2D\).*do not fit int8.*ops='lpn'"):
        lower(model, "builtin")
    graph = lower(model, "lpn")
    shift_ops = [op for op in graph.ops if op.kind == "LPN_SHIFT_CONV_2D"]
    assert shift_ops and shift_ops[0].options["exponent_bits"] == 3


def test_unsupported_layer_is_named_with_its_class() -> None:
    inp = keras.Input((4, 4, 2))
    x = ql.QuantizeTensor("int8", name="in_q")(inp)
    x = L.LayerNormalization(name="norm")(x)
    model = _calibrated(keras.Model(inp, ql.QuantizeTensor("int8", name="out_q")(x)))
    with pytest.raises(LoweringError, match=r"layer 'norm' \(LayerNormalization\) cannot be lowered"):
        lower(model)


def _padded_conv(pad, padding: str = "valid", strides: int = 1) -> keras.Model:
    inp = keras.Input((6, 6, 2))
    x = L.ZeroPadding2D(pad, name="pad")(inp)
    x = L.Conv2D(3, 3, strides=strides, padding=padding, name="conv")(x)
    scheme = lpn_tf.Scheme.get("shift", first_layer="scheme", last_layer="scheme")
    return lpn_tf.finalize(_calibrated(lpn_tf.quantize_model(keras.Model(inp, x), scheme)))


def test_zero_padding_becomes_the_same_padding_of_the_next_conv() -> None:
    from lpn_tf.export.api import agreement

    for pad, strides in ((1, 1), (((0, 1), (0, 1)), 2)):
        model = _padded_conv(pad, strides=strides)
        x = np.random.default_rng(1).normal(size=(16, 6, 6, 2)).astype(np.float32)
        graph = lower(model, "lpn", batch=16)
        (op,) = graph.ops
        assert op.kind == "LPN_SHIFT_CONV_2D"
        assert op.options["padding"] == "SAME" and op.options["stride_h"] == strides
        a = agreement(model, graph, x)
        assert a.local_identical >= 0.99 and a.local_max_lsb <= 1


def test_zero_padding_that_is_not_same_padding_is_refused() -> None:
    for model in (_padded_conv(2), _padded_conv(1, padding="same")):
        with pytest.raises(LoweringError, match=r"layer 'conv' \(QConv2D\): the ZeroPadding 'pad' before it"):
            lower(model)
    inp = keras.Input((4, 4, 2))
    x = L.MaxPooling2D(2, name="pool")(L.ZeroPadding2D(1, name="pad")(inp))
    model = _calibrated(lpn_tf.quantize_model(keras.Model(inp, L.Flatten()(x)), "int8"))
    with pytest.raises(LoweringError, match=r"layer 'pool' \(MaxPooling2D\) reads the output of ZeroPadding"):
        lower(model)


def test_unquantized_tensor_between_layers_is_refused() -> None:
    inp = keras.Input((4, 4, 2))
    x = ql.QuantizeTensor("int8", name="in_q")(inp)
    x = ql.QConv2D(3, 1, kernel_quantizer="int8_weight", name="a")(x)
    x = ql.QConv2D(3, 1, kernel_quantizer="int8_weight", name="b")(x)
    model = _calibrated(keras.Model(inp, ql.QuantizeTensor("int8", name="out_q")(x)))
    message = r"layer 'b' \(QConv2D\) reads the output of 'a'.*no quantization"
    with pytest.raises(LoweringError, match=message):
        lower(model)


def test_layer_with_its_own_tensor_quantizers_is_refused() -> None:
    inp = keras.Input((4, 4, 2))
    x = ql.QuantizeTensor("int8", name="in_q")(inp)
    x = ql.QConv2D(3, 1, kernel_quantizer="int8_weight", output_quantizer="int8", name="own")(x)
    model = _calibrated(keras.Model(inp, ql.QuantizeTensor("int8", name="out_q")(x)))
    with pytest.raises(LoweringError, match=r"layer 'own' \(QConv2D\) has its own output_quantizer"):
        lower(model)


def test_uncalibrated_tensor_is_refused() -> None:
    model = lpn_tf.quantize_model(_small_float(), "int8")
    with pytest.raises(LoweringError, match=r"tensor '\w+_quant': its quantizer never saw data"):
        lower(model)


def test_average_pool_that_pads_is_refused() -> None:
    inp = keras.Input((5, 5, 2))
    x = L.AveragePooling2D(2, padding="same", name="avg")(inp)
    model = _calibrated(lpn_tf.quantize_model(keras.Model(inp, L.Flatten()(x)), "int8"))
    with pytest.raises(LoweringError, match=r"layer 'avg' \(AveragePooling2D\): padding='same' pads"):
        lower(model)


def test_softmax_output_must_use_the_tflite_quantization() -> None:
    inp = keras.Input((3,))
    x = ql.QuantizeTensor("int8", name="in_q")(inp)
    x = L.Softmax(name="sm")(x)
    model = _calibrated(keras.Model(inp, ql.QuantizeTensor("int8", name="sm_q")(x)))
    message = r"tensor 'sm_q': a softmax output must be quantized with scale 1/256"
    with pytest.raises(LoweringError, match=message):
        lower(model)


def test_a_failed_export_writes_nothing(tmp_path) -> None:
    model = lpn_tf.finalize(_calibrated(lpn_tf.quantize_model(_small_float(), "shift-wa")))
    target = tmp_path / "m.tflite"
    target.write_bytes(b"previous")
    with pytest.raises(LoweringError):
        export_tflite(model, target, "builtin")  # shift activations: lpn flavor only
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["m.tflite"]


def test_bad_arguments() -> None:
    model = _calibrated(lpn_tf.quantize_model(_small_float(), "int8"))  # int8: no λ
    with pytest.raises(LoweringError, match="ops must be one of"):
        lower(model, "tflm")
    with pytest.raises(LoweringError, match="mantissa_bits"):
        lower(model, "lpn", mantissa_bits=17)
