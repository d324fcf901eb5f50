"""``make demo`` / ``lpn demo``: the end-to-end job on MNIST-1D, stage by stage, each stage timed.

train float → fine-tune QAT (int8, shift, pikelpn; λ schedule) → export (builtin and lpn flavors) →
bit-exactness across the reference, LiteRT, the host firmware and emulated Cortex-M4 → per-op
instructions on emulated M4 → ACEv2 → ``<out>/report.md`` with charts. A stage whose capability is not
built yet (its module is missing) is reported as such, never faked; a failed stage fails the demo.
"""

from __future__ import annotations

import importlib.util
import json
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lpn_tf import toolchain

# QAT schemes fine-tuned from the float model. "pikelpn" (5-bit activations) is the low-ACEv2 model
# (lpn flavor only: its activation grids need LPN ops); "pikelpn-a8" its variant with int8 activations.
SCHEMES = ("int8", "shift", "pikelpn", "pikelpn-a8")
EQUALITY_SAMPLES = 64  # test samples compared across executors (QEMU runs them in one process)
ARCHITECTURE = "mnist1d_cnn"  # the lpn_tf.models builder of the demo's network
PROFILE_TARGET, PROFILE_KERNELS = "m4", "cortex-m"  # where ``profile_m4`` counts instructions
SUMMARY_FORMAT = "lpn-demo-summary"  # ``<out>/summary.json``: the report's firmware figures, for `make bench`


@dataclass
class Context:
    """What the stages hand to each other."""

    out: Path
    quick: bool
    data: Any = None
    float_model: Any = None
    accuracy: dict[str, float] = field(default_factory=dict)  # "float", "<scheme> qat", "<scheme> <flavor>"
    qat: dict[str, Any] = field(default_factory=dict)  # scheme -> QAT model
    exports: dict[tuple[str, str], Any] = field(default_factory=dict)  # (scheme, flavor) -> report
    paths: dict[tuple[str, str], Path] = field(default_factory=dict)
    profiles: dict[tuple[str, str], Any] = field(default_factory=dict)
    profile_inputs: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)  # the sample profiled
    ace: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Stage:
    """One step; ``requires`` lists modules whose absence means "not built yet" (tracked by ``issue``)."""

    name: str
    issue: int
    run: Callable[[Context], str]
    requires: tuple[str, ...] = ()
    pipeline: bool = True  # consumes what earlier pipeline stages produced

    def missing(self) -> list[str]:
        return [m for m in self.requires if importlib.util.find_spec(m) is None]


def _selftest_expected() -> int:
    pattern = bytearray(256)
    pattern[0:3] = b"\x01\x02\x03"
    for i in range(3, 256):
        pattern[i] = (i * 7 + 1) & 0xFF
    return zlib.crc32(bytes(pattern))


def cortex_m_proof_of_life(ctx: Context) -> str:
    """Builds the Cortex-M self-test for M4, M7 and M33 and runs each under QEMU."""
    expected = _selftest_expected()
    for name in toolchain.TARGETS:
        build = ctx.out / "firmware"
        toolchain.make_firmware("selftest", target=name, build_dir=build)
        result = toolchain.run_qemu(build / name / "selftest.elf", name, timeout_s=60)
        want = f"selftest crc32=0x{expected:08x}"
        if want not in result.stdout or result.returncode != expected & 0x7F:
            raise RuntimeError(f"{name}: expected '{want}' and exit {expected & 0x7F}, got "
                               f"exit {result.returncode}: {result.stdout!r} {result.stderr!r}")
    return "M4, M7, M33: startup, linker script and semihosting ok"


def train_float_model(ctx: Context) -> str:
    from lpn_tf import data, models, train

    ctx.data = data.mnist1d()
    x, y, x_te, y_te = ctx.data
    ctx.float_model = train.train_float(getattr(models, ARCHITECTURE)(), x, y, epochs=15 if ctx.quick else 60)
    ctx.accuracy["float"] = train.top1(ctx.float_model, x_te, y_te)
    return f"MNIST-1D float CNN top-1 {ctx.accuracy['float']:.2f} %"


def fine_tune_qat(ctx: Context) -> str:
    import lpn_tf
    from lpn_tf import train

    x, y, x_te, y_te = ctx.data
    parts = []
    for scheme in SCHEMES:
        model = lpn_tf.quantize_model(ctx.float_model, scheme)
        lam = lpn_tf.Scheme.get(scheme).name != "int8"
        train.fine_tune(model, x, y, epochs=3 if ctx.quick else 15, lam=lam, desc=scheme)
        ctx.qat[scheme] = model
        ctx.accuracy[f"{scheme} qat"] = train.top1(model, x_te, y_te)
        parts.append(f"{scheme} {ctx.accuracy[f'{scheme} qat']:.2f} %")
    return "QAT top-1: " + ", ".join(parts)


def export_models(ctx: Context) -> str:
    from lpn_tf.export import export_tflite

    parts = []
    for scheme, model in ctx.qat.items():
        model.save(ctx.out / f"model_{scheme}_qat.keras")
        for flavor in ("builtin", "lpn"):
            path = ctx.out / f"model_{scheme}_{flavor}.tflite"
            try:
                ctx.exports[scheme, flavor] = export_tflite(model, path, ops=flavor)
            except ValueError as exc:  # e.g. a scheme a flavor cannot express: reported, not hidden
                ctx.notes.append(f"{scheme}/{flavor} not exported: {str(exc).splitlines()[0]}")
                continue
            ctx.paths[scheme, flavor] = path
            parts.append(f"{scheme}/{flavor} {ctx.exports[scheme, flavor].weight_bytes} B weights")
    if ("shift", "lpn") in ctx.paths:  # what `make qemu` runs by default
        (ctx.out / "model_lpn.tflite").write_bytes(ctx.paths["shift", "lpn"].read_bytes())
    if ctx.float_model is not None:
        ctx.float_model.save(ctx.out / "model.keras")
    return "; ".join(parts)


def _as_int8_inputs(path: Path, x: np.ndarray) -> np.ndarray:
    from lpn_tf import runtime

    spec = runtime.load(path, backend="reference").inputs[0]
    q = np.round(x / spec.scale) + spec.zero_point
    info = np.iinfo(spec.dtype)
    return np.clip(q, info.min, info.max).astype(spec.dtype).reshape((-1, *spec.shape[1:]))


def verify_bit_exactness(ctx: Context) -> str:
    from lpn_tf import runtime

    _, _, x_te, y_te = ctx.data
    parts = []
    for (scheme, flavor), path in ctx.paths.items():
        xq = _as_int8_inputs(path, x_te)
        reference = runtime.load(path, backend="reference").run(xq)
        ctx.accuracy[f"{scheme} {flavor}"] = 100.0 * float(np.mean(np.argmax(reference.reshape(len(xq), -1),
                                                                              axis=-1) == y_te))
        sample = xq[:EQUALITY_SAMPLES]
        for backend in ("litert", "host", "qemu-m4"):
            got = runtime.load(path, backend=backend).run(sample)
            if not np.array_equal(got, reference[:EQUALITY_SAMPLES]):
                bad = int(np.sum(got != reference[:EQUALITY_SAMPLES]))
                raise RuntimeError(f"{scheme}/{flavor}: {backend} differs from the reference in {bad} values")
        parts.append(f"{scheme}/{flavor}")
    return (f"reference == LiteRT == host == QEMU M4 on {EQUALITY_SAMPLES} test inputs for "
            + ", ".join(parts))


def profile_m4(ctx: Context) -> str:
    from lpn_tf.profile import profile_model

    _, _, x_te, _ = ctx.data
    parts = []
    for key, path in ctx.paths.items():
        x = _as_int8_inputs(path, x_te[:1])[0:1]
        ctx.profile_inputs[key] = x
        ctx.profiles[key] = profile_model(path, PROFILE_TARGET, PROFILE_KERNELS, x=x)
        p = ctx.profiles[key]
        parts.append(f"{key[0]}/{key[1]} {p.total_instructions} instr "
                     f"({p.total_instructions / max(p.total_macs, 1):.2f}/MAC)")
    return "; ".join(parts)


def ace_costs(ctx: Context) -> str:
    import lpn_tf

    models = {"float": ctx.float_model, **{f"{s} qat": m for s, m in ctx.qat.items()}}
    for name, model in models.items():
        ctx.ace[name] = lpn_tf.ace(model, version=2)
    # PikeLPN's point: in the int8 model the elementwise ops (requantization) are a large share of the
    # cost; the pikelpn model shrinks exactly that share
    ctx.ace["int8 qat"].plot(ctx.out / "ace_per_layer.png")
    ctx.ace["pikelpn qat"].plot(ctx.out / "ace_per_layer_pikelpn.png")
    return ", ".join(f"{k} {v.total_v2:.3g}" for k, v in ctx.ace.items())


STAGES: list[Stage] = [
    Stage("Cortex-M proof of life (M4, M7, M33 under QEMU)", 2, cortex_m_proof_of_life, pipeline=False),
    Stage("train float CNN on MNIST-1D", 3, train_float_model, ("lpn_tf.models", "lpn_tf.train")),
    Stage("fine-tune int8 / shift / pikelpn QAT (λ schedule)", 4, fine_tune_qat, ("lpn_tf.pikelpn",)),
    Stage("export builtin and lpn .tflite", 5, export_models, ("lpn_tf.export.lowering",)),
    Stage("bit-exactness: reference, LiteRT, host, emulated M4", 6, verify_bit_exactness,
          ("lpn_tf.export.lowering",)),
    Stage("profile on emulated Cortex-M4", 6, profile_m4, ("lpn_tf.export.lowering",)),
    Stage("ACEv2 per model", 7, ace_costs, ("lpn_tf.ace", "lpn_tf.pikelpn")),
]


def _report(ctx: Context, rows: list[tuple[str, str, str]]) -> str:
    lines = ["# lpn demo report", "",
             "Produced by `make demo` (`lpn demo`). The firmware figures are also in `summary.json`; "
             "`make bench` measures them again and reports whether they agree.", "",
             "## Stages", "", "| stage | status | detail |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    if ctx.accuracy:
        lines += ["", "## Accuracy (MNIST-1D test set, 1000 samples)", "", "| model | top-1 % |", "|---|---|"]
        lines += [f"| {k} | {v:.2f} |" for k, v in ctx.accuracy.items()]
    if ctx.exports:
        lines += ["", "## Exported models", "",
                  "| model | weight bytes | planned arena bytes | M4 instructions / inference | per MAC |",
                  "|---|---|---|---|---|"]
        for key, rep in ctx.exports.items():
            prof = ctx.profiles.get(key)
            instr = f"{prof.total_instructions}" if prof else "-"
            per_mac = f"{prof.total_instructions / max(prof.total_macs, 1):.2f}" if prof else "-"
            lines.append(f"| {key[0]} / {key[1]} | {rep.weight_bytes} | {rep.arena_bytes} | {instr} "
                         f"| {per_mac} |")
    if ctx.ace:
        lines += ["", "## ACEv2 (default cost table)", "", "| model | ACE v1 | ACEv2 |", "|---|---|---|"]
        lines += [f"| {k} | {v.total_v1:.4g} | {v.total_v2:.4g} |" for k, v in ctx.ace.items()]
        lines += ["", "int8 QAT model, ACEv2 per layer:", "", "![ACEv2 per layer, int8](ace_per_layer.png)",
                  "", "pikelpn QAT model:", "", "![ACEv2 per layer, pikelpn](ace_per_layer_pikelpn.png)"]
    if ctx.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in ctx.notes]
    return "\n".join(lines) + "\n"


def summary(ctx: Context) -> dict[str, Any]:
    """The report's per-model firmware figures, machine-readable (``<out>/summary.json``).

    ``models`` maps ``"<scheme>/<flavor>"`` to: ``tflite`` (file name in the output folder),
    ``weight_bytes`` (filter bytes), ``arena_bytes`` (planned activation arena, bytes), and when profiled
    ``instructions`` (executed on emulated ``target`` with ``kernels``, one inference), ``macs`` and
    ``input`` (the int8 sample profiled, flattened, with its ``input_shape``). ``make bench`` re-measures
    these from the .tflite files and reports whether they agree.
    """
    models: dict[str, dict[str, Any]] = {}
    for (scheme, flavor), rep in ctx.exports.items():
        row: dict[str, Any] = {"tflite": Path(rep.path).name, "weight_bytes": int(rep.weight_bytes),
                               "arena_bytes": int(rep.arena_bytes)}
        prof, x = ctx.profiles.get((scheme, flavor)), ctx.profile_inputs.get((scheme, flavor))
        if prof is not None and x is not None:
            row.update(instructions=int(prof.total_instructions), macs=int(prof.total_macs),
                       input=[int(v) for v in x.reshape(-1)], input_shape=[int(d) for d in x.shape],
                       input_dtype=str(x.dtype))
        models[f"{scheme}/{flavor}"] = row
    return {"format": SUMMARY_FORMAT, "version": 1, "target": PROFILE_TARGET, "kernels": PROFILE_KERNELS,
            "architecture": ARCHITECTURE, "quick": ctx.quick,
            "accuracy": {k: round(v, 4) for k, v in ctx.accuracy.items()},
            "models": models}


def main(out_dir: str | Path = "build/demo", quick: bool = False) -> int:
    """Runs every built stage, writes ``<out_dir>/report.md`` and ``<out_dir>/summary.json``; exit status 1
    if a built stage failed."""
    ctx = Context(Path(out_dir), quick)
    ctx.out.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str]] = []
    failed = False
    blocked = ""  # the first pipeline stage that did not run: later pipeline stages need its results
    for stage in STAGES:
        missing = stage.missing()
        if failed or missing or (stage.pipeline and blocked):
            if failed:
                why = "skipped after a failure"
            elif missing:
                why = f"not built yet (issue {stage.issue}; missing {', '.join(missing)})"
            else:
                why = f"skipped: needs '{blocked}'"
            if stage.pipeline and not blocked:
                blocked = stage.name
            rows.append((stage.name, why.split(" (")[0], why))
            print(f"[ skip ] {stage.name}: {why}")
            continue
        start = time.perf_counter()
        try:
            detail, status = stage.run(ctx), "ok"
        except Exception as exc:  # a failed stage is reported, and the demo fails
            detail, status, failed = f"{type(exc).__name__}: {exc}", "FAILED", True
        seconds = time.perf_counter() - start
        rows.append((stage.name, f"{status} ({seconds:.1f} s)", detail))
        print(f"[{status:^6}] {stage.name} ({seconds:.1f} s): {detail}", flush=True)
    tmp = ctx.out / "report.md.tmp"
    tmp.write_text(_report(ctx, rows))
    tmp.replace(ctx.out / "report.md")
    tmp = ctx.out / "summary.json.tmp"
    tmp.write_text(json.dumps(summary(ctx), indent=1) + "\n")
    tmp.replace(ctx.out / "summary.json")
    print(f"report: {ctx.out / 'report.md'}")
    return 1 if failed else 0
