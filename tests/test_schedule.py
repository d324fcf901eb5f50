"""λ schedule: LambdaSchedule callback, set_lambda, finalize."""

from __future__ import annotations

import numpy as np
import pytest

import lpn_tf
from lpn_tf import layers as ql
from lpn_tf import quantizers as qz
from lpn_tf._keras import keras
from lpn_tf.schedule import PAPER_SCHEDULE, lambda_variables


def _model() -> keras.Model:
    inp = keras.Input((4,))
    x = ql.QuantizeTensor("shift3")(inp)
    x = ql.QDense(3, kernel_quantizer="shift3", output_quantizer="uniform4")(x)
    return keras.Model(inp, ql.QDense(2, kernel_quantizer="int8_weight")(x))


class _Recorder(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[list[float]] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.seen.append(sorted({float(v.numpy()) for v in lambda_variables(self.model)}))


def test_paper_schedule() -> None:
    assert len(PAPER_SCHEDULE) == 15
    assert PAPER_SCHEDULE == (
        1,
        0.5,
        0.5,
        0.5,
        0.25,
        0.25,
        0.25,
        0.125,
        0.125,
        0.125,
        2**-4,
        2**-4,
        2**-5,
        2**-6,
        2**-7,
    )


@pytest.mark.parametrize(
    "schedule, expected",
    [
        ([1.0, 0.5], [1.0, 0.5, 0.5]),  # past the end: the last value
        (lambda epoch: 2.0**-epoch, [1.0, 0.5, 0.25]),
    ],
)
def test_callback_sets_lambda_each_epoch(schedule, expected) -> None:
    model = _model()
    model.compile("sgd", "mse")
    recorder = _Recorder()
    history = model.fit(
        np.ones((4, 4), np.float32),
        np.zeros((4, 2), np.float32),
        epochs=3,
        verbose=0,
        callbacks=[lpn_tf.LambdaSchedule(schedule), recorder],
    )
    assert recorder.seen == [[v] for v in expected]  # every λ of the model moves together
    assert history.history["lambda"] == expected


def test_set_lambda_and_finalize() -> None:
    model = _model()
    model(np.ones((1, 4), np.float32))
    assert lpn_tf.set_lambda(model, 0.5) == 3  # input tensor, kernel and output quantizers (int8 has no λ)
    assert {float(v.numpy()) for v in lambda_variables(model)} == {0.5}
    layer = model.layers[2]
    assert lpn_tf.set_lambda(layer, 0.25) == 2
    assert lpn_tf.set_lambda(layer.kernel_quantizer, 1.0) == 1
    assert lpn_tf.finalize(model) is model
    assert {float(v.numpy()) for v in lambda_variables(model)} == {0.0}
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        lpn_tf.set_lambda(model, 1.5)
    with pytest.raises(ValueError, match="no λ variables"):
        lpn_tf.set_lambda(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), 0.5)
    with pytest.raises(ValueError, match="no λ variables"):
        lpn_tf.set_lambda(qz.get("shift3"), 0.5)  # not built yet
    with pytest.raises(ValueError, match="empty"):
        lpn_tf.LambdaSchedule([])
