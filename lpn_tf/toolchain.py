"""The external tools lpn drives: host C compiler, arm-none-eabi-gcc and qemu-system-arm.

One table of Cortex-M targets (core, QEMU machine, linker script) serves the Makefiles' users in Python:
tests, the ``qemu-*`` runtime backends and ``lpn doctor``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FIRMWARE_DIR = REPO_ROOT / "firmware"
BUILD_DIR = REPO_ROOT / "build"

APT_PACKAGES = (
    "gcc-arm-none-eabi", "libnewlib-arm-none-eabi", "qemu-system-arm",  # Cortex-M builds and emulation
    "clang", "libclang-rt-14-dev",  # libFuzzer harnesses
)
APT_INSTALL = "apt-get install -y --no-install-recommends " + " ".join(APT_PACKAGES)


@dataclass(frozen=True)
class CortexMTarget:
    """An emulated Cortex-M target: ``name`` as used on the command line, GCC ``cpu``, QEMU ``machine``."""

    name: str
    cpu: str
    machine: str
    description: str


TARGETS: dict[str, CortexMTarget] = {
    "m4": CortexMTarget("m4", "cortex-m4", "mps2-an386", "Arm MPS2+ AN386, Cortex-M4"),
    "m7": CortexMTarget("m7", "cortex-m7", "mps2-an500", "Arm MPS2+ AN500, Cortex-M7"),
    "m33": CortexMTarget("m33", "cortex-m33", "mps2-an505", "Arm MPS2+ AN505, Cortex-M33"),
}


def get_target(name: str) -> CortexMTarget:
    """Returns the target called ``name`` ("m4", "m7", "m33"); raises ValueError naming the valid ones."""
    try:
        return TARGETS[name]
    except KeyError:
        raise ValueError(f"unknown Cortex-M target {name!r}; known: {', '.join(TARGETS)}") from None


def which(tool: str) -> str | None:
    """Absolute path of ``tool`` on PATH, or None."""
    return shutil.which(tool)


def tool_version(tool: str) -> str | None:
    """First line of ``tool --version``, or None when the tool is missing or fails."""
    path = which(tool)
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0].strip() if lines else None


def arm_newlib_available() -> bool:
    """True when arm-none-eabi-gcc finds newlib-nano (package libnewlib-arm-none-eabi)."""
    gcc = which("arm-none-eabi-gcc")
    if gcc is None:
        return False
    out = subprocess.run(
        [gcc, "-mcpu=cortex-m4", "-mthumb", "-print-file-name=libc_nano.a"],
        capture_output=True, text=True, check=False,
    )
    return os.path.isabs(out.stdout.strip())


def qemu_machines() -> set[str]:
    """Machine names qemu-system-arm supports (empty when QEMU is missing)."""
    qemu = which("qemu-system-arm")
    if qemu is None:
        return set()
    out = subprocess.run([qemu, "-machine", "help"], capture_output=True, text=True, check=False, timeout=30)
    return {line.split()[0] for line in out.stdout.splitlines()[1:] if line.strip()}


def cortex_m_missing() -> list[str]:
    """What is missing for building and emulating Cortex-M firmware; empty when everything is there."""
    missing = []
    if which("arm-none-eabi-gcc") is None:
        missing.append("arm-none-eabi-gcc (Debian package gcc-arm-none-eabi)")
    elif not arm_newlib_available():
        missing.append("newlib for arm-none-eabi (Debian package libnewlib-arm-none-eabi)")
    machines = qemu_machines()
    if not machines:
        missing.append("qemu-system-arm (Debian package qemu-system-arm)")
    else:
        for target in TARGETS.values():
            if target.machine not in machines:
                missing.append(f"QEMU machine {target.machine} ({target.description})")
    return missing


def fuzzing_missing() -> list[str]:
    """What is missing for the libFuzzer harnesses (clang and its fuzzer runtime); empty when all is there."""
    clang = which("clang")
    if clang is None:
        return ["clang (Debian package clang)"]
    out = subprocess.run([clang, "-print-file-name=libclang_rt.fuzzer-x86_64.a"], capture_output=True,
                         text=True, check=False)
    if not os.path.isabs(out.stdout.strip()):
        return ["libFuzzer runtime (Debian package libclang-rt-14-dev)"]
    return []


def make_firmware(goal: str, target: str | None = None, build_dir: Path | None = None) -> None:
    """Runs ``make -C firmware <goal> [TARGET=...] [BUILD=...]``; raises RuntimeError with make's output."""
    cmd = ["make", "-s", "-C", str(FIRMWARE_DIR), goal]
    if target is not None:
        cmd.append(f"TARGET={get_target(target).name}")
    if build_dir is not None:
        cmd.append(f"BUILD={Path(build_dir).resolve()}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed ({out.returncode}):\n{out.stdout}{out.stderr}")


@dataclass(frozen=True)
class InsnCounts:
    """What the insn_count QEMU plugin recorded: ``total`` guest instructions, and the running count at
    each call of ``lpn_profile_mark`` (``marks``; the mark function's own instructions included)."""

    total: int
    marks: tuple[int, ...]

    def regions(self) -> list[int]:
        """Instructions between mark 2k and mark 2k+1 (the k-th begin/end pair), one entry per pair."""
        if len(self.marks) % 2:
            raise ValueError(f"odd number of profiling marks ({len(self.marks)}): a begin without an end")
        return [self.marks[i + 1] - self.marks[i] for i in range(0, len(self.marks), 2)]

    @classmethod
    def parse(cls, text: str) -> InsnCounts:
        total, marks = None, []
        for number, line in enumerate(text.splitlines(), 1):
            key, _, value = line.partition(" ")
            if key == "total":
                total = int(value)
            elif key == "mark":
                marks.append(int(value))
            else:
                raise ValueError(f"insn_count output line {number}: unexpected {line!r}")
        if total is None:
            raise ValueError("insn_count output has no 'total' line")
        return cls(total, tuple(marks))


@dataclass(frozen=True)
class QemuResult:
    """One QEMU run: the program's exit status (semihosting SYS_EXIT_EXTENDED), its console output, and
    the instruction counts when the run was profiled."""

    returncode: int
    stdout: str
    stderr: str
    insn_counts: InsnCounts | None = None


PROFILE_MARK_SYMBOL = "lpn_profile_mark"


def insn_count_plugin(build_dir: Path | None = None) -> Path:
    """Builds (if needed) and returns the QEMU TCG plugin firmware/tools/qemu-insn-count."""
    build = Path(build_dir or BUILD_DIR / "firmware").resolve()
    make_firmware("insn-count-plugin", build_dir=build)
    return build / "tools" / "insn_count.so"


def symbol_address(elf: Path | str, name: str) -> int:
    """Address of symbol ``name`` in an ARM ELF (arm-none-eabi-nm); raises KeyError naming it."""
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise KeyError(f"symbol {name!r} not found in {elf}")


def run_qemu(
    elf: Path | str,
    target: str,
    *,
    timeout_s: float = 120.0,
    cwd: Path | str | None = None,
    extra_args: tuple[str, ...] = (),
    count_instructions: bool = False,
) -> QemuResult:
    """Runs a semihosting ELF on the emulated ``target``; semihosting file paths are relative to ``cwd``.

    With ``count_instructions`` the insn_count plugin records exact executed-instruction counts at every
    ``lpn_profile_mark`` call (the ELF must define that symbol). Raises TimeoutError when the program does
    not exit within ``timeout_s`` seconds.
    """
    qemu = which("qemu-system-arm")
    if qemu is None:
        raise RuntimeError(f"qemu-system-arm not found; install it with: {APT_INSTALL}")
    machine = get_target(target).machine
    plugin_args: list[str] = []
    counts_file = None
    if count_instructions:
        mark = symbol_address(elf, PROFILE_MARK_SYMBOL)
        fd, counts_file = tempfile.mkstemp(prefix="lpn-insn-", suffix=".txt")
        os.close(fd)
        plugin_args = ["-plugin", f"{insn_count_plugin()},mark={mark:#x},out={counts_file}", "-d", "plugin"]
    cmd = [
        qemu, "-M", machine, "-nographic", "-monitor", "none", "-serial", "none",
        # semihosting console output on stdout, QEMU's own messages on stderr
        "-chardev", "stdio,id=semihost", "-semihosting-config", "enable=on,target=native,chardev=semihost",
        *plugin_args, *extra_args, "-kernel", str(elf),
    ]
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout_s, cwd=cwd, stdin=subprocess.DEVNULL,
            check=False,
        )
        counts = None
        if counts_file is not None:
            counts = InsnCounts.parse(Path(counts_file).read_text())
    except subprocess.TimeoutExpired as exc:
        raise TimeoutError(f"{elf} on {machine} did not exit within {timeout_s:.0f} s") from exc
    finally:
        if counts_file is not None:
            os.unlink(counts_file)
    return QemuResult(out.returncode, out.stdout, out.stderr, counts)
