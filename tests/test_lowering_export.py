"""``export_tflite``: the report, metadata, weight bytes of the two flavors, determinism, the registration
hook and the ``lpn export`` command."""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pytest
from test_lowering_models import SAMPLES, inputs, qat_model

import lpn_tf
from lpn_tf import runtime
from lpn_tf._keras import keras
from lpn_tf.export import export_tflite, lower, lowering, memory_plan, read_tflite
from lpn_tf.export.cli import add_export_parser


def test_report_matches_the_written_file(tmp_path) -> None:
    model = qat_model("mixed", "shift")
    report = export_tflite(model, tmp_path / "m.tflite", "lpn")
    data = report.path.read_bytes()
    assert report.file_bytes == len(data)
    graph = read_tflite(data)
    assert graph.metadata["flavor"] == "lpn" and graph.metadata["scheme"] == "shift" == report.scheme
    assert graph.metadata["arena_bytes"] == report.arena_bytes == memory_plan.plan(graph).arena_bytes
    assert list(report.ops) == graph.used_kinds()
    assert sum(report.ops.values()) == len(graph.ops)
    assert report.tensor_bits == {t.name: t.bits for t in graph.tensors}
    assert 0 < report.weight_bytes < report.constant_bytes == graph.constant_bytes()
    codes = [t for t in graph.tensors if t.dtype == "uint8"]
    assert codes and all(t.bits == 4 for t in codes)  # 3-bit shift codes stored as 4-bit nibbles
    assert report.agreement is None and "lpn ops, scheme shift" in report.format()


def test_representative_data_measures_agreement(tmp_path) -> None:
    model = qat_model("sequential", "shift-all")
    report = export_tflite(model, tmp_path / "m.tflite", "builtin", representative_data=inputs("sequential"))
    a = report.agreement
    assert a is not None and a.samples == SAMPLES
    assert a.local_identical >= 0.99 and a.local_max_lsb <= 1
    assert "agreement with the QAT model" in report.format()


def test_shift3_weights_take_at_most_055_of_the_builtin_bytes(tmp_path) -> None:
    model = qat_model("sequential", "shift-all")
    lpn = export_tflite(model, tmp_path / "lpn.tflite", "lpn")
    builtin = export_tflite(model, tmp_path / "builtin.tflite", "builtin")
    ratio = lpn.weight_bytes / builtin.weight_bytes
    print(
        f"shift3 weights: lpn {lpn.weight_bytes} B, builtin {builtin.weight_bytes} B, ratio {ratio:.3f}; "
        f"all constants {lpn.constant_bytes} / {builtin.constant_bytes} B"
    )
    assert ratio <= 0.55


def test_export_is_byte_for_byte_deterministic(tmp_path) -> None:
    for ops in ("lpn", "builtin"):
        a = export_tflite(qat_model("mixed", "shift-all"), tmp_path / f"a_{ops}.tflite", ops)
        b = export_tflite(qat_model("mixed", "shift-all"), tmp_path / f"b_{ops}.tflite", ops)
        assert a.path.read_bytes() == b.path.read_bytes()


def test_batch_only_changes_the_batch_dimension() -> None:
    model = qat_model("conv1d", "shift")
    one, many = lower(model, "lpn"), lower(model, "lpn", batch=3)
    assert [op.kind for op in one.ops] == [op.kind for op in many.ops]
    for a, b in zip(one.tensors, many.tensors, strict=True):
        if a.data is None and a.shape:
            assert (a.shape[0], b.shape[0]) == (1, 3) and a.shape[1:] == b.shape[1:]


class _Negate(keras.layers.Layer):
    """A test layer: y = −x (not lowerable until registered)."""

    def call(self, x):
        return -x


def test_registration_hook_lowers_a_new_layer_class() -> None:
    inp = keras.Input((4,))
    dense = lpn_tf.layers.QDense(3, kernel_quantizer="int8_weight", name="d")
    y = _Negate(name="neg")(dense(lpn_tf.layers.QuantizeTensor("int8", name="in_q")(inp)))
    model = keras.Model(inp, lpn_tf.layers.QuantizeTensor("int8", name="out_q")(y))
    model(np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32), training=True)
    with pytest.raises(lowering.LoweringError, match=r"layer 'neg' \(_Negate\) cannot be lowered"):
        lower(model)

    @lowering.register_lowering(_Negate)
    def _lower_negate(ctx, layer, values):
        pending = values[0]
        assert isinstance(pending, lowering.Pending)
        return [pending.fold_affine(np.full(3, -1.0), np.zeros(3), layer)]

    try:
        graph = lower(model, "builtin")
    finally:
        del lowering._REGISTRY[_Negate]
    assert "_Negate" not in lowering.registered_layers()
    x_in = np.random.default_rng(1).normal(size=(1, 4)).astype(np.float32)
    want = model(x_in, training=False).numpy()
    (got,) = lpn_tf.export.ReferenceExecutor(graph).run(*lowering.quantize_inputs(model, x_in))
    out = graph.tensors[graph.outputs[0]]
    assert np.abs(out.scale * (got.astype(np.float64) - out.zero_point) - want).max() <= out.scale * 1.01


def test_cli_exports_a_saved_model(tmp_path, capsys) -> None:
    model = qat_model("conv1d", "shift")
    saved = tmp_path / "qat.keras"
    model.save(saved)
    parser = argparse.ArgumentParser()
    add_export_parser(parser.add_subparsers())
    out = tmp_path / "m.tflite"
    args = parser.parse_args(["export", str(saved), "-o", str(out), "--ops", "lpn", "--representative", "16"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "lpn ops" in printed and "agreement with the QAT model on 16 samples" in printed
    want = runtime.load(export_tflite(model, tmp_path / "direct.tflite", "lpn").path).inputs
    got = runtime.load(out).inputs
    assert [dataclasses.astuple(d) for d in got] == [dataclasses.astuple(d) for d in want]
    args = parser.parse_args(["export", str(tmp_path / "missing.keras"), "-o", str(tmp_path / "x.tflite")])
    assert args.func(args) == 1
    assert "lpn export:" in capsys.readouterr().err
    assert not (tmp_path / "x.tflite").exists()


def test_mantissa_width_is_a_parameter() -> None:
    model = qat_model("sequential", "shift-all")
    for bits in (8, 16):
        graph = lower(model, "lpn", mantissa_bits=bits)
        shift_ops = [op for op in graph.ops if op.kind.startswith("LPN_SHIFT")]
        assert shift_ops
        for op in shift_ops:
            assert op.options["mantissa_bits"] == bits
            mantissa = graph.tensors[op.inputs[3]].data
            assert np.abs(mantissa).max() <= 2 ** (bits - 1) - 1
            assert np.abs(mantissa).max() >= 2 ** (bits - 2)  # the most precise k was chosen
