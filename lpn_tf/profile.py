"""``lpn profile``: per-op executed instructions of a .tflite on an emulated Cortex-M core.

The firmware runs under QEMU with the insn_count plugin (firmware/tools/qemu-insn-count), which counts
every guest instruction between the runtime's profiling marks around each op: exact and repeatable.
The rows are written in the ACEv2 measurement format (docs/ace.md), ready for ``lpn calibrate``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Profile:
    """One profiled inference: ``rows`` (op, kind, macs, instructions, instructions_per_mac) per op."""

    model: str
    target: str
    kernels: str
    rows: list[dict[str, Any]]

    @property
    def total_instructions(self) -> int:
        return sum(int(r.get("instructions") or 0) for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(int(r["macs"]) for r in self.rows)

    def to_text(self) -> str:
        lines = [f"{self.model} on emulated {self.target} ({self.kernels} kernels)",
                 f"{'op':>3}  {'kind':28s} {'MACs':>10} {'instructions':>13} {'instr/MAC':>10}"]
        for r in self.rows:
            per_mac = f"{r['instructions_per_mac']:.2f}" if r.get("instructions_per_mac") else "-"
            lines.append(f"{r['op']:>3}  {r['kind']:28s} {r['macs']:>10} {r.get('instructions', 0):>13} "
                         f"{per_mac:>10}")
        per_mac = self.total_instructions / self.total_macs if self.total_macs else float("nan")
        lines.append(f"{'':>3}  {'total':28s} {self.total_macs:>10} {self.total_instructions:>13} "
                     f"{per_mac:>10.2f}")
        return "\n".join(lines)

    def save_measurements(self, path: str | Path) -> Path:
        """Writes the rows as an ACEv2 measurement file (.csv or .json, docs/ace.md)."""
        from lpn_tf.ace import measurements
        from lpn_tf.export.tflite_reader import read_tflite

        graph = read_tflite(Path(self.model))
        measured = {int(r["op"]): {"instructions": float(r["instructions"])} for r in self.rows
                    if r.get("instructions") is not None}
        rows = measurements.for_graph(graph, measured, target=f"qemu-{self.target}/{self.kernels}",
                                      model=Path(self.model).name)
        return measurements.save(path, rows)


def profile_model(path: str | Path, target: str = "m4", kernels: str = "ref",
                  x: np.ndarray | None = None, seed: int = 0) -> Profile:
    """Runs one inference of the model at ``path`` on emulated ``target`` and counts instructions per op.

    Args:
        path: a .tflite file (builtin or lpn flavor).
        target: "m4", "m7" or "m33".
        kernels: "ref" (portable C) or "cortex-m" (optimized where available).
        x: one input sample in the model's integer type and shape; random when None.
        seed: seed of the random input.
    """
    from lpn_tf.runtime import qemu

    rt = qemu.open(path, target, kernels=kernels, profile=True)
    if x is None:
        spec = rt.inputs[0]
        info = np.iinfo(spec.dtype)
        x = np.random.default_rng(seed).integers(info.min, info.max + 1, spec.shape).astype(spec.dtype)
    rt.run(x)
    return Profile(str(path), target, kernels, rt.profile)


def add_parser(sub: Any) -> None:
    """Registers ``lpn profile MODEL [--target m4|m7|m33] [--kernels ref|cortex-m] [-o rows.csv]``."""
    p = sub.add_parser("profile", help="per-op instruction counts of a .tflite on emulated Cortex-M")
    p.add_argument("model", help=".tflite file")
    p.add_argument("--target", default="m4", choices=["m4", "m7", "m33"])
    p.add_argument("--kernels", default="ref", choices=["ref", "cortex-m"])
    p.add_argument("--input", help=".npy file with one input sample (default: random, --seed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", help="write the rows as ACEv2 measurements (.csv or .json)")
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    x = np.load(args.input) if args.input else None
    try:
        result = profile_model(args.model, args.target, args.kernels, x, args.seed)
    except (OSError, ValueError, RuntimeError, TimeoutError) as exc:
        print(f"lpn profile: {exc}", file=sys.stderr)
        return 1
    print(result.to_text())
    if args.output:
        print(f"measurements: {result.save_measurements(args.output)}")
    return 0
