"""Tally what the runtime does with each file of a fuzz corpus: the lpn_init status, then the invoke result.

Usage (from the repository root)::

    .venv/bin/python firmware/fuzz/outcomes.py DIR [DIR ...]

Prints one line per outcome (``init:<STATUS>``, ``invoke:OK`` or ``invoke:<STATUS>``) with its file count,
most frequent first. Runs in-process on the host library (not sanitized: the sanitized replay is
``make -C firmware/fuzz fuzz-regressions`` or the harness itself); the arena is the harness's 256 KB.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from lpn_tf.runtime import host

ARENA_BYTES = 256 * 1024  # LPN_FUZZ_ARENA_BYTES of lpn_fuzz.c


def outcome(data: bytes) -> str:
    """``init:<STATUS>`` when lpn_init refuses ``data``, else ``invoke:OK`` / ``invoke:<STATUS>``.

    The inputs are zeros (the harness uses a fixed pattern; both are valid int8 inputs).
    """
    try:
        runtime = host.HostRuntime(data, arena_bytes=ARENA_BYTES)
    except host.FirmwareError as error:
        return f"init:{host.status_name(error.status)}"
    try:
        runtime.run([np.zeros(spec.shape, spec.dtype) for spec in runtime.inputs])
    except host.FirmwareError as error:
        return f"invoke:{host.status_name(error.status)}"
    return "invoke:OK"


def tally(directories: list[Path]) -> Counter[str]:
    """Outcome counts over every file of ``directories``."""
    counts: Counter[str] = Counter()
    for directory in directories:
        for path in sorted(directory.iterdir()):
            if path.is_file():
                counts[outcome(path.read_bytes())] += 1
    return counts


if __name__ == "__main__":
    result = tally([Path(d) for d in sys.argv[1:]])
    for name, count in result.most_common():
        print(f"{count:8d}  {name}")
    print(f"{sum(result.values()):8d}  total")
