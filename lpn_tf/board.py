"""Real Cortex-M boards: build the board image, and read back what it reports over its console UART.

The board runner (``firmware/targets/cortex-m/board/main.c``, docs/boards.md) runs one inference of the
model linked into its flash and prints line-oriented text on the console UART::

    lpn-board begin board=nucleo-f446re core_hz=16000000 cycle_counter=1 model_bytes=4976 input=zeros
    lpn-board arena planned=1536 used=4416 size=98304
    lpn-profile op,kind,macs,cycles
    lpn-profile 0,CONV_2D,8748,61234
    lpn-output index=0 type=int8 shape=1x5 data=f4f6ef5640
    lpn-board end status=0 ops=1 cycles=61234

:func:`parse_uart` turns such a capture into :class:`BoardRun`, whose ``rows`` have the columns of the
QEMU backends' ``rt.profile`` (``op``, ``kind``, ``macs``) with DWT ``cycles`` and ``cycles_per_mac`` in
place of instructions, and whose :meth:`BoardRun.save_measurements` writes the ACEv2 measurement file
(docs/ace.md, metric ``cycles``) that ``lpn profile -o`` writes for QEMU. :func:`build_board` runs
``make -C firmware board``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lpn_tf import toolchain

BOARDS_DIR = toolchain.FIRMWARE_DIR / "targets" / "cortex-m" / "boards"
PROFILE_HEADER = "op,kind,macs,cycles"
"""The column line the firmware prints before the per-op rows (the format's version check)."""

_DTYPES: dict[str, type[np.integer[Any]]] = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16,
                                             "int32": np.int32}
_KEY_VALUE = re.compile(r"(\w+)=(\S*)")


class UartFormatError(ValueError):
    """A console capture does not follow the board runner's format; the message names the line."""


def board_names() -> list[str]:
    """Boards ``make -C firmware board BOARD=...`` knows (``firmware/targets/cortex-m/boards/*.mk``)."""
    return sorted(p.stem for p in BOARDS_DIR.glob("*.mk"))


@dataclass
class BoardRun:
    """One inference as the board reported it.

    Attributes:
        board: the board name the image was built for (``BOARD``).
        core_hz: core clock in Hz (what the DWT cycle counter counts).
        cycle_counter: False when the DWT cycle counter was absent or did not start (then ``cycles`` are
            meaningless; under QEMU they read 0).
        model_bytes: size of the .tflite in flash, in bytes.
        input: ``"zeros"`` (no INPUT file given to make: every input byte 0) or ``"file"``.
        arena: ``{"planned", "used", "size"}`` in bytes, or None when ``lpn_init`` failed.
        rows: per op, in execution order: ``op``, ``kind`` (``CONV_2D`` or the custom code), ``macs``,
            ``cycles`` (None past the firmware's ``LPN_DWT_MAX_OPS``) and ``cycles_per_mac`` (None
            without MACs or cycles).
        outputs: the graph outputs, each an array of the tensor's dtype and shape.
        status: ``lpn_rt_status_t`` of the run (0 = ok).
        error: ``"<stage>: <message>"`` when the run failed (stage ``init``, ``input`` or ``invoke``).
        total_cycles: sum of the ops' cycles.
    """

    board: str
    core_hz: int
    cycle_counter: bool
    model_bytes: int
    input: str
    arena: dict[str, int] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[np.ndarray] = field(default_factory=list)
    status: int = 0
    error: str | None = None
    total_cycles: int = 0

    @property
    def seconds(self) -> float:
        """Total op time in seconds (``total_cycles / core_hz``)."""
        return self.total_cycles / self.core_hz

    def check(self) -> BoardRun:
        """Returns self; raises ``lpn_tf.runtime.host.FirmwareError`` naming the stage and status when the
        board reported a failure."""
        if self.status != 0:
            from lpn_tf.runtime.host import FirmwareError, status_name

            raise FirmwareError(f"board {self.board}: {self.error or 'failed'} (status {self.status}, "
                                f"{status_name(self.status)})", status=self.status)
        return self

    def save_measurements(self, path: str | Path, model: str | Path) -> Path:
        """Writes the per-op cycles as an ACEv2 measurement file (.csv or .json, docs/ace.md) for the
        .tflite at ``model`` (the file the image was built from), target = the board name."""
        if not self.cycle_counter:
            raise ValueError(f"board {self.board}: the capture has no cycle counts (cycle_counter=0)")
        from lpn_tf.ace import measurements
        from lpn_tf.export.tflite_reader import read_tflite

        graph = read_tflite(Path(model))
        if len(graph.ops) != len(self.rows):
            raise ValueError(f"{model} has {len(graph.ops)} ops but the board reported {len(self.rows)}: "
                             "not the model the image was built from")
        measured = {int(r["op"]): {"cycles": float(r["cycles"])} for r in self.rows
                    if r["cycles"] is not None}
        rows = measurements.for_graph(graph, measured, target=self.board, model=Path(model).name)
        return measurements.save(path, rows)


def _fields(line: str, number: int, keys: tuple[str, ...]) -> dict[str, str]:
    found = dict(_KEY_VALUE.findall(line))
    missing = [k for k in keys if k not in found]
    if missing:
        raise UartFormatError(f"UART line {number}: {missing[0]!r} missing in {line!r}")
    return found


def _int(value: str, what: str, number: int) -> int:
    try:
        return int(value)
    except ValueError:
        raise UartFormatError(f"UART line {number}: {what} {value!r} is not an integer") from None


def _output(line: str, number: int) -> np.ndarray:
    f = _fields(line, number, ("index", "type", "shape", "data"))
    dtype = _DTYPES.get(f["type"])
    if dtype is None:
        raise UartFormatError(f"UART line {number}: unknown output type {f['type']!r}")
    shape = tuple(_int(d, "shape entry", number) for d in f["shape"].split("x")) if f["shape"] else ()
    try:
        data = bytes.fromhex(f["data"])
    except ValueError:
        raise UartFormatError(f"UART line {number}: output data is not hexadecimal") from None
    expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    if len(data) != expected:
        raise UartFormatError(f"UART line {number}: output {f['index']} has {len(data)} bytes, its shape "
                              f"{shape} of {f['type']} needs {expected} (a lost character?)")
    return np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype).reshape(shape)


def _profile_row(line: str, number: int, expected_op: int) -> dict[str, Any]:
    parts = line.split(",")
    if len(parts) != 4:
        raise UartFormatError(f"UART line {number}: a profile row has 4 columns ({PROFILE_HEADER}), "
                              f"got {line!r}")
    op = _int(parts[0], "op", number)
    if op != expected_op:
        raise UartFormatError(f"UART line {number}: profile row for op {op}, expected op {expected_op}")
    macs = _int(parts[2], "macs", number)
    cycles = _int(parts[3], "cycles", number) if parts[3] else None
    per_mac = cycles / macs if cycles is not None and macs else None
    return {"op": op, "kind": parts[1], "macs": macs, "cycles": cycles, "cycles_per_mac": per_mac}


def parse_uart(text: str) -> BoardRun:
    """Parses a console capture of the board runner into a :class:`BoardRun`.

    Lines that do not start with ``lpn-`` (boot noise, a terminal's banner) are ignored; a capture with
    several runs (the board was reset) yields the last complete one. Raises :class:`UartFormatError`
    naming the line when a ``lpn-`` line is malformed, when the profile header differs from
    :data:`PROFILE_HEADER`, or when the run has no end line (a fault, or the capture was cut short).
    """
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    begins = [i for i, (_, line) in enumerate(lines) if line.startswith("lpn-board begin")]
    if not begins:
        raise UartFormatError("no 'lpn-board begin' line: not a capture of the board runner's console "
                              "(wrong port or baud rate? the board prints at 115200 8N1 after reset)")
    run: BoardRun | None = None
    header_seen = False
    ended = False
    for number, line in lines[begins[-1]:]:
        if not line.startswith("lpn-"):
            continue
        record, _, rest = line.partition(" ")
        if record == "lpn-board" and rest.startswith("begin"):
            f = _fields(rest, number, ("board", "core_hz", "cycle_counter", "model_bytes", "input"))
            run = BoardRun(board=f["board"], core_hz=_int(f["core_hz"], "core_hz", number),
                           cycle_counter=f["cycle_counter"] == "1",
                           model_bytes=_int(f["model_bytes"], "model_bytes", number), input=f["input"])
        elif run is None:
            raise UartFormatError(f"UART line {number}: {line!r} before 'lpn-board begin'")
        elif ended:
            raise UartFormatError(f"UART line {number}: {line!r} after 'lpn-board end'")
        elif record == "lpn-board" and rest.startswith("arena"):
            f = _fields(rest, number, ("planned", "used", "size"))
            run.arena = {k: _int(f[k], k, number) for k in ("planned", "used", "size")}
        elif record == "lpn-profile" and not header_seen:
            if rest != PROFILE_HEADER:
                raise UartFormatError(f"UART line {number}: profile header {rest!r}, this parser reads "
                                      f"{PROFILE_HEADER!r}")
            header_seen = True
        elif record == "lpn-profile":
            run.rows.append(_profile_row(rest, number, len(run.rows)))
        elif record == "lpn-output":
            index = _int(_fields(rest, number, ("index",))["index"], "index", number)
            if index != len(run.outputs):
                raise UartFormatError(f"UART line {number}: output {index}, expected {len(run.outputs)}")
            run.outputs.append(_output(rest, number))
        elif record == "lpn-board" and rest.startswith("error"):
            f = _fields(rest, number, ("stage", "status"))
            message = rest.partition("message=")[2]
            run.error = f"{f['stage']}: {message}"
        elif record == "lpn-board" and rest.startswith("end"):
            f = _fields(rest, number, ("status", "ops", "cycles"))
            run.status = _int(f["status"], "status", number)
            run.total_cycles = _int(f["cycles"], "cycles", number)
            ops = _int(f["ops"], "ops", number)
            if run.status == 0 and ops != len(run.rows):
                raise UartFormatError(f"UART line {number}: the end line counts {ops} ops, the capture has "
                                      f"{len(run.rows)} profile rows (lost lines?)")
            summed = sum(r["cycles"] or 0 for r in run.rows)
            if run.status == 0 and run.total_cycles != summed:
                raise UartFormatError(f"UART line {number}: the end line counts {run.total_cycles} cycles, "
                                      f"the profile rows sum to {summed} (a corrupted line?)")
            ended = True
        else:
            raise UartFormatError(f"UART line {number}: unknown record {line!r}")
    if run is None or not ended:
        raise UartFormatError("the capture has no 'lpn-board end' line after its last 'lpn-board begin': the "
                              "board faulted (locked up) or the capture stopped too early")
    return run


@dataclass(frozen=True)
class BoardImage:
    """A built board image: ``elf`` (with symbols), ``bin`` (raw flash image from the flash origin),
    ``map`` (linker map) and ``log`` (make's output, with ``arm-none-eabi-size``'s table)."""

    elf: Path
    bin: Path
    map: Path
    log: str


def build_board(model: str | Path, board: str = "nucleo-f446re", *, input_file: str | Path | None = None,
                out_dir: str | Path | None = None, kernels: str = "ref",
                build_dir: str | Path | None = None) -> BoardImage:
    """Runs ``make -C firmware board BOARD=<board> MODEL=<model>`` and returns the image's files.

    Args:
        model: the .tflite to link into flash.
        board: a name of :func:`board_names`.
        input_file: raw bytes of one input sample (the graph inputs concatenated); None = all zeros.
        out_dir: where the ELF, .bin and .map go (default ``build/firmware/boards/<board>``).
        kernels: ``"ref"`` or ``"cortex-m"`` (the optimized kernels where they exist).
        build_dir: the firmware build folder (default ``build/firmware``; objects are cached there).
    Raises RuntimeError with make's output when the build or the link fails (e.g. a model too large for
    the board's flash).
    """
    if board not in board_names():
        raise ValueError(f"unknown board {board!r}; known: {', '.join(board_names())}")
    jobs = f"-j{min(4, os.cpu_count() or 1)}"  # the shared objects compile in parallel the first time
    cmd = ["make", "-s", jobs, "-C", str(toolchain.FIRMWARE_DIR), "board", f"BOARD={board}",
           f"MODEL={Path(model).resolve()}", f"LPN_KERNELS={kernels}"]
    if input_file is not None:
        cmd.append(f"INPUT={Path(input_file).resolve()}")
    if build_dir is not None:
        cmd.append(f"BUILD={Path(build_dir).resolve()}")
    out = Path(out_dir).resolve() if out_dir is not None else None
    if out is not None:
        cmd.append(f"BOARD_OUT={out}")
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    folder = out or Path(build_dir or toolchain.BUILD_DIR / "firmware").resolve() / "boards" / board
    elf = folder / "lpn_board.elf"
    return BoardImage(elf, elf.with_suffix(".bin"), elf.with_suffix(".map"), result.stdout + result.stderr)


def main(argv: list[str] | None = None) -> int:
    """``python -m lpn_tf.board CAPTURE.txt MODEL.tflite [-o rows.csv]``: prints the per-op table of a
    console capture and optionally writes it as ACEv2 measurements."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m lpn_tf.board", description=main.__doc__)
    p.add_argument("capture", help="text captured from the board's console UART")
    p.add_argument("model", help="the .tflite the board image was built from")
    p.add_argument("-o", "--output", help="write ACEv2 measurements (.csv or .json)")
    args = p.parse_args(argv)
    try:
        run = parse_uart(Path(args.capture).read_text(errors="replace")).check()
        print(f"{args.model} on {run.board} at {run.core_hz / 1e6:g} MHz")
        print(f"{'op':>3}  {'kind':28s} {'MACs':>10} {'cycles':>12} {'cycles/MAC':>10}")
        for r in run.rows:
            per_mac = f"{r['cycles_per_mac']:.2f}" if r["cycles_per_mac"] is not None else "-"
            print(f"{r['op']:>3}  {r['kind']:28s} {r['macs']:>10} {r['cycles'] or 0:>12} {per_mac:>10}")
        print(f"{'':>3}  {'total':28s} {sum(r['macs'] for r in run.rows):>10} {run.total_cycles:>12} "
              f"({run.seconds * 1e3:.3f} ms)")
        if args.output:
            print(f"measurements: {run.save_measurements(args.output, args.model)}")
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"lpn board: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
