"""The examples a user copies must run: each in its --quick mode, checked for its key output lines."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lpn_tf import toolchain


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.parametrize(("script", "expected"), [
    ("digits_image.py", ["qemu-m4: bit-identical to the reference", "host: bit-identical to the reference"]),
    ("kws_ds_cnn.py", ["LPN_SHIFT_CONV_2D", "exported build/examples/kws_pikelpn.tflite"]),
])
def test_example_runs(script: str, expected: list[str], cortex_m_toolchain) -> None:
    out = subprocess.run([sys.executable, f"examples/{script}", "--quick"], capture_output=True, text=True,
                         cwd=toolchain.REPO_ROOT, timeout=600, check=False)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    for line in expected:
        assert line in out.stdout, out.stdout
