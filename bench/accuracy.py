"""Accuracy of the QAT schemes against float and tfmot, and the cost of an lpn QAT training step.

For MNIST-1D (4000/1000) and sklearn digits (80/20, seed 0): train a float CNN, then fine-tune from
it for at most 15 epochs: tfmot int8 QAT, lpn int8, lpn shift weights (8-bit activations), lpn shift
weights + activations (λ schedule of the paper), evaluated at λ = 0. Prints one table (top-1 %, bits,
and each model's cost: ACE v1, ACEv2 with the default table, ACEv2 with the M4 table calibrated by
``bench/calibrate.py``) and the training-step time ratio lpn-QAT / tfmot-QAT for the same network.

Usage: ``python bench/accuracy.py [--quick] [--datasets mnist1d digits] [--seed 0] [--costs PATH]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import lpn_tf
from lpn_tf import data, train
from lpn_tf._keras import keras, tf
from lpn_tf.models import digits_cnn, mnist1d_cnn

K = keras.layers
CALIBRATED_COSTS = Path(__file__).resolve().parents[1] / "build" / "bench" / "costs-m4-ref.json"
CALIBRATION_GRAPHS = 30  # random models profiled on emulated M4 when no calibrated table exists yet


# the same schemes with the first and last layer following the scheme too (shift weights; for shift-wa
# the logits are shift-quantized as well); only the model input stays int8
ALL_LAYERS = {
    name: lpn_tf.Scheme.get(name, first_layer="scheme", last_layer="scheme") for name in ("shift", "shift-wa")
}

DATASETS: dict[str, tuple[Callable[[], Any], Callable[[], keras.Model]]] = {
    "mnist1d": (data.mnist1d, mnist1d_cnn),
    "digits": (data.digits, digits_cnn),
}


def train_float(name: str, split: Any, epochs: int, seed: int) -> keras.Model:
    """The float demo CNN of data set ``name``, trained with lpn's recipe (lpn_tf.train)."""
    x, y, _, _ = split
    return train.train_float(DATASETS[name][1](), x, y, epochs=epochs, seed=seed, desc=f"{name} float")


def fine_tune(model: keras.Model, split: Any, epochs: int, lam: bool, seed: int) -> keras.Model:
    """Fine-tune from the float weights with lpn's recipe (λ schedule if ``lam``, then finalize)."""
    x, y, _, _ = split
    return train.fine_tune(model, x, y, epochs=epochs, lam=lam, seed=seed)


def tfmot_qat(float_model: keras.Model) -> keras.Model:
    import tensorflow_model_optimization as tfmot

    clone = keras.models.clone_model(float_model)
    clone.set_weights(float_model.get_weights())
    return tfmot.quantization.keras.quantize_model(clone)


def step_times(
    models: list[keras.Model], x: np.ndarray, y: np.ndarray, batch: int, steps: int
) -> list[float]:
    """Median seconds per training step of each model (compiled train functions, after warm-up).

    The models' steps are interleaved (one step of each in turn), so load from other processes on a
    shared machine affects all of them alike and cancels in their ratios.
    """
    ds = tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(batch).prefetch(4)
    fns, its = [], []
    for model in models:
        train.compile_classifier(model, 1e-4)
        fns.append(model.make_train_function())
        its.append(iter(ds))
    for fn, it in zip(fns, its, strict=True):
        for _ in range(5):
            fn(it)
    times: list[list[float]] = [[] for _ in models]
    for _ in range(steps):
        for k, (fn, it) in enumerate(zip(fns, its, strict=True)):
            t0 = time.perf_counter()
            float(fn(it)["loss"])
            times[k].append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in times]


def calibrated_table(path: Path = CALIBRATED_COSTS) -> lpn_tf.ace.CostTable:
    """The ACEv2 cost table calibrated on emulated M4 (reference kernels; unit: instructions): loaded from
    ``path``, or fitted on a short sweep of :data:`CALIBRATION_GRAPHS` random models (bench/calibrate.py,
    needs arm-none-eabi-gcc and qemu-system-arm) and saved there."""
    if not path.exists():
        import calibrate as sweep_bench  # bench/calibrate.py (this script's folder is on sys.path)

        from lpn_tf.ace import measurements

        print(
            f"{path} not found: calibrating on {CALIBRATION_GRAPHS} random models (emulated M4)", flush=True
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = sweep_bench.sweep("m4", CALIBRATION_GRAPHS, "ref", seed=123)
        csv = measurements.save(path.with_name("measurements-m4-ref.csv"), rows)
        lpn_tf.calibrate(csv).table.save(path)
    return lpn_tf.ace.CostTable.load(path)


def ace_columns(model: keras.Model, calibrated: lpn_tf.ace.CostTable) -> tuple[float, float, float]:
    """``(ACE v1, ACEv2 default table, ACEv2 calibrated table)`` of one model, per inference of one sample.

    The first two are in ACE units (1 = one 1-bit × 1-bit MAC); the third in the calibrated table's unit
    (predicted M4 instructions with the reference kernels). lpn models are priced as exported with the
    default flavor (``ops="lpn"``, 16-bit LPN mantissas).
    """
    default = lpn_tf.ace(model, version=2)
    return float(default.total_v1), float(default.total_v2), float(lpn_tf.ace(model, costs=calibrated).total)


def run(names: list[str], quick: bool, seed: int, costs: Path = CALIBRATED_COSTS) -> None:
    float_epochs, qat_epochs = (15, 3) if quick else (60, 15)
    calibrated = calibrated_table(costs)
    rows: list[tuple[str, str, str, float]] = []
    aces: list[tuple[float, float, float]] = []
    ratios: list[tuple[str, str, float]] = []
    for name in names:
        split = DATASETS[name][0]()
        _, _, x_te, y_te = split
        t0 = time.time()
        fmodel = train_float(name, split, float_epochs, seed)
        rows.append((name, "float CNN", "32/32", train.top1(fmodel, x_te, y_te)))
        aces.append(ace_columns(fmodel, calibrated))
        print(f"[{name}] float trained in {time.time() - t0:.0f} s", flush=True)

        tq = tfmot_qat(fmodel)
        fine_tune(tq, split, qat_epochs, lam=False, seed=seed)
        rows.append((name, "tfmot int8 QAT", "8/8", train.top1(tq, x_te, y_te)))
        aces.append(ace_columns(tq, calibrated))

        variants = [
            ("lpn int8", "int8", "8/8"),
            ("shift weights-only (first/last int8)", "shift", "3/8"),
            ("shift weights+activations (first/last int8)", "shift-wa", "3/3"),
            ("shift weights-only (all layers)", ALL_LAYERS["shift"], "3/8"),
            ("shift weights+activations (all layers)", ALL_LAYERS["shift-wa"], "3/3"),
        ]
        for label, scheme, bits in variants:
            qm = lpn_tf.quantize_model(fmodel, scheme)
            fine_tune(qm, split, qat_epochs, lam=lpn_tf.Scheme.get(scheme).name != "int8", seed=seed)
            rows.append((name, label, bits, train.top1(qm, x_te, y_te)))
            aces.append(ace_columns(qm, calibrated))
            print(f"[{name}] {label}: {rows[-1][3]:.2f}", flush=True)

        x_tr, y_tr = split[0], split[1]
        steps = 20 if quick else 100
        timed = [tfmot_qat(fmodel)] + [lpn_tf.quantize_model(fmodel, s) for s in ("int8", "shift-wa")]
        t_tfmot, *t_lpn = step_times(timed, x_tr, y_tr, 64, steps)
        for scheme, t in zip(("int8", "shift-wa"), t_lpn, strict=True):
            ratios.append((name, scheme, t / t_tfmot))

    print()
    print(
        f"{'data set':<9} {'model':<46} {'bits W/A':>8} {'top-1 %':>8} {'Δ float':>8} "
        f"{'ACE v1':>12} {'ACEv2 default':>14} {'ACEv2 calibr.':>14}"
    )
    float_acc = {n: a for n, label, _, a in rows if label == "float CNN"}
    for (name, label, bits, acc), (v1, v2, v2c) in zip(rows, aces, strict=True):
        print(
            f"{name:<9} {label:<46} {bits:>8} {acc:8.2f} {acc - float_acc[name]:+8.2f} "
            f"{v1:12,.0f} {v2:14,.0f} {v2c:14,.0f}"
        )
    print(
        "ACE v1 (Σ MACs·b_w·b_a) and ACEv2 default (docs/ace.md: MACs + elementwise + requantization) are in "
        "ACE units (1-bit×1-bit MACs)"
    )
    print(
        f"ACEv2 calibr.: predicted Cortex-M4 instructions per inference, table {costs} "
        f"({calibrated.name}); the sweep measured integer kernels only, so the float row uses its generic"
    )
    print("  (not per-family) coefficients and is not a prediction of a float build")
    print()
    print(
        "training-step time ratio lpn-QAT / tfmot-QAT "
        "(same network, batch 64, median of interleaved steps; target ≤ 1.5)"
    )
    for name, scheme, ratio in ratios:
        print(f"  {name:<9} lpn {scheme:<9} / tfmot int8: {ratio:.2f}×")
    print()
    for scheme in ("int8", "shift", "shift-wa"):
        print(f"scheme {lpn_tf.Scheme.get(scheme).describe()}")
    print("bits W/A: the scheme's weights/activations; the model input is always 8-bit, and with")
    print(
        "'first/last int8' the first and last layer's weights and the logits are 8-bit too; with 'all layers'"
    )
    print("they follow the scheme (shift weights everywhere; shift-wa also shift-quantizes the logits)")
    print(
        f"epochs: float {float_epochs}, QAT fine-tuning {qat_epochs} "
        f"(Adam {train.FINE_TUNE_LR:g} cosine, batch {train.FINE_TUNE_BATCH}; "
        f"λ schedule: {'the paper' if not quick else 'its prefix'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs: a smoke test of the pipeline")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--costs", type=Path, default=CALIBRATED_COSTS, help="calibrated cost table (made if missing)"
    )
    args = parser.parse_args()
    run(args.datasets, args.quick, args.seed, args.costs)


if __name__ == "__main__":
    main()
