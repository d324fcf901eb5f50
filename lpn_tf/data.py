"""Small offline data sets for tests, benchmarks and the demo.

Both return ``(x_train, y_train, x_test, y_test)`` numpy arrays; nothing is downloaded.

* :func:`mnist1d` — MNIST-1D generated with the ``mnist1d`` package's default arguments
  (``make_dataset(get_dataset_args())``, seed 42): 4000 train / 1000 test sequences of length 40.
  ``x``: float32 ``(N, 40, 1)`` (the package standardises to mean 0, std 1); ``y``: int32 ``(N,)`` in 0…9.
  The generated arrays are cached in ``build/data/mnist1d.npz`` (relative to the working directory;
  pass ``cache_dir=None`` to disable).
* :func:`digits` — scikit-learn's 8×8 digits (1797 images), a fixed stratified 80/20 split with seed 0:
  1437 train / 360 test. ``x``: float32 ``(N, 8, 8, 1)`` scaled to [0, 1] (pixel / 16); ``y``: int32 ``(N,)``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["digits", "mnist1d"]

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def mnist1d(cache_dir: str | os.PathLike[str] | None = "build/data") -> Split:
    """MNIST-1D, default split: ``x`` float32 ``(4000|1000, 40, 1)``, ``y`` int32 ``(4000|1000,)``."""
    path = None if cache_dir is None else Path(cache_dir) / "mnist1d.npz"
    if path is not None and path.exists():
        with np.load(path) as f:
            return f["x"], f["y"], f["x_test"], f["y_test"]
    from mnist1d.data import get_dataset_args, make_dataset

    data = make_dataset(get_dataset_args())
    out = (
        np.asarray(data["x"], np.float32)[..., None],
        np.asarray(data["y"], np.int32),
        np.asarray(data["x_test"], np.float32)[..., None],
        np.asarray(data["y_test"], np.int32),
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, x=out[0], y=out[1], x_test=out[2], y_test=out[3])
        os.replace(tmp, path)
    return out


def digits() -> Split:
    """sklearn digits, stratified 80/20 split (seed 0): ``x`` float32 ``(N, 8, 8, 1)`` in [0, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[..., None]
    y = d.target.astype(np.int32)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    return x_tr, y_tr, x_te, y_te
