"""The anchor users would otherwise pick: tfmot int8 QAT + TFLiteConverter, beside lpn's builtin export.

:func:`compare_with_converter` fine-tunes the same float model two ways — tfmot's default int8 QAT then
``tf.lite.TFLiteConverter`` (full-integer, int8 input and output, representative dataset), and lpn's
``"int8"`` scheme then ``export_tflite(ops="builtin")`` — and measures both files side by side: size,
weight bytes, and test accuracy (the converter's file on LiteRT's reference kernels, lpn's on the numpy
reference executor, which equals LiteRT bit for bit on lpn files).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class AnchorRow:
    """One exported model: ``tool``, file bytes, filter bytes, top-1 % on the test set."""

    tool: str
    file_bytes: int
    weight_bytes: int
    top1: float


def _int8_weight_bytes(model: bytes) -> int:
    """Bytes of int8 filters (rank ≥ 2 constant int8 tensors) in a .tflite."""
    from lpn_tf.export.tflite_reader import read_tflite

    graph = read_tflite(model)
    return sum(t.nbytes for t in graph.tensors if t.is_constant and t.dtype == "int8" and len(t.shape) >= 2)


def _litert_top1(model: bytes, x: np.ndarray, y: np.ndarray) -> float:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    scale, zp = inp["quantization"]
    hits = 0
    for sample, label in zip(x, y, strict=True):
        q = np.clip(np.round(sample / scale) + zp, -128, 127).astype(np.int8)
        it.set_tensor(inp["index"], q.reshape(inp["shape"]))
        it.invoke()
        hits += int(np.argmax(it.get_tensor(out["index"])) == label)
    return 100.0 * hits / len(y)


def compare_with_converter(float_model, data: tuple, epochs: int = 3, seed: int = 0) -> list[AnchorRow]:
    """Fine-tunes ``float_model`` (logits output) with tfmot and with lpn's int8 scheme, exports both and
    measures them. ``data`` = (x_train, y_train, x_test, y_test)."""
    import tensorflow_model_optimization as tfmot

    import lpn_tf
    from lpn_tf import runtime, train
    from lpn_tf._keras import keras, tf
    from lpn_tf.export import export_tflite

    x, y, x_te, y_te = data
    rows = []

    clone = keras.models.clone_model(float_model)
    clone.set_weights(float_model.get_weights())
    tq = train.fine_tune(tfmot.quantization.keras.quantize_model(clone), x, y, epochs, lam=False, seed=seed,
                         desc="tfmot")
    converter = tf.lite.TFLiteConverter.from_keras_model(tq)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x[i : i + 1].astype(np.float32)] for i in range(100))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    converted = converter.convert()
    rows.append(AnchorRow("tfmot QAT + TFLiteConverter", len(converted), _int8_weight_bytes(converted),
                          _litert_top1(converted, x_te, y_te)))

    qat = train.fine_tune(lpn_tf.quantize_model(float_model, "int8"), x, y, epochs, lam=False, seed=seed,
                          desc="lpn int8")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lpn_int8_builtin.tflite"
        report = export_tflite(qat, path, ops="builtin")
        rt = runtime.load(path, backend="reference")
        spec = rt.inputs[0]
        xq = np.clip(np.round(x_te / spec.scale) + spec.zero_point, -128, 127).astype(np.int8)
        logits = np.asarray(rt.run(xq.reshape((-1, *spec.shape[1:]))))
        top1 = 100.0 * float(np.mean(np.argmax(logits.reshape(len(y_te), -1), axis=-1) == y_te))
        rows.append(AnchorRow("lpn int8 + export_tflite(ops='builtin')", report.file_bytes,
                              report.weight_bytes, top1))
    return rows


def to_markdown(rows: list[AnchorRow]) -> str:
    lines = ["| toolchain | file bytes | int8 weight bytes | top-1 % |", "|---|---|---|---|"]
    lines += [f"| {r.tool} | {r.file_bytes} | {r.weight_bytes} | {r.top1:.2f} |" for r in rows]
    return "\n".join(lines)
