"""The QEMU instruction-count plugin: exact, repeatable counts between profiling marks."""

from __future__ import annotations

import pytest

from lpn_tf import toolchain


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["m4", "m33"])
def test_counts_are_exact_and_repeatable(target: str, tmp_path, cortex_m_toolchain) -> None:
    toolchain.make_firmware("profile-selftest", target=target, build_dir=tmp_path)
    elf = tmp_path / target / "profile_loops.elf"
    first = toolchain.run_qemu(elf, target, count_instructions=True, timeout_s=60)
    second = toolchain.run_qemu(elf, target, count_instructions=True, timeout_s=60)
    assert first.returncode == 0, first
    assert first.insn_counts == second.insn_counts  # deterministic, bit for bit
    regions = first.insn_counts.regions()
    assert len(regions) == 4
    # region k runs (k+1)*1000 loop iterations: every region adds exactly the same instruction count
    steps = {b - a for a, b in zip(regions, regions[1:], strict=False)}
    assert len(steps) == 1
    step = steps.pop()
    assert step % 1000 == 0 and 2000 <= step <= 10000  # a few instructions per iteration
    assert first.insn_counts.total > first.insn_counts.marks[-1]


def test_parse_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="line 2"):
        toolchain.InsnCounts.parse("total 5\nbogus 1\n")
    with pytest.raises(ValueError, match="odd number"):
        toolchain.InsnCounts(10, (1, 2, 3)).regions()
