"""Measurement files and calibration: recovery of a known table, held-out statistics, malformed files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lpn_tf.ace import measurements as meas
from lpn_tf.ace import ops
from lpn_tf.ace.costs import CostTable
from lpn_tf.ace.fit import CalibrationError, calibrate
from lpn_tf.ace.measurements import Measurement, MeasurementError
from lpn_tf.ace.ops import Numerics


def _same_padding_macs(h: int, k: int, macs: int) -> int:
    total, valid = ops.window_pairs((h, h), (h, h), (k, k), (1, 1), "same")
    return macs * (total - valid) // total


def _random_ops(rng: np.random.Generator, n: int) -> list[ops.OpCount]:
    """Single ops of varied shapes, bit widths and families (conv/dense int and shift, add, max pool)."""
    out = []
    for i in range(n):
        which = i % 5
        acc = int(rng.choice([16, 32]))
        num = Numerics(
            "shift" if which == 1 else "int",
            int(rng.integers(2, 9)),
            int(rng.integers(4, 9)),
            acc,
            int(rng.choice([4, 8, 16, 32])),
        )
        h, c_in, c_out, k = (
            int(v)
            for v in (rng.integers(2, 12), rng.integers(1, 16), rng.integers(1, 16), rng.choice([1, 3, 5]))
        )
        if which in (0, 1):
            out.append(
                ops.weighted(
                    f"conv{i}",
                    "conv2d",
                    num,
                    macs=h * h * c_out * k * k * c_in,
                    input_shape=(h, h, c_in),
                    output_shape=(h, h, c_out),
                    weight_elements=k * k * c_in * c_out,
                    bias_elements=c_out * int(rng.integers(0, 2)),
                    activation=str(rng.choice(["linear", "relu"])),
                    padding_macs=_same_padding_macs(h, k, h * h * c_out * k * k * c_in),
                    macs_per_tap=c_in,
                )
            )
        elif which == 2:
            out.append(
                ops.weighted(
                    f"dense{i}",
                    "dense",
                    num,
                    macs=c_in * c_out * h,
                    input_shape=(h * c_in,),
                    output_shape=(c_out,),
                    weight_elements=h * c_in * c_out,
                    bias_elements=c_out * int(rng.integers(0, 2)),
                    macs_per_tap=h * c_in,
                )
            )
        elif which == 3:
            out.append(ops.residual_add(f"add{i}", num, (h, h, c_in)))
        else:
            out.append(ops.pool(f"pool{i}", num, "max", (2 * h, 2 * h, c_in), (h, h, c_in), 4))
    return out


TRUE = {
    "mac": 0.03,
    "pad_mac": 0.004,
    "mul": 0.002,
    "add": 0.1,
    "cmp": 0.05,
    "shift": 0.2,
    "lut": 0.0,
    "func": 0.0,
    "load_byte": 0.7,
    "store_byte": 1.1,
    "tap": 2.0,
    "op": 150.0,
}


def _measured(op_list, table, noise=0.0, rng=None, target="m4") -> list[Measurement]:
    out = []
    for op in op_list:
        value = sum(ops.price(op, table).values())
        if noise:
            value *= float(1 + noise * rng.standard_normal())
        out.append(Measurement(op, {"instructions": value}, target, "synthetic"))
    return out


def test_pooled_fit_recovers_a_known_table():
    rng = np.random.default_rng(1)
    truth = CostTable(dict(TRUE), unit="instructions")
    rows = _measured(_random_ops(rng, 120), truth)
    result = calibrate(rows, holdout=0.25, seed=3, per_family=False)
    for term, value in TRUE.items():
        if term in ("lut", "func"):  # no op of the data uses them: the default price, rescaled
            assert result.table.coefficient(term) == pytest.approx(result.baseline_scale)
        else:
            assert result.table.coefficient(term) == pytest.approx(value, rel=1e-5, abs=1e-9), term
    assert result.table.meta["unmeasured_terms"] == ["lut", "func"]
    assert result.test.r2 > 1 - 1e-9 and result.test.max_rel_error < 1e-6
    assert result.test.n == 30 and result.train.n == 90  # 6 of the 24 ops of each of 5 families held out
    assert result.table.unit == "instructions" and result.table.name == "calibrated-instructions-m4"
    # the uncalibrated ACE table cannot represent the per-op overhead and byte costs
    assert result.baseline.median_rel_error > 10 * result.test.median_rel_error


def test_per_family_fit_predicts_held_out_ops_of_a_table_with_overrides(tmp_path):
    rng = np.random.default_rng(2)
    truth = CostTable(
        {**TRUE, "mac@conv2d:shift": 0.3, "op@add:int": 900.0, "cmp@max_pool:int": 0.01}, unit="instructions"
    )
    rows = _measured(_random_ops(rng, 150), truth)
    pooled = calibrate(rows, per_family=False)
    fitted = calibrate(rows, plot=tmp_path / "scatter.png")
    assert fitted.test.r2 > 1 - 1e-9 and fitted.test.median_rel_error < 1e-6
    assert pooled.test.median_rel_error > 1e-3  # a single coefficient per term cannot fit it
    assert fitted.table.coefficient("mac", "conv2d:shift") == pytest.approx(0.3, rel=1e-4)
    assert (tmp_path / "scatter.png").read_bytes()[:4] == b"\x89PNG"
    assert "| calibrated, held-out |" in fitted.to_markdown()


def test_noisy_measurements_still_fit_and_split_is_seeded():
    rng = np.random.default_rng(3)
    truth = CostTable(dict(TRUE), unit="instructions")
    rows = _measured(_random_ops(rng, 150), truth, noise=0.03, rng=rng)
    a = calibrate(rows, seed=5)
    b = calibrate(rows, seed=5)
    c = calibrate(rows, seed=6)
    assert a.test.r2 > 0.95 and a.test.median_rel_error < 0.1
    assert a.test_names == b.test_names and a.test_names != c.test_names


def test_measurement_files_round_trip_csv_and_json(tmp_path):
    rng = np.random.default_rng(4)
    rows = _measured(_random_ops(rng, 10), CostTable(dict(TRUE), unit="instructions"))
    for suffix in (".csv", ".json"):
        path = meas.save(tmp_path / f"m{suffix}", rows)
        back = meas.load(path)
        assert [m.op for m in back] == [m.op for m in rows]
        assert [m.measured["instructions"] for m in back] == pytest.approx(
            [m.measured["instructions"] for m in rows]
        )
    result = calibrate(tmp_path / "m.csv", holdout=0.0)
    assert result.table.meta["source"].endswith("m.csv")


GOOD = "op,arith,macs,bits_weight,bits_activation,instructions\nconv2d,int,100,8,8,5000\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("op,arith,macs,bits_weight,bits_activation\nconv2d,int,,8,8\n", r"line 2: column 'macs': required"),
        (GOOD + "conv2d,int,ten,8,8,5\n", r"line 3: column 'macs': 'ten' is not an integer"),
        (GOOD + "conv2d,int,-4,8,8,5\n", r"line 3: column 'macs': .*non-negative"),
        (GOOD + "conv2d,fixed,4,8,8,5\n", r"line 3: column 'arith': 'fixed'"),
        (GOOD + "conv2d,int,4,8,8,fast\n", r"line 3: column 'instructions': 'fast' is not a number"),
        (
            GOOD.replace("instructions", "instructions,elementwise").replace("5000", "5000,mul:3"),
            r"line 2: column 'elementwise': item 'mul:3'",
        ),
        (GOOD.replace("instructions", "speed"), r"line 2: column 'speed': unknown column"),
        (GOOD + "conv2d,int,4,8,8,5,99\n", r"line 3: more values than header"),
        ("", r"line 1: empty file"),
        (GOOD.split("\n")[0] + "\n", r"no measurement rows"),
    ],
)
def test_malformed_csv_names_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(MeasurementError, match=message) as err:
        meas.load(path)
    assert str(path) in str(err.value)


def test_malformed_json_and_calibration_arguments(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "format": "lpn-ace-measurements",
                "version": 1,
                "rows": [
                    {
                        "op": "dense",
                        "arith": "int",
                        "macs": 4,
                        "bits_weight": 8,
                        "bits_activation": 8,
                        "bits_scale": 1.5,
                    }
                ],
            }
        )
    )
    with pytest.raises(MeasurementError, match=r"rows\[0\]: column 'bits_scale'"):
        meas.load(path)
    path.write_text(json.dumps({"format": "something", "rows": []}))
    with pytest.raises(MeasurementError, match="format"):
        meas.load(path)
    good = tmp_path / "good.csv"
    good.write_text(GOOD + "dense,int,50,8,8,\n")
    with pytest.raises(CalibrationError, match=r"row 1 \(dense\): instructions missing"):
        calibrate(good)
    with pytest.raises(CalibrationError, match="target 'joules'"):
        calibrate(good, target="joules")
    mixed = [
        Measurement(m.op, m.measured, t)
        for m, t in zip(meas.load(tmp_path / "good.csv")[:1] * 2, ("m4", "m7"), strict=True)
    ]
    with pytest.raises(CalibrationError, match=r"several targets \['m4', 'm7'\]"):
        calibrate(mixed)
