"""The runtime's integer-only scale arithmetic == TFLite's double / float arithmetic, bit for bit.

The firmware never uses floating point; it decodes float32 scale bit patterns and reproduces
``QuantizeMultiplier((double)a * (double)b / (double)c * 2^k)`` and the float32 ``round(f / scale)`` of
CalculateActivationRangeQuantized with integers. The oracles below use Python/numpy IEEE arithmetic,
which is what TFLite's C++ does.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np
import pytest

from lpn_tf.runtime import host

ONE = 0x3F800000


def tflite_quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier (non single-rounding build) on a Python double."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = math.floor(q * 2.0**31 + 0.5)  # TfLiteRound: half away from zero (q > 0)
    if q_fixed == 2**31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def bits(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, np.float32).view(np.uint32)


def random_scales(rng: np.random.Generator, n: int) -> np.ndarray:
    """float32 bit patterns: typical scales, wide exponents, subnormals and exact powers of two."""
    typical = bits(np.exp(rng.uniform(np.log(1e-8), np.log(1e3), n)))
    wide = (rng.integers(1, 255, n, dtype=np.uint32) << 23) | rng.integers(0, 1 << 23, n, dtype=np.uint32)
    subnormal = rng.integers(1, 1 << 23, n, dtype=np.uint32)
    power = rng.integers(60, 190, n, dtype=np.uint32) << 23
    pick = rng.integers(0, 10, n)
    return np.where(pick < 6, typical, np.where(pick < 8, wide, np.where(pick < 9, subnormal, power))).astype(
        np.uint32)


def test_quantize_multiplier_matches_tflite_doubles_on_random_scales() -> None:
    rng = np.random.default_rng(2024)
    n = 100_000
    a, b, c = random_scales(rng, n), random_scales(rng, n), random_scales(rng, n)
    b[: n // 4] = ONE  # the a / c form (ADD, MEAN)
    pow2 = rng.integers(-20, 27, n).astype(np.int32)
    mult, shift, status = host.quantize_multiplier_batch(a, b, c, pow2)
    assert (status == 0).all()
    fa, fb, fc = (v.view(np.float32).astype(np.float64) for v in (a, b, c))
    real = fa * fb * np.exp2(pow2.astype(np.float64)) / fc  # exact product, one rounding (IEEE double)
    expected = [tflite_quantize_multiplier(float(r)) for r in real]
    got = list(zip(mult.tolist(), shift.tolist(), strict=True))
    mismatches = [(i, got[i], expected[i]) for i in range(n) if got[i] != expected[i]]
    assert not mismatches, mismatches[:5]
    assert len({s for _, s in expected}) > 100  # the sample spans many exponents


def test_quantize_multiplier_edge_cases() -> None:
    def one(a: int, b: int, c: int, p: int = 0) -> tuple[int, int, int]:
        m, s, st = host.quantize_multiplier_batch(np.array([a]), np.array([b]), np.array([c]), np.array([p]))
        return int(m[0]), int(s[0]), int(st[0])

    # (1 + 2^-23)(1 - 2^-23) = 1 - 2^-46: q * 2^31 rounds up to 2^31 -> (2^30, shift + 1)
    assert one(0x3F800001, 0x3F7FFFFE, ONE) == (2**30, 1, 0)
    assert one(0, ONE, ONE) == (0, 0, 0)  # zero multiplier
    assert one(0x1E3CE508, 0x1E3CE508, ONE) == (0, 0, 0)  # 1e-20^2: shift < -31 -> 0
    assert one(ONE, ONE, ONE) == (2**30, 1, 0)  # exactly 1.0
    quantization = host.STATUS["QUANTIZATION"]
    for bad in (0xBF800000, 0x7F800000, 0x7FC00000):  # -1.0, +inf, NaN
        assert one(bad, ONE, ONE)[2] == quantization
    assert one(ONE, ONE, 0)[2] == quantization  # division by a zero scale


def test_activation_bound_matches_float32_rounding() -> None:
    """lpn_quantize_real: (int32)round(float(value) / float(scale)) in float32, ties away from zero."""
    lib = host.load_library()
    fn = lib.lpn_quantize_real
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_int32, ctypes.c_uint32, ctypes.POINTER(ctypes.c_int32)]
    rng = np.random.default_rng(5)
    near_ties = bits(np.float32(6.0) / np.arange(1, 2000, dtype=np.float32))  # 6 / scale close to integers
    scales = np.concatenate([random_scales(rng, 20_000), near_ties])
    out = ctypes.c_int32()
    checked = 0
    for value in (-1, 1, 6):
        quotient = np.float32(value) / scales.view(np.float32)  # IEEE single division
        for s_bits, q in zip(scales.tolist(), quotient.tolist(), strict=True):
            assert fn(value, s_bits, ctypes.byref(out)) == 0
            if math.isfinite(q):
                r = math.floor(abs(q) + 0.5) * (1 if q >= 0 else -1)
            else:  # float32 overflow: +-inf, saturated by the runtime
                r = int(math.copysign(2**40, q))
            expected = max(min(r, 2**31 - 1), -(2**31 - 1))
            assert out.value == expected, (value, hex(s_bits), q)
            checked += 1
    assert checked > 60_000


@pytest.mark.parametrize("scale_bits", [0, 0x80000000, 0xBF000000, 0x7F800000, 0xFFC00000])
def test_activation_bound_rejects_bad_scales(scale_bits: int) -> None:
    lib = host.load_library()
    out = ctypes.c_int32()
    lib.lpn_quantize_real.argtypes = [ctypes.c_int32, ctypes.c_uint32, ctypes.POINTER(ctypes.c_int32)]
    assert lib.lpn_quantize_real(6, scale_bits, ctypes.byref(out)) == host.STATUS["QUANTIZATION"]
