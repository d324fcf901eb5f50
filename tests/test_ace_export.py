"""The ACE counter agrees between an lpn QAT model and the integer graph / .tflite it exports to.

What must be equal (docs/ace.md, "QAT model and .tflite"): every op of the exported graph is matched by
name to the Keras layer it came from, and its MACs, padding MACs, taps, bit widths (activation, output,
accumulator, requantization multiplier), elementwise ops (kind, count, widths), requantization count
and memory bytes are equal, hence its ACE v1 and ACEv2 (default table) too. The lowering changes the
graph's shape in three places, which are *mapped exactly* (not within a tolerance):

* a Dense becomes a 1×1 CONV_2D between RESHAPEs: same numbers, op kind ``conv2d``, RESHAPEs free;
* an (global) average pooling becomes a DEPTHWISE_CONV_2D with all-equal int8 weights and a bias: the
  graph row is that depthwise conv (``window·C`` MACs at w8, ``C`` biases) instead of ``(window−1)·C``
  accumulator adds; both requantize each output once;
* shift weights of ``1 + e < 4`` bits are stored (and run) as 4-bit nibble codes in the LPN flavor: the
  graph's ``b_w`` is 4 where the QAT model's is ``1 + e`` (MAC cost and weight bytes scale with it).

So the totals (MACs, ACE v1, ACEv2 and each category) of the graph equal those of the QAT rows after
this mapping exactly, and without pooling or sub-nibble shift weights the reports agree unmapped.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

import lpn_tf
from lpn_tf._keras import keras
from lpn_tf.ace import api as _api  # noqa: F401  (registers the model adapters)
from lpn_tf.ace import ops as ace_ops
from lpn_tf.ace.ops import OpCount
from lpn_tf.ace.registry import count_model
from lpn_tf.export import lower
from lpn_tf.export.api import export_tflite
from lpn_tf.export.tflite_reader import read_tflite
from lpn_tf.quantize import calibrate_activations

L = keras.layers
MANTISSA = {"int8": 16, "shift": 16, "pikelpn-a8": 8, "pikelpn": 8}
RESIDUAL = {"pikelpn": False}
"""Schemes whose test model has no residual add: ``pikelpn``'s 5-bit add output has no exporting op
(docs/pikelpn.md); its model is the same without the Add."""
NIBBLE_BITS = 4
COMPARED = (
    "macs",
    "padding_macs",
    "taps",
    "arith",
    "bits_weight",
    "bits_activation",
    "bits_output",
    "bits_accumulator",
    "bits_scale",
    "elementwise",
    "requant_count",
    "weight_bytes",
    "input_bytes",
    "output_bytes",
)
TOTALS = ("macs", "ace_v1", "ace_v2", "mac_cost", "elementwise_cost", "requant_cost", "memory_bytes")


def _float_model(head: str, residual: bool = True) -> keras.Model:
    """conv + BN + ReLU, depthwise + BN + ReLU6, residual add (``residual``), 1×1 conv with bias + BN + ReLU,
    then global average pooling (``head="gap"``) or Flatten (``"flatten"``) and a dense layer; 8×8×3 input."""
    keras.utils.set_random_seed(4)
    inp = keras.Input((8, 8, 3))
    x = L.ReLU()(L.BatchNormalization()(L.Conv2D(6, 3, padding="same", use_bias=False, name="conv")(inp)))
    y = L.DepthwiseConv2D(3, padding="same", use_bias=False, name="dw")(x)
    y = L.ReLU(6.0)(L.BatchNormalization()(y))
    x = L.Add()([x, y]) if residual else y
    x = L.ReLU()(L.BatchNormalization()(L.Conv2D(8, 1, name="pw")(x)))
    x = L.GlobalAveragePooling2D(name="pool")(x) if head == "gap" else L.Flatten()(x)
    return keras.Model(inp, L.Dense(4, name="dense")(x))


_CACHE: dict[tuple[str, str], keras.Model] = {}


def _qat(scheme: str, head: str) -> keras.Model:
    """A finalized QAT model with calibrated activation ranges (cached: building one takes seconds)."""
    if (scheme, head) not in _CACHE:
        model = lpn_tf.quantize_model(_float_model(head, RESIDUAL.get(scheme, True)), scheme)
        x = np.random.default_rng(1).normal(size=(32, 8, 8, 3)).astype(np.float32)
        calibrate_activations(model, x)
        if scheme != "int8":  # int8 has no λ blend to finalize
            lpn_tf.finalize(model)
        _CACHE[(scheme, head)] = model
    return _CACHE[(scheme, head)]


def _work_rows(rows: list[OpCount]) -> dict[str, OpCount]:
    """Rows that do something, by name (folded BN / fused activations are free rows)."""
    return {r.name: r for r in rows if not r.note.startswith("fused into")}


def _as_lowered(row: OpCount, flavor: str, rescaled: bool = False) -> OpCount:
    """The QAT row as the exported graph implements it (the mappings of the module docstring);
    ``rescaled``: the row is a PikeLPN rescaling pool (an LPN_DEPTHWISE_CONV_2D without bias in the lpn
    flavor, its multiplier the layer's own)."""
    if row.kind == "dense":
        return dataclasses.replace(row, kind="conv2d")
    if row.kind == "avg_pool":
        channels = row.output_shape[-1]
        window = row.input_elements // channels
        num = ace_ops.Numerics(
            "int", 8, row.bits_activation, row.bits_accumulator, row.bits_scale, row.bits_output
        )
        return ace_ops.weighted(
            row.name,
            "depthwise_conv2d",
            num,
            macs=window * channels,
            input_shape=row.input_shape,
            output_shape=row.output_shape,
            weight_elements=window * channels,
            bias_elements=0 if rescaled and flavor == "lpn" else channels,
            macs_per_tap=1,
        )
    if row.arith == "shift" and flavor == "lpn" and row.bits_weight < NIBBLE_BITS:
        bias_bytes = row.weight_bytes - ace_ops.nbytes(row.weight_elements, row.bits_weight)
        return dataclasses.replace(
            row,
            bits_weight=NIBBLE_BITS,
            weight_bytes=ace_ops.nbytes(row.weight_elements, NIBBLE_BITS) + bias_bytes,
        )
    return row


def _totals(rows: list[OpCount]) -> dict[str, float]:
    return _pick(lpn_tf.ace(rows).totals())


def _pick(totals: dict[str, float]) -> dict[str, float]:
    return {k: totals[k] for k in TOTALS}


CASES = [
    ("int8", "builtin"),
    ("shift", "lpn"),
    ("shift", "builtin"),
    ("pikelpn-a8", "lpn"),
    ("pikelpn-a8", "builtin"),
    ("pikelpn", "lpn"),  # 5-bit activations: lpn flavor only, every requantization an LPN op
]
RESCALED_POOLS = ("QuantGlobalAveragePooling2D", "QuantAveragePooling2D")


@pytest.mark.parametrize(("scheme", "flavor"), CASES)
def test_qat_and_lowered_graph_agree_per_op_after_the_lowering_mappings(scheme: str, flavor: str) -> None:
    model = _qat(scheme, "gap")
    mb = MANTISSA[scheme]
    graph = lower(model, flavor, mantissa_bits=mb)
    qat_rows = count_model(model, mantissa_bits=mb, ops=flavor)
    graph_rows = count_model(graph)
    qat, got = _work_rows(qat_rows), _work_rows(graph_rows)
    assert set(qat) == set(got), (sorted(qat), sorted(got))
    rescaled = {layer.name for layer in model.layers if type(layer).__name__ in RESCALED_POOLS}
    expected = {name: _as_lowered(row, flavor, name in rescaled) for name, row in qat.items()}
    for name, row in got.items():
        want = expected[name]
        assert row.kind == want.kind, name
        for attr in COMPARED:
            assert getattr(row, attr) == getattr(want, attr), f"{name}.{attr} ({scheme}, {flavor})"
    assert _totals(graph_rows) == _totals(list(expected.values()))
    # the unmapped reports differ by exactly what the mappings add: the pool's MACs, the nibble widening
    report_qat = lpn_tf.ace(model, mantissa_bits=mb, ops=flavor).totals()
    report_graph = lpn_tf.ace(graph).totals()
    pool = qat["pool"]
    pool_macs = pool.input_elements
    assert report_graph["macs"] == report_qat["macs"] + pool_macs
    widened = sum(
        r.macs * r.bits_activation * (NIBBLE_BITS - r.bits_weight)
        for r in qat.values()
        if flavor == "lpn" and r.arith == "shift" and r.bits_weight < NIBBLE_BITS
    )
    assert (widened > 0) == (flavor == "lpn" and scheme != "int8")
    extra_v1 = pool_macs * 8 * pool.bits_activation + widened
    assert report_graph["ace_v1"] == report_qat["ace_v1"] + extra_v1


@pytest.mark.parametrize(("scheme", "flavor"), [("int8", "builtin"), ("pikelpn-a8", "builtin")])
def test_reports_agree_exactly_without_pooling(scheme: str, flavor: str) -> None:
    """No pool and no nibble-widened weights: the QAT report and the graph report are equal as is."""
    model = _qat(scheme, "flatten")
    mb = MANTISSA[scheme]
    graph = lower(model, flavor, mantissa_bits=mb)
    for version in (1, 2):
        a = lpn_tf.ace(model, version=version, mantissa_bits=mb, ops=flavor)
        b = lpn_tf.ace(graph, version=version)
        assert _pick(a.totals()) == _pick(b.totals())
        assert a.total == b.total
    per_layer = {r.name: r.macs * r.bits_activation * r.bits_weight for r in count_model(graph) if r.macs}
    qat = {r.name: ace_ops.ace_v1(r) for r in count_model(model, mantissa_bits=mb, ops=flavor) if r.macs}
    assert per_layer == qat


@pytest.mark.parametrize(("scheme", "flavor"), [("shift", "lpn"), ("int8", "builtin"), ("pikelpn", "lpn")])
def test_tflite_file_counts_like_its_graph(scheme: str, flavor: str, tmp_path: Path) -> None:
    model = _qat(scheme, "gap")
    path = tmp_path / f"{scheme}-{flavor}.tflite"
    export_tflite(model, path, ops=flavor, mantissa_bits=MANTISSA[scheme])
    from_file = lpn_tf.ace(path).rows
    from_graph = lpn_tf.ace(lower(model, flavor, mantissa_bits=MANTISSA[scheme])).rows
    assert [dataclasses.replace(r, name="") for r in from_file] == [
        dataclasses.replace(r, name="") for r in from_graph
    ]
    assert math.isclose(sum(r.ace_v2 for r in from_file), lpn_tf.ace(path).total)
    assert read_tflite(path).metadata["scheme"] == scheme


@pytest.mark.parametrize("scheme", ["int8", "shift", "pikelpn-a8", "pikelpn"])
def test_export_metadata_names_the_scheme(scheme: str) -> None:
    """The lowering records the scheme the model was quantized with (inferred from its quantizers)."""
    assert lower(_qat(scheme, "gap"), "lpn", mantissa_bits=MANTISSA[scheme]).metadata["scheme"] == scheme


def test_pikelpn_int8_weight_layers_are_lpn_ops_priced_at_the_mantissa_width() -> None:
    """5-bit activations: the int8 stem, DHQ's int8 depthwise, the pool and the int8 head are LPN ops in
    the graph; both counts price their requantization at ``mantissa_bits`` and their 5-bit tensors at 5."""
    model, mb = _qat("pikelpn", "gap"), MANTISSA["pikelpn"]
    graph = lower(model, "lpn", mantissa_bits=mb)
    kinds = {op.name: op.kind for op in graph.ops}
    assert kinds["conv"] == kinds["dense"] == "LPN_CONV_2D"
    assert kinds["dw"] == kinds["pool"] == "LPN_DEPTHWISE_CONV_2D"
    for rows in (count_model(model, mantissa_bits=mb, ops="lpn"), count_model(graph)):
        work = _work_rows(rows)
        assert {work[n].bits_scale for n in ("conv", "dw", "pool", "dense")} == {mb}
        assert (work["conv"].bits_activation, work["conv"].bits_output) == (8, 5)  # int8 input, 5-bit out
        assert (work["dense"].bits_activation, work["dense"].bits_output) == (5, 8)  # int8 logits
        assert work["dw"].bits_activation == work["pw"].bits_output == 5


def test_folding_a_batch_norm_gives_the_conv_its_bias() -> None:
    """conv(use_bias=False) + BN: the folded op adds a per-channel bias, as the exported conv does."""
    rows = {r.name: r for r in count_model(_qat("int8", "gap"), ops="builtin")}
    conv = rows["conv"]
    out = math.prod(conv.output_shape)
    assert [(e.kind, e.count, e.bits_x) for e in conv.elementwise] == [("add", out, 32)]
    assert conv.weight_bytes == 3 * 3 * 3 * 6 + 6 * 4


def test_lpn_adapter_refuses_an_unknown_flavor() -> None:
    with pytest.raises(ValueError, match="ops must be one of"):
        lpn_tf.ace(_qat("int8", "gap"), ops="cmsis")
