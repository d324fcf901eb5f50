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
from lpn_tf.quantize import calibrate_activations

L = keras.layers
MANTISSA = {"int8": 16, "shift": 16, "pikelpn-a8": 8}
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


def _float_model(head: str) -> keras.Model:
    """conv + BN + ReLU, depthwise + BN + ReLU6, residual add, 1×1 conv with bias + BN + ReLU, then
    global average pooling (``head="gap"``) or Flatten (``"flatten"``) and a dense layer; 8×8×3 input."""
    keras.utils.set_random_seed(4)
    inp = keras.Input((8, 8, 3))
    x = L.ReLU()(L.BatchNormalization()(L.Conv2D(6, 3, padding="same", use_bias=False, name="conv")(inp)))
    y = L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    y = L.ReLU(6.0)(L.BatchNormalization()(y))
    x = L.Add()([x, y])
    x = L.ReLU()(L.BatchNormalization()(L.Conv2D(8, 1)(x)))
    x = L.GlobalAveragePooling2D(name="pool")(x) if head == "gap" else L.Flatten()(x)
    return keras.Model(inp, L.Dense(4)(x))


_CACHE: dict[tuple[str, str], keras.Model] = {}


def _qat(scheme: str, head: str) -> keras.Model:
    """A finalized QAT model with calibrated activation ranges (cached: building one takes seconds)."""
    if (scheme, head) not in _CACHE:
        model = lpn_tf.quantize_model(_float_model(head), scheme)
        x = np.random.default_rng(1).normal(size=(32, 8, 8, 3)).astype(np.float32)
        calibrate_activations(model, x)
        if scheme != "int8":  # int8 has no λ blend to finalize
            lpn_tf.finalize(model)
        _CACHE[(scheme, head)] = model
    return _CACHE[(scheme, head)]


def _work_rows(rows: list[OpCount]) -> dict[str, OpCount]:
    """Rows that do something, by name (folded BN / fused activations are free rows)."""
    return {r.name: r for r in rows if not r.note.startswith("fused into")}


def _as_lowered(row: OpCount, flavor: str) -> OpCount:
    """The QAT row as the exported graph implements it (the mappings of the module docstring)."""
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
            bias_elements=channels,
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
]


@pytest.mark.parametrize(("scheme", "flavor"), CASES)
def test_qat_and_lowered_graph_agree_per_op_after_the_lowering_mappings(scheme: str, flavor: str) -> None:
    model = _qat(scheme, "gap")
    mb = MANTISSA[scheme]
    graph = lower(model, flavor, mantissa_bits=mb)
    qat_rows = count_model(model, mantissa_bits=mb, ops=flavor)
    graph_rows = count_model(graph)
    qat, got = _work_rows(qat_rows), _work_rows(graph_rows)
    assert set(qat) == set(got), (sorted(qat), sorted(got))
    expected = {name: _as_lowered(row, flavor) for name, row in qat.items()}
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


@pytest.mark.parametrize(("scheme", "flavor"), [("shift", "lpn"), ("int8", "builtin")])
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
