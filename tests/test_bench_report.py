"""`make bench`'s demo-agreement section: the comparison logic on small hand-made inputs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.spec_from_file_location("lpn_bench_report", REPO / "bench" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_equal_figures_agree_and_a_difference_disagrees(report) -> None:
    claimed = {"int8/builtin": {"weight_bytes": 100, "instructions": 5000},
               "shift/lpn": {"weight_bytes": 40, "instructions": 7000}}
    measured = {"int8/builtin": {"weight_bytes": 100, "instructions": 5000},
                "shift/lpn": {"weight_bytes": 40, "instructions": 7001}}
    rows = report.compare(claimed, measured, "test", ("weight_bytes", "instructions"))
    assert [(r.model, r.figure, r.agrees) for r in rows] == [
        ("int8/builtin", "weight_bytes", True), ("int8/builtin", "instructions", True),
        ("shift/lpn", "weight_bytes", True), ("shift/lpn", "instructions", False)]
    text = report.agreement_markdown(rows)
    assert "| shift/lpn | instructions | test | 7,000 | 7,001 | DISAGREE |" in text
    assert text.endswith("3 of 4 figures agree, 1 DISAGREE")


def test_unrecorded_figures_are_skipped_and_unmeasured_ones_disagree(report) -> None:
    claimed = {"a/lpn": {"weight_bytes": 1}, "b/lpn": {"weight_bytes": 2, "arena_bytes": 3}}
    measured = {"b/lpn": {"error": "LoweringError: boom"}}
    rows = report.compare(claimed, measured, "test", ("weight_bytes", "arena_bytes", "instructions"))
    assert [(r.model, r.figure) for r in rows] == [("a/lpn", "weight_bytes"), ("b/lpn", "weight_bytes"),
                                                   ("b/lpn", "arena_bytes")]
    assert not any(r.agrees for r in rows)
    assert rows[0].error == "not measured" and rows[1].error == "LoweringError: boom"
    assert "LoweringError: boom" in report.agreement_markdown(rows)


def test_missing_demo_output_is_reported_not_failed(report, tmp_path: Path) -> None:
    text, ok = report.demo_agreement(tmp_path)
    assert ok and "run `make demo` first" in text


def test_demo_summary_fields_are_what_the_bench_compares(report, tmp_path: Path) -> None:
    """The demo's summary.json (lpn_tf.demo.summary) carries every figure the bench compares."""
    import numpy as np

    from lpn_tf import demo

    class Rep:
        path, weight_bytes, arena_bytes = tmp_path / "model_shift_lpn.tflite", 10, 20

    class Prof:
        total_instructions, total_macs = 300, 40

    ctx = demo.Context(tmp_path, quick=True)
    ctx.exports[("shift", "lpn")] = Rep()
    ctx.profiles[("shift", "lpn")] = Prof()
    ctx.profile_inputs[("shift", "lpn")] = np.array([[1, -2, 3]], np.int8)
    summary = json.loads(json.dumps(demo.summary(ctx)))
    row = summary["models"]["shift/lpn"]
    assert set(report.STATIC_FIELDS + report.PROFILED_FIELDS) <= set(row)
    assert row["tflite"] == "model_shift_lpn.tflite" and row["input"] == [1, -2, 3]
    where = (summary["target"], summary["kernels"], summary["architecture"])
    assert where == ("m4", "cortex-m", "mnist1d_cnn")
