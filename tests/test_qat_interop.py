"""Interop: tf.distribute.MirroredStrategy on 2 logical CPUs, and lpn quantizers inside tfmot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

import lpn_tf
from lpn_tf import quantizers as qz
from lpn_tf._keras import keras, tf

_MIRRORED = textwrap.dedent(
    """
    import json
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from lpn_tf._keras import keras
    import lpn_tf
    from lpn_tf.schedule import lambda_variables

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        inp = keras.Input((8, 2))
        x = keras.layers.Conv1D(4, 3, padding="same", use_bias=False)(inp)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.Flatten()(x)
        fm = keras.Model(inp, keras.layers.Dense(3)(x))
        qm = lpn_tf.quantize_model(fm, lpn_tf.Scheme.get("shift-wa", first_layer="scheme"))
        qm.compile(keras.optimizers.SGD(0.05), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 8, 2)).astype("float32")
    y = rng.integers(0, 3, 32)
    hist = qm.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[lpn_tf.LambdaSchedule([1.0, 0.0])])
    counts = [float(v.numpy()) for v in qm.variables if v.name.split("/")[-1].startswith("count")]
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "loss": hist.history["loss"],
        "lambdas": sorted({float(v.numpy()) for v in lambda_variables(qm)}),
        "counts": counts,
        "mirrored": type(qm.get_layer("conv1d").kernel).__name__,
    }))
    """
)


def test_mirrored_strategy_two_logical_cpus() -> None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(
        [sys.executable, "-c", _MIRRORED], capture_output=True, text=True, env=env, timeout=240
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert "Mirrored" in result["mirrored"]
    assert all(np.isfinite(result["loss"]))
    assert result["lambdas"] == [0.0]
    assert result["counts"] and all(c == 4.0 for c in result["counts"])  # 2 epochs × 2 steps, EMA in sync


def test_lpn_quantizer_inside_tfmot_quantize_config() -> None:
    import tensorflow_model_optimization as tfmot

    tq = tfmot.quantization.keras

    class ShiftKernelConfig(tq.QuantizeConfig):
        def get_weights_and_quantizers(self, layer):
            return [(layer.kernel, qz.TfmotQuantizer(qz.Shift(2, scale="per_channel")))]

        def get_activations_and_quantizers(self, layer):
            return []

        def set_quantize_weights(self, layer, quantize_weights):
            layer.kernel = quantize_weights[0]

        def set_quantize_activations(self, layer, quantize_activations):
            pass

        def get_output_quantizers(self, layer):
            return []

        def get_config(self):
            return {}

    annotated = tq.quantize_annotate_model(
        keras.Sequential(
            [
                keras.Input((6,)),
                tq.quantize_annotate_layer(keras.layers.Dense(4, name="shift_dense"), ShiftKernelConfig()),
                keras.layers.Dense(2, name="int8_dense"),
            ]
        )
    )
    with tq.quantize_scope({"ShiftKernelConfig": ShiftKernelConfig, "TfmotQuantizer": qz.TfmotQuantizer}):
        model = tq.quantize_apply(annotated)
    assert lpn_tf.set_lambda(model, 0.0) == 1  # the λ created by the tfmot wrapper is found
    wrapper = model.get_layer("quant_shift_dense")
    x = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    inner = keras.Model(model.input, wrapper.output)
    kernel = [w for w in wrapper.weights if w.name.endswith("kernel:0")][0].numpy()
    bias = [w for w in wrapper.weights if w.name.endswith("bias:0")][0].numpy()
    ref_q = qz.Shift(2, scale="per_channel")
    ref_q.calibrate(kernel)  # the tfmot path computes α_c live from the same kernel
    quantized = ref_q(tf.constant(kernel)).numpy()
    assert len(np.unique(np.abs(quantized / ref_q._state["alpha"].numpy()))) <= 4  # ±{1, ½, ¼, ⅛}·α_c
    # tfmot's input QuantizeLayer: found by class, since Keras numbers auto-generated names per session
    quantize_layer = next(layer for layer in model.layers if type(layer).__name__ == "QuantizeLayer")
    x_in = quantize_layer(x, training=False).numpy()
    np.testing.assert_allclose(
        inner(x, training=False).numpy(), x_in @ quantized + bias, rtol=1e-5, atol=1e-5
    )
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((5, 2), np.float32), verbose=0)
    cfg = qz.TfmotQuantizer(qz.Shift(2)).get_config()
    assert qz.TfmotQuantizer.from_config(cfg) == qz.TfmotQuantizer(qz.Shift(2))
