"""Fixed-point arithmetic shared by every integer op: multiplier encoding and requantization.

Two schemes live here, both documented in docs/integer-spec.md:

* **TFLite scheme** (builtin ops). A positive real multiplier ``M`` is encoded once, at prepare /
  export time, as ``M ≈ q · 2^(shift − 31)`` with an int32 significand ``q ∈ [2^30, 2^31)`` and an
  integer ``shift`` (:func:`quantize_multiplier`, the same algorithm as TFLite's
  ``QuantizeMultiplier``). At run time an int32 ``x`` is scaled with
  ``RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x · 2^max(shift, 0), q), max(−shift, 0))``
  (:func:`multiply_by_quantized_multiplier`) — TFLite's default double-rounding path, which LiteRT and
  TFLite Micro both use.
* **LPN scheme** (LPN custom ops). A multiplier is an integer mantissa ``m`` times ``2^−k``; scaling is
  ``(x · m + 2^(k−1)) >> k`` in int64 (:func:`rounding_shift_right`): one multiply, one add, one
  arithmetic shift, ties rounded towards +∞.

All run-time functions take and return numpy integer arrays (any shape), compute in int64 and never
use floating point.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def tflite_round(value: float) -> int:
    """Round half away from zero, like C's ``std::round`` (TFLite's ``TfLiteRound``)."""
    magnitude = math.floor(abs(value) + 0.5)
    return int(magnitude) if value >= 0 else -int(magnitude)


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """Encode a real multiplier as TFLite does: ``real ≈ q · 2^(shift − 31)``.

    Args:
        real_multiplier: a non-negative real number (a ratio of scales), as a Python float (double).

    Returns:
        ``(q, shift)``: ``q`` an int32 significand in ``[2^30, 2^31)`` (or 0), ``shift`` the power of two
        (positive = left shift). Multipliers too small to matter (``shift < −31``) encode as ``(0, 0)``.

    Raises:
        ValueError: for a negative, infinite or NaN multiplier.
    """
    if not math.isfinite(real_multiplier) or real_multiplier < 0:
        raise ValueError(f"multiplier must be finite and >= 0, got {real_multiplier!r}")
    if real_multiplier == 0.0:
        return 0, 0
    fraction, shift = math.frexp(real_multiplier)
    q = tflite_round(fraction * float(1 << 31))
    if q == 1 << 31:
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if q > INT32_MAX:  # pragma: no cover - impossible after the branch above
        raise ValueError(f"multiplier {real_multiplier!r} does not fit int32")
    return q, shift


def _as_int64(x: np.ndarray | int) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def check_int32(x: np.ndarray, what: str) -> np.ndarray:
    """Return ``x`` unchanged, or raise ``OverflowError`` naming ``what`` if a value leaves int32."""
    x = _as_int64(x)
    if x.size and (int(x.min()) < INT32_MIN or int(x.max()) > INT32_MAX):
        raise OverflowError(f"{what}: value range [{int(x.min())}, {int(x.max())}] leaves int32")
    return x


def saturating_rounding_doubling_high_mul(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp's ``SaturatingRoundingDoublingHighMul`` for int32 ``a`` and ``b`` (broadcasting).

    Returns the high 32 bits of ``2·a·b`` rounded to nearest (ties away from zero); the single overflow
    case ``a = b = −2^31`` saturates to ``2^31 − 1``.
    """
    a = _as_int64(a)
    b = _as_int64(b)
    ab = a * b
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    total = ab + nudge
    # C integer division truncates towards zero.
    high = np.where(total >= 0, total >> 31, -((-total) >> 31))
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    return np.where(overflow, np.int64(INT32_MAX), high)


def rounding_divide_by_pot(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp's ``RoundingDivideByPOT``: ``x / 2^exponent`` rounded to nearest, ties away from zero.

    ``exponent`` must be in ``[0, 31]``.
    """
    x = _as_int64(x)
    exponent = _as_int64(exponent)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> exponent) + (remainder > threshold).astype(np.int64)


def multiply_by_quantized_multiplier(
    x: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int, what: str = "requantize"
) -> np.ndarray:
    """TFLite's ``MultiplyByQuantizedMultiplier`` (double rounding): ``x · q · 2^(shift − 31)``.

    Args:
        x: int32 values (held in int64), any shape.
        multiplier: int32 significand(s) ``q``, broadcast against ``x`` (per-channel: the last axis).
        shift: power(s) of two from :func:`quantize_multiplier`, broadcast like ``multiplier``.
        what: names the op/tensor in the overflow error.

    Returns:
        int64 array holding int32 results.
    """
    x = check_int32(x, what)
    shift = _as_int64(shift)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = check_int32(x * (np.int64(1) << left), f"{what} (left shift)")
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right)


def multiply_by_quantized_multiplier_single(
    x: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int, what: str = "requantize"
) -> np.ndarray:
    """Single-rounding ``MultiplyByQuantizedMultiplier``: ``sat32((x·q + 2^(30−shift)) >> (31−shift))``.

    The FULLY_CONNECTED requantization (LiteRT 2.3's reference kernel rounds this way; TFLite Micro
    rounds twice, see docs/integer-spec.md). ``shift`` in ``[−31, 30]``; ties round towards +∞.

    Returns:
        int64 array holding int32 results.
    """
    x = check_int32(x, what)
    total = 31 - _as_int64(shift)
    if np.any(total < 1) or np.any(total > 62):
        raise ValueError(f"{what}: multiplier shift out of [-31, 30]")
    product = x * _as_int64(multiplier)  # |x| < 2^31, 0 <= q < 2^31: exact in int64
    return np.clip((product + (np.int64(1) << (total - 1))) >> total, INT32_MIN, INT32_MAX)


def rounding_shift_right(x: np.ndarray, shift: np.ndarray | int) -> np.ndarray:
    """LPN rounding shift: ``(x + 2^(shift−1)) >> shift`` (arithmetic), ``x`` unchanged for ``shift = 0``.

    Ties round towards +∞ ("half up"). ``x`` is int64, ``shift`` in ``[0, 62]`` (broadcasting).
    """
    x = _as_int64(x)
    shift = _as_int64(shift)
    if np.any(shift < 0) or np.any(shift > 62):
        raise ValueError(f"LPN shift must be in [0, 62], got range [{int(shift.min())}, {int(shift.max())}]")
    half = np.where(shift > 0, np.int64(1) << np.maximum(shift - 1, 0), np.int64(0))
    return (x + half) >> shift


GRID_NEAREST = 0
GRID_CEIL = 1
GRID_POW2 = 2
GRIDS: dict[str, int] = {"nearest": GRID_NEAREST, "ceil": GRID_CEIL, "pow2": GRID_POW2}
"""Output grids of the LPN requantization (option ``grid``, docs/integer-spec.md §5): ``nearest`` (int8
affine tensors), ``ceil`` (Uniform activations: magnitude rounded up, no zero level) and ``pow2`` (Shift
activations: magnitude rounded up to a power of two, no zero level)."""

_POW2_CAP = 1 << 30  # magnitudes are capped here before rounding up to a power of two (int32-safe)


def grid_round(p: np.ndarray, shift: np.ndarray | int, grid: int) -> np.ndarray:
    """``p · 2^-k`` rounded onto an LPN output grid, in integers only (``p`` int64, ``k`` in [0, 62]).

    * ``GRID_NEAREST``: ``(p + 2^(k−1)) >> k`` (:func:`rounding_shift_right`, ties towards +∞);
    * ``GRID_CEIL``: away from zero with no zero level: ``p > 0 → max(⌈v⌉, 1)``, ``p ≤ 0 → min(⌊v⌋, −1)``
      with ``v = p·2^-k``, ``⌈v⌉ = (p + 2^k − 1) >> k`` and ``⌊v⌋ = p >> k``;
    * ``GRID_POW2``: ``±2^j`` with ``2^j`` the smallest power of two ``≥ max(⌈|v|⌉, 1)`` (magnitude capped
      at 2^30 first), sign + for ``p > 0`` and − for ``p ≤ 0``. Since ``2^j`` is an integer,
      ``|v| ≤ 2^j ⇔ ⌈|v|⌉ ≤ 2^j``: this is exactly ``2^⌈log2 |v|⌉`` for ``|v| ≥ 1``.

    Zero maps to −1 on the two ceil grids, as the QAT quantizers' ``sgn(0) = −1``; a ReLU clamp
    (``act_min = 0``) turns it into the unsigned grids' 0.
    """
    p = _as_int64(p)
    if grid == GRID_NEAREST:
        return rounding_shift_right(p, shift)
    k = _as_int64(shift)
    if np.any(k < 0) or np.any(k > 62):
        raise ValueError("LPN shift must be in [0, 62]")
    bias = (np.int64(1) << k) - 1
    if grid == GRID_CEIL:
        return np.where(p > 0, np.maximum((p + bias) >> k, 1), np.minimum(p >> k, -1))
    if grid == GRID_POW2:
        mag = np.where(p > 0, (p + bias) >> k, (-p + bias) >> k)
        mag = np.clip(mag, 1, _POW2_CAP)
        # smallest power of two >= mag: 2^bit_length(mag − 1)
        j = np.zeros(mag.shape, np.int64)
        rest = mag - 1
        while np.any(rest > 0):
            j += (rest > 0).astype(np.int64)
            rest = rest >> 1
        return np.where(p > 0, np.int64(1) << j, -(np.int64(1) << j))
    raise ValueError(f"unknown LPN output grid {grid!r}; known: {GRIDS}")


def lpn_requantize(
    acc: np.ndarray,
    mantissa: np.ndarray | int,
    shift: np.ndarray | int,
    what: str = "requantize",
    grid: int = GRID_NEAREST,
) -> np.ndarray:
    """LPN requantization of int32 accumulators: ``sat32(round_grid(acc · m · 2^-k))``.

    Args:
        acc: int32 accumulators (held in int64), per-channel values on the last axis.
        mantissa: signed integer mantissas ``m`` (|m| < 2^15), broadcast on the last axis.
        shift: right shifts ``k`` in ``[0, 62]``, broadcast on the last axis.
        grid: the output grid (:data:`GRIDS`, :func:`grid_round`); nearest is ``(p + 2^(k−1)) >> k``.

    Returns:
        int64 array of values saturated to int32 (the caller adds the zero point and clamps).
    """
    acc = check_int32(acc, what)
    product = acc * _as_int64(mantissa)  # |acc| < 2^31, |m| < 2^15: fits int64 exactly
    return np.clip(grid_round(product, shift, grid), INT32_MIN, INT32_MAX)


def double_quantize(real_multiplier: float, mantissa_bits: int, max_shift: int = 47) -> tuple[int, int]:
    """Encode a real multiplier as an LPN pair ``(m, k)`` with ``real ≈ m · 2^−k``.

    The mantissa is a signed ``mantissa_bits``-bit integer, ``|m| ≤ 2^(mantissa_bits−1) − 1``, chosen
    with the largest ``k ≤ max_shift`` that keeps it in range (most precision); ``m`` is rounded half away
    from zero. ``mantissa_bits = 1`` is not allowed; use :func:`power_of_two` for pure shifts.

    Raises:
        ValueError: if the multiplier is too large for the mantissa with ``k = 0`` or not finite.
    """
    if not 2 <= mantissa_bits <= 16:
        raise ValueError(f"mantissa_bits must be in [2, 16], got {mantissa_bits}")
    if not math.isfinite(real_multiplier):
        raise ValueError(f"multiplier must be finite, got {real_multiplier!r}")
    limit = (1 << (mantissa_bits - 1)) - 1
    if real_multiplier == 0.0:
        return 0, 0
    for k in range(max_shift, -1, -1):
        m = tflite_round(math.ldexp(real_multiplier, k))
        if abs(m) <= limit:
            return m, k
    raise ValueError(
        f"multiplier {real_multiplier!r} exceeds the {mantissa_bits}-bit mantissa range even with shift 0"
    )


def power_of_two(real_multiplier: float, max_shift: int = 62) -> int:
    """Nearest pure power of two ``2^−k`` (``k ∈ [0, max_shift]``, nearest in log2) to a multiplier > 0."""
    if not (math.isfinite(real_multiplier) and real_multiplier > 0):
        raise ValueError(f"multiplier must be finite and > 0, got {real_multiplier!r}")
    k = -round(math.log2(real_multiplier))
    if not 0 <= k <= max_shift:
        raise ValueError(f"multiplier {real_multiplier!r} needs shift {k}, outside [0, {max_shift}]")
    return k
