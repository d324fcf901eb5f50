"""Firmware costs on emulated Cortex-M4: MLPerf Tiny architectures and the demo models (issue 6).

For each model (random weights, activation ranges calibrated on one random batch) and each export
(int8 with builtin ops, shift and pikelpn-a8 with LPN ops), and for both kernel variants (portable
reference C and the optimized Cortex-M ones), prints: total executed instructions (QEMU insn_count
plugin), instructions per MAC, weight flash bytes, the planned arena bytes, TFLite Micro's arena for the
builtin model (``print_allocations()`` "head", the tensor arena) with the ratio, and the runner ELF size
(``arm-none-eabi-size`` text+data, and the same less the model blob linked into it). With ``--per-op``,
also every op's instructions per MAC with both kernel variants side by side. Then the issue's targets as
ratios, met or missed.

The firmware is built afresh in a temporary directory on every run (the runtime's ELF cache is keyed by
the model bytes only, so a cached ELF could hold kernels older than the sources).

Usage: ``python bench/firmware.py [--models resnet8 ds_cnn mobilenet_v1_025 mnist1d digits] [--quick]
[--per-op]``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import lpn_tf
from lpn_tf import models
from lpn_tf._keras import keras
from lpn_tf.export import export_tflite
from lpn_tf.quantize import calibrate_activations
from lpn_tf.runtime.qemu import QemuRuntime, link_runner

MODELS: dict[str, Callable[[], Any]] = {
    "resnet8": models.resnet8,
    "ds_cnn": models.ds_cnn,
    "mobilenet_v1_025": models.mobilenet_v1_025,
    "mnist1d": models.mnist1d_cnn,
    "digits": models.digits_cnn,
}
QUICK_MODELS = ("digits", "mnist1d")
# (scheme, export flavor)
# "pikelpn" (5-bit activations) exports only where every sub-8-bit tensor has an LPN producer: ResNet-8's
# residual ADDs onto the 5-bit grid are refused (docs/pikelpn.md), and its row says so.
EXPORTS: tuple[tuple[str, str], ...] = (
    ("int8", "builtin"), ("shift", "lpn"), ("pikelpn-a8", "lpn"), ("pikelpn", "lpn"),
)
KERNELS = ("ref", "cortex-m")
TARGET = "m4"
# targets of issue 6
MAX_INT8_INSTR_PER_MAC = 1.5
MAX_LPN_INSTR_RATIO = 1.2
MAX_LPN_WEIGHT_RATIO = 0.55

_TFLM_SCRIPT = (
    "import sys\n"
    "from tflite_micro.python.tflite_micro import runtime as tflm\n"
    "tflm.Interpreter.from_bytes(open(sys.argv[1], 'rb').read()).print_allocations()\n"
)


@dataclass
class Row:
    """One (export, kernels) measurement; ``error`` is set instead of the numbers when a step failed."""

    scheme: str
    flavor: str
    kernels: str
    instructions: int | None = None
    macs: int | None = None
    weight_bytes: int | None = None
    arena_bytes: int | None = None
    tflm_arena_bytes: int | None = None
    file_bytes: int | None = None
    elf_bytes: int | None = None  # text + data of the runner ELF, model blob included
    ops: list[dict[str, Any]] | None = None  # the per-op profile rows (op, kind, macs, instructions)
    error: str | None = None

    @property
    def instr_per_mac(self) -> float | None:
        return self.instructions / self.macs if self.instructions and self.macs else None


def tflm_arena_bytes(path: Path) -> int:
    """TFLite Micro's tensor arena ("head" of the RecordingMicroAllocator) for the .tflite at ``path``, in
    bytes. Runs in a child process because ``print_allocations()`` writes to the C stdout."""
    out = subprocess.run([sys.executable, "-c", _TFLM_SCRIPT, str(path)], capture_output=True, text=True,
                         check=False, timeout=300)
    found = re.search(r"Arena allocation head (\d+) bytes", out.stdout + out.stderr)
    if found is None:
        raise RuntimeError(f"tflite-micro printed no arena head for {path} (exit {out.returncode}):\n"
                           f"{(out.stdout + out.stderr)[-2000:]}")
    return int(found.group(1))


def elf_size(elf: Path) -> int:
    """text + data bytes of ``elf`` (``arm-none-eabi-size``, Berkeley format): the flash image."""
    out = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True, check=True)
    text, data = out.stdout.splitlines()[1].split()[:2]
    return int(text) + int(data)


def quantized(build: Callable[[], Any], scheme: str, seed: int, batch: int) -> Any:
    """The QAT model of ``build()`` under ``scheme``: seeded random weights, calibrated ranges, λ = 0."""
    keras.utils.set_random_seed(seed)  # the same random weights on every run
    float_model = build()
    qat = lpn_tf.quantize_model(float_model, scheme)
    shape = (batch, *(int(d) for d in float_model.input_shape[1:]))
    calibrate_activations(qat, np.random.default_rng(seed).normal(size=shape).astype(np.float32))
    try:
        lpn_tf.finalize(qat)
    except ValueError:  # int8 has no λ-blend quantizer: nothing to finalize
        pass
    return qat


def profile_rows(path: Path, kernels: str, seed: int, build_dir: Path) -> list[dict[str, Any]]:
    """One inference of ``path`` on emulated TARGET with ``kernels``, firmware built in ``build_dir``: the
    per-op rows (op, kind, macs, instructions) of the insn_count plugin. Input: seeded random int8."""
    rt = QemuRuntime(path.read_bytes(), TARGET, kernels=kernels, profile=True, build_dir=build_dir,
                     source=str(path))
    spec = rt.inputs[0]
    info = np.iinfo(spec.dtype)
    rt.run(np.random.default_rng(seed).integers(info.min, info.max + 1, spec.shape).astype(spec.dtype))
    return list(rt.profile)


def measure_model(name: str, folder: Path, seed: int, batch: int) -> list[Row]:
    """All exports × kernels of model ``name``; a failure becomes a row with ``error``. The firmware is
    built in ``folder``/build."""
    rows: list[Row] = []
    for scheme, flavor in EXPORTS:
        path = folder / f"{name}-{scheme}-{flavor}.tflite"
        try:
            report = export_tflite(quantized(MODELS[name], scheme, seed, batch), path, ops=flavor)
        except Exception as exc:  # noqa: BLE001 - reported in the table, the benchmark goes on
            rows.extend(Row(scheme, flavor, k, error=f"export: {type(exc).__name__}: {exc}"[:200])
                        for k in KERNELS)
            continue
        tflm = None
        if flavor == "builtin":
            try:
                tflm = tflm_arena_bytes(path)
            except Exception as exc:  # noqa: BLE001
                print(f"  {name} {scheme}: TFLM arena unavailable: {exc}", file=sys.stderr)
        for kernels in KERNELS:
            row = Row(scheme, flavor, kernels, weight_bytes=report.weight_bytes,
                      arena_bytes=report.arena_bytes, tflm_arena_bytes=tflm, file_bytes=report.file_bytes)
            try:
                start = time.time()
                row.ops = profile_rows(path, kernels, seed, folder / "build")
                row.instructions = sum(int(r.get("instructions") or 0) for r in row.ops)
                row.macs = sum(int(r["macs"]) for r in row.ops)
                row.elf_bytes = elf_size(link_runner(path.read_bytes(), TARGET, kernels=kernels,
                                                     build_dir=folder / "build"))
                print(f"  {name} {scheme}/{flavor} {kernels}: {row.instructions} instructions "
                      f"({time.time() - start:.1f} s)", file=sys.stderr)
            except Exception as exc:  # noqa: BLE001
                row.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            rows.append(row)
    return rows


def _fmt(value: float | int | None, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def to_markdown(name: str, rows: list[Row]) -> str:
    """One markdown table of ``rows`` for model ``name``."""
    lines = [f"### {name} (emulated {TARGET})", "",
             "| scheme/flavor | kernels | instructions | instr/MAC | weight B | planned arena B "
             "| TFLM arena B | arena/TFLM | ELF text+data B | ELF less model B |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        head = f"| {r.scheme}/{r.flavor} | {r.kernels} "
        if r.error and r.weight_bytes is None:
            lines.append(head + f"| failed: {r.error.replace('|', '/')} | | | | | | | |")
            continue
        has_tflm = r.tflm_arena_bytes and r.arena_bytes is not None
        ratio = r.arena_bytes / r.tflm_arena_bytes if has_tflm else None  # type: ignore[operator]
        code = r.elf_bytes - r.file_bytes if r.elf_bytes is not None and r.file_bytes is not None else None
        instr = f"failed: {r.error.replace('|', '/')}" if r.error else _fmt(r.instructions, ",")
        lines.append(head + f"| {instr} | {_fmt(r.instr_per_mac, '.2f')} | {_fmt(r.weight_bytes, ',')} "
                     f"| {_fmt(r.arena_bytes, ',')} | {_fmt(r.tflm_arena_bytes, ',')} | {_fmt(ratio, '.2f')} "
                     f"| {_fmt(r.elf_bytes, ',')} | {_fmt(code, ',')} |")
    return "\n".join(lines)


def per_op_markdown(name: str, rows: list[Row]) -> str:
    """Per-op instructions per MAC of model ``name``: one line per op of each export, the reference and
    the optimized kernels side by side (ops without MACs: instructions only)."""
    lines = [f"#### {name}: per op (emulated {TARGET})", "",
             "| scheme/flavor | op | kind | MACs | ref instr | ref instr/MAC | cortex-m instr "
             "| cortex-m instr/MAC |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for scheme, flavor in EXPORTS:
        by_kernels = {r.kernels: r for r in rows if r.scheme == scheme and r.ops}
        ref, opt = by_kernels.get("ref"), by_kernels.get("cortex-m")
        base = ref or opt
        if base is None or base.ops is None:
            continue
        for i, op in enumerate(base.ops):
            cells = []
            for r in (ref, opt):
                ins = int(r.ops[i].get("instructions") or 0) if r and r.ops and i < len(r.ops) else None
                per = ins / op["macs"] if ins is not None and op["macs"] else None
                cells += [_fmt(ins, ","), _fmt(per, ".2f")]
            head = f"| {scheme}/{flavor} | {op['op']} | {op['kind']} | {int(op['macs']):,} | "
            lines.append(head + " | ".join(cells) + " |")
    return "\n".join(lines)


def _check(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def targets(name: str, rows: list[Row]) -> list[str]:
    """The issue's targets for model ``name``, as ratios with met/MISSED."""
    def find(scheme: str, kernels: str) -> Row | None:
        return next((r for r in rows if r.scheme == scheme and r.kernels == kernels and not r.error), None)

    out: list[str] = []
    base = find("int8", "cortex-m")
    if name == "resnet8":
        ipm = base.instr_per_mac if base else None
        ratio = ipm / MAX_INT8_INSTR_PER_MAC if ipm is not None else None
        out.append(f"- {name}: optimized int8 instructions/MAC = {_fmt(ipm, '.3f')} (target ≤ "
                   f"{MAX_INT8_INSTR_PER_MAC}, ratio {_fmt(ratio, '.3f')}): "
                   f"{_check(None if ipm is None else ipm <= MAX_INT8_INSTR_PER_MAC)}")
    if base is not None and base.tflm_arena_bytes and base.arena_bytes is not None:
        ratio = base.arena_bytes / base.tflm_arena_bytes
        out.append(f"- {name}: planned arena / TFLM arena (int8 builtin) = {ratio:.3f} (target ≤ 1): "
                   f"{_check(ratio <= 1.0)}")
    for scheme in ("shift", "pikelpn-a8", "pikelpn"):
        row = find(scheme, "cortex-m")
        if base is None or row is None or not base.instructions or not base.weight_bytes:
            out.append(f"- {name}: {scheme} vs optimized int8: n/a (a measurement failed)")
            continue
        ri = row.instructions / base.instructions
        rw = (row.weight_bytes or 0) / base.weight_bytes
        out.append(f"- {name}: {scheme}/lpn optimized instructions / int8 = {ri:.3f} (target ≤ "
                   f"{MAX_LPN_INSTR_RATIO}): {_check(ri <= MAX_LPN_INSTR_RATIO)}; weight bytes / int8 = "
                   f"{rw:.3f} (target ≤ {MAX_LPN_WEIGHT_RATIO}): {_check(rw <= MAX_LPN_WEIGHT_RATIO)}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=None,
                        help="models to measure (default: all; with --quick: the demo models)")
    parser.add_argument("--quick", action="store_true",
                        help="the two small demo models only (unless --models), calibration batch of 4")
    parser.add_argument("--seed", type=int, default=0, help="seed of the calibration batch and the input")
    parser.add_argument("--per-op", action="store_true",
                        help="also print every op's instructions per MAC, reference and optimized kernels")
    args = parser.parse_args(argv)
    names = args.models or (list(QUICK_MODELS) if args.quick else list(MODELS))
    batch = 4 if args.quick else 16
    summary: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lpn-bench-fw-") as tmp:
        for name in names:
            rows = measure_model(name, Path(tmp), args.seed, batch)
            print("\n" + to_markdown(name, rows), flush=True)
            if args.per_op:
                print("\n" + per_op_markdown(name, rows), flush=True)
            summary += targets(name, rows)
    print("\n### targets (issue 6)\n")
    print("\n".join(summary))
    cmd = " ".join(["python bench/firmware.py", "--models", *names, *(["--quick"] if args.quick else []),
                    *(["--per-op"] if args.per_op else []), "--seed", str(args.seed)])
    print(f"\ncommand: {cmd}")


if __name__ == "__main__":
    main()
