"""The λ schedule of the shift-bit paper: a callback, ``set_lambda`` and ``finalize``.

λ blends each quantizer between the identity (λ = 1) and the hard quantizer (λ = 0). Every λ is a
non-trainable scalar variable whose name contains ``"lpn_lambda"`` (one per quantizer, including
quantizers wrapped for tfmot); :func:`set_lambda` sets all of them at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lpn_tf._keras import keras, tf
from lpn_tf.quantizers import LAMBDA_VARIABLE_NAME

__all__ = ["PAPER_SCHEDULE", "LambdaSchedule", "finalize", "lambda_variables", "set_lambda"]

PAPER_SCHEDULE: tuple[float, ...] = (
    1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125, 2**-4, 2**-4, 2**-5, 2**-6, 2**-7,
)  # fmt: skip
"""λ per epoch over the paper's 15 epochs: 1, ½×3, ¼×3, ⅛×3, 2⁻⁴×2, 2⁻⁵, 2⁻⁶, 2⁻⁷."""


def lambda_variables(target: Any) -> list[tf.Variable]:
    """All λ variables of a model, layer or quantizer (anything with ``.variables``), deduplicated."""
    variables = getattr(target, "variables", None)
    if variables is None:
        raise TypeError(f"cannot find λ variables in {type(target).__name__}: it has no .variables")
    seen: dict[int, tf.Variable] = {}
    for v in variables:
        if LAMBDA_VARIABLE_NAME in v.name:
            seen.setdefault(id(v), v)
    return list(seen.values())


def set_lambda(target: Any, value: float) -> int:
    """Set λ of every quantizer in ``target`` (model, layer or quantizer) to ``value`` in [0, 1].

    Returns the number of λ variables set. Raises ``ValueError`` if ``target`` has none (e.g. a float
    model, or a quantizer that is not built yet: build it or call it once first).
    """
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"λ must be in [0, 1], got {value}")
    found = lambda_variables(target)
    if not found:
        name = getattr(target, "name", type(target).__name__)
        raise ValueError(f"{name!r} has no λ variables (no built lpn λ-blend quantizer inside)")
    for v in found:
        v.assign(value)
    return len(found)


def finalize(model: Any) -> Any:
    """Set λ = 0 everywhere (the hard quantizer, as evaluated and exported); returns ``model``."""
    set_lambda(model, 0.0)
    return model


class LambdaSchedule(keras.callbacks.Callback):
    """Sets λ at the start of every epoch and logs it as ``lambda`` (no-op for models without λ).

    Args:
        schedule: a sequence of λ values, one per epoch (epochs past its end keep the last value), or a
            function ``epoch (0-based) → λ``. Default: :data:`PAPER_SCHEDULE`.
        verbose: print λ at each epoch start.
    """

    def __init__(
        self, schedule: Sequence[float] | Callable[[int], float] = PAPER_SCHEDULE, verbose: int = 0
    ) -> None:
        super().__init__()
        if not callable(schedule):
            schedule = tuple(float(v) for v in schedule)
            if not schedule:
                raise ValueError("λ schedule is empty")
        self.schedule = schedule
        self.verbose = verbose

    def value(self, epoch: int) -> float:
        """λ for a 0-based epoch."""
        if callable(self.schedule):
            return float(self.schedule(epoch))
        return self.schedule[min(epoch, len(self.schedule) - 1)]

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        lam = self.value(epoch)
        # a model without λ-blend quantizers (e.g. the int8 scheme) has nothing to schedule
        for v in lambda_variables(self.model):
            v.assign(lam)
        if self.verbose:
            print(f"epoch {epoch + 1}: λ = {lam:g}")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["lambda"] = self.value(epoch)
