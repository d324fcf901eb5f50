"""Keyword spotting with the MLPerf Tiny DS-CNN on synthetic MFCC-like features — copy and adapt.

Real audio needs a data set download, so this example makes 49×10 "spectrograms" with a class-specific
pattern plus noise. float DS-CNN → PikeLPN QAT (QuantNorm, double-quantized scales, DHQ: int8 depthwise,
shift pointwise) → lpn .tflite → per-op instruction counts on emulated Cortex-M4.

Run: ``python examples/kws_ds_cnn.py [--quick]`` (outputs in build/examples/). With ``--quick`` the float
model trains for too few steps for its BatchNorm moving statistics to settle, so its test accuracy reads
low; the QAT fine-tuning re-estimates them (the QAT accuracy shows what the network learned).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import lpn_tf
from lpn_tf import models, train
from lpn_tf.export import export_tflite
from lpn_tf.profile import profile_model

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--quick", action="store_true", help="few samples and epochs (a smoke run)")
args = parser.parse_args()
out = Path("build/examples")
out.mkdir(parents=True, exist_ok=True)


def synthetic_keywords(n: int, classes: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 49, 10, 1) features: keyword k is a band at a class-specific frequency and time, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    t, f = np.meshgrid(np.arange(49), np.arange(10), indexing="ij")
    x = rng.normal(0, 0.3, (n, 49, 10)).astype(np.float32)
    for i, k in enumerate(y):
        centre_t, centre_f = 8 + 3 * k, k % 10
        x[i] += 2.0 * np.exp(-((t - centre_t) ** 2) / 18.0 - ((f - centre_f) ** 2) / 2.0)
    return x[..., None], y


x, y = synthetic_keywords(1500 if args.quick else 3000)
x_test, y_test = synthetic_keywords(200 if args.quick else 1000, seed=1)

float_model = train.train_float(models.ds_cnn(), x, y, epochs=12 if args.quick else 20)
print(f"float DS-CNN top-1 {train.top1(float_model, x_test, y_test):.2f} %")

qat = lpn_tf.quantize_model(float_model, "pikelpn-a8")  # the PikeLPN variant the exporter lowers today
train.fine_tune(qat, x, y, epochs=2 if args.quick else 15)
print(f"pikelpn-a8 QAT top-1 {train.top1(qat, x_test, y_test):.2f} %, ACEv2 {lpn_tf.ace(qat).total_v2:.3g}")

report = export_tflite(qat, out / "kws_pikelpn.tflite", ops="lpn")
print(f"exported {report.path}: {report.weight_bytes} weight bytes, arena {report.arena_bytes} bytes")
print(profile_model(report.path, "m4", "cortex-m").to_text())
