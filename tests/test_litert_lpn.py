"""Backend "litert": lpn-flavor models in ai_edge_litert with the LPN registrar == the reference, bit for bit.

Also: the registrar's load-time ABI self-test (and that it catches a deliberately drifted struct layout),
its C flexbuffer options parser, and the errors a user sees for unknown or unregistered custom ops.
"""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np
import pytest
from flatbuffers import flexbuffers

import lpn_tf.runtime as runtime
from lpn_tf.export import GraphBuilder, TFLiteFormatError, lpn_ops, to_tflite_bytes
from lpn_tf.export.graph import LPN_OPS
from lpn_tf.export.random_graphs import LayerSpec, random_graph
from lpn_tf.runtime import litert
from lpn_tf.runtime.api import Runner

# Random graphs: LPN layers mixed with builtins. No builtin FULLY_CONNECTED: LiteRT's BUILTIN_REF rounds it
# once (docs/integer-spec.md §6), which is LiteRT's difference, not the registrar's.
ARCHITECTURES: list[tuple[tuple[int, int], int, list[LayerSpec], str]] = [
    ((7, 6), 3, [LayerSpec("shift_conv", 3, 1, "SAME", 5, exponent_bits=2), LayerSpec("quant_norm")],
     "shift_dense"),
    ((8, 8), 4, [LayerSpec("shift_dwconv", 3, 2, "SAME", multiplier=2, exponent_bits=1),
                 LayerSpec("shift_conv", 1, 1, "VALID", 7, exponent_bits=3, activation="RELU")],
     "shift_dense"),
    ((9, 7), 2, [LayerSpec("conv", 3, 1, "SAME", 6, activation="RELU"),
                 LayerSpec("shift_conv", 5, 2, "VALID", 3, exponent_bits=2),
                 LayerSpec("avgpool", 2, 1, "VALID")], "shift_dense"),
    ((6, 6), 5, [LayerSpec("shift_conv", 2, 1, "SAME", 5, exponent_bits=1),
                 LayerSpec("residual", 3), LayerSpec("quant_norm"),
                 LayerSpec("shift_dwconv", 4, 1, "VALID", multiplier=1, exponent_bits=3)], "shift_dense"),
    ((5, 9), 3, [LayerSpec("dwconv", 3, 1, "SAME", multiplier=2), LayerSpec("maxpool", 2, 2, "SAME"),
                 LayerSpec("shift_conv", 3, 1, "SAME", 4, exponent_bits=2, activation="RELU")],
     "shift_dense"),
]  # fmt: skip


@pytest.fixture(scope="module")
def registrar() -> litert.Registrar:
    """The process-wide registrar (built, versions checked, ABI self-test passed)."""
    return litert.registrar()


def _write(graph, path: Path) -> Path:
    path.write_bytes(to_tflite_bytes(graph, flavor="lpn"))
    return path


def _compare(path: Path, samples: int, seed: int) -> int:
    """Run ``path`` on both backends; assert every output equal; return the number of values compared."""
    reference = runtime.load(path, backend="reference")
    lite = runtime.load(path, backend="litert")
    assert isinstance(lite, Runner)
    assert [o.shape for o in lite.outputs] == [o.shape for o in reference.outputs]
    spec = reference.inputs[0]
    x = np.random.default_rng(seed).integers(-128, 128, (samples, *spec.shape[1:])).astype(np.int8)
    want = reference.run(x)
    got = lite.run(x)
    want = want if isinstance(want, list) else [want]
    got = got if isinstance(got, list) else [got]
    compared = 0
    for desc, a, b in zip(reference.outputs, want, got, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape, desc.name
        diff = int(np.sum(a != b))
        assert diff == 0, (
            f"{path.name}: output {desc.name!r}: {diff} of {a.size} values differ from the reference"
        )
        compared += a.size
    assert [row["kind"] for row in lite.profile] == [row["kind"] for row in reference.profile]
    assert [row["macs"] for row in lite.profile] == [row["macs"] for row in reference.profile]
    return compared


@pytest.mark.parametrize("arch", range(len(ARCHITECTURES)))
def test_random_lpn_graphs_match_reference(registrar, tmp_path: Path, arch: int) -> None:
    """Every op output of random graphs with LPN and builtin ops, 3 samples, is bit-identical."""
    hw, channels, layers, head = ARCHITECTURES[arch]
    for seed in range(2):
        graph = random_graph(np.random.default_rng(100 * arch + seed), hw, channels, layers, 6, head)
        assert any(op.kind in LPN_OPS for op in graph.ops)
        compared = _compare(_write(graph, tmp_path / f"arch{arch}_{seed}.tflite"), 3, seed)
        assert compared > 100


def test_every_lpn_op_matches_reference(registrar, tmp_path: Path) -> None:
    """The self-test model (conv, depthwise with multiplier 2 and a clamp, QuantNorm, dense) via load()."""
    graph = litert._self_test_graph()
    assert {op.kind for op in graph.ops} >= set(LPN_OPS)
    assert _compare(_write(graph, tmp_path / "all_ops.tflite"), 4, 11) > 500


def test_abi_self_test_passes_and_probes_every_tensor(registrar) -> None:
    registrar.probe(True)
    try:
        litert._interpreter(
            to_tflite_bytes(litert._self_test_graph(), flavor="lpn"), [registrar.registerer()], "t"
        )
        text = registrar.probe_text()
    finally:
        registrar.probe(False)
    graph = litert._self_test_graph()
    assert litert._check_probe(text, graph) == []
    probed = {int(line.split()[1]) for line in text.splitlines() if line.startswith("t ")}
    used = {i for op in graph.ops if op.kind in LPN_OPS for i in (*op.inputs, *op.outputs) if i >= 0}
    assert probed == used
    litert.abi_self_test(registrar)  # the whole self-test, again: it is repeatable


def test_probe_check_reports_a_drifted_field(registrar) -> None:
    """A zero point or byte count read wrongly is reported with the tensor and the struct at fault."""
    graph = litert._self_test_graph()
    registrar.probe(True)
    try:
        litert._interpreter(to_tflite_bytes(graph, flavor="lpn"), [registrar.registerer()], "t")
        text = registrar.probe_text()
    finally:
        registrar.probe(False)
    line = next(line for line in text.splitlines() if line.startswith("t 0 "))
    fields = line.split()
    fields[4] = str(int(fields[4]) + 1)  # zero point
    problems = litert._check_probe(text.replace(line, " ".join(fields)), graph)
    assert problems and "tensor 0" in problems[0] and "TfLiteTensor layout" in problems[0]


def test_drifted_abi_build_fails_the_self_test_loudly(tmp_path: Path) -> None:
    """A registrar compiled with a deliberately wrong TfLiteQuantizationParams layout is refused at load."""
    library = litert.build_registrar(tmp_path / "drift", extra_cflags="-DLPN_TFLITE_ABI_DRIFT_TEST")
    drifted = litert.Registrar(library, litert._add_custom_address())
    with pytest.raises(litert.LiteRTABIError, match="zero point|TfLiteTensor layout"):
        litert.abi_self_test(drifted)


def test_version_pin_is_enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another LiteRT version is refused with the header to re-check, unless explicitly allowed."""
    real = litert.importlib.metadata.version
    monkeypatch.setattr(
        litert.importlib.metadata, "version", lambda d: "2.4.0" if d == "ai-edge-litert" else real(d)
    )
    monkeypatch.delenv(litert.ALLOW_UNTESTED_ENV, raising=False)
    with pytest.raises(litert.LiteRTABIError, match=r"ai-edge-litert 2\.4\.0 .*tflite_abi\.h"):
        litert.check_versions()
    monkeypatch.setenv(litert.ALLOW_UNTESTED_ENV, "1")
    litert.check_versions()


def test_unknown_custom_op_gives_a_clear_error(registrar, tmp_path: Path) -> None:
    """A custom op that is not an LPN op is refused, naming it."""
    data = to_tflite_bytes(litert._self_test_graph(), flavor="lpn")
    assert data.count(b"LPN_QUANT_NORM") == 2  # the operator code and the "lpn" metadata's op list
    path = tmp_path / "unknown.tflite"
    path.write_bytes(data.replace(b"LPN_QUANT_NORM", b"LPN_QUANT_NORX"))
    with pytest.raises(TFLiteFormatError, match="LPN_QUANT_NORX"):
        runtime.load(path, backend="litert")


def test_unregistered_lpn_ops_give_a_clear_error(registrar, tmp_path: Path) -> None:
    path = _write(litert._self_test_graph(), tmp_path / "m.tflite")
    with pytest.raises(litert.LiteRTError, match=r"LPN_SHIFT_CONV_2D.*lpn_ops=True"):
        runtime.load(path, backend="litert", lpn_ops=False)


def test_invalid_lpn_parameters_are_refused_at_prepare(registrar, tmp_path: Path) -> None:
    """A mantissa outside its declared mantissa_bits fails Prepare with the op, output tensor and channel."""
    b = GraphBuilder()
    x = b.input("x", (1, 4, 4, 2), 0.05, 1)
    y = b.quant_norm(
        x, np.zeros(2), np.array([100, 600]), np.array([8, 8]), 0.1, mantissa_bits=10, name="bad_norm"
    )
    b.output(y)
    path = _write(b.graph, tmp_path / "bad.tflite")
    with pytest.raises(
        litert.LiteRTError, match=r"LPN_QUANT_NORM writing 'bad_norm': channel 1: mantissa 600"
    ):
        runtime.load(path, backend="litert")


def _conv_options(**changes) -> bytes:
    options = {
        "act_max": 127, "act_min": -128, "exponent_bits": 2, "filter_shape": [4, 3, 3, 2],
        "mantissa_bits": 12, "padding": 0, "stride_h": 1, "stride_w": 2, "version": 1,
    }  # fmt: skip
    options.update(changes)
    return bytes(flexbuffers.Dumps({k: v for k, v in options.items() if v is not None}))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, None),
        ({"filter_shape": [70000, 1, 1, 300]}, None),  # wider ints and vectors
        ({"stride_h": None}, "'stride_h' missing"),
        ({"dilation": 2}, "unknown option 'dilation'"),
        ({"version": 2}, "version 2 not supported"),
        ({"padding": 2}, "padding must be 0 (SAME) or 1 (VALID)"),
        ({"act_min": 5, "act_max": 4}, "act_min <= act_max"),
        ({"exponent_bits": 8}, "exponent_bits must be in [0, 7]"),
        ({"filter_shape": [4, 3, 3]}, "filter_shape has the wrong rank"),
        ({"filter_shape": [4, 3, 3, 2, 1]}, "'filter_shape' out of range"),
        ({"stride_w": "two"}, "'stride_w' wrong type"),
    ],
)
def test_c_options_parser(registrar, changes: dict, message: str | None) -> None:
    result = registrar.check_options("LPN_SHIFT_CONV_2D", _conv_options(**changes))
    if message is None:
        assert result is None
    else:
        assert result is not None and result.startswith("custom options") and message in result, result


def test_c_options_parser_survives_truncated_and_corrupt_buffers(registrar) -> None:
    """Every truncation and 300 random corruptions of valid options: an error or a valid parse, no crash."""
    valid = _conv_options()
    for n in range(len(valid)):
        assert registrar.check_options("LPN_SHIFT_CONV_2D", valid[:n]) is not None
    rng = np.random.default_rng(0)
    for _ in range(300):
        data = bytearray(valid)
        for i in rng.integers(0, len(data), 3):
            data[i] = int(rng.integers(0, 256))
        result = registrar.check_options("LPN_SHIFT_CONV_2D", bytes(data))
        assert result is None or result.startswith("custom options")
    assert registrar.check_options("CONV_2D", valid) == "'CONV_2D' is not an LPN op"


def test_registrations_are_exported_for_cpp_hosts(registrar) -> None:
    """lpn_litert_registration hands out one TfLiteRegistration per LPN code and NULL for anything else."""
    lib = ctypes.CDLL(str(registrar.library))
    lib.lpn_litert_registration.restype = ctypes.c_void_p
    lib.lpn_litert_registration.argtypes = [ctypes.c_char_p]
    pointers = {code: lib.lpn_litert_registration(code.encode()) for code in registrar.op_codes}
    assert set(registrar.op_codes) == set(LPN_OPS)
    assert all(pointers.values()) and len(set(pointers.values())) == len(LPN_OPS)
    assert lib.lpn_litert_registration(b"CONV_2D") is None


def test_options_parser_is_memory_safe_under_asan_and_ubsan(tmp_path: Path) -> None:
    """The C parser on the options of every LPN op, every truncation and 100000 corruptions each, built with
    AddressSanitizer + UndefinedBehaviorSanitizer on exactly-sized heap copies: no report, right verdicts."""
    result = subprocess.run(
        ["make", "-s", "-f", str(litert.MAKEFILE), "options-fuzz", f"OUT={tmp_path}"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    args = []
    for op in litert._self_test_graph().ops:
        if op.kind in LPN_OPS:
            (tmp_path / f"{op.kind}.bin").write_bytes(lpn_ops.encode_options(op))
            args.append(f"{op.kind}={tmp_path / f'{op.kind}.bin'}")
    run = subprocess.run(
        [str(tmp_path / "options_fuzz"), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert "Sanitizer" not in run.stderr and "runtime error" not in run.stderr, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == len(LPN_OPS) and all(" valid=ok " in line for line in lines), run.stdout
    assert run.returncode == 0, run.stdout


def test_builtin_only_model_runs_without_the_registrar(tmp_path: Path) -> None:
    """A model without LPN ops does not load the registrar (nor TensorFlow's library) and still matches."""
    layers = [LayerSpec("conv", 3, 2, "SAME", 4, activation="RELU6"), LayerSpec("residual", 3)]
    graph = random_graph(np.random.default_rng(5), (8, 8), 3, layers, 0)
    path = _write(graph, tmp_path / "builtin.tflite")
    assert not runtime.load(path, backend="litert").lpn_ops
    assert _compare(path, 2, 0) > 100
