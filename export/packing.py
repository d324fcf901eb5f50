"""Shift weight codes: sign + exponent in ``1 + s`` bits, and their packing into bytes.

A shift weight is ``±2^−e`` with ``e ∈ [0, 2^s − 1]`` (no zero level; papers.md §1). Its code is
``(sign << s) | e`` with ``sign = 1`` for negative values, so a code is ``code_bits = 1 + s`` bits wide.

Packing (docs/custom-ops.md): codes are taken in the row-major order of the logical weight tensor.
For ``code_bits ≤ 4`` two codes share a byte: element ``2j`` in the low nibble (bits 0–3) of byte ``j``,
element ``2j + 1`` in the high nibble (bits 4–7); an odd count leaves the last high nibble 0. For
``5 ≤ code_bits ≤ 8`` each code fills one byte. Unused high bits of a nibble/byte are 0.
"""

from __future__ import annotations

import numpy as np


def max_exponent(exponent_bits: int) -> int:
    """``E_max = 2^s − 1``, the largest exponent of ``s`` exponent bits."""
    return (1 << exponent_bits) - 1


def codes_per_byte(code_bits: int) -> int:
    """2 for ``code_bits ≤ 4``, 1 for ``5..8``."""
    if not 1 <= code_bits <= 8:
        raise ValueError(f"code_bits must be in [1, 8], got {code_bits}")
    return 2 if code_bits <= 4 else 1


def packed_size(count: int, code_bits: int) -> int:
    """Bytes needed for ``count`` codes."""
    per = codes_per_byte(code_bits)
    return (count + per - 1) // per


def encode(sign_negative: np.ndarray, exponent: np.ndarray, exponent_bits: int) -> np.ndarray:
    """Codes ``(sign << s) | e`` (uint8) from sign flags (True = negative) and exponents."""
    exponent = np.asarray(exponent, np.int64)
    if exponent.size and (exponent.min() < 0 or exponent.max() > max_exponent(exponent_bits)):
        raise ValueError(f"exponents must be in [0, {max_exponent(exponent_bits)}] for s={exponent_bits}")
    sign = np.asarray(sign_negative, bool).astype(np.int64)
    return ((sign << exponent_bits) | exponent).astype(np.uint8)


def decode(codes: np.ndarray, exponent_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Split codes into ``(negative: bool array, exponent: int64 array)``; rejects set bits above the code."""
    codes = np.asarray(codes, np.int64)
    if codes.size and codes.max() >= 1 << (exponent_bits + 1):
        raise ValueError(f"code {int(codes.max())} has bits above the {exponent_bits + 1}-bit code width")
    return (codes >> exponent_bits).astype(bool), codes & max_exponent(exponent_bits)


def pack(codes: np.ndarray, code_bits: int) -> np.ndarray:
    """Pack codes (any shape, row-major order) into a 1-D uint8 array."""
    flat = np.asarray(codes, np.uint8).reshape(-1)
    if flat.size and int(flat.max()) >= 1 << code_bits:
        raise ValueError(f"code {int(flat.max())} does not fit {code_bits} bits")
    if codes_per_byte(code_bits) == 1:
        return flat.copy()
    if flat.size % 2:
        flat = np.concatenate([flat, np.zeros(1, np.uint8)])
    return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8)


def unpack(packed: np.ndarray, count: int, code_bits: int) -> np.ndarray:
    """Inverse of :func:`pack`: the first ``count`` codes as a 1-D uint8 array.

    Raises ``ValueError`` if ``packed`` has the wrong length or padding bits are set.
    """
    packed = np.asarray(packed, np.uint8).reshape(-1)
    if packed.size != packed_size(count, code_bits):
        raise ValueError(
            f"{packed.size} packed bytes, expected {packed_size(count, code_bits)} for {count} codes"
        )
    if codes_per_byte(code_bits) == 1:
        codes = packed.copy()
    else:
        codes = np.empty(packed.size * 2, np.uint8)
        codes[0::2] = packed & 0x0F
        codes[1::2] = packed >> 4
        if count % 2 and codes[-1] != 0:
            raise ValueError("padding nibble after the last code is not 0")
        codes = codes[:count]
    if codes.size and int(codes.max()) >= 1 << code_bits:
        raise ValueError(f"a code has bits set above its {code_bits}-bit width")
    return codes


def shift_weights(codes: np.ndarray, exponent_bits: int) -> np.ndarray:
    """Integer weights ``±2^(E_max − e)`` (int64) equivalent to codes: the "slow" formulation of a shift."""
    negative, exponent = decode(codes, exponent_bits)
    magnitude = np.int64(1) << (max_exponent(exponent_bits) - exponent)
    return np.where(negative, -magnitude, magnitude)
