"""``lpn doctor``: which versions are installed and which capabilities work, with the fix for each gap."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass, field

from lpn_tf import __version__, toolchain

# distribution name -> version prefix the pinned working set requires (pyproject.toml)
PINNED: dict[str, str] = {
    "tensorflow": "2.21.",
    "tf_keras": "2.21.",
    "tensorflow-model-optimization": "0.8.",
    "ai-edge-litert": "2.3.",
    "numpy": "2.",
    "flatbuffers": "",
}

SETUP_FIX = "run `make setup` (creates .venv and installs the pinned set from pyproject.toml)"


def dist_version(name: str) -> str | None:
    """Installed version of distribution ``name``, or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclass
class Capability:
    """One thing lpn can do; ``missing`` lists what stops it, ``fix`` says how to get it."""

    name: str
    missing: list[str] = field(default_factory=list)
    fix: str = ""

    @property
    def available(self) -> bool:
        return not self.missing


@dataclass
class Report:
    versions: dict[str, str | None]
    capabilities: list[Capability]

    @property
    def ok(self) -> bool:
        return all(c.available for c in self.capabilities)

    def to_text(self) -> str:
        lines = [f"lpn {__version__}", "", "versions:"]
        width = max(len(k) for k in self.versions)
        for name, version in self.versions.items():
            lines.append(f"  {name:<{width}}  {version or 'MISSING'}")
        lines += ["", "capabilities:"]
        for cap in self.capabilities:
            if cap.available:
                lines.append(f"  [ok]      {cap.name}")
            else:
                lines.append(f"  [missing] {cap.name}: needs {'; '.join(cap.missing)}")
                lines.append(f"            fix: {cap.fix}")
        return "\n".join(lines)


def _python_gaps(names: list[str]) -> list[str]:
    gaps = []
    for name in names:
        version = dist_version(name)
        want = PINNED.get(name, "")
        if version is None:
            gaps.append(f"{name} (not installed)")
        elif not version.startswith(want):
            gaps.append(f"{name} {want}x (found {version})")
    return gaps


def diagnose() -> Report:
    """Collects versions and capability checks without importing TensorFlow (fast)."""
    versions: dict[str, str | None] = {name: dist_version(name) for name in PINNED}
    versions["tflite-micro (oracle)"] = dist_version("tflite-micro")
    versions["host cc"] = toolchain.tool_version("cc")
    versions["arm-none-eabi-gcc"] = toolchain.tool_version("arm-none-eabi-gcc")
    versions["qemu-system-arm"] = toolchain.tool_version("qemu-system-arm")
    versions["clang (fuzzing)"] = toolchain.tool_version("clang")

    train = Capability("train (QAT in tf_keras)", _python_gaps(["tensorflow", "tf_keras",
                                                                "tensorflow-model-optimization", "numpy"]),
                       SETUP_FIX)
    export = Capability("export (.tflite writer, reference executor)",
                        _python_gaps(["tensorflow", "flatbuffers", "numpy"]), SETUP_FIX)
    host_missing = _python_gaps(["ai-edge-litert"])
    if toolchain.which("cc") is None:
        host_missing.append("a host C compiler `cc` (Debian package gcc)")
    host = Capability("host run (LiteRT, firmware built for the host)", host_missing,
                      SETUP_FIX + "; apt-get install -y gcc make")
    cortex = Capability("Cortex-M emulation (arm-none-eabi-gcc + QEMU mps2 M4/M7/M33)",
                        toolchain.cortex_m_missing(),
                        f"as root: apt-get update && {toolchain.APT_INSTALL} (or `sudo make setup`)")
    fuzz = Capability("fuzzing (clang + libFuzzer, ASan/UBSan)", toolchain.fuzzing_missing(),
                      f"as root: apt-get update && {toolchain.APT_INSTALL}")
    return Report(versions, [train, export, host, cortex, fuzz])


def main() -> int:
    """Prints the report; exit status 0 when every capability is available, else 1."""
    report = diagnose()
    print(report.to_text())
    return 0 if report.ok else 1
