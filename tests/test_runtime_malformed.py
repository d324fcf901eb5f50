"""Malformed .tflite files: every corrupted field class yields its documented status, never a crash.

Structured mutations go through the TFLite schema's object API (one field at a time, on an exporter-written
model) and are checked in-process (host library), under AddressSanitizer + UBSan (host-asan lpn_run) and
on the emulated Cortex-M devices (QEMU; the device's own lpn_init, not the host pre-check): the same
status, op, tensor, byte offset, detail and name everywhere. Every structured case, truncation and header
corruption runs on qemu-m4, a sample on qemu-m7 and qemu-m33 (all of them with ``-m slow``).
Random byte-level corruption (bit flips, overwritten words, truncation) only has to fail cleanly.

``python tests/test_runtime_malformed.py`` prints the outcome tallies of docs/reliability.md's table.
"""

from __future__ import annotations

import copy
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema
from flatbuffers import flexbuffers

from lpn_tf import toolchain
from lpn_tf.export import tflite_writer
from lpn_tf.export.random_graphs import LayerSpec, random_graph
from lpn_tf.runtime import host, qemu

# TFLite enum values used below
FLOAT32, CONV_2D, CUSTOM = 0, 3, 32
INT32_LITTLE = "<i4"


def base_model() -> bytes:
    """A small valid model: conv + depthwise + residual ADD + pools + MEAN head + dense."""
    rng = np.random.default_rng(3)
    layers = [LayerSpec("conv", activation="RELU"), LayerSpec("dwconv", multiplier=2), LayerSpec("residual"),
              LayerSpec("maxpool", kernel=2, stride=2)]
    graph = random_graph(rng, (8, 8), 3, layers, head_units=4, head="mean_dense")
    return tflite_writer.to_tflite_bytes(graph, flavor="builtin")


def lpn_base_model() -> bytes:
    """A valid lpn-flavor model: shift conv (2-bit codes), shift depthwise, QuantNorm, shift dense."""
    rng = np.random.default_rng(4)
    layers = [LayerSpec("shift_conv", exponent_bits=1), LayerSpec("shift_dwconv", exponent_bits=2),
              LayerSpec("quant_norm")]
    graph = random_graph(rng, (6, 6), 3, layers, head_units=4, head="shift_dense")
    return tflite_writer.to_tflite_bytes(graph, flavor="lpn")


BASE = base_model()
LPN_BASE = lpn_base_model()


def mutate(edit: Callable[[schema.ModelT], None], base: bytes = BASE) -> bytes:
    """``base`` with ``edit`` applied to its object-API model, repacked (buffers kept 16-byte aligned)."""
    model = schema.ModelT.InitFromPackedBuf(base, 0)
    edit(model)
    for buffer in model.buffers:
        buffer.__class__ = tflite_writer._AlignedBufferT  # noqa: SLF001 - reuse the exporter's alignment
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def sg(model: schema.ModelT) -> schema.SubGraphT:
    return model.subgraphs[0]


def op_of(model: schema.ModelT, builtin: int) -> schema.OperatorT:
    return next(o for o in sg(model).operators if model.operatorCodes[o.opcodeIndex].builtinCode == builtin)


def constant_tensor(model: schema.ModelT, dtype: int) -> schema.TensorT:
    return next(t for t in sg(model).tensors if t.type == dtype and model.buffers[t.buffer].data is not None)


def _set_opcode(model: schema.ModelT, builtin: int, custom: str | None = None, version: int = 1) -> None:
    code = model.operatorCodes[sg(model).operators[0].opcodeIndex]
    code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), version
    code.customCode = custom


def _set_item(obj: object, field: str, index: int, value: int) -> None:
    """obj.field[index] = value (the object API holds read-only numpy arrays)."""
    values = list(getattr(obj, field))
    values[index] = value
    setattr(obj, field, values)


def _two_subgraphs(model: schema.ModelT) -> None:
    model.subgraphs.append(copy.deepcopy(sg(model)))


def _swap_first_ops(model: schema.ModelT) -> None:
    ops = sg(model).operators
    ops[0], ops[1] = ops[1], ops[0]


def _conv_stride_zero(model: schema.ModelT) -> None:
    op_of(model, CONV_2D).builtinOptions.strideW = 0


def _conv_no_options(model: schema.ModelT) -> None:
    conv = op_of(model, CONV_2D)
    conv.builtinOptionsType, conv.builtinOptions = 0, None


def _conv_output_shape(model: schema.ModelT) -> None:
    tensor = sg(model).tensors[op_of(model, CONV_2D).outputs[0]]
    _set_item(tensor, "shape", 1, int(tensor.shape[1]) + 1)


def _quant(model: schema.ModelT, field: str, value: object) -> None:
    tensor = sg(model).tensors[sg(model).inputs[0]]
    setattr(tensor.quantization, field, value)


def custom_op(model: schema.ModelT, code: str) -> schema.OperatorT:
    ops = sg(model).operators
    return next(o for o in ops if model.operatorCodes[o.opcodeIndex].customCode == code.encode())


def _options(model: schema.ModelT, code: str, **changes: object) -> None:
    """Re-encodes the flexbuffer options of the first ``code`` op with ``changes`` (None drops a key)."""
    op = custom_op(model, code)
    options = flexbuffers.Loads(bytes(op.customOptions))
    for key, value in changes.items():
        if value is None:
            options.pop(key)
        else:
            options[key] = value
    op.customOptions = list(flexbuffers.Dumps(options))


def _lpn_input(model: schema.ModelT, code: str, slot: int) -> schema.TensorT:
    return sg(model).tensors[custom_op(model, code).inputs[slot]]


def _lpn_data(model: schema.ModelT, code: str, slot: int, edit: Callable[[np.ndarray], np.ndarray]) -> None:
    tensor = _lpn_input(model, code, slot)
    data = edit(np.asarray(model.buffers[tensor.buffer].data, np.uint8).copy())
    model.buffers[tensor.buffer].data = data
    tensor.shape = [data.size // np.dtype({3: np.uint8, 7: np.int16, 9: np.int8}[tensor.type]).itemsize]


def _set_byte(data: np.ndarray, index: int, value: int) -> np.ndarray:
    data[index] = value
    return data


SC, QN = "LPN_SHIFT_CONV_2D", "LPN_QUANT_NORM"

# name -> (edit, expected status name), applied to LPN_BASE
LPN_CASES: dict[str, tuple[Callable[[schema.ModelT], None], str]] = {
    "options version 2": (lambda m: _options(m, SC, version=2), "OP_OPTIONS"),
    "options without act_min": (lambda m: _options(m, SC, act_min=None), "OP_OPTIONS"),
    "options act_min > act_max": (lambda m: _options(m, SC, act_min=100, act_max=0), "OP_OPTIONS"),
    "options exponent_bits 9": (lambda m: _options(m, SC, exponent_bits=9), "OP_OPTIONS"),
    "options filter_shape rank 3": (lambda m: _options(m, SC, filter_shape=[3, 3, 3]), "OP_OPTIONS"),
    "options stride 0": (lambda m: _options(m, SC, stride_h=0), "OP_OPTIONS"),
    "options unknown key": (lambda m: _options(m, SC, dilation=2), "OP_OPTIONS"),
    "options not a flexbuffer": (lambda m: setattr(custom_op(m, SC), "customOptions", [7, 1, 2, 3]),
                                 "OP_OPTIONS"),
    "options missing": (lambda m: setattr(custom_op(m, SC), "customOptions", None), "OP_OPTIONS"),
    "codes one byte short": (lambda m: _lpn_data(m, SC, 1, lambda d: d[:-1]), "OP_TENSORS"),
    "codes padding bits set": (lambda m: _lpn_data(m, SC, 1, lambda d: _set_byte(d, 0, 0x0C)), "OP_TENSORS"),
    "mantissa out of range": (  # mantissa[0] = 0x7fff, beyond 2^(mantissa_bits - 1) - 1
        lambda m: _lpn_data(m, SC, 3, lambda d: _set_byte(_set_byte(d, 1, 0x7F), 0, 0xFF)), "MULTIPLIER"),
    "shift 63": (lambda m: _lpn_data(m, SC, 4, lambda d: _set_byte(d, 0, 63)), "MULTIPLIER"),
    "quant norm without bias": (lambda m: _set_item(custom_op(m, QN), "inputs", 1, -1), "OP_ARITY"),
    "custom op version 2": (lambda m: setattr(m.operatorCodes[custom_op(m, SC).opcodeIndex], "version", 2),
                            "OP_VERSION"),
}


# name -> (edit, expected status name)
CASES: dict[str, tuple[Callable[[schema.ModelT], None], str]] = {
    "schema version 2": (lambda m: setattr(m, "version", 2), "SCHEMA_VERSION"),
    "two subgraphs": (_two_subgraphs, "SUBGRAPH_COUNT"),
    "opcode index out of range": (lambda m: setattr(sg(m).operators[1], "opcodeIndex", 40), "OPCODE_INDEX"),
    "op input index out of range": (lambda m: _set_item(sg(m).operators[1], "inputs", 0, 500),
                                    "TENSOR_INDEX"),
    "op input index -2": (lambda m: _set_item(sg(m).operators[1], "inputs", 0, -2), "TENSOR_INDEX"),
    "graph output index out of range": (lambda m: _set_item(sg(m), "outputs", 0, 999), "TENSOR_INDEX"),
    "buffer index out of range": (lambda m: setattr(constant_tensor(m, 9), "buffer", 77), "BUFFER_INDEX"),
    "float32 tensor": (lambda m: setattr(sg(m).tensors[sg(m).inputs[0]], "type", FLOAT32), "TENSOR_TYPE"),
    "negative dimension": (lambda m: _set_item(sg(m).tensors[0], "shape", 0, -1), "TENSOR_SHAPE"),
    "rank 7": (lambda m: setattr(sg(m).tensors[0], "shape", [1] * 7), "TENSOR_SHAPE"),
    "constant buffer one byte short": (
        lambda m: setattr(m.buffers[constant_tensor(m, 9).buffer], "data",
                          np.asarray(m.buffers[constant_tensor(m, 9).buffer].data)[:-1]), "BUFFER_SIZE"),
    "negative scale": (lambda m: _quant(m, "scale", [-0.5]), "QUANTIZATION"),
    "NaN scale": (lambda m: _quant(m, "scale", [float("nan")]), "QUANTIZATION"),
    "zero point out of int8 range": (lambda m: _quant(m, "zeroPoint", [200]), "QUANTIZATION"),
    "scale count mismatch": (lambda m: _quant(m, "scale", [0.1, 0.2]), "QUANTIZATION"),
    "quantized dimension out of range": (lambda m: _quant(m, "quantizedDimension", 9), "QUANTIZATION"),
    "unknown builtin": (lambda m: _set_opcode(m, 99), "UNKNOWN_BUILTIN"),
    "unknown custom op": (lambda m: _set_opcode(m, CUSTOM, "LPN_NOT_AN_OP"), "UNKNOWN_CUSTOM"),
    "custom op without custom code": (lambda m: _set_opcode(m, CUSTOM), "MISSING_FIELD"),
    "unsupported op version": (lambda m: _set_opcode(m, CONV_2D, version=99), "OP_VERSION"),
    "conv stride 0": (_conv_stride_zero, "OP_OPTIONS"),
    "conv options missing": (_conv_no_options, "OP_OPTIONS"),
    "conv output shape inconsistent": (_conv_output_shape, "OP_TENSORS"),
    "conv without inputs": (lambda m: setattr(op_of(m, CONV_2D), "inputs", []), "OP_ARITY"),
    "tensor read before written": (_swap_first_ops, "GRAPH"),
}


@pytest.fixture(scope="module")
def asan_lpn_run() -> Path:
    toolchain.make_firmware("host-asan")
    return toolchain.BUILD_DIR / "firmware" / "host-asan" / "lpn_run"


def run_sanitized(lpn_run: Path, model: Path, inputs: Path) -> subprocess.CompletedProcess[str]:
    """lpn_run under ASan + UBSan; fails the test on any sanitizer report."""
    result = subprocess.run([str(lpn_run), str(model), str(inputs), str(inputs.with_suffix(".out"))],
                            capture_output=True, text=True, errors="replace", timeout=60, check=False,
                            env={"ASAN_OPTIONS": "detect_leaks=0", "PATH": "/usr/bin:/bin"})
    assert "Sanitizer" not in result.stderr and "runtime error" not in result.stderr, (model, result.stderr)
    return result


def load_error(data: bytes) -> host.FirmwareError:
    with pytest.raises(host.FirmwareError) as info:
        host.HostRuntime(data, source="mutant")
    return info.value


def test_base_model_is_valid() -> None:
    runner = host.HostRuntime(BASE)
    assert len(runner.ops()) >= 6


@pytest.mark.parametrize("case", list(CASES))
def test_structured_mutation_gives_documented_status(case: str, asan_lpn_run: Path, tmp_path: Path) -> None:
    edit, expected = CASES[case]
    data = mutate(edit)
    error = load_error(data)
    assert error.status_name == expected, str(error)
    assert expected in str(error)
    if error.offset is not None:
        assert 0 <= error.offset < len(data)
    # the same file under ASan + UBSan: same status as exit code, no sanitizer report
    model = tmp_path / "mutant.tflite"
    model.write_bytes(data)
    (tmp_path / "in.bin").write_bytes(b"\0")
    result = run_sanitized(asan_lpn_run, model, tmp_path / "in.bin")
    assert result.returncode == host.STATUS[expected], result.stderr


def test_lpn_base_model_is_valid() -> None:
    kinds = {op.kind for op in host.HostRuntime(LPN_BASE).ops()}
    assert {"LPN_SHIFT_CONV_2D", "LPN_SHIFT_DEPTHWISE_CONV_2D", "LPN_QUANT_NORM",
            "LPN_SHIFT_FULLY_CONNECTED"} <= kinds


@pytest.mark.parametrize("case", list(LPN_CASES))
def test_lpn_op_mutation_gives_documented_status(case: str, asan_lpn_run: Path, tmp_path: Path) -> None:
    edit, expected = LPN_CASES[case]
    data = mutate(edit, LPN_BASE)
    error = load_error(data)
    assert error.status_name == expected, str(error)
    assert error.op_index is not None
    model = tmp_path / "mutant.tflite"
    model.write_bytes(data)
    (tmp_path / "in.bin").write_bytes(b"\0")
    assert run_sanitized(asan_lpn_run, model, tmp_path / "in.bin").returncode == host.STATUS[expected]


def test_errors_point_at_the_faulty_field() -> None:
    """The reported byte offset holds the bad value itself (index fields and vector elements)."""
    for case, bad in (("opcode index out of range", 40), ("op input index out of range", 500),
                      ("graph output index out of range", 999), ("buffer index out of range", 77)):
        data = mutate(CASES[case][0])
        error = load_error(data)
        assert error.offset is not None
        assert int(np.frombuffer(data, INT32_LITTLE, count=1, offset=error.offset)[0]) == bad, case
    error = load_error(mutate(CASES["opcode index out of range"][0]))
    assert error.op_index == 1
    error = load_error(mutate(CASES["unknown builtin"][0]))
    assert error.detail == 99 and error.op_index == 0
    assert "= SQUARED_DIFFERENCE" in str(error)  # builtin 99, named
    error = load_error(mutate(CASES["unknown custom op"][0]))
    assert error.op_name == "LPN_NOT_AN_OP" and "LPN_NOT_AN_OP" in str(error)
    error = load_error(mutate(CASES["float32 tensor"][0]))
    assert error.tensor_index == schema.ModelT.InitFromPackedBuf(BASE, 0).subgraphs[0].inputs[0]


@pytest.mark.parametrize(("cut", "expected"), [(0, "MODEL_SIZE"), (7, "MODEL_SIZE"), (12, None), (100, None),
                                                (len(BASE) // 2, None), (len(BASE) - 1, None)])
def test_truncated_model_is_refused(cut: int, expected: str | None) -> None:
    error = load_error(BASE[:cut])
    if expected is not None:
        assert error.status_name == expected
    assert error.status_name in {"MODEL_SIZE", "OFFSET", "VTABLE", "FIELD", "VECTOR", "STRING", "ALIGNMENT",
                                 "MISSING_FIELD", "EXTERNAL_BUFFER", "BUFFER_SIZE"}, str(error)


def test_identifier_and_root_offset() -> None:
    assert load_error(BASE[:4] + b"XXXX" + BASE[8:]).status_name == "IDENTIFIER"
    assert load_error(np.uint32(len(BASE) + 8).tobytes() + BASE[4:]).status_name == "OFFSET"
    # vtable offset of the root table pointing before the file start
    root = int(np.frombuffer(BASE, "<u4", count=1)[0])
    broken = bytearray(BASE)
    broken[root : root + 4] = np.int32(root + 1000).tobytes()
    assert load_error(bytes(broken)).status_name == "VTABLE"


RANDOM_KINDS = ("bit flips", "random word", "truncation")


def random_corruptions(base: bytes, count: int = 100, seed: int = 99) -> Iterator[tuple[str, bytes]]:
    """``count`` corrupted copies of ``base``, cycling through RANDOM_KINDS: 1-3 random bit flips, one
    random aligned 32-bit word, truncation at a random length. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    for trial in range(count):
        data = bytearray(base)
        kind = RANDOM_KINDS[trial % 3]
        if kind == "bit flips":
            for _ in range(int(rng.integers(1, 4))):
                pos = int(rng.integers(0, len(data)))
                data[pos] ^= 1 << int(rng.integers(0, 8))
        elif kind == "random word":
            pos = int(rng.integers(0, len(data) - 4)) & ~3
            data[pos : pos + 4] = rng.integers(0, 256, 4, dtype=np.uint8).tobytes()
        else:
            data = data[: int(rng.integers(0, len(data)))]
        yield kind, bytes(data)


def option_blob_corruptions(count: int = 60, seed: int = 5) -> Iterator[bytes]:
    """LPN_BASE with the shift conv's flexbuffer options overwritten (1-3 bytes), and every second trial also
    cut at the head or the tail. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    for trial in range(count):
        def corrupt(model: schema.ModelT, trial: int = trial) -> None:
            op = custom_op(model, SC)
            blob = bytearray(bytes(op.customOptions))
            cut = int(rng.integers(1, len(blob)))
            if trial % 4 == 1:
                blob = blob[cut:]
            elif trial % 4 == 3:
                blob = blob[:cut]
            for _ in range(int(rng.integers(1, 4))):
                if blob:
                    blob[int(rng.integers(0, len(blob)))] = int(rng.integers(0, 256))
            op.customOptions = list(blob) or None

        yield mutate(corrupt, LPN_BASE)


@pytest.mark.parametrize("flavor", ["builtin", "lpn"])
def test_random_corruption_never_crashes_under_asan(flavor: str, asan_lpn_run: Path, tmp_path: Path) -> None:
    """100 corrupted files (bit flips, random words, truncations) through the sanitized runner."""
    base = BASE if flavor == "builtin" else LPN_BASE
    sample = host.HostRuntime(base).inputs[0]
    (tmp_path / "in.bin").write_bytes(bytes(sample.nbytes))
    statuses: dict[int, int] = {}
    for trial, (_, data) in enumerate(random_corruptions(base)):
        model = tmp_path / "fuzz.tflite"
        model.write_bytes(data)
        result = run_sanitized(asan_lpn_run, model, tmp_path / "in.bin")
        # 0: the flip hit unused bytes or weights; 1..34: a runtime status; 102: the input size changed
        assert 0 <= result.returncode < len(host.STATUS_NAMES) or result.returncode == 102, (trial, result)
        statuses[result.returncode] = statuses.get(result.returncode, 0) + 1
    assert len(statuses) >= 5, statuses  # the corruption reached many different checks


def test_corrupted_custom_options_never_crash_under_asan(asan_lpn_run: Path, tmp_path: Path) -> None:
    """The flexbuffer reader on 60 corrupted option blobs: OP_OPTIONS (or a clean accept), no report."""
    (tmp_path / "in.bin").write_bytes(bytes(host.HostRuntime(LPN_BASE).inputs[0].nbytes))
    refused = 0
    for data in option_blob_corruptions():
        model = tmp_path / "options.tflite"
        model.write_bytes(data)
        code = run_sanitized(asan_lpn_run, model, tmp_path / "in.bin").returncode
        assert code in (0, *(host.STATUS[k] for k in ("OP_OPTIONS", "OP_TENSORS", "OP_ARITY"))), code
        refused += code != 0
    assert refused > 40


def test_status_table_mirrors_the_header() -> None:
    header = (toolchain.FIRMWARE_DIR / "include" / "lpn" / "runtime.h").read_text()
    found = re.findall(r"LPN_RT_(OK|ERR_\w+) = (\d+),", header)
    names = [(name.removeprefix("ERR_"), int(value)) for name, value in found]
    assert names == [(name, code) for code, name in enumerate(host.STATUS_NAMES)]


def test_unknown_option_key_is_named_at_its_byte() -> None:
    """An LPN op option the spec does not define is refused (not ignored), naming the key at its byte."""
    data = mutate(LPN_CASES["options unknown key"][0], LPN_BASE)
    error = load_error(data)
    assert error.status_name == "OP_OPTIONS" and error.detail == -3
    assert error.op_name == "dilation"
    assert data[error.offset:error.offset + 9] == b"dilation\0"


# Every structured input the device tests use: (base model, edit) or raw bytes, by name.
TRUNCATIONS = (0, 7, 12, 100, len(BASE) // 2, len(BASE) - 1)


def _root_vtable_broken() -> bytes:
    root = int(np.frombuffer(BASE, "<u4", count=1)[0])
    broken = bytearray(BASE)
    broken[root : root + 4] = np.int32(root + 1000).tobytes()
    return bytes(broken)


def device_inputs() -> dict[str, Callable[[], bytes]]:
    """name -> a function building the malformed file: CASES, LPN_CASES, truncations, header corruption."""
    inputs: dict[str, Callable[[], bytes]] = {}
    for name, (edit, _) in CASES.items():
        inputs[name] = lambda edit=edit: mutate(edit)
    for name, (edit, _) in LPN_CASES.items():
        inputs[f"lpn: {name}"] = lambda edit=edit: mutate(edit, LPN_BASE)
    for cut in TRUNCATIONS:
        inputs[f"truncated to {cut} bytes"] = lambda cut=cut: BASE[:cut]
    inputs["file identifier"] = lambda: BASE[:4] + b"XXXX" + BASE[8:]
    inputs["root offset"] = lambda: np.uint32(len(BASE) + 8).tobytes() + BASE[4:]
    inputs["root vtable"] = _root_vtable_broken
    return inputs


DEVICE_INPUTS = device_inputs()
# qemu-m7 / qemu-m33 in the fast suite: every fourth input (all of them under -m slow)
DEVICE_SAMPLE = list(DEVICE_INPUTS)[::4]


def fields(error: host.FirmwareError) -> dict[str, object]:
    return {key: getattr(error, key) for key in
            ("status_name", "op_index", "tensor_index", "offset", "detail", "op_name")}


def check_on_device(case: str, target: str) -> None:
    """The emulated device refuses the input at init with exactly the host build's error fields."""
    data = DEVICE_INPUTS[case]()
    want = load_error(data)
    got = qemu.device_init_error(data, target, source=case)
    assert got is not None, f"{case}: qemu-{target} accepted a model the host refuses ({want})"
    assert fields(got) == fields(want), f"{case} on qemu-{target}:\n  device {got}\n  host   {want}"
    expected = {**CASES, **{f"lpn: {k}": v for k, v in LPN_CASES.items()}}.get(case)
    if expected is not None:
        assert got.status_name == expected[1]


@pytest.mark.qemu
@pytest.mark.parametrize("case", list(DEVICE_INPUTS))
def test_malformed_input_gives_the_host_status_on_qemu_m4(case: str, cortex_m_toolchain: None) -> None:
    check_on_device(case, "m4")


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["m7", "m33"])
@pytest.mark.parametrize("case", DEVICE_SAMPLE)
def test_malformed_input_gives_the_host_status_on_qemu_m7_m33(case: str, target: str,
                                                              cortex_m_toolchain: None) -> None:
    check_on_device(case, target)


@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize("target", ["m7", "m33"])
def test_every_malformed_input_gives_the_host_status_on_qemu_m7_m33(target: str,
                                                                    cortex_m_toolchain: None) -> None:
    for case in DEVICE_INPUTS:
        check_on_device(case, target)


@pytest.mark.qemu
def test_valid_models_pass_device_init(cortex_m_toolchain: None) -> None:
    """The check above can tell acceptance from refusal: the unmutated bases pass lpn_init on the device."""
    assert qemu.device_init_error(BASE, "m4") is None
    assert qemu.device_init_error(LPN_BASE, "m4") is None


def host_outcome(data: bytes) -> str:
    """``init:STATUS`` when the host build refuses ``data``, else ``invoke:OK`` / ``invoke:STATUS`` of one
    invoke on all-zero inputs (in-process, the runner's own arena sizing)."""
    try:
        runner = host.HostRuntime(data)
    except host.FirmwareError as error:
        return f"init:{error.status_name}"
    try:
        runner.run([np.zeros(spec.shape, spec.dtype) for spec in runner.inputs])
    except host.FirmwareError as error:
        return f"invoke:{error.status_name}"
    return "invoke:OK"


@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize("flavor", ["builtin", "lpn"])
def test_random_corruption_gives_the_host_outcome_on_qemu_m4(flavor: str, cortex_m_toolchain: None) -> None:
    """The 100 random corruptions of each base: the device's lpn_init refuses exactly what the host build
    refuses, with the same error fields, and accepts the rest."""
    for trial, (kind, data) in enumerate(random_corruptions(BASE if flavor == "builtin" else LPN_BASE)):
        got = qemu.device_init_error(data, "m4", source=f"{flavor} {kind} {trial}")
        try:
            host.HostRuntime(data)
        except host.FirmwareError as want:
            assert got is not None and fields(got) == fields(want), (trial, kind, str(got), str(want))
        else:
            assert got is None, (trial, kind, str(got))


def tally(outcomes: list[str]) -> str:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def print_tallies(device: bool = True) -> None:
    """The outcome tallies of docs/reliability.md's table, from exactly the inputs the tests generate."""
    print(f"base models: builtin {len(BASE)} bytes, LPN {len(LPN_BASE)} bytes")
    print(f"CASES ({len(CASES)}):", tally([host_outcome(mutate(edit)) for edit, _ in CASES.values()]))
    print(f"LPN_CASES ({len(LPN_CASES)}):",
          tally([host_outcome(mutate(edit, LPN_BASE)) for edit, _ in LPN_CASES.values()]))
    print("fixed truncations:", tally([host_outcome(BASE[:cut]) for cut in TRUNCATIONS]))
    print("header:", tally([host_outcome(DEVICE_INPUTS[k]()) for k in ("file identifier", "root offset",
                                                                       "root vtable")]))
    for flavor, base in (("builtin", BASE), ("lpn", LPN_BASE)):
        by_kind: dict[str, list[str]] = {kind: [] for kind in RANDOM_KINDS}
        for kind, data in random_corruptions(base):
            by_kind[kind].append(host_outcome(data))
        for kind, outcomes in by_kind.items():
            print(f"random {flavor} {kind} ({len(outcomes)}):", tally(outcomes))
    print("option blobs (60):", tally([host_outcome(data) for data in option_blob_corruptions()]))
    if not device:
        return
    for target in ("m4", "m7", "m33"):
        outcomes, same = [], 0
        for make in DEVICE_INPUTS.values():
            data = make()
            got = qemu.device_init_error(data, target)
            outcomes.append(f"init:{got.status_name}" if got else "init:OK")
            same += got is not None and fields(got) == fields(load_error(data))
        print(f"qemu-{target} structured ({len(outcomes)}, {same} same fields as host):", tally(outcomes))
    for flavor, base in (("builtin", BASE), ("lpn", LPN_BASE)):
        outcomes, same = [], 0
        for _, data in random_corruptions(base):
            got = qemu.device_init_error(data, "m4")
            outcomes.append(f"init:{got.status_name}" if got else "init:OK")
            want = host_outcome(data)
            same += outcomes[-1] == want or (got is None and want.startswith("invoke:"))
        print(f"qemu-m4 random {flavor} ({len(outcomes)}, {same} same as host):", tally(outcomes))


if __name__ == "__main__":
    print_tallies()
