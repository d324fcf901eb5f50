"""``make bench``: runs every benchmark of bench/ and writes ``build/bench/report.md``.

Each section holds the exact command, how long it took, and what it printed (its tables); plots the
benchmarks write into ``build/bench/`` are linked at the end. A benchmark that fails is reported with its
output and makes ``make bench`` fail.

Usage: ``python bench/report.py [--quick] [--only accuracy calibrate ...]``.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

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
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=list(BENCHMARKS))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    how = "python bench/report.py" + (" --quick" if args.quick else "")
    lines = ["# lpn benchmark report", "",
             f"Produced by `make bench` (`{how}`). Every figure below states the command that made it.", ""]
    failed = []
    for name in args.only:
        if not (BENCH / f"{name}.py").exists():
            continue
        full, quick = BENCHMARKS[name]
        shown, seconds, code, output = run(name, quick if args.quick else full)
        status = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"[{status}] {shown} ({seconds:.0f} s)", flush=True)
        if code:
            failed.append(name)
        lines += [f"## {name}", "", f"Command: `{shown}` — {status}, {seconds:.0f} s.", "", "```text",
                  output.rstrip(), "```", ""]
    plots = sorted(p.name for p in OUT.glob("*.png"))
    if plots:
        lines += ["## Plots", ""] + [f"![{p}]({p})" for p in plots]
    tmp = OUT / "report.md.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(OUT / "report.md")
    print(f"report: {OUT / 'report.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
