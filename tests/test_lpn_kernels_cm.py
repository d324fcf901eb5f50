"""The optimized Cortex-M LPN kernels (firmware/kernels/cortex-m/lpn_*.c) against the numpy reference.

Same golden format and C test program as tests/test_lpn_kernels.py (firmware/tests/lpn_ops_test.c), built
by firmware/tests/lpn_ops_cm_test.mk with ``LPN_KERNELS=cortex-m``: on the host (portable intrinsics, also
under ASan + UBSan) and on QEMU M4 / M7 (the DSP instructions and the inline-assembly MAC loop). The cases
are the reference test's set plus shapes aimed at the fast paths: channel counts that are and are not
multiples of 4 (word im2col, byte gather, scalar tail), odd output-channel and pixel counts (the 1-channel
and 1-pixel remainders of the 2x2 block), several decoded-weight blocks (conv and fully connected), depth
multipliers 1 (four channels per SIMD step) and 2-3, every code width 1..8 (exponent bits 0..3 decode to
int16 weights, 4..7 run the portable kernel compiled into the same file). The int8-weight LPN_CONV_2D /
LPN_DEPTHWISE_CONV_2D (lpn_conv_lpn_s8.c, lpn_depthwise_conv_lpn_s8.c) get the same kinds of shapes on each
of the three output grids.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_lpn_kernels import (
    ACT_MAX,
    ACT_MIN,
    CH_MULT,
    EXPONENT_BITS,
    F_C,
    F_H,
    F_N,
    F_W,
    GRID,
    GRID_RANGES,
    HAS_BIAS,
    IN_C,
    IN_N,
    INPUT_OFFSET,
    OUT_C,
    OUT_H,
    OUT_N,
    OUT_W,
    OUTPUT_OFFSET,
    PAD_H,
    PAD_W,
    STRIDE_H,
    STRIDE_W,
    GoldenCase,
    _activation,
    _base_params,
    _check_report,
    _requant_params,
    _shift_case,
    generate,
    write,
)

from lpn_tf import toolchain
from lpn_tf.export import fixed_point as fp
from lpn_tf.export import kernels

ROOT = Path(__file__).resolve().parents[1]
MAKEFILE = ROOT / "firmware" / "tests" / "lpn_ops_cm_test.mk"
# decoded (int16) weight bytes per block (LPN_CM_SHIFT_BLOCK_BYTES, LPN_CM_SHIFT_FC_BLOCK_BYTES)
CONV_BLOCK_BYTES, FC_BLOCK_BYTES = 16384, 4096


def fast_path_cases(seed: int = 1) -> list[GoldenCase]:
    """Shapes aimed at the optimized kernels' paths (see the module docstring)."""
    rng = np.random.default_rng(seed)
    cases: list[GoldenCase] = []
    conv_shapes = [  # (hw, channels, kernel, stride, padding, out_channels, exponent_bits)
        ((7, 5), 4, 3, 1, "SAME", 5, 2),
        ((6, 9), 8, 3, 2, "SAME", 7, 1),
        ((5, 5), 16, 3, 1, "VALID", 6, 2),
        ((9, 4), 12, 1, 1, "VALID", 3, 2),
        ((8, 8), 3, 3, 1, "SAME", 16, 2),  # the int8 stem's shape: byte gather + 3-value tail
        ((5, 7), 6, 5, 2, "SAME", 9, 0),
        ((3, 3), 2, 2, 1, "SAME", 2, 1),
        ((4, 6), 20, 4, 2, "VALID", 4, 2),
        ((6, 6), 8, 3, 1, "SAME", 4, 3),  # 4-bit codes, |w| up to 128
        ((5, 6), 5, 3, 2, "SAME", 3, 4),  # 5-bit codes: the portable kernel
        ((5, 4), 64, 3, 1, "SAME", 30, 2),  # 576-byte rows, 30 channels: two decoded blocks
    ]
    for hw, channels, kernel, stride, padding, out, s in conv_shapes:
        cases.append(_shift_case(rng, "conv", hw, channels, kernel, stride, padding, out, s,
                                 int(rng.integers(6, 17)), bool(rng.random() < 0.8)))  # fmt: skip
    dw_shapes = [  # (hw, channels, kernel, stride, padding, multiplier, exponent_bits)
        ((7, 6), 8, 3, 1, "SAME", 1, 2),
        ((6, 5), 12, 3, 2, "SAME", 1, 1),
        ((5, 5), 7, 3, 1, "VALID", 1, 2),
        ((6, 7), 4, 5, 2, "SAME", 2, 2),
        ((4, 5), 5, 2, 1, "SAME", 3, 0),
        ((5, 5), 9, 3, 1, "SAME", 1, 4),  # 5-bit codes: the portable kernel
    ]
    for hw, channels, kernel, stride, padding, mult, s in dw_shapes:
        cases.append(_shift_case(rng, "depthwise", hw, channels, kernel, stride, padding, mult, s,
                                 int(rng.integers(6, 17)), bool(rng.random() < 0.8)))  # fmt: skip
    fc_shapes = [  # (batch, hw, channels, units, exponent_bits)
        (1, (1, 1), 64, 9, 2),
        (2, (2, 3), 7, 5, 1),
        (1, (1, 1), 600, 11, 2),  # 600-byte rows: two decoded blocks
        (3, (1, 1), 13, 1, 0),
        (1, (1, 1), 40, 6, 5),  # 6-bit codes: the portable kernel
    ]
    for batch, hw, channels, units, s in fc_shapes:
        cases.append(_shift_case(rng, "fully_connected", hw, channels, 1, 1, "VALID", units, s,
                                 int(rng.integers(6, 17)), True, batch))  # fmt: skip
    return cases


def _int8_lpn_case(
    rng: np.random.Generator,
    op: str,
    hw: tuple[int, int],
    channels: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: str,
    out_channels: int,
    grid: int,
) -> GoldenCase:
    """An ``int8_conv`` / ``int8_depthwise`` (``out_channels`` = depth multiplier) case: int8 filter, LPN
    requantization onto output grid ``grid`` (0: int8 with a random zero point and activation; 1 / 2: a
    sub-8-bit range of GRID_RANGES, zero point 0, accumulators scaled to ~1.5x it so the clamp is hit)."""
    depthwise = op == "int8_depthwise"
    zp_in = int(rng.integers(-60, 61))
    x = rng.integers(-128, 128, (1, *hw, channels)).astype(np.int8)
    shape = (1, *kernel, channels * out_channels) if depthwise else (out_channels, *kernel, channels)
    weights = rng.integers(-128, 128, shape)
    win = kernels.Window(kernel[0], kernel[1], stride[0], stride[1], padding)
    if depthwise:
        acc = kernels.depthwise_accumulate(x, zp_in, weights, None, win, out_channels)
    else:
        acc = kernels.conv_accumulate(x, zp_in, weights, None, win)
    flat = acc.reshape(-1, acc.shape[-1])
    with_bias = bool(rng.random() < 0.8)
    centred = np.round(-flat.mean(axis=0) + rng.integers(-50, 51, flat.shape[1])).astype(np.int32)
    bias = centred if with_bias else None
    if grid == 0:
        zp_out = int(rng.integers(-40, 41))
        mantissa, shift = _requant_params(rng, flat + (0 if bias is None else bias), 12)
        act = _activation(rng, zp_out)
    else:
        zp_out = 0
        _, lo, hi = [r for r in GRID_RANGES if r[0] == grid][int(rng.integers(0, 2))]
        act = (lo, hi)
        spread = np.abs(flat + (0 if bias is None else bias)).max(axis=0) + 1
        pairs = [fp.double_quantize(1.5 * max(abs(lo), hi) / float(v), 10) for v in spread]
        mantissa = np.array([m if i % 3 else -m for i, (m, _) in enumerate(pairs)], np.int16)
        shift = np.array([k for _, k in pairs], np.int8)
    rq = kernels.LpnRequant(mantissa.astype(np.int64), shift.astype(np.int64), zp_out, act[0], act[1], grid)
    if depthwise:
        y = kernels.lpn_depthwise_conv_2d(x, zp_in, weights, bias, win, out_channels, rq)
    else:
        y = kernels.lpn_conv_2d(x, zp_in, weights, bias, win, rq)
    p = _base_params()
    p[IN_N : IN_C + 1] = list(x.shape)
    p[F_N : F_C + 1] = list(shape)
    p[OUT_N : OUT_C + 1] = list(y.shape)
    p[STRIDE_H], p[STRIDE_W] = stride
    p[PAD_H] = kernels.padding_before(hw[0], kernel[0], stride[0], padding)
    p[PAD_W] = kernels.padding_before(hw[1], kernel[1], stride[1], padding)
    p[CH_MULT] = out_channels if depthwise else 0
    p[INPUT_OFFSET], p[OUTPUT_OFFSET], p[EXPONENT_BITS] = -zp_in, zp_out, 0
    p[ACT_MIN], p[ACT_MAX], p[HAS_BIAS], p[GRID] = act[0], act[1], int(with_bias), grid
    packed = weights.astype(np.int8).view(np.uint8).reshape(-1)
    return GoldenCase(op, p, x, packed, bias, mantissa, shift, y, 12 if grid == 0 else 10)


def int8_lpn_cases(seed: int = 2) -> list[GoldenCase]:
    """LPN_CONV_2D / LPN_DEPTHWISE_CONV_2D shapes aimed at the optimized paths, each on grids 0, 1 and 2."""
    rng = np.random.default_rng(seed)
    conv_shapes = [  # (hw, channels, kernel, stride, padding, out_channels)
        ((7, 5), 3, (3, 3), (1, 1), "SAME", 5),  # the stem: byte gather + 3-value tail, odd channels
        ((6, 9), 8, (3, 3), (2, 2), "SAME", 7),  # word im2col
        ((5, 7), 5, (5, 3), (2, 1), "VALID", 4),  # odd pixel count, non-square window and stride
        ((9, 4), 12, (1, 1), (1, 1), "VALID", 3),
        ((4, 6), 20, (4, 2), (1, 2), "SAME", 2),
        ((5, 4), 64, (3, 3), (1, 1), "SAME", 30),  # 576-value rows: two blocks of int16 rows
    ]
    dw_shapes = [  # (hw, channels, kernel, stride, padding, multiplier)
        ((7, 6), 8, (3, 3), (1, 1), "SAME", 1),  # four channels per SIMD step
        ((6, 5), 7, (3, 3), (2, 2), "SAME", 1),  # ... and a 3-channel remainder
        ((5, 5), 5, (2, 4), (1, 2), "VALID", 1),
        ((6, 7), 4, (5, 5), (2, 1), "SAME", 2),
        ((4, 5), 3, (2, 2), (1, 1), "SAME", 3),
    ]
    cases: list[GoldenCase] = []
    for op, shapes in (("int8_conv", conv_shapes), ("int8_depthwise", dw_shapes)):
        for i, (hw, channels, kernel, stride, padding, out) in enumerate(shapes):
            for grid in (0, 1, 2) if i < 3 else (i % 3,):
                cases.append(_int8_lpn_case(rng, op, hw, channels, kernel, stride, padding, out, grid))
    return cases


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[GoldenCase]]:
    """(root holding golden/case_NNN.bin, cases): the reference test's set and the fast-path shapes."""
    root = tmp_path_factory.mktemp("lpn_ops_cm")
    cases = generate(seed=0) + fast_path_cases() + int8_lpn_cases()
    write(cases, root / "golden")
    return root, cases


def _make(goal: str, out: Path, **variables: str) -> None:
    args = ["make", "-s", "-f", str(MAKEFILE), goal, f"OUT={out}"]
    args += [f"{k}={v}" for k, v in variables.items()]
    result = subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, f"make {goal} failed:\n{result.stdout}\n{result.stderr}"


def test_fast_path_cases_cover_the_optimized_paths(golden) -> None:
    """Every branch of the optimized kernels has a case: int8 decode and portable widths, channel counts
    with and without a word multiple, odd channel and pixel counts, several decoded blocks, multipliers."""
    _, cases = golden
    convs = [c for c in cases if c.op == "conv"]
    assert {c.params[EXPONENT_BITS] for c in cases if c.op != "quant_norm"} == set(range(8))
    assert {c.params[IN_C] % 4 == 0 for c in convs} == {True, False}
    assert any(c.params[OUT_C] % 2 for c in convs) and any(c.params[OUT_C] % 2 == 0 for c in convs)
    assert any((c.params[OUT_H] * c.params[OUT_W]) % 2 for c in convs)
    assert {c.params[F_H] for c in convs} == {1, 2, 3, 4, 5} and {c.params[STRIDE_H] for c in convs} == {1, 2}
    assert any(c.params[PAD_H] > 0 for c in convs) and any(c.params[PAD_H] == 0 for c in convs)
    row = [((c.params[F_H] ** 2 * c.params[F_C] + 3) // 4 * 4, c.params[F_N]) for c in convs]
    assert any(2 * stride * n > CONV_BLOCK_BYTES and c.params[EXPONENT_BITS] <= 3
               for (stride, n), c in zip(row, convs, strict=True))  # fmt: skip
    fcs = [c for c in cases if c.op == "fully_connected"]
    assert any(2 * ((c.params[F_C] + 3) // 4 * 4) * c.params[F_N] > FC_BLOCK_BYTES for c in fcs)
    dws = [c for c in cases if c.op == "depthwise"]
    assert {min(c.params[CH_MULT], 2) for c in dws} == {1, 2}
    assert any(c.params[CH_MULT] == 1 and c.params[IN_C] >= 4 for c in dws)


def test_int8_lpn_cases_cover_the_optimized_paths(golden) -> None:
    """LPN_CONV_2D / LPN_DEPTHWISE_CONV_2D: every grid, odd sizes, strides, paddings, several row blocks,
    multipliers 1-3 with and without a 4-channel remainder."""
    _, cases = golden
    for op in ("int8_conv", "int8_depthwise"):
        mine = [c for c in cases if c.op == op]
        assert {c.params[GRID] for c in mine} == {0, 1, 2}, op
        for axis in (STRIDE_H, STRIDE_W):
            assert {c.params[axis] for c in mine} == {1, 2}, op
        assert any(c.params[PAD_H] > 0 for c in mine) and any(c.params[PAD_H] == 0 for c in mine), op
        assert any(c.params[F_H] != c.params[F_W] for c in mine), op
        assert any((c.params[OUT_H] * c.params[OUT_W]) % 2 for c in mine), op
    convs = [c for c in cases if c.op == "int8_conv"]
    assert {c.params[IN_C] % 4 == 0 for c in convs} == {True, False}
    assert any(c.params[OUT_C] % 2 for c in convs)
    row_bytes = [2 * ((c.params[F_H] * c.params[F_W] * c.params[F_C] + 3) // 4 * 4) for c in convs]
    assert any(b * c.params[F_N] > CONV_BLOCK_BYTES for b, c in zip(row_bytes, convs, strict=True))
    dws = [c for c in cases if c.op == "int8_depthwise"]
    assert {c.params[CH_MULT] for c in dws} == {1, 2, 3}
    assert any(c.params[CH_MULT] == 1 and c.params[IN_C] % 4 for c in dws)


def test_host_optimized_kernels_match_reference(golden, tmp_path: Path) -> None:
    """The host build links the Cortex-M files (their portable fallbacks are renamed inside) and matches."""
    root, cases = golden
    _make("host", tmp_path)
    symbols = subprocess.run(["nm", str(tmp_path / "lpn_ops_test")], capture_output=True, text=True,
                             check=True).stdout  # fmt: skip
    for kernel in ("lpn_shift_conv_s8", "lpn_shift_depthwise_conv_s8", "lpn_shift_fully_connected_s8"):
        assert f" T {kernel}_portable\n" in symbols, f"{kernel}: the Cortex-M file is not linked"
        assert f" T {kernel}\n" in symbols
    result = subprocess.run([str(tmp_path / "lpn_ops_test"), str(root / "golden")], capture_output=True,
                            text=True, timeout=60, check=False)  # fmt: skip
    _check_report(result.stdout, result.returncode, cases, "host, cortex-m kernels")


def test_host_optimized_kernels_are_clean_under_asan_and_ubsan(golden, tmp_path: Path) -> None:
    root, cases = golden
    _make("host", tmp_path, SANITIZE="1")
    result = subprocess.run([str(tmp_path / "lpn_ops_test_asan"), str(root / "golden")], capture_output=True,
                            text=True, timeout=120, check=False)  # fmt: skip
    assert "runtime error" not in result.stderr and "AddressSanitizer" not in result.stderr, result.stderr
    _check_report(result.stdout, result.returncode, cases, "host ASan+UBSan, cortex-m kernels")


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["m4", "m7"])
def test_optimized_kernels_match_reference_under_qemu(
    golden, cortex_m_toolchain, tmp_path: Path, target: str
) -> None:
    """The DSP build (SXTB16/SMLAD, the inline-assembly 2x2 loop) under QEMU."""
    root, cases = golden
    _make("cm", tmp_path, TARGET=target)
    result = toolchain.run_qemu(tmp_path / f"lpn_ops_test_{target}.elf", target, cwd=root, timeout_s=120)
    _check_report(result.stdout, result.returncode, cases, f"QEMU {target}, cortex-m kernels")
