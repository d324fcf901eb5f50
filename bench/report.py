"""``make bench``: runs every benchmark of bench/ and writes ``build/bench/report.md``.

Each section holds the exact command, how long it took, and what it printed (its tables); plots the
benchmarks write into ``build/bench/`` are linked at the end. A benchmark that fails is reported with its
output and makes ``make bench`` fail.

The last section, "demo agreement", re-measures the models ``make demo`` exported (its
``build/demo/summary.json``) the way the benchmarks measure: weight and planned arena bytes from the
.tflite files read back, and from the same architecture built and exported as ``bench/firmware.py`` does;
executed instructions by profiling each .tflite on the same emulated core with the same input. Every
figure is printed with agree/DISAGREE; a disagreement makes ``make bench`` fail.

Usage: ``python bench/report.py [--quick] [--only accuracy calibrate ...] [--demo build/demo] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
OUT = BENCH.parent / "build" / "bench"

# name -> (script arguments, quick-mode arguments); run in this order
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "calibrate": (["--graphs", "60"], ["--graphs", "20"]),
    "accuracy": ([], ["--quick"]),
    "pikelpn": ([], ["--quick"]),
    "anchor": ([], ["--datasets", "digits", "--epochs", "1"]),
    "firmware": ([], ["--quick"]),
}


# summary.json fields compared: what the demo report states per exported model
STATIC_FIELDS = ("weight_bytes", "arena_bytes")
PROFILED_FIELDS = ("instructions", "macs")


@dataclass(frozen=True)
class Agreement:
    """One figure of the demo report next to the same figure measured by the bench."""

    model: str  # "<scheme>/<flavor>"
    figure: str  # a summary.json field, e.g. "instructions"
    source: str  # how the bench measured it
    demo: int | None
    bench: int | None
    error: str = ""  # why the bench has no value

    @property
    def agrees(self) -> bool:
        return self.demo is not None and self.bench is not None and self.demo == self.bench


def compare(claimed: dict[str, dict[str, Any]], measured: dict[str, dict[str, Any]], source: str,
            figures: tuple[str, ...]) -> list[Agreement]:
    """Pairs each of ``figures`` of each model in ``claimed`` (the demo's summary) with ``measured``.

    Args:
        claimed: model → {figure: int}; a figure the demo did not record (e.g. not profiled) is skipped.
        measured: model → {figure: int} or {"error": str} when the bench could not measure that model.
        source: how ``measured`` was obtained (shown in the table).
        figures: the figure names to compare (integers: bytes, instructions, MACs; compared exactly).
    """
    rows: list[Agreement] = []
    for model, demo_row in claimed.items():
        got = measured.get(model, {"error": "not measured"})
        for figure in figures:
            if figure not in demo_row:
                continue
            value = got.get(figure)
            rows.append(Agreement(model, figure, source, int(demo_row[figure]),
                                  None if value is None else int(value),
                                  "" if value is not None else str(got.get("error", "not measured"))))
    return rows


def agreement_markdown(rows: list[Agreement]) -> str:
    """A markdown table of ``rows`` with agree / DISAGREE per figure and a final verdict line."""
    lines = ["| model | figure | measured by | demo report | bench | |", "|---|---|---|---:|---:|---|"]
    for r in rows:
        bench = r.error.replace("|", "/") if r.bench is None else f"{r.bench:,}"
        demo = "-" if r.demo is None else f"{r.demo:,}"
        lines.append(f"| {r.model} | {r.figure} | {r.source} | {demo} | {bench} | "
                     f"{'agree' if r.agrees else 'DISAGREE'} |")
    bad = sum(not r.agrees for r in rows)
    lines += ["", f"{len(rows) - bad} of {len(rows)} figures agree" + (f", {bad} DISAGREE" if bad else "")]
    return "\n".join(lines)


def measure_demo_files(demo_dir: Path, summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each demo .tflite read back: filter bytes, planned arena bytes, and (with the demo's profiled
    input, on the demo's target and kernels) executed instructions and MACs of one inference."""
    import numpy as np

    from lpn_tf.export import memory_plan
    from lpn_tf.export.api import weight_bytes
    from lpn_tf.export.tflite_reader import read_tflite
    from lpn_tf.profile import profile_model

    out: dict[str, dict[str, Any]] = {}
    for model, row in summary["models"].items():
        path = demo_dir / row["tflite"]
        try:
            graph = read_tflite(path)
            got: dict[str, Any] = {"weight_bytes": weight_bytes(graph),
                                   "arena_bytes": memory_plan.plan(graph).arena_bytes}
            if "input" in row:
                x = np.asarray(row["input"], dtype=row["input_dtype"]).reshape(row["input_shape"])
                prof = profile_model(path, summary["target"], summary["kernels"], x=x)
                got.update(instructions=prof.total_instructions, macs=prof.total_macs)
            out[model] = got
        except Exception as exc:  # noqa: BLE001 - shown in the table as a disagreement
            out[model] = {"error": f"{path.name}: {type(exc).__name__}: {exc}".splitlines()[0][:160]}
    return out


def measure_like_firmware_bench(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The demo's architecture built, quantized and exported as bench/firmware.py does (seeded random
    weights), for the exports that benchmark reports (``firmware.EXPORTS``): filter and planned arena
    bytes, which depend on the architecture only for those schemes (``pikelpn``'s DHQ picks per-layer
    weight formats from the trained weights, so it is not compared)."""
    import importlib.util

    from lpn_tf import models
    from lpn_tf.export import export_tflite

    spec = importlib.util.spec_from_file_location("lpn_bench_firmware", BENCH / "firmware.py")
    assert spec is not None and spec.loader is not None
    firmware = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = firmware  # its dataclasses look their module up
    spec.loader.exec_module(firmware)
    out: dict[str, dict[str, Any]] = {}
    build = getattr(models, summary["architecture"])
    with tempfile.TemporaryDirectory(prefix="lpn-bench-demo-") as tmp:
        for scheme, flavor in firmware.EXPORTS:
            model = f"{scheme}/{flavor}"
            try:
                qat = firmware.quantized(build, scheme, 0, 4)
                rep = export_tflite(qat, Path(tmp) / f"{scheme}-{flavor}.tflite", ops=flavor)
                out[model] = {"weight_bytes": rep.weight_bytes, "arena_bytes": rep.arena_bytes}
            except Exception as exc:  # noqa: BLE001
                out[model] = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:160]}
    return out


def demo_agreement(demo_dir: Path) -> tuple[str, bool]:
    """The "demo agreement" section (markdown) and whether every figure agrees (True when there is no
    demo output to check: the section says so)."""
    path = demo_dir / "summary.json"
    if not path.exists():
        return f"Not checked: no `{path}` (run `make demo` first).", True
    summary = json.loads(path.read_text())
    claimed = {m: {k: v for k, v in row.items() if k in STATIC_FIELDS + PROFILED_FIELDS}
               for m, row in summary["models"].items()}
    rows = compare(claimed, measure_demo_files(demo_dir, summary),
                   f"the .tflite read back; profiled on {summary['target']} {summary['kernels']}",
                   STATIC_FIELDS + PROFILED_FIELDS)
    like_bench = measure_like_firmware_bench(summary)
    rows += compare({m: claimed[m] for m in like_bench if m in claimed}, like_bench,
                    "bench/firmware.py's export", STATIC_FIELDS)
    text = (f"The figures of `{demo_dir / 'report.md'}` (from `{path}`) measured again by the bench.\n\n"
            + agreement_markdown(rows))
    return text, all(r.agrees for r in rows)


def run(name: str, args: list[str]) -> tuple[str, float, int, str]:
    command = [sys.executable, str(BENCH / f"{name}.py"), *args]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=BENCH.parent, check=False)
    shown = "python " + " ".join(shlex.quote(a) for a in [f"bench/{name}.py", *args])
    output = proc.stdout + (proc.stderr if proc.returncode else "")
    return shown, time.perf_counter() - start, proc.returncode, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark's quick mode (a smoke run)")
    parser.add_argument("--only", nargs="+", choices=[*BENCHMARKS, "demo"], default=[*BENCHMARKS, "demo"],
                        help="benchmarks to run; 'demo' is the demo-agreement section")
    parser.add_argument("--demo", type=Path, default=BENCH.parent / "build" / "demo",
                        help="the `make demo` output folder to check (default: build/demo)")
    parser.add_argument("--out", type=Path, default=OUT, help="report folder (default: build/bench)")
    args = parser.parse_args()
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    how = "python bench/report.py" + (" --quick" if args.quick else "")
    lines = ["# lpn benchmark report", "",
             f"Produced by `make bench` (`{how}`). Every figure below states the command that made it.", ""]
    failed = []
    for name in args.only:
        if name == "demo" or not (BENCH / f"{name}.py").exists():
            continue
        full, quick = BENCHMARKS[name]
        shown, seconds, code, output = run(name, quick if args.quick else full)
        status = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"[{status}] {shown} ({seconds:.0f} s)", flush=True)
        if code:
            failed.append(name)
        lines += [f"## {name}", "", f"Command: `{shown}` — {status}, {seconds:.0f} s.", "", "```text",
                  output.rstrip(), "```", ""]
    if "demo" in args.only:
        start = time.perf_counter()
        text, ok = demo_agreement(args.demo)
        seconds = time.perf_counter() - start
        print(f"[{'ok' if ok else 'FAILED'}] demo agreement ({seconds:.0f} s)\n{text}", flush=True)
        if not ok:
            failed.append("demo")
        lines += ["## demo agreement", "", f"Command: `{how}` — {'ok' if ok else 'FAILED'}, {seconds:.0f} s.",
                  "", text, ""]
    plots = sorted(p.name for p in out_dir.glob("*.png"))
    if plots:
        lines += ["## Plots", ""] + [f"![{p}]({p})" for p in plots]
    tmp = out_dir / "report.md.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(out_dir / "report.md")
    print(f"report: {out_dir / 'report.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
