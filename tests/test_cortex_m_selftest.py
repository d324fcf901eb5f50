"""Cortex-M proof of life: lpn's own startup, linker scripts and semihosting on M4, M7 and M33."""

from __future__ import annotations

import subprocess
import zlib

import pytest

from lpn_tf import toolchain


def expected_crc() -> int:
    """CRC-32 of the self-test's buffer, computed independently of the C code (zlib)."""
    pattern = bytearray(256)
    pattern[0:3] = b"\x01\x02\x03"
    for i in range(3, 256):
        pattern[i] = (i * 7 + 1) & 0xFF
    return zlib.crc32(bytes(pattern))


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["m4", "m7", "m33"])
def test_selftest_runs_on_emulated_core(target: str, tmp_path, cortex_m_toolchain) -> None:
    toolchain.make_firmware("selftest", target=target, build_dir=tmp_path)
    elf = tmp_path / target / "selftest.elf"
    result = toolchain.run_qemu(elf, target, timeout_s=60)
    crc = expected_crc()
    assert f"selftest crc32=0x{crc:08x}" in result.stdout, result
    assert result.returncode == crc & 0x7F


@pytest.mark.qemu
def test_fault_exits_with_fault_status(tmp_path, cortex_m_toolchain) -> None:
    """A program that faults must stop with the fault status, never hang or pass."""
    src = tmp_path / "fault.c"
    src.write_text(
        "#include <stdint.h>\n"
        "int main(void) { volatile uint32_t *bad = (uint32_t *)0xfffffff0u; return (int)*bad; }\n"
    )
    cm = toolchain.FIRMWARE_DIR / "targets" / "cortex-m"
    elf = tmp_path / "fault.elf"
    subprocess.run(
        ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-O1", f"-I{cm}", str(src),
         str(cm / "startup.c"), str(cm / "semihosting.c"), "-nostartfiles", "--specs=nano.specs",
         "--specs=nosys.specs", f"-L{cm}", f"-T{cm / 'boards' / 'mps2-an386.ld'}", "-o", str(elf)],
        check=True,
    )
    result = toolchain.run_qemu(elf, "m4", timeout_s=60)
    assert result.returncode == 0x7E, result
    assert "hard fault" in result.stdout


def test_unknown_target_is_named() -> None:
    with pytest.raises(ValueError, match="m4, m7, m33"):
        toolchain.get_target("m0")
