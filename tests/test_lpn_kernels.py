"""LPN custom-op C kernels (firmware/kernels/lpn_*.c) against the numpy reference, on the host and under QEMU.

Golden cases are generated here from ``lpn_tf.export.kernels`` (random shapes, kernels 1-5, strides 1-2,
SAME/VALID, odd channel counts, depth multipliers, exponent bits 0-7, mantissa bits 4-16, non-zero zero
points, clamped activations) and written as ``case_NNN.bin`` files that ``firmware/tests/lpn_ops_test.c``
reads (its header comment documents the format). The same C program is built for the host, for the host
under AddressSanitizer + UndefinedBehaviorSanitizer, and for Cortex-M4/M7/M33 (semihosting under QEMU).
"""

from __future__ import annotations

import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from lpn_tf import toolchain
from lpn_tf.export import fixed_point as fp
from lpn_tf.export import kernels, packing

ROOT = Path(__file__).resolve().parents[1]
MAKEFILE = ROOT / "firmware" / "tests" / "lpn_ops_test.mk"
MAGIC = 0x4F4E504C
N_PARAMS = 32
OPS = {"conv": 0, "depthwise": 1, "fully_connected": 2, "quant_norm": 3, "int8_conv": 4, "int8_depthwise": 5}
# indices into the params block (enum in lpn_ops_test.c)
(IN_N, IN_H, IN_W, IN_C, F_N, F_H, F_W, F_C, OUT_N, OUT_H, OUT_W, OUT_C, INPUT_OFFSET, OUTPUT_OFFSET,
 EXPONENT_BITS, STRIDE_H, STRIDE_W, PAD_H, PAD_W, ACT_MIN, ACT_MAX, CH_MULT,
 HAS_BIAS, GRID) = range(24)  # fmt: skip
CASE_LINE = re.compile(r"^case (\d+) (ok|FAIL.*)$")


@dataclass
class GoldenCase:
    """One kernel call: its op, the int32 params block, the input blobs and the reference output."""

    op: str
    params: list[int]
    x: np.ndarray  # int8
    codes: np.ndarray  # uint8, packed (empty for quant_norm)
    bias: np.ndarray | None  # int32
    mantissa: np.ndarray  # int16
    shift: np.ndarray  # int8
    expected: np.ndarray  # int8
    mantissa_bits: int

    def to_bytes(self) -> bytes:
        """The case file of lpn_ops_test.c: magic, op, params, six length-prefixed 4-byte-padded blobs."""
        out = struct.pack("<II", MAGIC, OPS[self.op]) + struct.pack(f"<{N_PARAMS}i", *self.params)
        bias = b"" if self.bias is None else self.bias.astype("<i4").tobytes()
        blobs = (
            self.x.astype(np.int8).tobytes(),
            self.codes.astype(np.uint8).tobytes(),
            bias,
            self.mantissa.astype("<i2").tobytes(),
            self.shift.astype(np.int8).tobytes(),
            self.expected.astype(np.int8).tobytes(),
        )
        for blob in blobs:
            out += struct.pack("<i", len(blob)) + blob + b"\0" * (-len(blob) % 4)
        return out


def _requant_params(
    rng: np.random.Generator, acc: np.ndarray, mantissa_bits: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mantissa, shift) mapping each channel's accumulator range to ~±(70..150) output levels.

    About a quarter of the channels get a negative mantissa (a negative BN gain).
    """
    flat = acc.reshape(-1, acc.shape[-1]).astype(np.float64)
    mantissa, shift = [], []
    for c in range(flat.shape[1]):
        spread = max(float(np.abs(flat[:, c]).max()), 1.0)
        m, k = fp.double_quantize(min(100.0 / spread, 1.0) * rng.uniform(0.7, 1.5), mantissa_bits)
        mantissa.append(-m if rng.random() < 0.25 else m)
        shift.append(k)
    return np.array(mantissa, np.int16), np.array(shift, np.int8)


def _activation(rng: np.random.Generator, zp_out: int) -> tuple[int, int]:
    """No clamp, a fused-ReLU clamp (act_min = zp_out) or a ReLU6-like band."""
    choice = rng.integers(0, 3)
    if choice == 0:
        return -128, 127
    if choice == 1:
        return zp_out, 127
    return zp_out, min(127, zp_out + int(rng.integers(20, 90)))


def _base_params() -> list[int]:
    return [0] * N_PARAMS


def _shift_case(
    rng: np.random.Generator,
    op: str,
    hw: tuple[int, int],
    channels: int,
    kernel: int,
    stride: int,
    padding: str,
    out_channels: int,
    exponent_bits: int,
    mantissa_bits: int,
    with_bias: bool,
    batch: int = 1,
) -> GoldenCase:
    """A conv / depthwise (``out_channels`` = depth multiplier) / fully connected case."""
    zp_in, zp_out = int(rng.integers(-60, 61)), int(rng.integers(-40, 41))
    h, w = hw
    x = rng.integers(-128, 128, (batch, h, w, channels)).astype(np.int8)
    e_max = packing.max_exponent(exponent_bits)
    if op == "conv":
        shape = (out_channels, kernel, kernel, channels)
    elif op == "depthwise":
        shape = (1, kernel, kernel, channels * out_channels)
    else:
        shape = (out_channels, h * w * channels)
    # shift amounts E_max − e skewed to small values (large weights are rare, as in trained models), at most
    # 12 so that 6..8-bit codes (E_max up to 127) keep the accumulator in int32
    exponent = np.minimum(rng.geometric(0.45, shape) - 1, min(e_max, 12))
    codes = packing.encode(rng.random(shape) < 0.5, e_max - exponent, exponent_bits)
    weights = packing.shift_weights(codes, exponent_bits)
    win = kernels.Window(kernel, kernel, stride, stride, padding)
    if op == "conv":
        acc = kernels.conv_accumulate(x, zp_in, weights, None, win)
    elif op == "depthwise":
        acc = kernels.depthwise_accumulate(x, zp_in, weights, None, win, out_channels)
    else:
        acc = kernels.fully_connected_accumulate(x, zp_in, weights, None)
    bias = None
    if with_bias:  # centres each channel (as a trained bias / folded BN would), plus noise
        flat = acc.reshape(-1, acc.shape[-1])
        noise = rng.uniform(-0.3, 0.3, flat.shape[1]) * (np.abs(flat).max(axis=0) + 1)
        bias = np.round(noise - flat.mean(axis=0)).astype(np.int32)
        acc = acc + bias
    mantissa, shift = _requant_params(rng, acc, mantissa_bits)
    act = _activation(rng, zp_out)
    rq = kernels.LpnRequant(mantissa.astype(np.int64), shift.astype(np.int64), zp_out, *act)
    p = _base_params()
    if op == "conv":
        y = kernels.shift_conv_2d(x, zp_in, codes, exponent_bits, bias, win, rq)
    elif op == "depthwise":
        y = kernels.shift_depthwise_conv_2d(x, zp_in, codes, exponent_bits, bias, win, out_channels, rq)
    else:
        y = kernels.shift_fully_connected(x, zp_in, codes, exponent_bits, bias, rq)
    if op == "fully_connected":
        p[IN_N : IN_C + 1] = [batch, 1, 1, h * w * channels]
        p[F_N : F_C + 1] = [out_channels, 1, 1, h * w * channels]
        p[OUT_N : OUT_C + 1] = [batch, 1, 1, out_channels]
    else:
        p[IN_N : IN_C + 1] = list(x.shape)
        p[F_N : F_C + 1] = list(shape)
        p[OUT_N : OUT_C + 1] = list(y.shape)
        p[STRIDE_H] = p[STRIDE_W] = stride
        p[PAD_H] = kernels.padding_before(h, kernel, stride, padding)
        p[PAD_W] = kernels.padding_before(w, kernel, stride, padding)
        p[CH_MULT] = out_channels if op == "depthwise" else 0
    p[INPUT_OFFSET], p[OUTPUT_OFFSET], p[EXPONENT_BITS] = -zp_in, zp_out, exponent_bits
    p[ACT_MIN], p[ACT_MAX], p[HAS_BIAS] = act[0], act[1], int(with_bias)
    packed = packing.pack(codes, exponent_bits + 1)
    return GoldenCase(op, p, x, packed, bias, mantissa, shift, y, mantissa_bits)


def _quant_norm_case(
    rng: np.random.Generator, shape: tuple[int, ...], mantissa_bits: int, small_shifts: bool
) -> GoldenCase:
    """A QuantNorm case; ``small_shifts`` (k in 0..3) makes rounding ties frequent (half-up is visible)."""
    zp_in, zp_out = int(rng.integers(-60, 61)), int(rng.integers(-40, 41))
    c = shape[-1]
    x = rng.integers(-128, 128, shape).astype(np.int8)
    limit = (1 << (mantissa_bits - 1)) - 1
    mantissa = rng.integers(-limit, limit + 1, c).astype(np.int16)
    if small_shifts:
        shift = rng.integers(0, 4, c).astype(np.int8)
        mantissa = rng.integers(-3, 4, c).astype(np.int16)
    else:
        shift = (np.full(c, mantissa_bits - 1) + rng.integers(0, 4, c)).astype(np.int8)
    bias = (rng.integers(-40, 41, c) << shift.astype(np.int64)).astype(np.int32)
    act = _activation(rng, zp_out)
    rq = kernels.LpnRequant(mantissa.astype(np.int64), shift.astype(np.int64), zp_out, *act)
    y = kernels.quant_norm(x, zp_in, bias, rq)
    p = _base_params()
    dims = [1] * (4 - len(shape)) + list(shape)
    p[IN_N : IN_C + 1] = dims
    p[OUT_N : OUT_C + 1] = dims
    p[INPUT_OFFSET], p[OUTPUT_OFFSET] = -zp_in, zp_out
    p[ACT_MIN], p[ACT_MAX], p[HAS_BIAS] = act[0], act[1], 1
    return GoldenCase("quant_norm", p, x, np.zeros(0, np.uint8), bias, mantissa, shift, y, mantissa_bits)


def generate(seed: int = 0) -> list[GoldenCase]:
    """The golden set: every kernel size 1-5 x stride 1-2 x padding for conv and depthwise, plus fully
    connected and QuantNorm cases, random channels/exponent bits/mantissa bits drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    cases: list[GoldenCase] = []
    for op in ("conv", "depthwise"):
        for kernel in range(1, 6):
            for stride in (1, 2):
                for padding in ("SAME", "VALID"):
                    s = int(rng.integers(0, 5)) if kernel <= 3 else int(rng.integers(1, 4))
                    hw = (int(rng.integers(kernel, 9)), int(rng.integers(kernel, 9)))
                    channels = int(rng.choice([1, 3, 5, 7]))
                    out = int(rng.integers(1, 4)) if op == "depthwise" else int(rng.choice([1, 3, 5, 8]))
                    cases.append(
                        _shift_case(
                            rng, op, hw, channels, kernel, stride, padding, out, s,
                            int(rng.integers(4, 17)), bool(rng.random() < 0.8),
                        )
                    )  # fmt: skip
    for op, s in (("conv", 5), ("depthwise", 6), ("conv", 7), ("fully_connected", 6)):
        # 6..8-bit codes, one byte each, shifts beyond a lookup table
        out = 2 if op == "depthwise" else 6
        cases.append(_shift_case(rng, op, (5, 6), 3, 3, 1, "SAME", out, s, 12, True))
    for batch, hw, channels, units, s in (
        (1, (1, 1), 37, 10, 1),
        (3, (2, 3), 5, 7, 3),
        (2, (1, 1), 64, 3, 4),
    ):
        for mantissa_bits in (4, 16):
            cases.append(
                _shift_case(
                    rng, "fully_connected", hw, channels, 1, 1, "VALID", units, s, mantissa_bits, True, batch
                )
            )
    for shape, mantissa_bits, small in (
        ((1, 4, 5, 7), 12, False),
        ((2, 3, 3), 16, False),
        ((1, 6, 6, 9), 8, True),
    ):
        cases.append(_quant_norm_case(rng, shape, mantissa_bits, small))
    # int8 filters (grid 0) and every op on every sub-8-bit grid, from a second stream (the cases above keep
    # their draws)
    rng = np.random.default_rng(seed + 1)
    for op in ("int8_conv", "int8_depthwise"):
        cases.append(_grid_case(rng, op, 0, (-128, 127)))
    for op in ("conv", "depthwise", "fully_connected", "quant_norm", "int8_conv", "int8_depthwise"):
        for grid, lo, hi in GRID_RANGES:
            cases.append(_grid_case(rng, op, grid, (lo, hi)))
    return cases


# output grids of the LPN requantization: (grid, act_min, act_max) of unsigned/signed uniform5 and shift3
GRID_RANGES = ((1, 0, 16), (1, -16, 16), (2, 0, 64), (2, -8, 8))


def _grid_case(rng: np.random.Generator, op: str, grid: int, act: tuple[int, int]) -> GoldenCase:
    """A conv / depthwise (packed shift codes or int8 filter) / fully connected / QuantNorm case whose output
    lies on a sub-8-bit grid (zero point 0): accumulators scaled to about 1.5x the grid's range, so both the
    rounding near zero (no zero level) and the clamp are exercised."""
    x = rng.integers(-128, 128, (1, 5, 6, 3)).astype(np.int8)
    zp_in = int(rng.choice([-1, 1]) * rng.integers(1, 21))
    win = kernels.Window(3, 3, 1, 1, "SAME")
    mult = 2
    int8 = op.startswith("int8_")
    depthwise = op in ("depthwise", "int8_depthwise")
    shape = {"conv": (4, 3, 3, 3), "depthwise": (1, 3, 3, 3 * mult), "fully_connected": (4, 90)}.get(
        op.removeprefix("int8_"), (1, 3, 3, 3 * mult) if depthwise else (4, 3, 3, 3)
    )
    s = 2
    codes = packing.encode(rng.random(shape) < 0.5, rng.integers(0, 4, shape), s)
    weights = rng.integers(-127, 128, shape) if int8 else packing.shift_weights(codes, s)
    if op == "quant_norm":
        acc = x.astype(np.int64) - zp_in
    elif depthwise:
        acc = kernels.depthwise_accumulate(x, zp_in, weights, None, win, mult)
    elif op == "fully_connected":
        acc = kernels.fully_connected_accumulate(x, zp_in, weights, None)
    else:
        acc = kernels.conv_accumulate(x, zp_in, weights, None, win)
    flat = acc.reshape(-1, acc.shape[-1])
    if flat.shape[0] > 1:  # centre each channel, as a trained bias would
        bias = np.round(-flat.mean(axis=0)).astype(np.int32)
    else:  # one fully connected row: a small random bias
        bias = rng.integers(-200, 201, flat.shape[1]).astype(np.int32)
    spread = np.abs(flat + bias).max(axis=0) + 1
    pairs = [fp.double_quantize(1.5 * max(abs(act[0]), act[1]) / float(v), 10) for v in spread]
    mantissa = np.array([m if i % 3 else -m for i, (m, _) in enumerate(pairs)], np.int16)
    shift = np.array([k for _, k in pairs], np.int8)
    rq = kernels.LpnRequant(mantissa.astype(np.int64), shift.astype(np.int64), 0, act[0], act[1], grid)
    p = _base_params()
    if op == "quant_norm":
        y = kernels.quant_norm(x, zp_in, bias.astype(np.int64) * mantissa, rq)
        bias = (bias.astype(np.int64) * mantissa).astype(np.int32)
        p[IN_N : IN_C + 1] = p[OUT_N : OUT_C + 1] = list(x.shape)
        packed = np.zeros(0, np.uint8)
    else:
        if op == "fully_connected":
            y = kernels.shift_fully_connected(x, zp_in, codes, s, bias, rq)
            p[IN_N : IN_C + 1] = [1, 1, 1, 90]
            p[F_N : F_C + 1] = [4, 1, 1, 90]
            p[OUT_N : OUT_C + 1] = [1, 1, 1, 4]
        else:
            if int8:
                fn = kernels.lpn_depthwise_conv_2d if depthwise else kernels.lpn_conv_2d
                args = (weights, bias, win, mult, rq) if depthwise else (weights, bias, win, rq)
            else:
                fn = kernels.shift_depthwise_conv_2d if depthwise else kernels.shift_conv_2d
                args = (codes, s, bias, win, mult, rq) if depthwise else (codes, s, bias, win, rq)
            y = fn(x, zp_in, *args)
            p[IN_N : IN_C + 1] = list(x.shape)
            p[F_N : F_C + 1] = list(shape)
            p[OUT_N : OUT_C + 1] = list(y.shape)
            p[STRIDE_H] = p[STRIDE_W] = 1
            p[PAD_H] = p[PAD_W] = 1
            p[CH_MULT] = mult if depthwise else 0
        packed = weights.astype(np.int8).view(np.uint8).reshape(-1) if int8 else packing.pack(codes, s + 1)
    p[INPUT_OFFSET], p[EXPONENT_BITS] = -zp_in, 0 if int8 else s
    p[ACT_MIN], p[ACT_MAX], p[HAS_BIAS], p[GRID] = act[0], act[1], 1, grid
    return GoldenCase(op, p, x, packed, bias, mantissa, shift, y, 10)


def write(cases: list[GoldenCase], directory: Path) -> None:
    """Write ``case_000.bin`` ... into ``directory`` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, case in enumerate(cases):
        (directory / f"case_{i:03d}.bin").write_bytes(case.to_bytes())


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[GoldenCase]]:
    """(root holding golden/case_NNN.bin, cases), generated once per module."""
    root = tmp_path_factory.mktemp("lpn_ops")
    cases = generate(seed=0)
    write(cases, root / "golden")
    return root, cases


def _make(goal: str, out: Path, **variables: str) -> None:
    args = [
        "make",
        "-s",
        "-f",
        str(MAKEFILE),
        goal,
        f"OUT={out}",
        *(f"{k}={v}" for k, v in variables.items()),
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"make {goal} failed:\n{result.stdout}\n{result.stderr}"


def _check_report(output: str, returncode: int, cases: list[GoldenCase], where: str) -> None:
    """The argument checks passed and every case ran and matched; otherwise name the failures."""
    assert "status ok" in output, f"{where}: kernel argument checks failed:\n{output}"
    results = {}
    for line in output.splitlines():
        match = CASE_LINE.match(line.strip())
        if match:
            results[int(match.group(1))] = match.group(2)
    failures = [f"case {i} ({cases[i].op}): {text}" for i, text in sorted(results.items()) if text != "ok"]
    assert not failures, f"{where}: differs from the numpy reference:\n" + "\n".join(failures)
    assert sorted(results) == list(range(len(cases))), (
        f"{where}: ran {len(results)} of {len(cases)}\n{output}"
    )
    assert returncode == 0, f"{where}: exit status {returncode}\n{output}"


def test_golden_cases_cover_the_required_space(golden) -> None:
    """Kernels 1-5, strides 1-2, SAME/VALID, odd channels, multipliers > 1, exponent bits 0-7 (4-7: one code
    per byte), mantissa bits 4-16, non-zero zero points, outputs neither constant nor saturated."""
    _, cases = golden
    convs = [c for c in cases if c.op in ("conv", "depthwise")]
    assert {c.params[F_H] for c in convs} == {1, 2, 3, 4, 5}
    assert {c.params[STRIDE_H] for c in convs} == {1, 2}
    assert any(c.params[PAD_H] > 0 for c in convs) and any(c.params[PAD_H] == 0 for c in convs)
    assert {c.params[IN_C] % 2 for c in convs} == {0, 1} or all(c.params[IN_C] % 2 for c in convs)
    assert any(c.op == "depthwise" and c.params[CH_MULT] > 1 for c in cases)
    assert {c.params[EXPONENT_BITS] for c in cases if c.op != "quant_norm"} == set(range(8))
    assert min(c.mantissa_bits for c in cases) == 4 and max(c.mantissa_bits for c in cases) == 16
    assert all(c.params[INPUT_OFFSET] != 0 or c.params[OUTPUT_OFFSET] != 0 for c in cases)
    assert {c.op for c in cases} == set(OPS)
    grids = {(c.op, c.params[GRID]) for c in cases}
    assert grids >= {(op, g) for op in OPS for g in (1, 2)}, "a grid is missing"
    assert any((c.mantissa < 0).any() for c in cases), "no negative mantissa"
    assert any(c.params[ACT_MIN] > -128 for c in cases), "no clamped activation"
    assert any(c.params[HAS_BIAS] == 0 for c in cases) and any(c.params[HAS_BIAS] for c in cases)
    constant = [i for i, c in enumerate(cases) if len(np.unique(c.expected)) < 2]
    assert not constant, f"cases with a constant output: {constant}"
    values = np.concatenate([c.expected.reshape(-1).astype(np.int64) for c in cases])
    assert len(np.unique(values)) > 150, "outputs use too little of the int8 range"
    saturated = np.mean((values == -128) | (values == 127))
    assert saturated < 0.2, f"{saturated:.0%} of outputs saturated"


def test_odd_code_counts_and_nibble_order_are_exercised(golden) -> None:
    """Some 4-bit-or-narrower code arrays have an odd count (a padding nibble), some use one byte per code."""
    _, cases = golden
    shifts = [c for c in cases if c.op != "quant_norm"]
    counts = [int(np.prod(c.params[F_N : F_C + 1])) for c in shifts]
    assert any(n % 2 and c.params[EXPONENT_BITS] <= 3 for n, c in zip(counts, shifts, strict=True))
    assert any(
        c.params[EXPONENT_BITS] >= 4 and c.codes.size == n for n, c in zip(counts, shifts, strict=True)
    )


def test_host_kernels_match_reference(golden, tmp_path: Path) -> None:
    root, cases = golden
    _make("host", tmp_path)
    result = subprocess.run(
        [str(tmp_path / "lpn_ops_test"), str(root / "golden")], capture_output=True, text=True, timeout=60
    )
    _check_report(result.stdout, result.returncode, cases, "host")


def test_host_kernels_are_clean_under_asan_and_ubsan(golden, tmp_path: Path) -> None:
    root, cases = golden
    _make("host", tmp_path, SANITIZE="1")
    result = subprocess.run(
        [str(tmp_path / "lpn_ops_test_asan"), str(root / "golden")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "runtime error" not in result.stderr and "AddressSanitizer" not in result.stderr, result.stderr
    _check_report(result.stdout, result.returncode, cases, "host ASan+UBSan")


def test_runner_reports_a_single_wrong_byte(golden, tmp_path: Path) -> None:
    """The comparison can fail: one flipped expected byte is reported for that case only, with its offset."""
    _, cases = golden
    victim = next(i for i, c in enumerate(cases) if c.op == "depthwise" and c.expected.size > 20)
    broken = [GoldenCase(**vars(c)) for c in cases]
    expected = broken[victim].expected.copy().reshape(-1)
    expected[17] = expected[17] + 1 if expected[17] < 127 else 126
    broken[victim].expected = expected
    write(broken, tmp_path / "golden")
    _make("host", tmp_path)
    result = subprocess.run(
        [str(tmp_path / "lpn_ops_test"), str(tmp_path / "golden")], capture_output=True, text=True, timeout=60
    )
    failing = [line for line in result.stdout.splitlines() if "FAIL" in line]
    assert failing == [
        f"case {victim} FAIL byte 17 got {cases[victim].expected.reshape(-1)[17]} want {expected[17]}"
    ]
    assert result.returncode == 1


@pytest.mark.parametrize("target", ["m4", "m7", "m33"])
def test_cortex_m_kernels_match_reference_under_qemu(
    golden, cortex_m_toolchain, tmp_path: Path, target: str
) -> None:
    """The same test program, built with arm-none-eabi-gcc (-Wall -Wextra -Werror -pedantic), under QEMU."""
    root, cases = golden
    _make("cm", tmp_path, TARGET=target)
    result = toolchain.run_qemu(tmp_path / f"lpn_ops_test_{target}.elf", target, cwd=root, timeout_s=120)
    _check_report(result.stdout, result.returncode, cases, f"QEMU {target}")
