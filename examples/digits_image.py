"""Image classifier on sklearn's digits, from float to emulated Cortex-M4 — copy and adapt.

float CNN → shift-bit QAT (3-bit power-of-two weights, λ schedule) → lpn .tflite with packed shift
codes → the same int8 outputs from the numpy reference, the firmware on the host and on emulated M4.

Run: ``python examples/digits_image.py [--quick]`` (outputs in build/examples/).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import lpn_tf
from lpn_tf import data, models, runtime, train
from lpn_tf.export import export_tflite

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--quick", action="store_true", help="few epochs (a smoke run)")
args = parser.parse_args()
out = Path("build/examples")
out.mkdir(parents=True, exist_ok=True)

# 1. your float model, trained as usual (here: lpn's recipe)
x, y, x_test, y_test = data.digits()  # (N, 8, 8, 1) float32, labels 0..9
float_model = train.train_float(models.digits_cnn(), x, y, epochs=25 if args.quick else 60)
print(f"float top-1 {train.top1(float_model, x_test, y_test):.2f} %")

# 2. quantization-aware fine-tuning from the float weights (λ: 1 → 2^-7, then finalize: λ = 0)
qat = lpn_tf.quantize_model(float_model, "shift")
train.fine_tune(qat, x, y, epochs=3 if args.quick else 15)
print(f"shift QAT top-1 {train.top1(qat, x_test, y_test):.2f} %")

# 3. export an integer .tflite with LPN custom ops (packed 3-bit codes)
report = export_tflite(qat, out / "digits_shift.tflite", ops="lpn")
print(f"exported {report.path}: {report.weight_bytes} weight bytes, arena {report.arena_bytes} bytes")

# 4. run it: the int8 input is the float input quantized with the model's input scale
reference = runtime.load(report.path, backend="reference")
spec = reference.inputs[0]
x_int8 = np.clip(np.round(x_test / spec.scale) + spec.zero_point, -128, 127).astype(np.int8)
logits = reference.run(x_int8)
print(f"integer model top-1 {100 * np.mean(np.argmax(logits.reshape(len(y_test), -1), -1) == y_test):.2f} %")
for backend in ("host", "qemu-m4"):
    same = np.array_equal(runtime.load(report.path, backend=backend).run(x_int8[:32]), logits[:32])
    print(f"{backend}: {'bit-identical to the reference' if same else 'DIFFERS from the reference'}")
    if not same:
        raise SystemExit(1)
