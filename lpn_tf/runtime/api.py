"""The backend-independent runner API: ``rt = load(path, backend=...)``, ``y = rt.run(x)``.

A backend is a module of this package with a function ``open(path, **kwargs) -> Runner``. :data:`BACKENDS`
maps backend names to ``(module, keyword arguments)``; :func:`load` imports the module only when asked,
so ``import lpn_tf.runtime`` stays light.

Every runner follows the :class:`Runner` protocol:

* ``inputs`` / ``outputs``: one description per graph input/output with at least ``dtype`` (numpy) and
  ``shape`` (tuple) attributes (:class:`TensorDescription` for the reference backend);
* ``run(x)``: ``x`` is one array per input (a bare array for one input) in the model's integer type; an
  input may carry a leading axis of ``N`` samples when the model's batch is 1 — samples run one after
  another and outputs are stacked the same way. Returns one array for a single-output model, else a list;
* ``profile``: per-op rows (dicts) of the last ``run``, with at least ``op`` (index), ``kind`` and ``macs``;
  backends that measure add their numbers (``instructions``, ``cycles``, ``seconds``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

# backend name -> (module under lpn_tf.runtime, keyword arguments for its open())
BACKENDS: dict[str, tuple[str, dict[str, Any]]] = {
    "reference": ("lpn_tf.runtime.reference", {}),
    "litert": ("lpn_tf.runtime.litert", {}),
    "host": ("lpn_tf.runtime.host", {}),
    "qemu-m4": ("lpn_tf.runtime.qemu", {"target": "m4"}),
    "qemu-m7": ("lpn_tf.runtime.qemu", {"target": "m7"}),
    "qemu-m33": ("lpn_tf.runtime.qemu", {"target": "m33"}),
}


@dataclass(frozen=True)
class TensorDescription:
    """A graph input or output: tensor index, name, numpy dtype, shape, per-tensor scale and zero point."""

    index: int
    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    scale: float
    zero_point: int


@runtime_checkable
class Runner(Protocol):
    """What every backend's ``open()`` returns (see the module docstring)."""

    inputs: Sequence[Any]
    outputs: Sequence[Any]
    profile: list[dict[str, Any]]

    def run(self, x: np.ndarray | Sequence[np.ndarray]) -> np.ndarray | list[np.ndarray]: ...


class UnknownBackendError(ValueError):
    """``load`` was given a backend name that is not in :data:`BACKENDS`."""


def load(path: str | Path, backend: str = "reference", **kwargs: Any) -> Runner:
    """Open the .tflite at ``path`` with the named backend.

    Args:
        path: a .tflite file (lpn-written, or an int8 file from TFLiteConverter for builtin-only backends).
        backend: one of :data:`BACKENDS` (``"reference"``, ``"litert"``, ``"host"``, ``"qemu-m4"``,
            ``"qemu-m7"``, ``"qemu-m33"``).
        **kwargs: passed to the backend's ``open``.

    Raises:
        UnknownBackendError: unknown name (the message lists the known backends).
        FileNotFoundError: no file at ``path``.
        ImportError: the backend's module is not available in this installation.
    """
    if backend not in BACKENDS:
        raise UnknownBackendError(f"unknown backend {backend!r}; known backends: {', '.join(BACKENDS)}")
    if not Path(path).is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    module_name, defaults = BACKENDS[backend]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        raise ImportError(f"backend {backend!r} needs module {module_name}, which is not installed") from None
    return module.open(path, **{**defaults, **kwargs})


def split_batch(
    specs: Sequence[Any], x: np.ndarray | Sequence[np.ndarray], source: str
) -> list[list[np.ndarray]]:
    """Check ``x`` against input descriptions and split it into per-invoke samples.

    Each input is accepted with exactly its shape or, for batch-1 inputs, as ``(N, *shape[1:])``.
    Raises TypeError for a wrong dtype and ValueError for a wrong shape or count, naming the input.
    """
    arrays = [x] if isinstance(x, np.ndarray) else list(x)
    if len(arrays) != len(specs):
        raise ValueError(f"{source}: the model has {len(specs)} input(s), got {len(arrays)}")
    per_input: list[list[np.ndarray]] = []
    for i, (spec, value) in enumerate(zip(specs, arrays, strict=True)):
        value = np.asarray(value)
        shape = tuple(spec.shape)
        if value.dtype != spec.dtype:
            raise TypeError(
                f"{source}: input {i} must be {spec.dtype} (the model's input type), got {value.dtype}"
            )
        if value.shape == shape:
            chunks = [value]
        elif shape and shape[0] == 1 and value.shape[1:] == shape[1:] and value.shape[0] > 0:
            chunks = [value[k : k + 1] for k in range(value.shape[0])]
        else:
            raise ValueError(
                f"{source}: input {i} must have shape {shape} (or (N, *{shape[1:]})), got {value.shape}"
            )
        if per_input and len(chunks) != len(per_input[0]):
            raise ValueError(f"{source}: inputs disagree on the number of samples")
        per_input.append(chunks)
    return [list(sample) for sample in zip(*per_input, strict=True)]


def join_batch(results: Sequence[Sequence[np.ndarray]]) -> np.ndarray | list[np.ndarray]:
    """Stack per-sample outputs (``results[output][sample]``) along axis 0; one output -> one array."""
    joined = [np.concatenate(list(r), axis=0) if len(r) > 1 else r[0] for r in results]
    return joined[0] if len(joined) == 1 else joined


def first_difference(want: np.ndarray, got: np.ndarray) -> str | None:
    """``None`` when ``got`` equals ``want`` bit for bit (same dtype, shape and values); else one line
    saying how they differ: dtype, shape, or how many values and the first (flat index, both values)."""
    if want.dtype != got.dtype or want.shape != got.shape:
        return f"expected {want.dtype}{list(want.shape)}, got {got.dtype}{list(got.shape)}"
    diff = np.flatnonzero(want.astype(np.int64) != got.astype(np.int64))
    if diff.size == 0:
        return None
    i = int(diff[0])
    return (f"{diff.size} of {want.size} values differ, first at flat index {i}: "
            f"{want.reshape(-1)[i]} vs {got.reshape(-1)[i]}")
