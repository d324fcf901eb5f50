"""ACEv2 cost table and op pricing: hand-computed costs, JSON round trip, report formats (no TensorFlow)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from lpn_tf.ace import ops
from lpn_tf.ace.costs import TERMS, CostTable, CostTableError
from lpn_tf.ace.ops import CountError, Elementwise, Numerics
from lpn_tf.ace.report import AceReport

INT8 = Numerics.integer()  # w8 a8 acc32 s32
F32 = Numerics.floating(32)


def test_default_table_has_every_term_and_paper_defaults():
    t = CostTable.default()
    assert set(t.coefficients) == set(TERMS)
    for term in ("mac", "mul", "add", "cmp", "shift"):
        assert t.coefficient(term) == 1.0
    assert t.coefficient("load_byte") == 0.0 and t.coefficient("op") == 0.0


def test_elementwise_units_follow_papers_formulas():
    assert Elementwise("mul", 1, 8, 4).units_each() == 32  # b_x·b_y
    assert Elementwise("add", 1, 8, 32).units_each() == 32  # max(b_x, b_y)
    assert Elementwise("cmp", 1, 16).units_each() == 16
    assert Elementwise("shift", 1, 32).units_each() == 32  # b_x
    assert Elementwise("lut", 1, 8, 16).units_each() == 16  # one b_y-bit read
    # a bf16 BN element (one multiply + one add) is about the AQT reference point of 256 ACE
    bn = ops.batch_norm("bn", Numerics.floating(16), (1,))
    assert ops.price(bn, CostTable.default())["elementwise"] == 16 * 16 + 16


def test_int8_conv_hand_computed():
    # 3x3 conv, 2 -> 3 channels, 5x5 input VALID -> 3x3x3 output, bias, fused ReLU
    macs = (3 * 3 * 3) * (3 * 3 * 2)
    op = ops.weighted(
        "c",
        "conv2d",
        INT8,
        macs=macs,
        input_shape=(5, 5, 2),
        output_shape=(3, 3, 3),
        weight_elements=3 * 3 * 2 * 3,
        bias_elements=3,
        activation="relu",
    )
    c = ops.price(op, CostTable.default())
    assert c["mac"] == macs * 8 * 8
    assert c["elementwise"] == 27 * 32  # bias add at accumulator width; ReLU is the requant clamp
    assert c["requant"] == 27 * (32 * 32 + 32 + 32)  # multiply acc×scale + shift + add per output
    assert ops.ace_v1(op) == macs * 64
    assert op.weight_bytes == 54 + 3 * 4 and op.input_bytes == 50 and op.output_bytes == 27


def test_shift_weights_and_low_bit_scales_shrink_the_cost():
    shift = Numerics("shift", 3, 8, 32, 8)
    op = ops.weighted(
        "s",
        "conv2d",
        shift,
        macs=100,
        input_shape=(10,),
        output_shape=(10,),
        weight_elements=10,
        bias_elements=0,
    )
    c = ops.price(op, CostTable.default())
    assert c["mac"] == 100 * 3 * 8
    assert c["requant"] == 10 * (32 * 8 + 32 + 32)
    assert op.weight_bytes == 4  # 10 three-bit codes packed


def test_float_ops_at_their_width():
    op = ops.weighted(
        "d",
        "dense",
        F32,
        macs=24,
        input_shape=(6,),
        output_shape=(4,),
        weight_elements=24,
        bias_elements=4,
        activation="relu",
    )
    c = ops.price(op, CostTable.default())
    assert c == {
        "mac": 24 * 32 * 32,
        "elementwise": 4 * 32 + 4 * 32,
        "requant": 0.0,
        "memory": 0.0,
        "overhead": 0.0,
    }
    add = ops.residual_add("a", F32, (3, 3, 4))
    assert ops.price(add, CostTable.default())["elementwise"] == 36 * 32
    int_add = ops.residual_add("a", INT8, (3, 3, 4))
    assert int_add.requant_count == 3 * 36  # two input rescales + output requantization
    mp = ops.pool("p", INT8, "max", (4, 4, 2), (2, 2, 2), 4)
    assert ops.price(mp, CostTable.default())["elementwise"] == 3 * 8 * 8


def test_overrides_memory_and_overhead_terms():
    t = CostTable({**CostTable.default().coefficients, "mac@conv2d:int": 0.5, "op": 100.0, "load_byte": 2.0})
    op = ops.weighted(
        "c", "conv2d", INT8, macs=10, input_shape=(4,), output_shape=(2,), weight_elements=5, bias_elements=0
    )
    c = ops.price(op, t)
    assert c["mac"] == 0.5 * 10 * 64
    assert c["overhead"] == 100.0
    assert c["memory"] == 2.0 * (5 + 4)  # weight + input bytes; store_byte is 0
    dense = ops.weighted(
        "d", "dense", INT8, macs=10, input_shape=(4,), output_shape=(2,), weight_elements=5, bias_elements=0
    )
    assert ops.price(dense, t)["mac"] == 10 * 64  # override applies to its family only
    assert t.families() == ["conv2d:int"]


def test_json_round_trip(tmp_path):
    t = CostTable(
        {**CostTable.default().coefficients, "mac@conv2d:shift": 0.125, "op": 42.0},
        unit="instructions",
        name="m4",
        meta={"n_train": 10},
    )
    path = tmp_path / "costs.json"
    t.save(path)
    back = CostTable.load(path)
    assert back == t
    doc = json.loads(path.read_text())
    assert doc["format"] == "lpn-ace-costs" and doc["version"] == 1


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"version": 99}, "'version' 99 not supported"),
        ({"format": "other"}, "'format'"),
        ({"coefficients": {"mac": 1}}, "missing generic coefficients"),
        ({"coefficients": {**CostTable.default().coefficients, "flop": 1.0}}, "key 'flop': unknown term"),
        ({"coefficients": {**CostTable.default().coefficients, "mul": -1.0}}, "key 'mul'"),
        ({"coefficients": {**CostTable.default().coefficients, "mul": "x"}}, "not a number"),
        ({"unit": "parsecs"}, "unit 'parsecs'"),
    ],
)
def test_malformed_cost_tables_name_the_key(tmp_path, patch, message):
    doc = {**CostTable.default().to_dict(), **patch}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(CostTableError, match=message) as err:
        CostTable.load(path)
    assert "bad.json" in str(err.value)


def test_invalid_json_names_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n "format": \n}')
    with pytest.raises(CostTableError, match=r"broken.json: line 3"):
        CostTable.load(path)


def test_count_errors():
    with pytest.raises(CountError, match="'layer7'.*activation 'mish'"):
        ops.activation_ops("mish", 4, F32, "'layer7'")
    with pytest.raises(CountError, match="MACs need"):
        ops.OpCount("x", "conv2d", "int", macs=3)


def _report() -> AceReport:
    rows = [
        ops.weighted(
            "conv",
            "conv2d",
            INT8,
            macs=1000,
            input_shape=(4, 4, 2),
            output_shape=(4, 4, 8),
            weight_elements=144,
            bias_elements=8,
        ),
        ops.batch_norm("bn", F32, (4, 4, 8)),
        ops.residual_add("add", INT8, (4, 4, 8)),
    ]
    return AceReport.build(rows, 2, CostTable.default(), "tiny")


def test_report_totals_markdown_and_csv():
    r = _report()
    assert r.total_v1 == 1000 * 64
    expected = sum(sum(ops.price(op, CostTable.default()).values()) for op in r.ops)
    assert r.total == pytest.approx(expected)
    assert sum(r.shares().values()) == pytest.approx(1.0)
    md = r.to_markdown()
    table_lines = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table_lines) == 2 + len(r.rows) + 1  # header, separator, rows, total
    assert "| **total** |" in md and "ACE v1 = 64,000" in md
    assert "128 mul32x32 + 128 add32" in md
    rows = list(csv.DictReader(io.StringIO(r.to_csv())))
    assert [row["name"] for row in rows] == ["conv", "bn", "add"]
    assert sum(float(row["ace_v2"]) for row in rows) == pytest.approx(r.total)
    v1 = AceReport.build(r.ops, 1)
    assert v1.total == 64000


def test_report_plot_writes_png(tmp_path):
    path = _report().plot(tmp_path / "ace.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    path1 = AceReport.build(_report().ops, 1).plot(tmp_path / "ace_v1.png")
    assert path1.stat().st_size > 5_000


def test_lpn_tf_ace_is_callable_and_calibrate_is_exported():
    import lpn_tf
    import lpn_tf.ace.costs  # noqa: F401  (binds lpn_tf.ace to the subpackage before the lazy lookup)

    op = ops.weighted(
        "c", "conv2d", INT8, macs=10, input_shape=(2,), output_shape=(2,), weight_elements=5, bias_elements=0
    )
    assert lpn_tf.ace([op], version=1).total == 10 * 64
    assert lpn_tf.ace([op]).total == 10 * 64 + 2 * (32 * 32 + 64)
    assert lpn_tf.ace.CostTable is CostTable
    from lpn_tf.ace.fit import calibrate

    assert lpn_tf.calibrate is calibrate


def test_a_row_without_work_pays_no_op_overhead() -> None:
    """A layer folded into its neighbour (no MACs, no elementwise, no bytes) is no op on the device."""
    from lpn_tf.ace.ops import OpCount, units

    free = OpCount(name="bn", kind="batch_norm", arith="int", note="folded into conv")
    assert units(free) == {}
    worked = OpCount(name="conv", kind="conv2d", arith="int", macs=10, bits_weight=8, bits_activation=8)
    assert units(worked)[("overhead", "op")] == 1
