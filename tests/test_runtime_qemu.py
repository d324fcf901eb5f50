"""The firmware runtime on emulated Cortex-M4, M7 and M33 (QEMU): same bits as the host build and LiteRT.

Needs arm-none-eabi-gcc and qemu-system-arm: skipped locally when missing, a FAILURE under CI=true
(conftest.cortex_m_toolchain). The runner objects are compiled once per target into build/firmware and
reused; each model costs one link.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_runtime_models import converted_models, litert_run, lpn_graph, random_inputs

from lpn_tf import toolchain
from lpn_tf.export import tflite_writer
from lpn_tf.runtime import host, qemu
from lpn_tf.runtime.api import load

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("qemu-models")
    files = {}
    for name in ("conv_dw_maxpool_mean_softmax", "residual_add_avgpool_reshape", "dense_per_channel"):
        files[name] = folder / f"{name}.tflite"
        files[name].write_bytes(converted_models()[name])
    files["lpn"] = folder / "lpn.tflite"  # LPN custom ops; LiteRT cannot run it without the registrar
    graph = lpn_graph(np.random.default_rng(6), 0)
    files["lpn"].write_bytes(tflite_writer.to_tflite_bytes(graph, flavor="lpn"))
    return files


@pytest.mark.parametrize("backend", ["qemu-m4", "qemu-m7", "qemu-m33"])
def test_emulated_cortex_m_matches_host_and_litert(backend: str, model_files: dict[str, Path],
                                                   cortex_m_toolchain: None) -> None:
    for name, path in model_files.items():
        rt = load(path, backend=backend)
        assert isinstance(rt, qemu.QemuRuntime) and rt.backend == backend
        x = random_inputs(host.HostRuntime(path.read_bytes()), 12, seed=21)
        got, want = rt.run(x), host.open(path).run(x)
        for g, w in zip(got if isinstance(got, list) else [got], want if isinstance(want, list) else [want],
                        strict=True):
            np.testing.assert_array_equal(g, w, err_msg=f"{name} on {backend} vs host")
        if name != "lpn":
            np.testing.assert_array_equal(got, litert_run(path.read_bytes(), x), err_msg=f"{name} vs LiteRT")
        assert [row["kind"] for row in rt.profile] == [op.kind for op in host.open(path).ops()]


def test_profile_counts_instructions_per_op(model_files: dict[str, Path], cortex_m_toolchain: None) -> None:
    path = model_files["conv_dw_maxpool_mean_softmax"]
    rt = qemu.open(path, "m4", profile=True)
    x = random_inputs(host.HostRuntime(path.read_bytes()), 2, seed=4)
    rt.run(x)
    conv = rt.profile[0]
    assert conv["kind"] == "CONV_2D" and conv["macs"] == 8 * 8 * 6 * 3 * 3 * 3
    assert all(row["instructions"] > 0 for row in rt.profile)
    assert conv["instructions_per_mac"] > 1.0  # a MAC costs at least one instruction
    again = qemu.open(path, "m4", profile=True)
    again.run(x)
    assert [r["instructions"] for r in again.profile] == [r["instructions"] for r in rt.profile]  # repeatable


def test_optimized_cortex_m_kernels_in_the_runner(model_files: dict[str, Path],
                                                  cortex_m_toolchain: None) -> None:
    """LPN_KERNELS=cortex-m (SIMD kernels where they exist): same bits as the reference build, fewer
    instructions for the convolution."""
    path = model_files["conv_dw_maxpool_mean_softmax"]
    x = random_inputs(host.HostRuntime(path.read_bytes()), 4, seed=8)
    ref = qemu.open(path, "m4", profile=True)
    opt = qemu.open(path, "m4", kernels="cortex-m", profile=True)
    np.testing.assert_array_equal(opt.run(x), ref.run(x))
    assert opt.profile[0]["instructions"] < ref.profile[0]["instructions"]


def test_malformed_model_fails_with_its_status_on_the_device(tmp_path: Path,
                                                             cortex_m_toolchain: None) -> None:
    """The Cortex-M build validates too: the runner exits with the runtime's status code."""
    data = bytearray(converted_models()["dense_per_channel"])
    data[4:8] = b"XXXX"  # file identifier
    elf = qemu.link_runner(bytes(data), "m4")
    (tmp_path / "input.bin").write_bytes(bytes(24))
    result = toolchain.run_qemu(elf, "m4", timeout_s=60, cwd=tmp_path)
    assert result.returncode == host.STATUS["IDENTIFIER"], result
    assert "file identifier is not TFL3" in result.stdout


def test_unknown_backend_target_is_named() -> None:
    with pytest.raises(ValueError, match="m4, m7, m33"):
        qemu.link_runner(b"", "m0")


def test_icount_and_timeout(model_files: dict[str, Path], cortex_m_toolchain: None) -> None:
    """-icount runs give the same bits; a run past timeout_s raises TimeoutError naming model and backend."""
    path = model_files["residual_add_avgpool_reshape"]
    x = random_inputs(host.HostRuntime(path.read_bytes()), 2, seed=3)
    np.testing.assert_array_equal(qemu.open(path, "m4", icount=True).run(x), host.open(path).run(x))
    with pytest.raises(TimeoutError, match="residual_add_avgpool_reshape.tflite on qemu-m4"):
        qemu.open(path, "m4", timeout_s=0.001).run(x)
