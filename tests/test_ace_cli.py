"""``lpn ace`` and ``lpn calibrate`` subcommands, end to end on files."""

from __future__ import annotations

import argparse
import csv

import numpy as np
import pytest

from lpn_tf.ace import measurements as meas
from lpn_tf.ace import ops
from lpn_tf.ace.cli import add_ace_parser, add_calibrate_parser
from lpn_tf.ace.costs import CostTable
from lpn_tf.ace.measurements import Measurement
from lpn_tf.ace.ops import Numerics


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="lpn")
    sub = parser.add_subparsers()
    add_ace_parser(sub)
    add_calibrate_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    from lpn_tf._keras import keras

    inp = keras.Input((6, 6, 1))
    x = keras.layers.Conv2D(2, 3, name="conv")(inp)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    path = tmp_path_factory.mktemp("m") / "tiny.keras"
    keras.Model(inp, x).save(path)
    return path


def test_lpn_ace_prints_and_writes_csv_and_plot(keras_file, tmp_path, capsys):
    assert (
        _run(["ace", str(keras_file), "--csv", str(tmp_path / "r.csv"), "--plot", str(tmp_path / "r.png")])
        == 0
    )
    out = capsys.readouterr().out
    assert "**tiny.keras**" in out and "| conv | conv2d | float | 288 |" in out
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert [r["name"] for r in rows] == ["conv", "bn", "gap"]
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_lpn_calibrate_then_ace_with_costs(keras_file, tmp_path, capsys):
    rng = np.random.default_rng(0)
    truth = CostTable({**CostTable.default().coefficients, "mac": 0.01, "op": 50.0}, unit="instructions")
    rows = []
    for i in range(24):
        n = int(rng.integers(2, 40))
        op = ops.weighted(
            f"fc{i}",
            "dense",
            Numerics.integer(),
            macs=n * 7,
            input_shape=(n,),
            output_shape=(7,),
            weight_elements=n * 7,
            bias_elements=7,
        )
        rows.append(Measurement(op, {"instructions": sum(ops.price(op, truth).values())}, "m4"))
    meas.save(tmp_path / "m.csv", rows)
    costs = tmp_path / "costs.json"
    assert (
        _run(["calibrate", str(tmp_path / "m.csv"), "-o", str(costs), "--plot", str(tmp_path / "s.png")]) == 0
    )
    out = capsys.readouterr().out
    assert "| calibrated, held-out | 6 |" in out
    table = CostTable.load(costs)
    assert table.unit == "instructions" and table.meta["device"] == "m4"
    assert _run(["ace", str(keras_file), "--costs", str(costs)]) == 0
    assert "instructions (table 'calibrated-instructions-m4'" in capsys.readouterr().out


def test_cli_errors_go_to_stderr(tmp_path, capsys):
    bad = tmp_path / "m.csv"
    bad.write_text("op,arith\nconv2d,int\n")
    assert _run(["calibrate", str(bad), "-o", str(tmp_path / "c.json")]) == 1
    assert "line 2: column 'macs': required value missing" in capsys.readouterr().err
    assert _run(["ace", str(tmp_path / "model.onnx")]) == 1
    assert "not a Keras file" in capsys.readouterr().err
