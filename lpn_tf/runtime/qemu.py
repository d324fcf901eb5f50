"""Backends ``"qemu-m4"``, ``"qemu-m7"``, ``"qemu-m33"``: the firmware runtime on an emulated Cortex-M.

``open(path, target="m4")`` links the Cortex-M runner (firmware/targets/cortex-m/runner) with the model
as a binary blob in flash: the runtime and kernel objects are compiled once per target and kernel variant
(``make -C firmware runner``), only the link is per model, and the linked ELF is cached under
``build/firmware/<target>/runner-<kernels>/models/<sha256 of the model>/``. ``run(x)`` writes the samples
to ``input.bin``, runs ``qemu-system-arm`` with semihosting in a temporary directory and reads
``output.bin`` (the runner's file contract is documented in runner/main.c and docs/runtime.md).

After a run ``rt.profile`` holds one row per operator (``op``, ``kind``, ``macs``); with ``profile=True``
the run is counted by the insn_count TCG plugin and each row adds ``instructions`` (of the first sample,
the mark call's own few instructions included) and ``instructions_per_mac``.

:class:`QemuRuntime` validates the model with the host build first (fast, precise errors).
:func:`device_init_error` skips that and runs only the device's own ``lpn_init``: the runner prints the
formatted error on the semihosting console and exits with the status; :func:`parse_runner_error` turns
that into the same :class:`FirmwareError` fields (status, op, tensor, byte offset, detail, name) as the
host build gives, so tests can compare the two field by field.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lpn_tf import toolchain
from lpn_tf.runtime.api import join_batch, split_batch
from lpn_tf.runtime.host import FirmwareError, HostRuntime, TensorSpec, status_name

# backend name -> Cortex-M target
BACKENDS: dict[str, str] = {"qemu-m4": "m4", "qemu-m7": "m7", "qemu-m33": "m33"}
# runner exit statuses besides lpn_rt_status_t (firmware/targets/cortex-m/runner/main.c, startup.c)
RUNNER_EXITS: dict[int, str] = {
    101: "cannot open input.bin", 102: "input.bin size is not a whole number of samples",
    103: "cannot open output.bin", 104: "short write to output.bin",
    0x7D: "unexpected interrupt", 0x7E: "hard fault",
}
KERNEL_VARIANTS = ("ref", "cortex-m")
# the runner's report of a failed init / invoke: "lpn-runner: <stage>: <lpn_format_error text>"
_RUNNER_ERROR = re.compile(r"^lpn-runner: (init|invoke): (.*)$", re.MULTILINE)
_ERROR_FIELDS = re.compile(r"(op|tensor|byte offset|detail) (0x[0-9a-f]+|-?\d+)")


def _build_root(build_dir: Path | None) -> Path:
    return Path(build_dir or toolchain.BUILD_DIR / "firmware").resolve()


_FRESH_OBJECTS: dict[tuple[Path, str, str], bytes] = {}


def _objects_fingerprint(root: Path, target: str, kernels: str) -> bytes:
    """Brings the runner objects of (target, kernels) up to date (once per process) and fingerprints them
    (names, sizes, modification times), so a linked ELF is reused only with the objects it was linked from:
    after a kernel source changes, the next process relinks instead of running stale code."""
    key = (root, target, kernels)
    if key not in _FRESH_OBJECTS:
        cmd = ["make", "-s", "-C", str(toolchain.FIRMWARE_DIR), "runner", f"TARGET={target}", f"BUILD={root}",
               f"LPN_KERNELS={kernels}"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"`{' '.join(cmd)}` failed ({out.returncode}):\n{out.stdout}{out.stderr}")
        objects = sorted((root / target / f"runner-{kernels}" / "obj").rglob("*.o"))
        stats = [f"{p.relative_to(root)}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in objects]
        _FRESH_OBJECTS[key] = "\n".join(stats).encode()
    return _FRESH_OBJECTS[key]


def link_runner(model: bytes, target: str, *, kernels: str = "ref", build_dir: Path | None = None) -> Path:
    """Returns the runner ELF for ``model`` on ``target``, linking it (and compiling the cached objects)
    when it is not there yet. Raises RuntimeError with make's output when the build fails."""
    toolchain.get_target(target)
    if kernels not in KERNEL_VARIANTS:
        raise ValueError(f"unknown kernel variant {kernels!r}; known: {', '.join(KERNEL_VARIANTS)}")
    root = _build_root(build_dir)
    digest = hashlib.sha256(model + _objects_fingerprint(root, target, kernels)).hexdigest()[:24]
    folder = root / target / f"runner-{kernels}" / "models" / digest
    elf = folder / "runner.elf"
    if not elf.exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.tflite").write_bytes(model)
        partial = folder / f"runner.{os.getpid()}.elf"  # linked aside, then renamed: never a half ELF
        cmd = ["make", "-s", "-C", str(toolchain.FIRMWARE_DIR), "runner", f"TARGET={target}", f"BUILD={root}",
               f"LPN_KERNELS={kernels}", f"MODEL={folder / 'model.tflite'}", f"RUNNER_ELF={partial}"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"`{' '.join(cmd)}` failed ({out.returncode}):\n{out.stdout}{out.stderr}")
        os.replace(partial, elf)
    return elf


class QemuRuntime:
    """The firmware runtime on an emulated Cortex-M core (QEMU mps2 boards).

    Args:
        model: the .tflite bytes.
        target: "m4", "m7" or "m33".
        kernels: "ref" (portable C) or "cortex-m" (optimized kernels where they exist).
        icount: run QEMU with ``-icount shift=0`` (deterministic virtual time; slower).
        profile: count executed instructions per operator with the insn_count plugin.
        timeout_s: wall-clock limit for one QEMU run, in seconds.
        build_dir: firmware build directory (default ``build/firmware``).
        source: a name for error messages (the file path).
    """

    def __init__(self, model: bytes, target: str = "m4", *, kernels: str = "ref", icount: bool = False,
                 profile: bool = False, timeout_s: float = 120.0, build_dir: Path | None = None,
                 source: str = "<bytes>") -> None:
        self.backend = f"qemu-{target}"
        self.target = target
        self.source = source
        self.timeout_s = timeout_s
        self.icount = icount
        self.count_instructions = profile
        # The host build of the same runtime validates the model first (fast, precise errors) and
        # gives the tensor specs and the op table.
        host = HostRuntime(model, build_dir=build_dir, source=source)
        self.inputs: list[TensorSpec] = host.inputs
        self.outputs: list[TensorSpec] = host.outputs
        self._ops = host.ops()
        self.elf = link_runner(model, target, kernels=kernels, build_dir=build_dir)
        self.profile: list[dict[str, object]] = []
        self.last_stdout = ""

    def run(self, x: np.ndarray | Sequence[np.ndarray]) -> np.ndarray | list[np.ndarray]:
        """Runs the model on ``x`` (same conventions as :meth:`HostRuntime.run`) in one QEMU process."""
        samples = split_batch(self.inputs, x, self.source)
        with tempfile.TemporaryDirectory(prefix="lpn-qemu-") as tmp:
            work = Path(tmp)
            (work / "input.bin").write_bytes(b"".join(a.tobytes() for sample in samples for a in sample))
            extra = ("-icount", "shift=0") if self.icount else ()
            try:
                result = toolchain.run_qemu(self.elf, self.target, timeout_s=self.timeout_s, cwd=work,
                                            extra_args=extra, count_instructions=self.count_instructions)
            except TimeoutError as exc:
                raise TimeoutError(f"{self.source} on {self.backend}: {exc}") from exc
            self.last_stdout = result.stdout
            if result.returncode != 0:
                raise self._failure(result.returncode, result.stdout + result.stderr)
            data = (work / "output.bin").read_bytes()
        expected = sum(spec.nbytes for spec in self.outputs) * len(samples)
        if len(data) != expected:
            raise FirmwareError(f"{self.source} on {self.backend}: output.bin has {len(data)} bytes, "
                                f"expected {expected}", status=-1)
        results: list[list[np.ndarray]] = [[] for _ in self.outputs]
        at = 0
        for _ in samples:
            for i, spec in enumerate(self.outputs):
                results[i].append(np.frombuffer(data, spec.dtype, count=int(np.prod(spec.shape)),
                                                offset=at).reshape(spec.shape).copy())
                at += spec.nbytes
        self.profile = self._profile_rows(result.insn_counts.regions() if result.insn_counts else None)
        return join_batch(results)

    def _profile_rows(self, regions: list[int] | None) -> list[dict[str, object]]:
        """One row per op; with instruction counts (first sample's marks) when the run was profiled."""
        rows: list[dict[str, object]] = []
        for op in self._ops:
            row: dict[str, object] = {"op": op.index, "kind": op.kind, "macs": op.macs}
            if regions is not None and op.index < len(regions):
                row["instructions"] = regions[op.index]
                row["instructions_per_mac"] = regions[op.index] / op.macs if op.macs else None
            rows.append(row)
        return rows

    def _failure(self, code: int, console: str) -> FirmwareError:
        return parse_runner_error(code, console, f"{self.source} on {self.backend}")


def parse_runner_error(code: int, console: str, where: str) -> FirmwareError:
    """The :class:`FirmwareError` of a runner that exited with ``code`` after printing ``console``.

    For an ``lpn_rt_status_t`` exit the runner's ``lpn-runner: init|invoke: ...`` line gives the error
    fields exactly as :meth:`HostRuntime` reports them (``op_index``, ``tensor_index``, ``offset``,
    ``detail``, ``op_name``); other exits (:data:`RUNNER_EXITS`) carry only the status.
    """
    what = RUNNER_EXITS.get(code, status_name(code))
    error = FirmwareError(f"{where}: runner exited with {code} ({what}):\n{console.strip()}", status=code)
    reports = _RUNNER_ERROR.findall(console)
    if code in RUNNER_EXITS or not reports:
        return error
    text = reports[-1][1]
    fields_text, _, name = text.partition(", name '")
    fields_text = fields_text[fields_text.rfind(" (") :]  # the status string may hold parentheses too
    fields = {key: int(value, 0) for key, value in _ERROR_FIELDS.findall(fields_text)}
    error.op_index = fields.get("op")
    error.tensor_index = fields.get("tensor")
    error.offset = fields.get("byte offset")
    error.detail = fields.get("detail", 0)
    error.op_name = name[:-2] if name.endswith("')") else ""
    return error


def device_init_error(model: bytes, target: str = "m4", *, kernels: str = "ref", timeout_s: float = 60.0,
                      build_dir: Path | None = None, source: str = "<bytes>") -> FirmwareError | None:
    """Runs only the emulated device's ``lpn_init`` on ``model`` (no host pre-check, unlike
    :class:`QemuRuntime`): its :class:`FirmwareError` (see :func:`parse_runner_error`), or None when the
    device accepted the model. One link (cached by the model's hash) and one QEMU boot, ~0.1 s.

    Raises:
        TimeoutError: QEMU did not exit within ``timeout_s`` seconds (names the model and target).
    """
    elf = link_runner(model, target, kernels=kernels, build_dir=build_dir)
    with tempfile.TemporaryDirectory(prefix="lpn-qemu-init-") as tmp:
        # no input.bin: after a successful init the runner stops with EXIT_OPEN_INPUT (101)
        try:
            result = toolchain.run_qemu(elf, target, timeout_s=timeout_s, cwd=tmp)
        except TimeoutError as exc:
            raise TimeoutError(f"{source} on qemu-{target}: {exc}") from exc
    if result.returncode == 101 and "lpn-runner arena" in result.stdout:
        return None
    return parse_runner_error(result.returncode, result.stdout + result.stderr, f"{source} on qemu-{target}")


def open(path: str | Path, target: str = "m4", **kwargs: object) -> QemuRuntime:  # noqa: A001
    """Loads a .tflite file for emulated Cortex-M ``target`` (see :class:`QemuRuntime` for keywords)."""
    return QemuRuntime(Path(path).read_bytes(), target, source=str(path), **kwargs)  # type: ignore[arg-type]


def open_backend(path: str | Path, backend: str, **kwargs: object) -> QemuRuntime:
    """``open`` by backend name: "qemu-m4", "qemu-m7" or "qemu-m33"."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown QEMU backend {backend!r}; known: {', '.join(BACKENDS)}")
    return open(path, BACKENDS[backend], **kwargs)
