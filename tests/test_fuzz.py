"""libFuzzer harness of the firmware runtime (firmware/fuzz/): builds, smoke-fuzzes, replays regressions.

The harness feeds arbitrary bytes to lpn_init (256 KB static arena) and, when the model is accepted, runs
one lpn_invoke, under AddressSanitizer + UndefinedBehaviorSanitizer with -fno-sanitize-recover=all, so any
memory error or undefined behaviour is a crash. Needs clang + the libFuzzer runtime: skips locally when
missing, FAILS under CI=true.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from lpn_tf import toolchain
from lpn_tf.runtime import host

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
FUZZ_DIR = toolchain.FIRMWARE_DIR / "fuzz"
CORPUS = sorted((FUZZ_DIR / "corpus").glob("*.tflite"))
REGRESSIONS = sorted(p for p in (FUZZ_DIR / "regressions").iterdir() if p.is_file())
CLANG_APT = "apt-get install -y --no-install-recommends clang libclang-rt-14-dev"
SMOKE_SECONDS = 20


def _clang_fuzzer_missing() -> str | None:
    """Why the libFuzzer build cannot run here, or None when clang and its fuzzer runtime are present."""
    clang = shutil.which("clang")
    if clang is None:
        return "clang not found"
    query = subprocess.run([clang, "--print-runtime-dir"], capture_output=True, text=True, timeout=60)
    runtime_dir = query.stdout.strip()
    library = Path(runtime_dir) / f"libclang_rt.fuzzer-{platform.machine()}.a"
    if not library.exists():
        return f"libFuzzer runtime {library} not found"
    return None


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    command = ["make", "-s", "-C", str(FUZZ_DIR), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def fuzz_harness() -> Path:
    """Builds firmware/fuzz's harness (clang, -Wall -Wextra -Werror, ASan + UBSan + libFuzzer); returns it.

    Skips locally when clang or its libFuzzer runtime is missing, FAILS under CI=true.
    """
    missing = _clang_fuzzer_missing()
    if missing:
        message = f"libFuzzer toolchain missing: {missing}; fix: {CLANG_APT}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    built = _make("harness")
    assert built.returncode == 0, built.stdout + built.stderr
    harness = toolchain.BUILD_DIR / "firmware" / "fuzz" / "lpn_fuzz"
    assert harness.exists()
    return harness


def _corpus_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lpn_fuzz_make_corpus", FUZZ_DIR / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_corpus_is_the_generators_output() -> None:
    """The committed seeds are exactly what make_corpus.py writes (deterministic, reproducible)."""
    generator = _corpus_generator()
    assert [p.stem for p in CORPUS] == sorted(generator.SEEDS)
    for path in CORPUS:
        assert path.read_bytes() == generator.seed_bytes(path.stem), path.name


def test_corpus_seeds_are_small_valid_models_of_both_flavors() -> None:
    """Every seed is < 4 KB and runs on the host runtime; builtin-only and LPN custom-op seeds both exist."""
    flavors = set()
    for path in CORPUS:
        data = path.read_bytes()
        assert len(data) < 4096, path.name
        runtime = host.HostRuntime(data, source=str(path))
        x = [np.zeros(spec.shape, spec.dtype) for spec in runtime.inputs]
        runtime.run(x)
        flavors.add("lpn" if any(op.kind.startswith("LPN_") for op in runtime.ops()) else "builtin")
    assert flavors == {"builtin", "lpn"}


def test_fuzz_smoke_finds_no_crash(fuzz_harness: Path, tmp_path: Path) -> None:
    """SMOKE_SECONDS of fuzzing from the seeds: no crash, many executions, coverage beyond the seeds."""
    result = _make("fuzz", f"FUZZ_SECONDS={SMOKE_SECONDS}", f"FUZZ_WORK={tmp_path}")
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert not list((tmp_path / "artifacts").iterdir()), log[-4000:]
    executions = int(re.search(r"stat::number_of_executed_units:\s*(\d+)", log).group(1))
    assert executions >= 100_000, executions
    coverage = [int(c) for c in re.findall(r"\bcov: (\d+)", log)]
    initial = int(re.search(r"INITED cov: (\d+)", log).group(1))
    # the seeds alone reach the planner, the op adapters and the kernels; mutation reaches error paths
    assert initial >= 800 and coverage[-1] > initial, (initial, coverage[-1])


def test_regression_inputs_replay_clean(fuzz_harness: Path) -> None:
    """Every crash input ever found (firmware/fuzz/regressions/) now runs clean under the sanitizers."""
    assert REGRESSIONS, "firmware/fuzz/regressions/ is empty"
    for path in REGRESSIONS:
        result = subprocess.run([str(fuzz_harness), str(path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{path.name}:\n{result.stderr[-3000:]}"
        assert "Executed" in result.stderr and "runtime error" not in result.stderr, path.name


def test_regression_inputs_replay_clean_on_gcc_asan_lpn_run(tmp_path: Path) -> None:
    """The same inputs through the host-asan lpn_run (gcc ASan + UBSan, a second compiler): a status exit."""
    toolchain.make_firmware("host-asan")
    lpn_run = toolchain.BUILD_DIR / "firmware" / "host-asan" / "lpn_run"
    for path in REGRESSIONS:
        try:
            sample_bytes = sum(spec.nbytes for spec in host.HostRuntime(path.read_bytes()).inputs)
        except host.FirmwareError:
            sample_bytes = 1  # refused at init: lpn_run exits before it looks at the input
        inputs = tmp_path / "in.bin"
        inputs.write_bytes(bytes(sample_bytes))
        result = subprocess.run([str(lpn_run), str(path), str(inputs), str(tmp_path / "out.bin")],
                                capture_output=True, text=True, errors="replace", timeout=60,
                                env={"ASAN_OPTIONS": "detect_leaks=0", "PATH": "/usr/bin:/bin"})
        assert "Sanitizer" not in result.stderr and "runtime error" not in result.stderr, result.stderr
        assert 0 <= result.returncode < len(host.STATUS_NAMES), (path.name, result.returncode, result.stderr)


def test_make_fuzz_regressions_target(fuzz_harness: Path) -> None:
    """`make fuzz-regressions` replays regressions/ and corpus/ in one harness run."""
    result = _make("fuzz-regressions")
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert log.count("Executed ") == len(REGRESSIONS) + len(CORPUS), log[-3000:]
