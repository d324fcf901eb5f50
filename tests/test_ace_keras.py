"""ACE counting of tf_keras models: plain float layers and tfmot QAT models, hand-computed."""

from __future__ import annotations

import pytest

from lpn_tf._keras import keras
from lpn_tf.ace.api import ace
from lpn_tf.ace.ops import CountError

L = keras.layers
F = 32 * 32  # float32 multiply / MAC


def _model(shape, *layers, name="m"):
    inp = keras.Input(shape)
    x = inp
    for layer in layers:
        x = layer(x)
    return keras.Model(inp, x, name=name)


def _row(report, name):
    (row,) = [r for r in report.rows if r.name == name]
    return row


def test_float_conv_depthwise_dense_hand_computed():
    m = _model(
        (5, 5, 2),
        L.Conv2D(3, 3, name="conv"),
        L.DepthwiseConv2D(3, padding="same", use_bias=False, name="dw"),
        L.Flatten(name="flat"),
        L.Dense(4, activation="relu", name="fc"),
    )
    r = ace(m)
    conv, dw, fc = (_row(r, n) for n in ("conv", "dw", "fc"))
    assert conv.macs == (3 * 3 * 3) * (3 * 3 * 2)  # H_out·W_out·C_out · k_h·k_w·C_in
    assert conv.mac_cost == conv.macs * F and conv.elementwise_cost == 27 * 32  # bias add per output
    assert dw.macs == (3 * 3 * 3) * 9 and dw.elementwise_cost == 0
    assert fc.macs == 27 * 4
    assert fc.elementwise_cost == 4 * 32 + 4 * 32  # bias add + ReLU compare
    assert "flat" not in [row.name for row in r.rows]  # reshapes cost nothing
    assert r.total_v1 == (conv.macs + dw.macs + fc.macs) * F
    assert r.total == r.total_v1 + (27 + 4 + 4) * 32  # + conv bias, fc bias, fc ReLU
    assert ace(m, version=1).total == r.total_v1


def test_float_batch_norm_add_pools_and_bf16():
    inp = keras.Input((4, 4, 3))
    a = L.BatchNormalization(name="bn")(inp)
    b = L.ReLU(6.0, name="relu6")(a)
    s = L.Add(name="add")([a, b])
    p = L.MaxPooling2D(2, name="pool")(s)
    g = L.GlobalAveragePooling2D(name="gap")(p)
    m = keras.Model(inp, g)
    r = ace(m)
    assert _row(r, "bn").elementwise_cost == 48 * (F + 32)  # one multiply + one add per element
    assert _row(r, "relu6").elementwise_cost == 48 * 2 * 32
    assert _row(r, "add").elementwise_cost == 48 * 32
    assert _row(r, "pool").elementwise_cost == 12 * 3 * 32  # 3 compares per output of a 2x2 window
    assert _row(r, "gap").elementwise_cost == 3 * (3 * 32 + F)  # 3 adds + 1 multiply per channel
    assert r.total_v1 == 0 and r.shares()["elementwise"] == 1.0
    bf16 = ace(m, float_bits=16)
    assert _row(bf16, "bn").elementwise_cost == 48 * (16 * 16 + 16)  # ≈ 256 ACE per bf16 BN element


def test_separable_conv_is_two_rows_and_fold_option():
    m = _model(
        (6, 6, 4), L.SeparableConv2D(8, 3, depth_multiplier=2, name="sep"), L.BatchNormalization(name="bn")
    )
    r = ace(m)
    dw, pw = _row(r, "sep/depthwise"), _row(r, "sep/pointwise")
    assert dw.macs == 4 * 4 * 8 * 9 and pw.macs == 4 * 4 * 8 * 8
    assert _row(r, "bn").elementwise_cost > 0
    folded = ace(m, fold_batch_norm=True)
    assert _row(folded, "bn").ace_v2 == 0 and "fused into sep" in _row(folded, "bn").note


def test_tfmot_int8_conv_bn_relu_is_folded_and_requantized():
    tfmot = pytest.importorskip("tensorflow_model_optimization")
    m = _model(
        (6, 6, 2),
        L.Conv2D(4, 3, name="conv"),
        L.BatchNormalization(name="bn"),
        L.ReLU(name="relu"),
        L.Flatten(),
        L.Dense(3, name="fc"),
    )
    q = tfmot.quantization.keras.quantize_model(m)
    r = ace(q)
    conv = _row(r, "quant_conv")
    macs = (4 * 4 * 4) * (3 * 3 * 2)
    assert conv.macs == macs and conv.bits == "w8 a8 acc32 s32"
    assert conv.mac_cost == macs * 8 * 8
    assert conv.elementwise_cost == 64 * 32  # bias add at the accumulator width
    assert conv.requant_cost == 64 * (32 * 32 + 32 + 32)
    assert _row(r, "quant_bn").ace_v2 == 0 and _row(r, "quant_relu").ace_v2 == 0
    fc = _row(r, "quant_fc")
    assert fc.macs == 64 * 3 and fc.requant_count == 3
    assert r.total == conv.ace_v2 + fc.ace_v2
    assert r.total_v1 == (macs + 64 * 3) * 64


def test_unknown_layer_names_layer_and_class_and_can_be_registered(monkeypatch):
    from lpn_tf.ace import ops, registry

    class Mystery(L.Layer):
        def call(self, x):
            return x * 2

    m = _model((3,), Mystery(name="odd"))
    with pytest.raises(CountError, match="layer 'odd': no ACE counter for Keras class Mystery"):
        ace(m)
    monkeypatch.setitem(
        registry.LAYER_COUNTERS,
        "Mystery",
        lambda info: [
            ops.elementwise_op(
                info.name,
                "mul",
                info.numerics,
                info.output_shape,
                (ops.Elementwise("mul", 3, info.numerics.bits_activation),),
            )
        ],
    )
    assert ace(m).total == 3 * F


def test_unknown_dimension_is_refused():
    m = _model((None, 3), L.Conv1D(2, 3, name="c1"))
    with pytest.raises(CountError, match="layer 'c1'.*unknown dimension"):
        ace(m)


def test_lpn_qat_model_priced_as_its_deployment():
    from lpn_tf.quantize import quantize_model

    m = _model(
        (5, 5, 2),
        L.Conv2D(4, 3, name="c1"),
        L.BatchNormalization(name="bn1"),
        L.ReLU(name="r1"),
        L.Conv2D(6, 1, use_bias=False, name="c2"),
        L.BatchNormalization(name="bn2"),
        L.Flatten(name="flat"),
        L.Dense(3, name="fc"),
    )
    q = quantize_model(m, "shift-wa")  # first/last layer int8 weights, shift3 weights and activations inside
    r = ace(q, mantissa_bits=8)
    c1, c2, fc = (_row(r, n) for n in ("c1", "c2", "fc"))
    # sub-8-bit activations: every requantization is an LPN op (int8 weights: LPN_CONV_2D), mantissa-wide
    assert (c1.arith, c1.bits) == ("int", "w8 a8 acc32 s8")
    assert (c2.arith, c2.bits) == ("shift", "w3 a3 acc32 s8")  # reads the 3-bit output of c1's block
    assert c2.macs == 9 * 4 * 6 and c2.mac_cost == c2.macs * 3 * 3
    # folding bn2 gives the bias-less c2 a bias, as the exporter does: one 32-bit add per output
    assert c2.elementwise_cost == 9 * 6 * 32 and c2.requant_cost == 9 * 6 * (32 * 8 + 32 + 32)
    assert (fc.bits, fc.macs) == ("w8 a3 acc32 s8", 54 * 3)
    assert _row(ace(q, mantissa_bits=8, ops="builtin"), "c1").bits == "w8 a8 acc32 s32"  # builtin flavor
    assert [_row(r, n).ace_v2 for n in ("bn1", "r1", "bn2")] == [0, 0, 0]  # folded / clamped
    assert not [row for row in r.rows if row.name.endswith("_quant")]


def test_bn_after_an_activated_conv_is_not_folded():
    m = _model((4, 4, 2), L.Conv2D(3, 1, activation="relu", name="conv"), L.BatchNormalization(name="bn"))
    r = ace(m, fold_batch_norm=True)
    assert _row(r, "bn").elementwise_cost == 48 * (F + 32) and not _row(r, "bn").note


def test_padding_macs_taps_and_padded_pools():
    m = _model(
        (4, 4, 2),
        L.Conv2D(4, 3, padding="same", name="conv"),
        L.MaxPooling2D(3, strides=1, padding="same", name="pool"),
    )
    conv_op, pool_op = ace(m).ops
    # per spatial dim 4 outputs x 3 taps, 2 of them in the padding: 10 valid pairs; 2-D: 100 of 144
    assert conv_op.macs == 64 * 9 * 2 and conv_op.padding_macs == conv_op.macs * 44 // 144
    assert conv_op.taps == 100 * 4  # valid (pixel, tap) pairs x output channels
    assert ace(m).rows[0].mac_cost == conv_op.macs * F  # the default table prices padding MACs too
    from lpn_tf.ace.costs import CostTable

    skip_padding = CostTable({**CostTable.default().coefficients, "pad_mac": 0.0})
    assert ace(m, costs=skip_padding).rows[0].mac_cost == (1152 - 352) * F
    assert pool_op.elementwise[0].count == (100 - 16) * 4  # padding is not pooled


def test_tfmot_and_lpn_int8_models_of_one_network_cost_the_same() -> None:
    """Both deploy as int8 conv (BN folded: a bias) + requantization; ACEv2 must not depend on the tool."""
    import tensorflow_model_optimization as tfmot

    import lpn_tf
    from lpn_tf._keras import keras

    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", use_bias=False)(inp)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(4)(x))
    tf_total = lpn_tf.ace(tfmot.quantization.keras.quantize_model(model)).total_v2
    lpn_total = lpn_tf.ace(lpn_tf.quantize_model(model, "int8")).total_v2
    assert tf_total == lpn_total
