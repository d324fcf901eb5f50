"""Every command shown in README.md and docs/*.md runs in the test suite, so the docs cannot rot.

What counts as a command: every logical line of a fenced ``bash`` / ``sh`` / ``shell`` / ``console``
block (``console``: the ``$ `` lines), and in unlabeled blocks every line that starts with a
command word (``make``, ``lpn``, ``.venv/bin/...``, ``python``, ...). Python blocks whose info string is
``python run`` are executed; every other Python block must parse and name only ``lpn_tf`` attributes that
exist.

Each command must have a line in :data:`CHECKS` (keyed by its text, whitespace collapsed):

* ``run()`` — executed as written, from the repository root, after :data:`SUBSTITUTIONS` (placeholder
  paths → a temporary folder); ``run("smaller command", slow=True, recipe=...)`` executes a shrunk
  equivalent under ``@pytest.mark.slow``, and ``recipe`` proves the equivalence: ``make -n <doc command>``
  must print it;
* ``dry(recipe)`` — ``make -n <doc command>`` must succeed and print ``recipe`` (``make test`` itself:
  the suite must not recurse);
* ``mapped("tests/test_x.py::test_name", ...)`` — an existing test runs this (the test asserts it exists);
* ``hardware("why")`` — needs a physical board; nothing can run it here (keep these rare).

A command without a line fails :func:`test_every_command_is_checked` with its file and line, so a doc
cannot add an unrun command; a line whose command left the docs fails
:func:`test_every_check_is_still_used`. Commands of one document run in document order in one temporary
folder (later commands may use earlier outputs). Also checked here: every ``make [-C dir] target`` names
an existing target, ``path:symbol`` references in quickstart / new-op / troubleshooting, relative links of
every doc, and that each error message quoted in docs/troubleshooting.md still occurs in the source.

To map a new command, add one line to :data:`CHECKS` — e.g.
``"make fuzz": run("make fuzz FUZZ_SECONDS=5", slow=True),`` or
``"lpn foo x.tflite": mapped("tests/test_foo.py::test_foo_cli"),`` — and, if it names a placeholder file,
one line to :data:`SUBSTITUTIONS`.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS: list[Path] = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_LANGS = {"bash", "sh", "shell", "console", "zsh"}
# first words that make a line of an unlabeled block a command
COMMAND_WORDS = re.compile(r"^(make|lpn|\.venv/bin/\S+|python3?|pytest|cd|source|export|sudo|apt-get|pip|git|"
                           r"bash|ruff|qemu-system-arm|arm-none-eabi-\S+|\./\S+)(\s|$)")
# make's set-up stamps are taken as up to date: a docs test must not reinstall packages
MAKE_NO_SETUP = "make -o .venv/.lpn-setup-stamp -o build/.toolchain-ok"
FAST_TIMEOUT_S, SLOW_TIMEOUT_S = 180, 1200


@dataclass(frozen=True)
class Check:
    """How one documented command is exercised (see the module docstring)."""

    kind: str  # "run" | "dry" | "mapped" | "hardware"
    command: str = ""  # run: what is executed instead of the doc's text ("" = the doc's text)
    slow: bool = False
    recipe: str = ""  # run / dry: `make -n <doc command>` must print this
    tests: tuple[str, ...] = ()  # mapped: "tests/file.py" or "tests/file.py::test_name"
    reason: str = ""  # hardware: what it needs


def run(command: str = "", *, slow: bool = False, recipe: str = "") -> Check:
    return Check("run", command, slow, recipe)


def dry(recipe: str) -> Check:
    return Check("dry", recipe=recipe)


def mapped(*tests: str) -> Check:
    return Check("mapped", tests=tests)


def hardware(reason: str) -> Check:
    return Check("hardware", reason=reason)


# Placeholder paths of the docs → the test's temporary folder ({tmp}); applied to commands and to
# runnable Python blocks.
SUBSTITUTIONS: list[tuple[str, str]] = [
    ("build/quickstart", "{tmp}/quickstart"),
    ("/tmp/g/", "{tmp}/g/"),
    ("/tmp/kt", "{tmp}/kt"),
    ("/tmp/cd", "{tmp}/cd"),
    ("$PWD/build/firmware/fuzz/long", "{tmp}/fuzz-long"),
]

# One line per documented command: the doc's text (whitespace collapsed) → its check.
CHECKS: dict[str, Check] = {
    # README.md
    "make demo": run(".venv/bin/lpn demo --quick --out {tmp}/demo", slow=True, recipe=".venv/bin/lpn demo"),
    "make test": dry('pytest -m "not slow"'),  # the suite itself: not run from inside it
    # after "make demo" above (same folder): every quick benchmark, then the agreement with the demo report
    "make bench": run(".venv/bin/python bench/report.py --quick --demo {tmp}/demo --out {tmp}/bench",
                      slow=True, recipe="bench/report.py"),
    # docs/quickstart.md
    "source .venv/bin/activate": run(),
    "lpn export build/quickstart/qat.keras -o build/quickstart/model_cli.tflite --ops lpn "
    "--representative 64": run(slow=True),
    "lpn inspect build/quickstart/model.tflite": run(),
    "lpn profile build/quickstart/model.tflite --target m4 --kernels cortex-m "
    "--input build/quickstart/input.npy": run(),
    "make export MODEL=build/quickstart/qat.keras OPS=builtin": run(slow=True),
    "make qemu MODEL=build/quickstart/model.tflite": run(),
    "make board BOARD=nucleo-f446re MODEL=build/quickstart/model.tflite": run(slow=True),
    "make flash BOARD=nucleo-f446re MODEL=build/quickstart/model.tflite": dry("board/flash.sh"),  # no board
    # docs/boards.md
    "make board BOARD=nucleo-f446re MODEL=model.tflite [INPUT=sample.bin] [LPN_KERNELS=cortex-m]":
        mapped("tests/test_board_port.py::test_board_image_runs_under_qemu_stm32f4_and_matches_host"),
    "make flash BOARD=nucleo-f446re MODEL=model.tflite":
        mapped("tests/test_board_port.py::test_make_flash_runs_pyocd_else_openocd_else_says_how_to_install"),
    "python -m serial.tools.miniterm /dev/ttyACM0 115200 > uart.txt":
        hardware("reads a NUCLEO board's UART; the text it saves is parsed by test_board_port.py"),
    "python -m lpn_tf.board uart.txt model.tflite -o cycles.csv":
        mapped("tests/test_board_port.py::test_parse_uart_rows_outputs_and_measurements"),
    # docs/new-op.md
    ".venv/bin/python -m pytest -q tests/test_export_lpn_ops.py tests/test_lpn_kernels.py "
    "tests/test_runtime_models.py": mapped("tests/test_export_lpn_ops.py", "tests/test_lpn_kernels.py",
                                           "tests/test_runtime_models.py"),
    # docs/kernels.md
    ".venv/bin/python -m pytest tests/test_kernels_golden.py tests/test_kernels_api.py "
    "tests/test_kernels_bench.py": mapped("tests/test_kernels_golden.py", "tests/test_kernels_api.py",
                                          "tests/test_kernels_bench.py"),
    ".venv/bin/python firmware/tests/golden.py /tmp/g/golden": run(slow=True),
    "make -C firmware/tests host OUT=/tmp/kt && /tmp/kt/kernel_test_ref /tmp/g/golden": run(slow=True),
    "make -C firmware/tests run-cm TARGET=m4 LPN_KERNELS=cortex-m OUT=/tmp/kt GOLDEN=/tmp/g/golden":
        run(slow=True),
    ".venv/bin/python -m pytest tests/test_lpn_kernels_cm.py tests/test_kernels_cm_diff.py":
        mapped("tests/test_lpn_kernels_cm.py", "tests/test_kernels_cm_diff.py"),
    "make -f firmware/tests/cm_diff_test.mk host SANITIZE=1 OUT=/tmp/cd && /tmp/cd/cm_diff_test_asan":
        run(slow=True),
    "make -f firmware/tests/cm_diff_test.mk cm TARGET=m4 OUT=/tmp/cd": run(slow=True),
    ".venv/bin/python bench/firmware.py --per-op":  # all models, about 10 min: the two small ones here
        run(".venv/bin/python bench/firmware.py --quick --per-op", slow=True),
    ".venv/bin/python bench/firmware.py --models resnet8 --per-op":
        run(".venv/bin/python bench/firmware.py --models digits --quick --per-op", slow=True),
    "lpn profile model.tflite --target m4":
        mapped("tests/test_cli.py::test_profile_counts_instructions_and_writes_measurements"),
    # docs/reliability.md
    "make -C firmware/fuzz fuzz-long FUZZ_LONG_SECONDS=2400 FUZZ_JOBS=1 "
    "FUZZ_WORK=$PWD/build/firmware/fuzz/long":
        run("make -C firmware/fuzz fuzz-long FUZZ_LONG_SECONDS=5 FUZZ_JOBS=1 FUZZ_WORK={tmp}/fuzz-long",
            slow=True),
    # docs/ace.md (usage synopses)
    "lpn ace MODEL [--costs costs.json] [--version 1|2] [--csv F] [--plot F] [--float-bits 16|32]":
        mapped("tests/test_ace_cli.py"),
    "lpn calibrate measurements.csv -o costs.json [--target instructions|cycles|microjoules] "
    "[--holdout 0.25]": mapped("tests/test_ace_cli.py"),
}


# ------------------------------------------------------------------------------------------------------
# extraction
# ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A fenced code block: ``line`` is the 1-based line of its first content line."""

    path: Path
    line: int
    info: str  # the info string after the fence, e.g. "python run"
    lines: tuple[str, ...]

    @property
    def lang(self) -> str:
        return self.info.split()[0].lower() if self.info.split() else ""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


@dataclass(frozen=True)
class Command:
    path: Path
    line: int
    text: str  # whitespace collapsed, comments and prompt removed

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


FENCE = re.compile(r"^(\s*)(```+|~~~+)(.*)$")


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a markdown file, in order."""
    out: list[Block] = []
    fence, info, start, body = "", "", 0, []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        m = FENCE.match(raw)
        if not fence and m:
            fence, info, start, body = m.group(2), m.group(3).strip(), number + 1, []
        elif fence and m and m.group(2).startswith(fence) and not m.group(3).strip():
            out.append(Block(path, start, info, tuple(body)))
            fence = ""
        elif fence:
            body.append(raw)
    return out


def _strip_comment(line: str) -> str:
    """``cmd  # comment`` → ``cmd`` (a ``#`` preceded by whitespace, outside quotes)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def commands(block: Block) -> list[Command]:
    """The shell commands of a block (continuation lines joined), see the module docstring."""
    shell = block.lang in SHELL_LANGS
    if block.lang != "" and not shell:
        return []
    out: list[Command] = []
    pending, first = "", 0
    for offset, raw in enumerate(block.lines):
        line = raw.strip()
        if not pending:
            if block.lang == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            if not line or line.startswith("#") or (not shell and not COMMAND_WORDS.match(line)):
                continue
            first = block.line + offset
        line = _strip_comment(line)
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = " ".join((pending + line).split())
        pending = ""
        if text:
            out.append(Command(block.path, first, text))
    return out


def all_commands() -> list[Command]:
    return [c for doc in DOCS for b in blocks(doc) for c in commands(b)]


def runnable_python(block: Block) -> bool:
    return block.lang == "python" and "run" in block.info.split()[1:]


# ------------------------------------------------------------------------------------------------------
# execution
# ------------------------------------------------------------------------------------------------------


def _substitute(text: str, tmp: Path) -> str:
    for doc_text, replacement in SUBSTITUTIONS:
        text = text.replace(doc_text, replacement.format(tmp=tmp))
    return text


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{REPO / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("MAKEFLAGS", None)
    return env


def _shell(command: str, where: str, timeout: int) -> str:
    if command.startswith("make "):
        command = MAKE_NO_SETUP + command[len("make"):]
    proc = subprocess.run(["bash", "-c", command], cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    out = proc.stdout if len(proc.stdout) < 6000 else f"{proc.stdout[:2500]}\n[...]\n{proc.stdout[-3000:]}"
    err = proc.stderr[-3000:]
    assert proc.returncode == 0, f"{where}: `{command}` exited {proc.returncode}\n{out}\n{err}"
    return proc.stdout


def _check_recipe(cmd: Command, check: Check, tmp: Path) -> None:
    assert cmd.text.startswith("make "), f"{cmd.where}: a recipe check needs a make command: {cmd.text}"
    printed = _shell("make -n " + _substitute(cmd.text, tmp)[len("make "):], cmd.where, FAST_TIMEOUT_S)
    assert check.recipe in printed, (f"{cmd.where}: `make -n` of `{cmd.text}` does not run "
                                     f"{check.recipe!r}:\n{printed}")


def _run_python(block: Block, tmp: Path, timeout: int) -> None:
    script = tmp / f"block_{block.line}.py"
    script.write_text(_substitute("\n".join(block.lines), tmp) + "\n")
    proc = subprocess.run([sys.executable, str(script)], cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, f"{block.where}: the Python block failed\n{proc.stdout[-3000:]}\n" \
                                 f"{proc.stderr[-4000:]}"


def run_document(doc: Path, tmp: Path, slow: bool) -> int:
    """Runs the document's runnable Python blocks and its ``run`` / ``dry`` commands in order; slow ones
    only when ``slow``. Returns how many steps ran."""
    steps = 0
    timeout = SLOW_TIMEOUT_S if slow else FAST_TIMEOUT_S
    for block in blocks(doc):
        if runnable_python(block):
            _run_python(block, tmp, timeout)
            steps += 1
        for cmd in commands(block):
            check = CHECKS.get(cmd.text)  # None: reported by test_every_command_is_checked
            if check is None or check.kind in ("mapped", "hardware") or (check.slow and not slow):
                continue
            if check.recipe:
                _check_recipe(cmd, check, tmp)
            if check.kind == "run":
                command = check.command.format(tmp=tmp) if check.command else _substitute(cmd.text, tmp)
                _shell(command, cmd.where, timeout)
            steps += 1
    return steps


def _docs_with(predicate) -> list[Path]:
    return [d for d in DOCS if any(predicate(b, c) for b in blocks(d) for c in [*commands(b), None])]


def _has_fast_step(block: Block, cmd: Command | None) -> bool:
    if cmd is None:
        return runnable_python(block)
    check = CHECKS.get(cmd.text)
    return check is not None and check.kind in ("run", "dry") and not check.slow


def _has_slow_step(block: Block, cmd: Command | None) -> bool:
    check = CHECKS.get(cmd.text) if cmd is not None else None
    return check is not None and check.kind == "run" and check.slow


# ------------------------------------------------------------------------------------------------------
# tests
# ------------------------------------------------------------------------------------------------------


def test_every_command_is_checked() -> None:
    unchecked = [f"{c.where}: {c.text}" for c in all_commands() if c.text not in CHECKS]
    assert not unchecked, ("commands in the docs that no test runs — add a line to CHECKS in "
                           "tests/test_docs.py for each:\n" + "\n".join(unchecked))


def test_every_check_is_still_used() -> None:
    shown = {c.text for c in all_commands()}
    stale = [k for k in CHECKS if k not in shown]
    assert not stale, ("CHECKS lines whose command is no longer in the docs (delete them):\n"
                       + "\n".join(stale))


def _test_exists(target: str) -> bool:
    file, _, name = target.partition("::")
    path = REPO / file
    if not path.is_file():
        return False
    defined = {n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)}
    return name in defined if name else any(n.startswith("test_") for n in defined)


def test_mapped_tests_exist() -> None:
    missing = [f"{cmd!r} → {t}" for cmd, check in CHECKS.items() for t in check.tests if not _test_exists(t)]
    assert not missing, "mapped tests that do not exist:\n" + "\n".join(missing)
    assert all(c.tests for c in CHECKS.values() if c.kind == "mapped")
    assert all(c.reason for c in CHECKS.values() if c.kind == "hardware")


MAKE_COMMAND = re.compile(r"^make\s+(?:-C\s+(\S+)\s+)?([a-z][\w-]*)")


def make_targets(directory: Path) -> set[str]:
    """The targets make knows in ``directory`` (its database: included .mk files count), nothing run."""
    proc = subprocess.run(["make", "-C", str(directory), "-pRrq", "-o", ".venv/.lpn-setup-stamp", ":"],
                          capture_output=True, text=True, timeout=60, check=False)
    return {m.group(1) for m in re.finditer(r"^([\w.-]+):(?!=)", proc.stdout, flags=re.M)}


def test_make_targets_exist() -> None:
    """Every ``make [-C dir] target`` in the docs names a target of that Makefile, whatever its check."""
    known: dict[str, set[str]] = {}
    missing = []
    for cmd in all_commands():
        m = MAKE_COMMAND.match(cmd.text)
        if m is None:
            continue
        directory = m.group(1) or "."
        if directory not in known:
            known[directory] = make_targets(REPO / directory)
        if m.group(2) not in known[directory]:
            missing.append(f"{cmd.where}: no target '{m.group(2)}' in {directory}/Makefile")
    assert not missing, "\n".join(missing)


def test_extraction_finds_commands_in_every_block_kind(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("```bash\nmake a  # note\nlpn b \\\n  --c\n# comment\n```\n"
                   "```console\n$ make d\noutput line\n```\n"
                   "```\nmake e\nnot a command\n```\n```python\nmake_f()\n```\n")
    found = [(c.line, c.text) for b in blocks(doc) for c in commands(b)]
    assert found == [(2, "make a"), (3, "lpn b --c"), (8, "make d"), (12, "make e")]


@pytest.mark.parametrize("doc", _docs_with(_has_fast_step), ids=lambda p: p.name)
def test_doc_commands_run(doc: Path, tmp_path: Path, cortex_m_toolchain: None) -> None:
    """The docs run Cortex-M builds and QEMU: without the toolchain this skips locally, fails under CI."""
    assert run_document(doc, tmp_path, slow=False) > 0


@pytest.mark.slow
@pytest.mark.parametrize("doc", _docs_with(_has_slow_step), ids=lambda p: p.name)
def test_doc_commands_run_slow(doc: Path, tmp_path: Path, cortex_m_toolchain: None) -> None:
    assert run_document(doc, tmp_path, slow=True) > 0


# ------------------------------------------------------------------------------------------------------
# Python blocks, references, links, quoted messages
# ------------------------------------------------------------------------------------------------------

PY_BLOCKS = [b for d in DOCS for b in blocks(d) if b.lang == "python"]


@pytest.mark.parametrize("block", PY_BLOCKS, ids=lambda b: b.where)
def test_python_blocks_parse_and_name_existing_api(block: Block) -> None:
    tree = ast.parse("\n".join(block.lines), filename=block.where)
    missing: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "lpn_tf":
            module = importlib.import_module(node.module)
            missing += [f"{node.module}.{a.name}" for a in node.names
                        if not hasattr(module, a.name)
                        and importlib.util.find_spec(f"{node.module}.{a.name}") is None]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "lpn_tf"):
            import lpn_tf

            if not hasattr(lpn_tf, node.attr):
                missing.append(f"lpn_tf.{node.attr}")
    assert not missing, f"{block.where}: names that do not exist: {missing}"


CHECKED_REFERENCES = ("quickstart.md", "new-op.md", "troubleshooting.md")
CODE_SPAN = re.compile(r"`([^`\s]+)`")
PATHLIKE = re.compile(r"^(?:[\w.-]+/)+[\w.-]*(?:\.(?:py|c|h|mk|md|toml))?$|^Makefile$")


def references(doc: Path) -> list[tuple[str, str]]:
    """``(path, symbol)`` for every inline code span ``path`` or ``path:symbol`` (symbol may be '')."""
    out = []
    for span in CODE_SPAN.findall(doc.read_text()):
        path, _, symbol = span.partition(":")
        if PATHLIKE.match(path) and not path.startswith(("build/", "/")) and (not symbol or
                                                                              re.match(r"^[\w.]+$", symbol)):
            out.append((path, symbol))
    return out


@pytest.mark.parametrize("name", CHECKED_REFERENCES)
def test_referenced_paths_and_symbols_exist(name: str) -> None:
    doc = REPO / "docs" / name
    refs = references(doc)
    assert refs, f"{name}: no code references found"
    bad = []
    for path, symbol in refs:
        file = REPO / path
        if not file.exists():
            bad.append(f"{path}: no such file")
        elif symbol:
            text = file.read_text()
            bad += [f"{path}:{symbol}: '{part}' not found" for part in symbol.split(".")
                    if not re.search(rf"\b{re.escape(part)}\b", text)]
    assert not bad, f"docs/{name}: stale references:\n" + "\n".join(bad)


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)
    broken = [t for t in LINK.findall(text) if "://" not in t and not t.startswith("mailto:")
              and not (doc.parent / t).exists()]
    assert not broken, f"{doc.relative_to(REPO)}: broken links {broken}"


def test_readme_indexes_every_doc() -> None:
    text = (REPO / "README.md").read_text()
    unlinked = [d.name for d in DOCS[1:] if f"](docs/{d.name})" not in text]
    assert not unlinked, f"docs not linked from README.md's Documentation section: {unlinked}"


SOURCE_GLOBS = ("export/*.py", "lpn_tf/**/*.py", "firmware/**/*.c", "firmware/**/*.h", "Makefile",
                "firmware/**/Makefile", "firmware/**/*.mk", "bench/*.py")


def _source_text() -> str:
    """All source files, with implicitly concatenated string literals joined (``"a "\\n  "b"`` → ``a b``)."""
    parts = []
    for pattern in SOURCE_GLOBS:
        for path in sorted(REPO.glob(pattern)):
            parts.append(path.read_text(errors="replace"))
    text = "\n".join(parts)
    return re.sub(r"([\"'])\s*\n\s*(?:[rbfRBF]{0,2})\1", "", text)


def quoted_messages(doc: Path) -> list[tuple[str, list[str]]]:
    """``(where, fixed fragments)`` of each error message in the doc's ``text`` blocks; ``…`` marks the
    variable parts."""
    out = []
    for block in blocks(doc):
        if block.lang != "text":
            continue
        for offset, line in enumerate(block.lines):
            fragments = [f.strip() for f in line.split("…") if len(f.strip()) >= 4]
            if fragments:
                out.append((f"{block.where[:block.where.rindex(':')]}:{block.line + offset}", fragments))
    return out


def test_troubleshooting_messages_occur_in_the_source() -> None:
    messages = quoted_messages(REPO / "docs" / "troubleshooting.md")
    assert len(messages) >= 10
    source = _source_text()
    stale = [f"{where}: {fragment!r}" for where, fragments in messages for fragment in fragments
             if fragment not in source]
    assert not stale, ("messages quoted in docs/troubleshooting.md that no longer occur in the source "
                       "(update the doc):\n" + "\n".join(stale))
