"""C kernels (firmware/kernels/) against LiteRT's reference int8 kernels, on the host and under QEMU.

One module-scoped fixture converts the tiny single-op Keras models and runs them in LiteRT
(``firmware/tests/golden.py``); every test then builds a C runner (``firmware/tests/Makefile``) and checks
that it reproduces every recorded output byte.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS_DIR = ROOT / "firmware" / "tests"
CASE_LINE = re.compile(r"^case (\d+) (ok|FAIL.*)$")


def _load_golden() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lpn_kernel_golden", TESTS_DIR / "golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


golden_mod = _load_golden()


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], list]:
    """(directory holding golden/case_NNN.bin, case names, cases) generated once per module."""
    root = tmp_path_factory.mktemp("kernels")
    cases = golden_mod.generate(seed=0)
    names = golden_mod.write(cases, root / "golden")
    return root / "golden", names, cases


def _make(target: str, out: Path, **variables: str) -> Path:
    args = ["make", "-s", "-C", str(TESTS_DIR), target, f"OUT={out}"]
    args += [f"{key}={value}" for key, value in variables.items()]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"make {target} failed:\n{result.stdout}\n{result.stderr}"
    return out


def _check_report(output: str, returncode: int, names: list[str], where: str) -> None:
    """Every case ran and matched; otherwise name the failing cases."""
    results = {}
    for line in output.splitlines():
        match = CASE_LINE.match(line.strip())
        if match:
            results[int(match.group(1))] = match.group(2)
    failures = [f"{names[i]}: {text}" for i, text in sorted(results.items()) if text != "ok"]
    assert not failures, f"{where}: {len(failures)} case(s) differ from LiteRT:\n" + "\n".join(failures)
    assert sorted(results) == list(range(len(names))), (
        f"{where}: ran {len(results)} of {len(names)} cases\n{output}"
    )
    assert returncode == 0, f"{where}: exit status {returncode}\n{output}"


def test_golden_cases_cover_the_required_shapes(golden) -> None:
    """Kernel sizes 1-5, strides 1 and 2, SAME and VALID, 3/5/7/16 channels, depth multiplier 2, dilation,
    grouped convolution (4 and 3 channels per group), non-zero biases, large cases for rounding ties."""
    _, _, cases = golden
    convs = [c for c in cases if c.op in ("conv", "depthwise_conv")]
    kernel_sizes = {c.params[5] for c in convs}
    strides = {c.params[14] for c in convs}
    channels = {c.params[3] for c in convs}
    paddings = {c.params[16] > 0 or c.params[17] > 0 for c in convs}
    assert kernel_sizes >= {1, 2, 3, 4, 5}
    assert strides >= {1, 2}
    assert channels >= {3, 5, 7, 16}
    assert paddings == {True, False}
    assert any(c.op == "depthwise_conv" and c.params[22] == 2 for c in convs)
    assert any(c.params[18] == 2 for c in convs), "no dilated convolution"
    assert {c.params[7] % 4 for c in cases if c.op == "conv" and c.params[3] != c.params[7]} == {0, 3}, (
        "groups"
    )
    assert all(c.tensors[2].size > 0 and c.tensors[2].any() for c in convs), "a conv without a non-zero bias"
    for op in ("conv", "depthwise_conv", "fully_connected", "fully_connected_per_channel"):
        # thousands of outputs make rounding ties certain: single vs double rounding shows up
        assert max(c.tensors[-1].size for c in cases if c.op == op) >= 2048, op
    ops = {c.op for c in cases}
    assert ops == set(golden_mod.OPS), f"missing ops: {set(golden_mod.OPS) - ops}"
    means = [c for c in cases if c.op == "mean"]
    same_quant = [c for c in means if c.params[8] == -c.params[9] and c.params[10:12] == [1 << 30, 1]]
    assert same_quant and len(same_quant) < len(means), "MEAN needs cases with and without equal quantization"


@pytest.mark.parametrize("kernels", ["ref", "cortex-m"])
def test_host_kernels_match_litert(golden, tmp_path: Path, kernels: str) -> None:
    """The reference kernels, and the Cortex-M ones with the portable SIMD equivalents of lpn_cm_simd.h."""
    directory, names, _ = golden
    exe = _make("host", tmp_path, LPN_KERNELS=kernels) / f"kernel_test_{kernels}"
    result = subprocess.run([str(exe), str(directory)], capture_output=True, text=True, timeout=60)
    _check_report(result.stdout, result.returncode, names, f"host {kernels}")


@pytest.mark.parametrize("kernels", ["ref", "cortex-m"])
def test_host_kernels_are_clean_under_asan_and_ubsan(golden, tmp_path: Path, kernels: str) -> None:
    directory, names, _ = golden
    exe = _make("host", tmp_path, SANITIZE="1", LPN_KERNELS=kernels) / f"kernel_test_{kernels}_asan"
    result = subprocess.run([str(exe), str(directory)], capture_output=True, text=True, timeout=60)
    assert "runtime error" not in result.stderr and "AddressSanitizer" not in result.stderr, result.stderr
    _check_report(result.stdout, result.returncode, names, f"host {kernels} ASan+UBSan")


def test_runner_reports_a_single_wrong_byte(golden, tmp_path: Path) -> None:
    """The comparison can fail: one flipped expected byte of one case is reported, for that case only."""
    directory, names, cases = golden
    victim = next(i for i, c in enumerate(cases) if c.op == "conv")
    broken = tmp_path / "golden"
    shutil.copytree(directory, broken)
    case = cases[victim]
    expected = case.tensors[-1].copy()
    expected.flat[3] = expected.flat[3] ^ 0x10
    tampered = golden_mod.Case(case.name, case.op, case.params, [*case.tensors[:-1], expected])
    (broken / f"case_{victim:03d}.bin").write_bytes(tampered.to_bytes())
    exe = _make("host", tmp_path / "build") / "kernel_test_ref"
    result = subprocess.run([str(exe), str(broken)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout
    assert f"case {victim} FAIL 1 of {expected.size} differ; first at 3" in result.stdout, result.stdout


@pytest.mark.qemu
@pytest.mark.parametrize(
    ("target", "kernels"),
    [("m4", "ref"), ("m4", "cortex-m"), ("m7", "cortex-m"), ("m33", "cortex-m")],
    ids=["m4-ref", "m4-opt", "m7-opt", "m33-opt"],
)
def test_qemu_kernels_match_litert(
    golden, tmp_path: Path, cortex_m_toolchain, target: str, kernels: str
) -> None:
    directory, names, _ = golden
    _make("cm", tmp_path, TARGET=target, LPN_KERNELS=kernels)
    result = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(TESTS_DIR),
            "run-cm",
            f"OUT={tmp_path}",
            f"TARGET={target}",
            f"LPN_KERNELS={kernels}",
            f"GOLDEN={directory}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    status = 0 if "failed 0" in output else 1
    _check_report(output, status, names, f"QEMU {target} {kernels}")
    assert result.returncode == 0, output


def test_case_names_are_recorded(golden) -> None:
    directory, names, _ = golden
    assert json.loads((directory / "cases.json").read_text()) == names
