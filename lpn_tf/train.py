"""Training recipes shared by the demo and the benchmarks: float training and QAT fine-tuning.

One recipe, so the demo's numbers and ``make bench``'s numbers come from the same code:

* float: Adam, learning rate ``3e-3`` with cosine decay to 0, batch 64;
* QAT fine-tuning from the float weights: Adam ``2e-3`` cosine, batch 32, the paper's λ schedule
  (``LambdaSchedule``) for λ-blend schemes, then ``finalize`` (λ = 0) — at most 15 epochs.

Progress is one bar per run (epochs, with loss and accuracy), shown on a terminal only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tqdm.auto import tqdm

from lpn_tf._keras import keras
from lpn_tf.schedule import PAPER_SCHEDULE, LambdaSchedule, finalize

FLOAT_LR = 3e-3
FLOAT_BATCH = 64
FINE_TUNE_LR = 2e-3
FINE_TUNE_BATCH = 32


class EpochProgress(keras.callbacks.Callback):
    """A tqdm bar over epochs with the latest loss/accuracy; silent when stderr is not a terminal."""

    def __init__(self, epochs: int, desc: str) -> None:
        super().__init__()
        self.epochs, self.desc = epochs, desc
        self.bar: Any = None

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self.bar = tqdm(total=self.epochs, desc=self.desc, unit="epoch", leave=False, disable=None)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        self.bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items() if k in ("loss", "accuracy")})
        self.bar.update(1)

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        self.bar.close()


def compile_classifier(model: keras.Model, lr: float) -> keras.Model:
    """Adam + sparse categorical cross-entropy on logits + accuracy."""
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def _cosine(lr: float, epochs: int) -> keras.callbacks.Callback:
    return keras.callbacks.LearningRateScheduler(lambda e: lr * 0.5 * (1 + np.cos(np.pi * e / epochs)))


def train_float(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int = 60, seed: int = 0,
                desc: str = "float") -> keras.Model:
    """Trains a float classifier (logits output) on ``x`` [N, ...] and integer labels ``y`` [N]."""
    keras.utils.set_random_seed(seed)
    compile_classifier(model, FLOAT_LR)
    model.fit(x, y, batch_size=FLOAT_BATCH, epochs=epochs, verbose=0, shuffle=True,
              callbacks=[_cosine(FLOAT_LR, epochs), EpochProgress(epochs, desc)])
    return model


def fine_tune(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int = 15, lam: bool = True,
              seed: int = 0, desc: str = "qat", lr: float = FINE_TUNE_LR,
              batch: int = FINE_TUNE_BATCH) -> keras.Model:
    """Fine-tunes a QAT model from its float weights; with ``lam`` the paper's λ schedule runs over the
    epochs (its prefix when ``epochs < 15``) and the model is finalized (λ = 0) afterwards."""
    keras.utils.set_random_seed(seed)
    compile_classifier(model, lr)
    callbacks: list[Any] = [_cosine(lr, epochs), EpochProgress(epochs, desc)]
    if lam:
        callbacks.append(LambdaSchedule(PAPER_SCHEDULE[:epochs]))
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=callbacks, shuffle=True)
    if lam:
        finalize(model)
    return model


def top1(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy in percent."""
    logits = model.predict(x, batch_size=512, verbose=0)
    return 100.0 * float(np.mean(np.argmax(logits, axis=-1) == y))
