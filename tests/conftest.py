"""Shared pytest fixtures. Under CI=true nothing that needs the ARM toolchain may skip: it fails."""

from __future__ import annotations

import os

import pytest

from lpn_tf import toolchain

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def cortex_m_toolchain() -> None:
    """Requires arm-none-eabi-gcc, newlib and qemu-system-arm: skips locally, FAILS under CI=true."""
    missing = toolchain.cortex_m_missing()
    if missing:
        message = f"Cortex-M toolchain missing: {', '.join(missing)}; fix: {toolchain.APT_INSTALL}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
