"""PikeLPN rows: accuracy and ACEv2 of the ``pikelpn`` scheme beside float and int8, plus the DHQ evidence.

For MNIST-1D and digits (the CNNs of ``lpn_tf.models``, training recipe of ``bench/accuracy.py``):
float CNN, lpn int8 (8-bit weights/activations, 32-bit requantization multipliers — TFLite's "float
requantization"), and ``quantize_model(model, "pikelpn")`` (QuantNorm with 8-bit double-quantized
requantization, shift3 weights, 5-bit activations, first/last layer 8-bit weights), each with its
ACEv2 (``lpn_tf.ace``, default cost table). Target: pikelpn within 1.5 points of float, ACEv2 ≥ 3×
lower than int8.

DHQ: a small MobileNet-style net (``lpn_tf.models.mobilenet_v1``, 4 depthwise→pointwise pairs) is
trained on digits; the per-channel weight-range statistics of a depthwise vs a pointwise layer are
printed and plotted (``--plot``, default ``bench/pikelpn_dhq.png``), and the net is quantized with the
DHQ choice (depthwise 8-bit per-channel, pointwise shift3) and with shift3 everywhere.

Usage: ``python bench/pikelpn.py [--quick] [--seed 0] [--datasets mnist1d digits] [--plot PATH]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from accuracy import DATASETS, fine_tune, train_float

import lpn_tf
from lpn_tf import data
from lpn_tf._keras import keras
from lpn_tf.models import mobilenet_v1
from lpn_tf.pikelpn import channel_range_stats
from lpn_tf.train import compile_classifier, top1

MANTISSA_BITS = 8


def ace_total(model: keras.Model, mantissa_bits: int) -> float:
    return float(lpn_tf.ace(model, mantissa_bits=mantissa_bits).total)


def dhq_mobilenet() -> keras.Model:
    return mobilenet_v1(0.5, (8, 8, 1), 10, depth=4, name="digits_mobilenet")


def spread(stats: dict[str, np.ndarray]) -> str:
    r = stats["absmax"]
    return (
        f"channels {r.size:4d}  absmax max/min {r.max() / max(r.min(), 1e-12):8.1f}  "
        f"p90/p10 {np.percentile(r, 90) / max(np.percentile(r, 10), 1e-12):6.2f}  "
        f"CV {r.std() / r.mean():5.2f}  median kurtosis {np.median(stats['kurtosis']):5.2f}"
    )


def dhq_section(quick: bool, seed: int, plot: Path) -> list[tuple[str, str, str, float, float]]:
    split = data.digits()
    x, y, x_te, y_te = split
    epochs, ft = (10, 3) if quick else (60, 15)
    keras.utils.set_random_seed(seed)
    model = compile_classifier(dhq_mobilenet(), 3e-3)
    decay = keras.callbacks.LearningRateScheduler(lambda e: 3e-3 * 0.5 * (1 + np.cos(np.pi * e / epochs)))
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0, callbacks=[decay], shuffle=True)
    acc = top1(model, x_te, y_te)
    rows = [("digits-mbv1", "float MobileNet-style (4 pairs)", "32/32", acc, float(lpn_tf.ace(model).total))]

    print("\nDHQ: per-output-channel weight statistics of the trained float net")
    stats = {}
    for i in (1, 3):
        dw = model.get_layer(f"block{i}_dw").depthwise_kernel.numpy()
        pw = model.get_layer(f"block{i}_pw").kernel.numpy()
        stats[f"block{i} depthwise 3x3"] = channel_range_stats(dw, (2, 3))
        stats[f"block{i} pointwise 1x1"] = channel_range_stats(pw, (-1,))
    for name, st in stats.items():
        print(f"  {name:<22} {spread(st)}")
    _plot(stats, plot)
    print(f"  plot: {plot}")

    variants = [
        ("int8", "int8", "8/8", 32),
        ("pikelpn DHQ (dw int8, pw shift3)", "pikelpn", "3|8/5", MANTISSA_BITS),
        (
            "pikelpn, no DHQ (shift3 everywhere)",
            lpn_tf.Scheme.get("pikelpn", depthwise_weights="shift3", name="pikelpn-noDHQ"),
            "3/5",
            MANTISSA_BITS,
        ),
    ]
    for label, scheme, bits, mbits in variants:
        qm = lpn_tf.quantize_model(model, scheme)
        fine_tune(qm, split, ft, lam=lpn_tf.Scheme.get(scheme).name != "int8", seed=seed)
        rows.append(("digits-mbv1", label, bits, top1(qm, x_te, y_te), ace_total(qm, mbits)))
        print(f"[digits-mbv1] {label}: {rows[-1][3]:.2f}", flush=True)
    return rows


def _plot(stats: dict[str, np.ndarray], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, st in stats.items():
        r = np.sort(st["absmax"] / np.median(st["absmax"]))
        axes[0].plot(np.linspace(0, 1, r.size), r, label=name, ls="-" if "depthwise" in name else "--")
        axes[1].hist(st["kurtosis"], bins=20, alpha=0.5, label=name)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("channel quantile")
    axes[0].set_ylabel("per-channel max|w| / layer median")
    axes[0].set_title("per-channel weight range (sorted)")
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("per-channel kurtosis (Gaussian = 3)")
    axes[1].set_title("per-channel weight kurtosis")
    axes[1].legend(fontsize=8)
    fig.suptitle("DHQ: depthwise vs pointwise weights of a trained MobileNet-style net (digits)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(names: list[str], quick: bool, seed: int, plot: Path) -> None:
    float_epochs, qat_epochs = (15, 3) if quick else (60, 15)
    rows: list[tuple[str, str, str, float, float]] = []
    for name in names:
        split = DATASETS[name][0]()
        _, _, x_te, y_te = split
        t0 = time.time()
        fmodel = train_float(name, split, float_epochs, seed)
        rows.append((name, "float CNN", "32/32", top1(fmodel, x_te, y_te), float(lpn_tf.ace(fmodel).total)))
        print(f"[{name}] float trained in {time.time() - t0:.0f} s", flush=True)
        for label, scheme, bits, mbits in (
            ("lpn int8 (32-bit requant multipliers)", "int8", "8/8", 32),
            ("pikelpn (QuantNorm m8, shift3 W, 5-bit A)", "pikelpn", "3/5", MANTISSA_BITS),
        ):
            qm = lpn_tf.quantize_model(fmodel, scheme)
            fine_tune(qm, split, qat_epochs, lam=scheme != "int8", seed=seed)
            rows.append((name, label, bits, top1(qm, x_te, y_te), ace_total(qm, mbits)))
            print(f"[{name}] {label}: {rows[-1][3]:.2f}", flush=True)
    rows += dhq_section(quick, seed, plot)

    print()
    print(
        f"{'data set':<12} {'model':<42} {'bits W/A':>8} {'top-1 %':>8} {'Δ float':>8} "
        f"{'ACEv2':>12} {'int8/x':>7}"
    )
    ref_acc = {n: a for n, label, _, a, _ in rows if label.startswith("float")}
    int8_ace = {n: c for n, label, _, _, c in rows if "int8" in label and "pikelpn" not in label}
    for name, label, bits, acc, cost in rows:
        ratio = int8_ace[name] / cost if cost else float("nan")
        print(
            f"{name:<12} {label:<42} {bits:>8} {acc:8.2f} {acc - ref_acc[name]:+8.2f} "
            f"{cost:12,.0f} {ratio:7.2f}"
        )
    print()
    print(
        f"scheme {lpn_tf.Scheme.get('pikelpn').describe()}; "
        f"QuantNorm {dict(lpn_tf.Scheme.get('pikelpn').quant_norm or {})}"
    )
    print(
        "ACEv2: lpn_tf.ace default table; float row at float32 (BN unfolded); int8 rows priced with 32-bit "
        f"requantization multipliers; pikelpn rows with mantissa_bits={MANTISSA_BITS} (shift layers; the "
        "first/last int8-weight layers are still priced at 32-bit multipliers by the lpn adapter)"
    )
    print(f"epochs: float {float_epochs}, QAT fine-tuning {qat_epochs} (recipe of bench/accuracy.py)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs: a smoke test of the pipeline")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, default=Path(__file__).with_name("pikelpn_dhq.png"))
    args = parser.parse_args()
    run(args.datasets, args.quick, args.seed, args.plot)


if __name__ == "__main__":
    main()
