"""Instructions per MAC of the reference and the optimized Cortex-M kernels on emulated Cortex-M4.

firmware/tests/bench_main.c runs each kernel between two profiling marks; the insn_count QEMU plugin
counts the executed instructions exactly. The optimized kernels must beat the reference ones by a wide
margin (they were 3.4x / 2.8x / 3.3x faster for conv / depthwise / fully connected when written).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lpn_tf import toolchain

ROOT = Path(__file__).resolve().parents[1]

#: (name, MACs) of the regions of bench_main.c, in order
LAYERS = [
    ("conv 16x16x16->16 k3", 16 * 16 * 16 * 9 * 16),
    ("conv 8x8x32->32 k3", 8 * 8 * 32 * 9 * 32),
    ("conv 16x16x3->16 k3", 16 * 16 * 16 * 9 * 3),
    ("depthwise 16x16x32 k3", 16 * 16 * 32 * 9),
    ("fully connected 256->64", 256 * 64),
]


def instructions_per_mac(target: str, kernels: str, out: Path) -> dict[str, float]:
    """Build bench_main.c with the given kernels and return {layer: instructions per MAC}."""
    build = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(ROOT / "firmware" / "tests"),
            "cm-bench",
            f"OUT={out}",
            f"TARGET={target}",
            f"LPN_KERNELS={kernels}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    run = toolchain.run_qemu(
        out / f"bench_{target}_{kernels}.elf", target, count_instructions=True, timeout_s=60
    )
    assert run.returncode == 0, f"a kernel returned an error status: {run}"
    assert run.insn_counts is not None
    regions = run.insn_counts.regions()
    assert len(regions) == len(LAYERS), regions
    return {name: count / macs for (name, macs), count in zip(LAYERS, regions, strict=True)}


@pytest.mark.qemu
def test_optimized_kernels_need_far_fewer_instructions_per_mac(tmp_path: Path, cortex_m_toolchain) -> None:
    ref = instructions_per_mac("m4", "ref", tmp_path)
    opt = instructions_per_mac("m4", "cortex-m", tmp_path)
    table = "\n".join(f"{name:26s} ref {ref[name]:6.2f}  opt {opt[name]:6.2f}" for name, _ in LAYERS)
    print("\ninstructions per MAC on Cortex-M4\n" + table)
    for name, _ in LAYERS:
        assert opt[name] < 0.5 * ref[name], (
            f"{name}: optimized {opt[name]:.2f} vs reference {ref[name]:.2f}\n{table}"
        )
    # issue 6: ResNet-8 <= 1.5 instructions per MAC overall; its 3x3 convs must stay well below that
    # (measured 1.35 and 1.30: 12 or 16 instructions per 16 MACs in the inner loop, docs/kernels.md)
    assert opt["conv 16x16x16->16 k3"] < 1.45, table
    assert opt["conv 8x8x32->32 k3"] < 1.4, table
    assert opt["conv 16x16x3->16 k3"] < 3.6, table  # a stem: 27 MACs per output, requantization-bound
