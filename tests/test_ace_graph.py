"""ACE counting of lpn integer graphs and .tflite files: hand-computed, and the same numbers after a
round trip through the .tflite writer and reader."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lpn_tf.ace.api import ace
from lpn_tf.ace.graph_adapter import count_int_graph
from lpn_tf.ace.ops import CountError
from lpn_tf.export import tflite_writer
from lpn_tf.export.builder import GraphBuilder
from lpn_tf.export.graph import Op

REQ32 = 32 * 32 + 32 + 32  # requantization with a 32-bit multiplier: multiply + shift + add
REQ8 = 32 * 8 + 32 + 32  # with an 8-bit mantissa (double quantization)


def _graph():
    rng = np.random.default_rng(0)
    b = GraphBuilder()
    x = b.input("x", (1, 5, 5, 2), scale=0.05, zero_point=1)
    c = b.conv_2d(
        x,
        weights=rng.integers(-127, 128, (3, 3, 3, 2)),
        bias=rng.integers(-50, 50, 3),
        w_scales=np.full(3, 0.01),
        out_scale=0.1,
        padding="VALID",
        activation="RELU",
        name="conv",
    )
    s = b.shift_conv_2d(
        c,
        codes=rng.integers(0, 8, (4, 1, 1, 3)),
        exponent_bits=2,
        bias=None,
        mantissa=np.full(4, 100),
        shift=np.full(4, 10),
        out_scale=0.1,
        mantissa_bits=8,
        name="shift",
    )
    q = b.quant_norm(
        s,
        bias=np.zeros(4, np.int32),
        mantissa=np.full(4, 90),
        shift=np.full(4, 8),
        out_scale=0.1,
        mantissa_bits=8,
        name="qn",
    )
    a = b.add(s, q, out_scale=0.2, name="add")
    p = b.pool_2d("MAX_POOL_2D", a, size=(3, 3), stride=(3, 3), name="pool")
    b.output(p)
    return b.graph


def test_int_graph_hand_computed():
    rows = {r.name: r for r in ace(_graph()).rows}
    conv = rows["conv"]
    assert conv.macs == (3 * 3 * 3) * (3 * 3 * 2)
    assert (conv.mac_cost, conv.elementwise_cost, conv.requant_cost) == (486 * 64, 27 * 32, 27 * REQ32)
    conv_op = ace(_graph()).ops[0]
    assert (conv_op.padding_macs, conv_op.taps) == (0, 27 * 9)  # VALID: no padding; 9 taps per output
    shift = rows["shift"]
    assert shift.arith == "shift" and shift.bits == "w3 a8 acc32 s8"
    assert (shift.macs, shift.mac_cost, shift.requant_cost) == (36 * 3, 36 * 3 * 3 * 8, 36 * REQ8)
    qn = rows["qn"]
    assert qn.op == "quant_norm" and (qn.elementwise_cost, qn.requant_cost) == (36 * 32, 36 * REQ8)
    add = rows["add"]
    assert (add.elementwise_cost, add.requant_cost) == (36 * 32, 3 * 36 * REQ32)
    assert rows["pool"].elementwise_cost == 4 * 8 * 8  # 8 compares per output, 4 outputs
    assert ace(_graph(), version=1).total == 486 * 64 + 108 * 24


def test_counts_agree_after_tflite_round_trip(tmp_path):
    graph = _graph()
    path = tflite_writer.write_tflite(graph, tmp_path / "g.tflite")
    direct, from_file = ace(graph), ace(path)
    assert [(r.name, r.op, r.macs, r.bits, r.ace_v1, r.ace_v2) for r in from_file.rows] == [
        (r.name, r.op, r.macs, r.bits, r.ace_v1, r.ace_v2) for r in direct.rows
    ]
    assert from_file.model_name == "g.tflite"


def test_unknown_graph_op_names_index_and_kind():
    graph = _graph()
    graph.ops.append(Op("SOFTMAX_FANCY", [graph.ops[-1].outputs[0]], [graph.ops[-1].outputs[0]], {}, "odd"))
    with pytest.raises(CountError, match="SOFTMAX_FANCY 'odd'"):
        count_int_graph(graph)


def test_macs_agree_with_the_exporters_summary_on_random_graphs():
    from lpn_tf.export.random_graphs import LayerSpec, random_graph
    from lpn_tf.export.summary import op_macs

    rng = np.random.default_rng(0)
    kinds = ["conv", "dwconv", "residual", "avgpool", "maxpool", "shift_conv", "shift_dwconv", "quant_norm"]
    checked = 0
    for _ in range(12):
        layers = [
            LayerSpec(
                str(rng.choice(kinds)),
                kernel=int(rng.choice([1, 3])),
                stride=int(rng.choice([1, 2])),
                channels=int(rng.integers(2, 9)),
                multiplier=int(rng.choice([1, 2])),
            )
            for _ in range(3)
        ]
        head = str(rng.choice(["dense", "mean_dense", "shift_dense"]))
        graph = random_graph(rng, (8, 8), 3, layers, head_units=3, head=head)
        rows = {r.name: r for r in count_int_graph(graph)}
        for op in graph.ops:
            if op.kind != "RESHAPE":
                assert rows[op.name].macs == op_macs(graph, op), op.label(graph.ops.index(op))
                checked += 1
    assert checked > 40


def _lpn_int8_graph() -> tuple:
    """LPN_CONV_2D (3×3 SAME, 2→4 channels, bias, grid 1, 5-bit output) then LPN_DEPTHWISE_CONV_2D (3×3
    VALID, multiplier 2, no bias, grid 2) on a 4×4 input; mantissas 8 bits."""
    rng = np.random.default_rng(1)
    b = GraphBuilder()
    x = b.input("x", (1, 4, 4, 2), scale=0.05)
    c = b.lpn_conv(
        x,
        rng.integers(-127, 128, (4, 3, 3, 2)),
        rng.integers(-9, 9, 4),
        np.full(4, 90),
        np.full(4, 12),
        out_scale=1.0,
        mantissa_bits=8,
        act_range=(0, 16),
        grid=1,
        name="lpn_conv",
    )
    b.graph.tensors[c].bits = 5
    d = b.lpn_conv(
        c,
        rng.integers(-127, 128, (1, 3, 3, 8)),
        None,
        np.full(8, 70),
        np.full(8, 12),
        out_scale=1.0,
        depthwise=True,
        depth_multiplier=2,
        padding="VALID",
        mantissa_bits=8,
        act_range=(-8, 8),
        grid=2,
        name="lpn_dw",
    )
    b.output(d)
    return b.graph, c, d


def test_lpn_int8_weight_convs_hand_computed():
    """LPN_CONV_2D / LPN_DEPTHWISE_CONV_2D count as CONV_2D / DEPTHWISE_CONV_2D with int8 weights and the
    mantissa width as the requantization multiplier; the output grid changes nothing."""
    graph, _, _ = _lpn_int8_graph()
    rows = {r.name: r for r in ace(graph).rows}
    conv, dw = rows["lpn_conv"], rows["lpn_dw"]
    assert (conv.op, conv.arith, conv.bits) == ("conv2d", "int", "w8 a8 acc32 s8")
    assert conv.macs == 16 * 4 * (3 * 3 * 2)
    assert (conv.mac_cost, conv.elementwise_cost, conv.requant_cost) == (1152 * 64, 64 * 32, 64 * REQ8)
    assert (dw.op, dw.bits) == ("depthwise_conv2d", "w8 a5 acc32 s8")
    assert dw.macs == (2 * 2 * 8) * 9 and dw.mac_cost == 288 * 40
    assert (dw.elementwise_cost, dw.requant_cost) == (0, 32 * REQ8)  # no bias
    counted = {op.name: op for op in ace(graph).ops}
    in_image = 4 * 4 + 8 * 6 + 4 * 9  # (position, tap) pairs inside the 4×4 image: corners, edges, middle
    assert (counted["lpn_conv"].padding_macs, counted["lpn_conv"].taps) == (
        (16 * 9 - in_image) * 2 * 4,
        in_image * 4,
    )
    assert counted["lpn_conv"].weight_bytes == 4 * 3 * 3 * 2 + 4 * 4  # int8 filter + int32 bias
    grid_free = [dataclasses.replace(op, options={**op.options, "grid": 0}) for op in graph.ops]
    assert count_int_graph(dataclasses.replace(graph, ops=grid_free)) == count_int_graph(graph)


def test_lpn_int8_weight_convs_in_inspect_and_the_export_report():
    """``lpn inspect``'s MACs and the export report's weight bytes count the int8-weight LPN ops."""
    from lpn_tf.export.api import weight_bytes
    from lpn_tf.export.summary import op_macs, summarize

    graph, _, _ = _lpn_int8_graph()
    rows = {r.name: r for r in count_int_graph(graph)}
    assert [op_macs(graph, op) for op in graph.ops] == [rows[op.name].macs for op in graph.ops] == [1152, 288]
    assert summarize(graph).macs == 1152 + 288
    assert weight_bytes(graph) == 4 * 3 * 3 * 2 + 3 * 3 * 8
