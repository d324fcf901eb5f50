"""Accuracy of the exported integer model (reference executor) equals the QAT model's within 0.2 points.

The demo CNNs of ``lpn_tf.models`` (MNIST-1D: Conv (k,1)+BN+ReLU blocks, Flatten, Dense; digits: Conv+BN+ReLU,
GAP, Dense) trained briefly (the accuracies themselves mean little; the test compares the QAT model at
λ = 0 with its integer graph on the whole test set). Slow: ``pytest -m slow tests/test_lowering_accuracy.py``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import lpn_tf
from lpn_tf import data, models
from lpn_tf._keras import keras
from lpn_tf.export import ReferenceExecutor, lower
from lpn_tf.export.lowering import quantize_inputs

pytestmark = pytest.mark.slow

DATA = {"mnist1d": data.mnist1d, "digits": data.digits}
BUILD = {"mnist1d": models.mnist1d_cnn, "digits": models.digits_cnn}
# digits has 1437 training images: more epochs so that the BatchNormalization statistics settle
EPOCHS = {"mnist1d": (10, 3), "digits": (40, 6)}  # float, QAT


def _compile(model: keras.Model, lr: float) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


@functools.cache
def _float(name: str) -> keras.Model:
    x, y, _, _ = DATA[name]()
    keras.utils.set_random_seed(0)
    model = _compile(BUILD[name](), 3e-3)
    model.fit(x, y, batch_size=64, epochs=EPOCHS[name][0], verbose=0)
    return model


def _qat(name: str, scheme: str) -> keras.Model:
    x, y, _, _ = DATA[name]()
    keras.utils.set_random_seed(1)
    model = _compile(lpn_tf.quantize_model(_float(name), scheme), 1e-3)
    callbacks = [lpn_tf.LambdaSchedule([1.0, 0.25, 2**-4, 2**-7])] if scheme != "int8" else []
    model.fit(x, y, batch_size=32, epochs=EPOCHS[name][1], verbose=0, callbacks=callbacks)
    if scheme != "int8":
        lpn_tf.finalize(model)
    return model


@pytest.mark.parametrize("name", ["mnist1d", "digits"])
@pytest.mark.parametrize(("scheme", "ops"), [("int8", "builtin"), ("shift", "lpn"), ("shift", "builtin")])
def test_integer_model_accuracy_equals_the_qat_model(name: str, scheme: str, ops: str) -> None:
    _, _, x_test, y_test = DATA[name]()
    model = _qat(name, scheme)
    qat_top1 = 100.0 * float(np.mean(np.argmax(model.predict(x_test, verbose=0), -1) == y_test))
    graph = lower(model, ops, batch=len(x_test))
    (logits,) = ReferenceExecutor(graph).run(*quantize_inputs(model, x_test))
    int_top1 = 100.0 * float(np.mean(np.argmax(logits.reshape(len(x_test), -1), -1) == y_test))
    print(f"{name} {scheme}/{ops}: QAT {qat_top1:.2f}%, integer {int_top1:.2f}% ({len(x_test)} test samples)")
    assert qat_top1 > 50.0
    assert abs(int_top1 - qat_top1) <= 0.2
