"""Data sets: shapes, dtypes, splits and the MNIST-1D cache."""

from __future__ import annotations

import numpy as np

from lpn_tf import data


def test_mnist1d_default_split_and_cache(tmp_path) -> None:
    x, y, x_te, y_te = data.mnist1d(cache_dir=tmp_path)
    assert x.shape == (4000, 40, 1) and x_te.shape == (1000, 40, 1)
    assert x.dtype == np.float32 and y.dtype == np.int32 and y.shape == (4000,) and y_te.shape == (1000,)
    assert set(np.unique(y)) == set(range(10))
    assert abs(float(np.concatenate([x, x_te]).std()) - 1.0) < 1e-3  # the package standardises
    assert (tmp_path / "mnist1d.npz").exists()
    again = data.mnist1d(cache_dir=tmp_path)  # from the cache, identical
    for a, b in zip((x, y, x_te, y_te), again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_digits_fixed_stratified_split() -> None:
    x, y, x_te, y_te = data.digits()
    assert x.shape == (1437, 8, 8, 1) and x_te.shape == (360, 8, 8, 1)
    assert x.dtype == np.float32 and y.dtype == np.int32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert np.bincount(y_te).min() >= 35  # stratified: every class ~10 % of the test set
    x2, _, x_te2, _ = data.digits()
    np.testing.assert_array_equal(x_te, x_te2)
