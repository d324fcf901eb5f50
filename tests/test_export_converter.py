"""An int8 model written by TFLiteConverter, read by lpn and run by the reference executor, matches
LiteRT's reference kernels bit for bit on every tensor. (TFLite Micro rounds FULLY_CONNECTED twice where
the spec rounds once, so it is compared on every op but FC in tests/test_export_bitexact.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from lpn_tf.export.reference import ReferenceExecutor
from lpn_tf.export.tflite_reader import read_tflite


@pytest.fixture(scope="module")
def converted() -> bytes:
    from lpn_tf._keras import keras, tf

    keras.utils.set_random_seed(0)
    inp = keras.layers.Input((12, 12, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(inp)
    y = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    x = keras.layers.Add()([x, y])
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="valid", depth_multiplier=2)(x)
    x = keras.layers.Conv2D(5, 1)(x)
    x = keras.layers.AveragePooling2D(2, padding="same")(x)
    x = keras.layers.MaxPooling2D(2, strides=1)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(4, activation="softmax")(x)
    model = keras.Model(inp, out)
    data = np.random.default_rng(0).normal(size=(32, 12, 12, 3)).astype(np.float32)

    def representative():
        for i in range(len(data)):
            yield [data[i : i + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def test_converter_model_matches(converted: bytes) -> None:
    graph = read_tflite(converted)
    kinds = {op.kind for op in graph.ops}
    assert {
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "ADD",
        "AVERAGE_POOL_2D",
        "MAX_POOL_2D",
        "MEAN",
        "FULLY_CONNECTED",
        "SOFTMAX",
    } <= kinds
    executor = ReferenceExecutor(graph)
    litert = Interpreter(
        model_content=converted,
        experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
        experimental_preserve_all_tensors=True,
    )
    litert.allocate_tensors()
    rng = np.random.default_rng(1)
    compared = 0
    for _ in range(8):
        x = rng.integers(-128, 128, (1, 12, 12, 3)).astype(np.int8)
        values = executor.run_all([x])
        litert.set_tensor(graph.inputs[0], x)
        litert.invoke()
        for op in graph.ops:
            i = op.outputs[0]
            assert np.array_equal(litert.get_tensor(i), values[i]), f"{op.kind} {graph.tensors[i].name}"
            compared += 1
    assert compared >= 8 * 6
