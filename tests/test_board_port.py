"""Real-board ports (NUCLEO-F446RE, NUCLEO-H743ZI): image layout, shared sources, `make flash`, a QEMU
smoke run of the F446 image on the STM32F4 machine netduinoplus2, and the UART parser.

Needs arm-none-eabi-gcc and qemu-system-arm: skipped locally when missing, a FAILURE under CI=true
(conftest.cortex_m_toolchain). The parser tests need no cross toolchain. The runtime and kernel objects are
the QEMU runners' cached ones (build/firmware/<core>/runner-ref/obj); each image costs one link.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from lpn_tf import board, toolchain
from lpn_tf.runtime import host

BOARD = "nucleo-f446re"  # the port QEMU can run (netduinoplus2); the others are built and linked only


@dataclass(frozen=True)
class Layout:
    """What a board's image must look like: core (QEMU target of the shared objects), memory, console."""

    core: str
    flash: tuple[int, int]  # origin, bytes
    ram: tuple[int, int]
    console_object: str
    pyocd_target: str
    openocd_config: str
    dwt_unlock: bool


LAYOUTS = {
    "nucleo-f446re": Layout("m4", (0x08000000, 512 * 1024), (0x20000000, 128 * 1024), "stm32f4_usart2.o",
                            "stm32f446retx", "board/st_nucleo_f4.cfg", dwt_unlock=False),
    "nucleo-h743zi": Layout("m7", (0x08000000, 2048 * 1024), (0x20000000, 128 * 1024), "stm32h7_usart3.o",
                            "stm32h743zitx", "board/st_nucleo_h743zi.cfg", dwt_unlock=True),
}


def _make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", "-C", str(toolchain.FIRMWARE_DIR), *args], capture_output=True,
                          text=True, check=False, env=env)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo-size lpn-flavor model: LPN shift conv / depthwise / dense, QuantNorm, CONV_2D, RESHAPE."""
    from lpn_tf.export import tflite_writer
    from lpn_tf.export.random_graphs import LayerSpec, random_graph

    layers = [LayerSpec("shift_conv", kernel=3, stride=1, channels=4, exponent_bits=2, activation="RELU"),
              LayerSpec("shift_dwconv", multiplier=1, exponent_bits=2, padding="SAME"),
              LayerSpec("quant_norm"), LayerSpec("conv", kernel=2)]
    graph = random_graph(np.random.default_rng(6), (9, 9), 3, layers, head_units=5, head="shift_dense")
    path = tmp_path_factory.mktemp("board-model") / "demo.tflite"
    path.write_bytes(tflite_writer.to_tflite_bytes(graph, flavor="lpn"))
    return path


@pytest.fixture(scope="module")
def sample(model_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, Path]:
    """One random input sample and its raw bytes as a file (make's INPUT)."""
    spec = host.open(model_file).inputs[0]
    x = np.random.default_rng(3).integers(-128, 128, spec.shape).astype(spec.dtype)
    path = tmp_path_factory.mktemp("board-input") / "input.bin"
    path.write_bytes(x.tobytes())
    return x, path


@pytest.fixture(scope="module")
def images(model_file: Path, sample: tuple[np.ndarray, Path], tmp_path_factory: pytest.TempPathFactory,
           cortex_m_toolchain: None) -> dict[str, board.BoardImage]:
    """Every board's image of the demo model with the sample as INPUT (one link each, objects cached)."""
    return {name: board.build_board(model_file, name, input_file=sample[1],
                                    out_dir=tmp_path_factory.mktemp(name)) for name in LAYOUTS}


def test_every_board_file_is_covered() -> None:
    assert sorted(LAYOUTS) == board.board_names()


def _symbols(elf: Path) -> dict[str, tuple[int, str]]:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    return {p[2]: (int(p[0], 16), p[1]) for p in (line.split() for line in out.splitlines()) if len(p) == 3}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_vector_table_at_flash_origin_and_sizes_fit(name: str, images: dict[str, board.BoardImage]) -> None:
    image, layout = images[name], LAYOUTS[name]
    (FLASH_ORIGIN, FLASH_BYTES), (RAM_ORIGIN, RAM_BYTES) = layout.flash, layout.ram
    sections = subprocess.run(["arm-none-eabi-readelf", "-S", "-W", str(image.elf)], capture_output=True,
                              text=True, check=True).stdout
    text = next(line.split() for line in sections.splitlines() if " .text " in line)
    assert int(text[text.index(".text") + 2], 16) == FLASH_ORIGIN  # [Nr] Name Type Addr ...
    raw = image.bin.read_bytes()  # objcopy -O binary starts at the lowest load address: the flash origin
    sp, reset = struct.unpack_from("<II", raw, 0)
    assert RAM_ORIGIN < sp <= RAM_ORIGIN + RAM_BYTES and sp % 8 == 0, hex(sp)
    assert reset & 1 == 1, "reset vector must have the Thumb bit set"
    symbols = _symbols(image.elf)
    assert reset & ~1 == symbols["Reset_Handler"][0]
    assert sp == symbols["__stack_top__"][0]
    assert FLASH_ORIGIN <= symbols["lpn_model_start"][0] < FLASH_ORIGIN + FLASH_BYTES
    assert symbols["lpn_model_start"][0] % 16 == 0
    size = subprocess.run(["arm-none-eabi-size", str(image.elf)], capture_output=True, text=True,
                          check=True).stdout
    text_b, data_b, bss_b = (int(v) for v in size.splitlines()[1].split()[:3])
    assert text_b + data_b <= FLASH_BYTES and data_b + bss_b <= RAM_BYTES
    assert bss_b >= 98304  # the 96 KiB arena is static
    assert "text" in image.log and "FLASH:" in image.log  # arm-none-eabi-size and --print-memory-usage shown
    assert len(raw) == text_b + data_b


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_uart_and_dwt_code_is_linked(name: str, images: dict[str, board.BoardImage]) -> None:
    image, layout = images[name], LAYOUTS[name]
    symbols = _symbols(image.elf)
    for name in ("lpn_board_init", "lpn_board_putc", "lpn_board_flush", "lpn_dwt_init", "lpn_dwt_op_cycles"):
        assert symbols[name][1] == "T", name
    assert symbols["lpn_profile_mark"][1] == "T"  # the DWT hook, not the runtime's weak empty default
    mapping = image.map.read_text()
    assert "profile_dwt.o" in mapping and layout.console_object in mapping and "profile_qemu.o" not in mapping
    dwt_init = subprocess.run(["arm-none-eabi-objdump", "-d", "--disassemble=lpn_dwt_init", str(image.elf)],
                              capture_output=True, text=True, check=True).stdout.lower()
    unlock = "c5acce55" in dwt_init or ("0xce55" in dwt_init and "0xc5ac" in dwt_init)  # literal or movw/movt
    assert unlock == layout.dwt_unlock, "the Cortex-M7 DWT needs its lock access key, the M4 none"


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_board_links_the_qemu_runners_runtime_and_kernel_objects(name: str,
                                                                 images: dict[str, board.BoardImage]) -> None:
    """No copies: every runtime / kernel object of the image is the QEMU runner's own object file."""
    image, layout = images[name], LAYOUTS[name]
    runner_obj = toolchain.BUILD_DIR / "firmware" / layout.core / "runner-ref" / "obj"
    loaded = [Path(line.split()[1]) for line in image.map.read_text().splitlines()
              if line.startswith("LOAD ") and line.split()[1].endswith(".o")]
    shared = {p.name for p in loaded if p.parent == runner_obj}
    own = {p.name for p in loaded if p.parent != runner_obj and not p.name.startswith("lpn_board.elf.")}
    assert shared == {p.name for p in runner_obj.glob("*.o")} - {"main.o", "profile_qemu.o"}
    assert {"runtime.o", "planner.o", "lpn_conv_s8.o", "lpn_shift_conv_s8.o", "startup.o"} <= shared
    assert own == {"main.o", "profile_dwt.o", layout.console_object}
    board_sources = {p.name for p in (toolchain.FIRMWARE_DIR / "targets" / "cortex-m" / "board").glob("*.c")}
    runtime_sources = {p.name for d in ("runtime", "runtime/ops", "kernels", "kernels/cortex-m")
                       for p in (toolchain.FIRMWARE_DIR / d).glob("*.c")}
    assert not board_sources & runtime_sources


def _run_netduinoplus2(elf: Path, log: Path, timeout_s: float = 20.0) -> str:
    """Runs a board ELF on QEMU's STM32F405 machine (USART2 at the F446's address) until the end line.
    QEMU logs every access to the devices it does not model (RCC, GPIO, DWT) into ``log``."""
    cmd = ["qemu-system-arm", "-M", "netduinoplus2", "-nographic", "-monitor", "none", "-serial", "null",
           "-serial", "stdio", "-d", "unimp,guest_errors", "-D", str(log), "-kernel", str(elf)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            text=True)
    timer = threading.Timer(timeout_s, proc.kill)  # the board never exits: it sleeps after the end line
    timer.start()
    lines = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("lpn-board end"):
                break
    finally:
        timer.cancel()
        proc.kill()
        proc.wait()
    return "".join(lines)


def _register_writes(log: Path, device: str) -> dict[int, int]:
    """Last value written per register offset of an unmodelled ``device`` ("RCC", "GPIOA") in QEMU's log."""
    pattern = rf"^{device}: unimplemented device write \(size 4, offset (0x[0-9a-f]+), value (0x[0-9a-f]+)\)"
    found = re.findall(pattern, log.read_text(), flags=re.M)
    return {int(offset, 16): int(value, 16) for offset, value in found}


def test_board_image_runs_under_qemu_stm32f4_and_matches_host(images: dict[str, board.BoardImage],
                                                              model_file: Path,
                                                              sample: tuple[np.ndarray, Path],
                                                              tmp_path: Path) -> None:
    """The same ELF on QEMU netduinoplus2: its USART2 text parses, and the outputs are the host's bits."""
    if "netduinoplus2" not in toolchain.qemu_machines():
        pytest.fail("QEMU machine netduinoplus2 missing (qemu-system-arm >= 5.1)")
    rt = host.open(model_file)
    for elf, x, source in ((images[BOARD].elf, sample[0], "file"),
                           (board.build_board(model_file, BOARD, out_dir=tmp_path).elf,
                            np.zeros_like(sample[0]), "zeros")):
        log = tmp_path / f"qemu-{source}.log"
        run = board.parse_uart(_run_netduinoplus2(elf, log)).check()
        assert run.board == BOARD and run.input == source and run.core_hz == 16_000_000
        assert run.model_bytes == model_file.stat().st_size
        assert run.arena is not None and 0 < run.arena["used"] <= run.arena["size"] == 98304
        assert [(r["kind"], r["macs"]) for r in run.rows] == [(op.kind, op.macs) for op in rt.ops()]
        want = rt.run(x)
        want = want if isinstance(want, list) else [want]
        assert len(run.outputs) == len(want)
        for got, expected in zip(run.outputs, want, strict=True):
            np.testing.assert_array_equal(got, expected.reshape(got.shape))
            assert got.shape == expected.shape[-got.ndim:] and got.dtype == expected.dtype
        # The register-level setup, as QEMU saw it (RCC, GPIO and DWT are not modelled, only logged).
        rcc, gpioa = _register_writes(log, "RCC"), _register_writes(log, "GPIOA")
        assert rcc[0x30] & 1 and rcc[0x40] & (1 << 17)  # AHB1ENR.GPIOAEN, APB1ENR.USART2EN
        assert gpioa[0x00] & 0xF0 == 0xA0 and gpioa[0x20] & 0xFF00 == 0x7700  # PA2/PA3 alternate function 7
        text = log.read_text()
        assert "NVIC: Bad write offset 0xdfc" in text  # DEMCR.TRCENA
        assert "Write of unassigned area of PPB: offset 0x1004" in text  # DWT_CYCCNT = 0
        # one DWT_CYCCNT read per profiling mark: two per op
        assert text.count("Read of unassigned area of PPB: offset 0x1004") == 2 * len(run.rows)


def test_board_reports_a_refused_model_over_the_uart(model_file: Path, tmp_path: Path,
                                                     cortex_m_toolchain: None) -> None:
    """A model the runtime refuses (bytes 4..7 not "TFL3"): the error line and the status reach the parser."""
    if "netduinoplus2" not in toolchain.qemu_machines():
        pytest.fail("QEMU machine netduinoplus2 missing (qemu-system-arm >= 5.1)")
    bad = bytearray(model_file.read_bytes())
    bad[4:8] = b"XXXX"
    path = tmp_path / "bad.tflite"
    path.write_bytes(bytes(bad))
    elf = board.build_board(path, BOARD, out_dir=tmp_path).elf
    run = board.parse_uart(_run_netduinoplus2(elf, tmp_path / "qemu.log"))
    assert run.status == 3 and run.arena is None and not run.rows and run.error is not None
    assert run.error.startswith("init: ")
    with pytest.raises(host.FirmwareError, match="IDENTIFIER"):
        run.check()


def test_model_too_large_for_flash_fails_to_link(tmp_path: Path, cortex_m_toolchain: None) -> None:
    blob = tmp_path / "huge.tflite"
    blob.write_bytes(bytes(600 * 1024))
    with pytest.raises(RuntimeError, match="FLASH"):
        board.build_board(blob, BOARD, out_dir=tmp_path)


def _fake_tool(folder: Path, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    log = folder / f"{name}.args"
    script = folder / name
    script.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "{log}"\n')
    script.chmod(0o755)
    return log


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_make_flash_runs_pyocd_else_openocd_else_says_how_to_install(name: str, model_file: Path,
                                                                     tmp_path: Path,
                                                                     cortex_m_toolchain: None) -> None:
    layout = LAYOUTS[name]
    fake = tmp_path / "bin"
    pyocd_log, openocd_log = _fake_tool(fake, "pyocd"), _fake_tool(fake, "openocd")
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    common = ("flash", f"BOARD={name}", f"MODEL={model_file}", f"BOARD_OUT={tmp_path / 'out'}")
    elf = str(tmp_path / "out" / "lpn_board.elf")

    out = _make(*common, env=env)
    assert out.returncode == 0, out.stderr
    assert pyocd_log.read_text().splitlines() == ["flash", "-t", layout.pyocd_target, elf]
    assert not openocd_log.exists()

    out = _make(*common, "PYOCD=lpn-no-such-pyocd", env=env)
    assert out.returncode == 0, out.stderr
    assert openocd_log.read_text().splitlines() == ["-f", layout.openocd_config, "-c",
                                                    f"program {{{elf}}} verify reset exit"]

    out = _make(*common, "PYOCD=lpn-no-such-pyocd", "OPENOCD=lpn-no-such-openocd", env=env)
    assert out.returncode != 0
    assert "neither 'lpn-no-such-pyocd' nor 'lpn-no-such-openocd'" in out.stderr
    assert "pip install pyocd" in out.stderr and "apt-get install openocd" in out.stderr


def test_make_board_names_what_is_missing(model_file: Path) -> None:
    out = _make("board", "BOARD=no-such-board", f"MODEL={model_file}")
    assert out.returncode != 0 and "unknown BOARD 'no-such-board'" in out.stderr and BOARD in out.stderr
    out = _make("board", f"BOARD={BOARD}")
    assert out.returncode != 0 and "MODEL is not set" in out.stderr
    out = _make("flash")
    assert out.returncode != 0 and "BOARD is not set" in out.stderr
    assert BOARD in board.board_names()


# ---- the UART parser, on synthesized captures (no toolchain needed)

def _capture(model_file: Path, cycles: list[int | None], outputs: list[np.ndarray], status: int = 0) -> str:
    ops = host.open(model_file).ops()
    lines = ["\x00garbage from reset", "lpn-board begin board=nucleo-f446re core_hz=16000000 cycle_counter=1 "
             f"model_bytes={model_file.stat().st_size} input=zeros",
             "lpn-board arena planned=1536 used=4416 size=98304", f"lpn-profile {board.PROFILE_HEADER}"]
    lines += [f"lpn-profile {op.index},{op.kind},{op.macs},{'' if c is None else c}"
              for op, c in zip(ops, cycles, strict=True)]
    lines += [f"lpn-output index={i} type={y.dtype} shape={'x'.join(map(str, y.shape))} "
              f"data={y.tobytes().hex()}" for i, y in enumerate(outputs)]
    total = sum(c for c in cycles if c is not None)
    lines.append(f"lpn-board end status={status} ops={len(ops)} cycles={total}")
    return "\r\n".join(lines) + "\r\n"


def test_parse_uart_rows_outputs_and_measurements(model_file: Path, tmp_path: Path) -> None:
    from lpn_tf.ace import measurements

    ops = host.open(model_file).ops()
    cycles = [1000 * (i + 1) for i in range(len(ops))]
    y = [np.arange(-3, 3, dtype=np.int8).reshape(2, 3), np.array([[70000, -5]], dtype=np.int32)]
    old_run = _capture(model_file, [7] * len(ops), y)  # a reset: the last complete run counts
    run = board.parse_uart(old_run + "noise\n" + _capture(model_file, cycles, y))
    assert run.board == BOARD and run.cycle_counter and run.arena == {"planned": 1536, "used": 4416,
                                                                      "size": 98304}
    assert [r["cycles"] for r in run.rows] == cycles and run.total_cycles == sum(cycles)
    assert run.seconds == pytest.approx(sum(cycles) / 16e6)
    for row, op in zip(run.rows, ops, strict=True):
        assert (row["op"], row["kind"], row["macs"]) == (op.index, op.kind, op.macs)
        assert row["cycles_per_mac"] == (row["cycles"] / op.macs if op.macs else None)
    for got, want in zip(run.outputs, y, strict=True):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype
    saved = measurements.load(run.save_measurements(tmp_path / "rows.csv", model_file))
    assert saved and all(m.target == BOARD and "cycles" in m.measured for m in saved)
    by_cycles = {int(m.measured["cycles"]) for m in saved}
    assert by_cycles <= set(cycles) and len(by_cycles) == len(saved)
    with pytest.raises(ValueError, match="ops"):
        board.BoardRun(BOARD, 1, True, 0, "zeros", rows=run.rows[:1]).save_measurements(tmp_path / "x.csv",
                                                                                        model_file)


def test_board_cli_prints_the_table_and_writes_measurements(model_file: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m lpn_tf.board uart.txt model.tflite -o cycles.csv`` (docs/boards.md)."""
    from lpn_tf.ace import measurements

    ops = host.open(model_file).ops()
    cycles = [300 + 7 * i for i in range(len(ops))]
    capture = tmp_path / "uart.txt"
    capture.write_text(_capture(model_file, cycles, [np.ones(5, np.int8)]))
    assert board.main([str(capture), str(model_file), "-o", str(tmp_path / "cycles.csv")]) == 0
    printed = capsys.readouterr().out
    assert f"on {BOARD} at 16 MHz" in printed and str(sum(cycles)) in printed
    assert all(f" {c} " in printed for c in cycles)
    assert {m.measured["cycles"] for m in measurements.load(tmp_path / "cycles.csv")} <= set(cycles)
    capture.write_text("nothing from the board\n")
    assert board.main([str(capture), str(model_file)]) == 1
    assert "no 'lpn-board begin' line" in capsys.readouterr().err


def test_parse_uart_failures_name_the_line(model_file: Path) -> None:
    ops = host.open(model_file).ops()
    good = _capture(model_file, [5] * len(ops), [np.zeros(3, np.int8)])
    lines = good.splitlines()
    with pytest.raises(board.UartFormatError, match="no 'lpn-board begin'"):
        board.parse_uart("hello\n")
    with pytest.raises(board.UartFormatError, match="no 'lpn-board end'"):
        board.parse_uart("\n".join(lines[:-1]))  # the board faulted mid-report
    bad_row = "\n".join(lines[:4] + ["lpn-profile 0,CONV_2D,12"] + lines[5:])
    with pytest.raises(board.UartFormatError, match="UART line 5: a profile row has 4 columns"):
        board.parse_uart(bad_row)
    bad_header = good.replace(board.PROFILE_HEADER, "op,kind,macs,instructions")
    with pytest.raises(board.UartFormatError, match="UART line 4: profile header"):
        board.parse_uart(bad_header)
    garbled = "\n".join(lines[:4] + [lines[4].rsplit(",", 1)[0] + ",6"] + lines[5:])  # 5 -> 6 cycles
    expected = f"UART line {len(lines)}: the end line counts {5 * len(ops)} cycles, the profile rows sum to"
    with pytest.raises(board.UartFormatError, match=expected):
        board.parse_uart(garbled)
    lost_char = good.replace("data=000000", "data=0000")
    with pytest.raises(board.UartFormatError, match="output 0 has 2 bytes.*needs 3"):
        board.parse_uart(lost_char)
    failed = "\n".join(lines[:2] + ["lpn-board error stage=init status=29 message=arena too small (detail 1)",
                                    "lpn-board end status=29 ops=0 cycles=0"])
    run = board.parse_uart(failed)
    assert run.status == 29 and run.error == "init: arena too small (detail 1)"
    with pytest.raises(host.FirmwareError, match="init: arena too small.*ARENA_TOO_SMALL"):
        run.check()
    no_counter = good.replace("cycle_counter=1", "cycle_counter=0")
    with pytest.raises(ValueError, match="no cycle counts"):
        board.parse_uart(no_counter).save_measurements("unused.csv", model_file)
