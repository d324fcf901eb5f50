"""Argument validation of the C kernels (firmware/tests/status_test.c), host build under ASan + UBSan."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kernels", ["ref", "cortex-m"])
def test_kernels_reject_bad_arguments_with_the_documented_status(tmp_path: Path, kernels: str) -> None:
    build = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(ROOT / "firmware" / "tests"),
            "status",
            f"OUT={tmp_path}",
            f"LPN_KERNELS={kernels}",
            "SANITIZE=1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    result = subprocess.run(
        [str(tmp_path / f"status_test_{kernels}")], capture_output=True, text=True, timeout=60
    )
    assert "runtime error" not in result.stderr and "AddressSanitizer" not in result.stderr, result.stderr
    assert result.returncode == 0 and "checks failed 0" in result.stdout, result.stdout + result.stderr
