"""ACEv2 calibration sweep: many small models profiled on emulated Cortex-M, cost table fitted, held out.

Random integer graphs (conv, depthwise, residual add, pools, dense heads, and the LPN ops shift conv,
shift depthwise and QuantNorm; varied shapes, strides, padding, channel counts and shift widths) are
written as lpn .tflite files, run on emulated M4 and M7 with the insn_count QEMU plugin (exact executed
instructions per op), joined with their op descriptions into ACEv2 measurement files, and fitted with
``lpn_tf.calibrate`` on a training split; the held-out split gives R² and relative errors, printed beside
the uncalibrated default table (scaled by its best single factor). Energy cannot be measured under
emulation: the same code path takes a board's cycle/µJ measurements (docs/ace.md).

Usage: ``python bench/calibrate.py [--graphs 60] [--targets m4 m7] [--kernels ref] [--out build/bench]``.
Targets (issue 7): held-out R² ≥ 0.95 and median relative error ≤ 10 % on M4.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from lpn_tf.ace import measurements
from lpn_tf.ace.fit import calibrate
from lpn_tf.export.random_graphs import BUILTIN_LAYERS, LPN_LAYERS, LayerSpec, output_shapes_ok, random_graph
from lpn_tf.export.tflite_writer import to_tflite_bytes
from lpn_tf.runtime.qemu import QemuRuntime

KINDS = BUILTIN_LAYERS + LPN_LAYERS


def random_specs(rng: np.random.Generator) -> tuple[int, int, list[LayerSpec]]:
    hw, cin = int(rng.integers(4, 17)), int(rng.integers(1, 17))
    layers = [
        LayerSpec(str(rng.choice(KINDS)), kernel=int(rng.choice([1, 3, 5])),
                  stride=int(rng.choice([1, 1, 2])), padding=str(rng.choice(["SAME", "VALID"])),
                  channels=int(rng.integers(2, 25)), multiplier=int(rng.choice([1, 1, 2])),
                  activation=str(rng.choice(["NONE", "RELU", "RELU6"])),
                  exponent_bits=int(rng.integers(1, 4)))
        for _ in range(int(rng.integers(2, 5)))
    ]
    return hw, cin, layers


def sweep(target: str, graphs: int, kernels: str, seed: int) -> list[measurements.Measurement]:
    """Profiles ``graphs`` random models on ``target``; returns one measurement per priced op."""
    rng = np.random.default_rng(seed)
    rows: list[measurements.Measurement] = []
    bar = tqdm(total=graphs, desc=f"profile {target}", unit="model", disable=None)
    done = 0
    while done < graphs:
        hw, cin, layers = random_specs(rng)
        if not output_shapes_ok((hw, hw), layers):
            continue
        head = str(rng.choice(["dense", "mean_dense"]))
        graph = random_graph(rng, (hw, hw), cin, layers, head_units=int(rng.integers(2, 12)), head=head)
        rt = QemuRuntime(to_tflite_bytes(graph, "lpn"), target, profile=True, kernels=kernels)
        rt.run(rng.integers(-128, 128, (1, hw, hw, cin), dtype=np.int8))
        measured = {int(r["op"]): {"instructions": float(r["instructions"])}
                    for r in rt.profile if r.get("instructions") is not None}
        rows.extend(measurements.for_graph(graph, measured, target=f"qemu-{target}/{kernels}",
                                           model=f"g{done}"))
        done += 1
        bar.update(1)
    bar.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=60, help="random models per target")
    parser.add_argument("--targets", nargs="+", default=["m4", "m7"], choices=["m4", "m7", "m33"])
    parser.add_argument("--kernels", default="ref", choices=["ref", "cortex-m"])
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--out", default="build/bench")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = []
    for target in args.targets:
        t0 = time.time()
        rows = sweep(target, args.graphs, args.kernels, args.seed)
        csv = measurements.save(out / f"measurements-{target}-{args.kernels}.csv", rows)
        result = calibrate(csv, plot=out / f"calibration-{target}-{args.kernels}.png")
        result.table.save(out / f"costs-{target}-{args.kernels}.json")
        families = sorted({m.op.kind for m in rows})
        print(f"\n## {target} ({args.kernels} kernels): {len(rows)} ops from {args.graphs} models in "
              f"{time.time() - t0:.0f} s; op kinds: {', '.join(families)}")
        print(result.to_markdown())
        summary.append((target, result))
    print("\n| target | held-out ops | R² calibrated | median rel. err "
          "| R² default×scale | median rel. err |")
    print("|---|---|---|---|---|---|")
    for target, r in summary:
        print(f"| {target} | {r.test.n} | {r.test.r2:.4f} | {100 * r.test.median_rel_error:.1f} % | "
              f"{r.baseline.r2:.4f} | {100 * r.baseline.median_rel_error:.1f} % |")
    print(f"\ncommand: python bench/calibrate.py --graphs {args.graphs} --targets {' '.join(args.targets)} "
          f"--kernels {args.kernels} --seed {args.seed}")


if __name__ == "__main__":
    main()
