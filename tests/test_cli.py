"""The `lpn` command line: version, doctor, and the shape of the demo."""

from __future__ import annotations

import subprocess
import sys

import pytest

import lpn_tf
from lpn_tf import cli, doctor


def test_version(capsys) -> None:
    try:
        cli.main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"lpn {lpn_tf.__version__}"


def test_console_script_is_installed() -> None:
    out = subprocess.run([sys.executable, "-m", "lpn_tf.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "lpn" in out.stdout


def test_doctor_reports_versions_and_capabilities(cortex_m_toolchain) -> None:
    report = doctor.diagnose()
    text = report.to_text()
    for name in ["tensorflow", "tf_keras", "tensorflow-model-optimization", "ai-edge-litert", "numpy",
                 "arm-none-eabi-gcc", "qemu-system-arm"]:
        assert name in text
    names = [c.name.split()[0] for c in report.capabilities]
    assert names == ["train", "export", "host", "Cortex-M", "fuzzing"]
    # after `make setup` (which CI runs), every capability is available
    assert report.ok, text


def test_doctor_names_the_fix_for_a_missing_piece(monkeypatch) -> None:
    monkeypatch.setattr(doctor, "dist_version", lambda name: None if name == "tf_keras" else "2.21.0")
    report = doctor.diagnose()
    train = report.capabilities[0]
    assert not train.available and "tf_keras" in train.missing[0]
    assert "make setup" in report.to_text()


def test_import_does_not_need_legacy_keras_env() -> None:
    code = ("import os; os.environ.pop('TF_USE_LEGACY_KERAS', None); "
            "from lpn_tf._keras import keras; print(keras.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("tf_keras")


def test_ruff_clean() -> None:
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "."],
                         capture_output=True, text=True, cwd=lpn_tf.toolchain.REPO_ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def _small_model(path) -> None:
    import numpy as np

    from lpn_tf.export.random_graphs import LayerSpec, random_graph
    from lpn_tf.export.tflite_writer import write_tflite

    layers = [LayerSpec("conv", 3, 1, "SAME", 5)]
    graph = random_graph(np.random.default_rng(0), (6, 6), 3, layers, 4, "mean_dense")
    write_tflite(graph, path, "builtin")


def test_inspect_prints_ops_and_names_a_bad_file(tmp_path, capsys) -> None:
    model = tmp_path / "m.tflite"
    _small_model(model)
    assert cli.main(["inspect", str(model)]) == 0
    out = capsys.readouterr().out
    assert "CONV_2D" in out and "FULLY_CONNECTED" in out and "tensors:" in out
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(model.read_bytes()[:100])
    assert cli.main(["inspect", str(bad)]) == 1
    assert "lpn inspect:" in capsys.readouterr().err


@pytest.mark.qemu
def test_profile_counts_instructions_and_writes_measurements(tmp_path, capsys, cortex_m_toolchain) -> None:
    from lpn_tf.ace import measurements

    model = tmp_path / "m.tflite"
    _small_model(model)
    rows = tmp_path / "rows.csv"
    assert cli.main(["profile", str(model), "--target", "m4", "-o", str(rows)]) == 0
    out = capsys.readouterr().out
    assert "CONV_2D" in out and "total" in out
    loaded = measurements.load(rows)
    assert {m.op.kind for m in loaded} >= {"conv2d"}
    assert all(m.measured["instructions"] > 0 for m in loaded)
