"""lpn_tf.models: architectures (shapes, parameter counts against the references) and quantizability."""

from __future__ import annotations

import numpy as np
import pytest

import lpn_tf
from lpn_tf import models
from lpn_tf._keras import keras

K = keras.layers


@pytest.mark.parametrize(
    ("builder", "input_shape", "classes", "params"),
    [
        # keras.applications.MobileNet(alpha=1.0, 224, classes=1000): 4,253,864 parameters
        (lambda: models.mobilenet_v1(1.0, (224, 224, 3), 1000), (224, 224, 3), 1000, 4_253_864),
        # keras.applications.MobileNet(alpha=0.25, include_top=False): 218,544 + Dense(256 → 2)
        (models.mobilenet_v1_025, (96, 96, 3), 2, 218_544 + 514),
        # MLPerf Tiny ResNet-8: 78,666 with biases on the 8 convs followed by BN (240 parameters)
        (models.resnet8, (32, 32, 3), 10, 78_666 - 240),
        # MLPerf Tiny DS-CNN: 24,908 with biases on the 9 convs followed by BN (576 parameters)
        (models.ds_cnn, (49, 10, 1), 12, 24_908 - 576),
        (models.mnist1d_cnn, (40, 1), 10, None),
        (models.digits_cnn, (8, 8, 1), 10, None),
    ],
)
def test_builders(builder: object, input_shape: tuple, classes: int, params: int | None) -> None:
    model = builder()  # type: ignore[operator]
    assert model.input_shape[1:] == input_shape
    assert model.output_shape == (None, classes)
    if params is not None:
        assert model.count_params() == params


def test_mobilenet_family_parameters() -> None:
    small = models.mobilenet_v1(0.5, (32, 32, 3), 10, depth=3)
    wide = models.mobilenet_v1(1.5, (32, 32, 3), 10, depth=3)
    dws = [layer for layer in small.layers if isinstance(layer, K.DepthwiseConv2D)]
    assert len(dws) == 3 and [d.strides for d in dws] == [(1, 1), (2, 2), (1, 1)]
    assert small.get_layer("block3_pw").filters == 64 and wide.get_layer("block3_pw").filters == 192
    assert models.mobilenet_v1(0.25, (64, 48, 3), 5).output_shape == (None, 5)
    assert isinstance(models.mobilenet_v1(0.25, (32, 32, 3), 4, depth=1, softmax=True).layers[-1], K.Softmax)


def test_small_mobilenet_quantizes_and_runs() -> None:
    fm = models.mobilenet_v1(0.25, (32, 32, 3), 4, depth=2)
    for scheme in ("int8", "pikelpn"):
        qm = lpn_tf.quantize_model(fm, scheme)
        x = np.random.default_rng(0).uniform(0, 1, (2, 32, 32, 3)).astype(np.float32)
        assert qm(x, training=True).shape == (2, 4)
