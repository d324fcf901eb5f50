"""Randomized differential test: the optimized Cortex-M kernels against the reference kernels.

firmware/tests/cm_diff_test.c links both variants into one program (the reference int8 and int8-weight LPN
kernels renamed, the reference ADD and LPN shift kernels being the Cortex-M files' own fallbacks) and
compares them on 300 random cases per op: int8 conv (groups, dilations), depthwise (multipliers 1-3),
per-channel fully connected (filter offsets), ADD (broadcasts, odd left shifts), the LPN shift conv /
depthwise / fully connected (exponent bits 0-7, the three output grids), and the int8-weight LPN conv /
depthwise (the three output grids, an exponent_bits they must ignore; the optimized conv must report its
scratch). Every draw of shapes, parameters and data differs, so the optimized paths meet odd sizes, padding
and stride combinations and the requantization fallbacks that the golden cases do not. Runs on the host
(portable intrinsics) under ASan + UBSan and under QEMU M4 (DSP instructions, inline assembly); M7 in
``make test-all`` (slow: M7 runs the golden cases of tests/test_lpn_kernels_cm.py and
tests/test_kernels_golden.py in ``make test``).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from lpn_tf import toolchain

ROOT = Path(__file__).resolve().parents[1]
MAKEFILE = ROOT / "firmware" / "tests" / "cm_diff_test.mk"
OPS = ("conv", "depthwise", "fully_connected", "add", "shift_conv", "shift_depthwise",
       "shift_fully_connected", "lpn_conv", "lpn_depthwise")  # fmt: skip
CASES = 300
RAN = re.compile(r"^(\w+) ran (\d+) of (\d+) cases$", re.MULTILINE)


def _make(goal: str, out: Path, **variables: str) -> None:
    args = ["make", "-s", "-f", str(MAKEFILE), goal, f"OUT={out}"]
    args += [f"{k}={v}" for k, v in variables.items()]
    result = subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, f"make {goal} failed:\n{result.stdout}\n{result.stderr}"


def _check(output: str, returncode: int, where: str) -> None:
    """No mismatch, and most draws of every op ran (the rest have an empty output and are skipped)."""
    failures = [line for line in output.splitlines() if line.startswith("FAIL")]
    assert not failures, f"{where}: optimized != reference:\n" + "\n".join(failures[:20])
    ran = {name: (int(n), int(total)) for name, n, total in RAN.findall(output)}
    assert set(ran) == set(OPS), f"{where}: ops reported {sorted(ran)}\n{output}"
    for name, (n, total) in ran.items():
        assert total == CASES and n >= CASES * 2 // 3, f"{where}: {name} ran only {n} of {total} cases"
    assert "done 0" in output and returncode == 0, f"{where}: exit {returncode}\n{output}"


def test_host_optimized_equals_reference_under_asan_and_ubsan(tmp_path: Path) -> None:
    """The host build (portable intrinsics) with AddressSanitizer + UndefinedBehaviorSanitizer."""
    _make("host", tmp_path, SANITIZE="1")
    result = subprocess.run([str(tmp_path / "cm_diff_test_asan")], capture_output=True, text=True,
                            timeout=120, check=False)  # fmt: skip
    assert "runtime error" not in result.stderr and "AddressSanitizer" not in result.stderr, result.stderr
    _check(result.stdout, result.returncode, "host ASan+UBSan")


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["m4", pytest.param("m7", marks=pytest.mark.slow)])
def test_optimized_equals_reference_under_qemu(cortex_m_toolchain, tmp_path: Path, target: str) -> None:
    _make("cm", tmp_path, TARGET=target)
    result = toolchain.run_qemu(tmp_path / f"cm_diff_test_{target}.elf", target, timeout_s=120)
    _check(result.stdout, result.returncode, f"QEMU {target}")
