"""Fixed-point primitives against plain Python-integer definitions and pinned TFLite values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpn_tf.export import fixed_point as fp

INT32 = st.integers(-(2**31), 2**31 - 1)


def _trunc_div(n: int, d: int) -> int:
    q = abs(n) // d
    return q if n >= 0 else -q


def rdbp_py(x: int, e: int) -> int:
    """x / 2^e rounded half away from zero."""
    q, r = divmod(abs(x), 1 << e)
    if e and 2 * r >= (1 << e):
        q += 1
    return q if x >= 0 else -q


@settings(max_examples=300)
@given(INT32, INT32)
def test_srdhm_matches_python(a: int, b: int) -> None:
    assert int(fp.saturating_rounding_doubling_high_mul(np.int64(a), np.int64(b))) == _srdhm_exact(a, b)


def _srdhm_exact(a: int, b: int) -> int:
    if a == b == -(2**31):
        return 2**31 - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return _trunc_div(ab + nudge, 1 << 31)


@settings(max_examples=300)
@given(INT32, st.integers(0, 31))
def test_rounding_divide_by_pot_matches_python(x: int, e: int) -> None:
    assert int(fp.rounding_divide_by_pot(np.int64(x), e)) == rdbp_py(x, e)


def test_pinned_values() -> None:
    assert fp.quantize_multiplier(0.5) == (2**30, 0)
    assert fp.quantize_multiplier(1.0) == (2**30, 1)
    assert fp.quantize_multiplier(0.25) == (2**30, -1)
    assert fp.quantize_multiplier(0.0) == (0, 0)
    assert fp.quantize_multiplier(2.0**-40) == (0, 0)
    q, s = fp.quantize_multiplier(1 - 2.0**-40)  # rounds up to 2^31 -> halved, shift + 1
    assert (q, s) == (2**30, 1)
    assert int(fp.saturating_rounding_doubling_high_mul(np.int64(-(2**31)), -(2**31))) == 2**31 - 1
    assert fp.rounding_divide_by_pot(np.array([5, -5, 6, -6, 7, -7]), 1).tolist() == [3, -3, 3, -3, 4, -4]
    with pytest.raises(ValueError):
        fp.quantize_multiplier(-1.0)


@settings(max_examples=200)
@given(st.floats(1e-6, 100.0))
def test_quantize_multiplier_is_accurate(m: float) -> None:
    q, s = fp.quantize_multiplier(m)
    assert 2**30 <= q < 2**31
    assert math.isclose(q * 2.0 ** (s - 31), m, rel_tol=2**-30)


@settings(max_examples=200)
@given(st.integers(-(2**20), 2**20), st.floats(1e-4, 0.99))
def test_requantize_close_to_real_product(x: int, m: float) -> None:
    q, s = fp.quantize_multiplier(m)
    got = int(fp.multiply_by_quantized_multiplier(np.int64(x), q, s))
    assert abs(got - x * m) <= 1.0


def test_overflow_is_reported() -> None:
    with pytest.raises(OverflowError, match="conv 3"):
        fp.check_int32(np.array([2**31]), "conv 3")
    with pytest.raises(ValueError, match=r"\[0, 62\]"):
        fp.rounding_shift_right(np.array([1]), 63)
