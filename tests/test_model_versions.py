"""Version metadata: what the writer records, what the Python reader refuses, and files lpn did not write.

The writer stores the lpn version, the oldest lpn that can read the file and the LPN custom ops used with
their op and options versions (``"lpn"`` metadata). The reader (``read_tflite``, hence ``lpn inspect`` and
the ``reference`` / ``litert`` backends) refuses a file that needs a newer lpn with
:class:`ModelVersionError` naming the op, the versions and "upgrade lpn". Files are crafted from
exporter-written models with the schema object API (``test_runtime_malformed.mutate``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema
from flatbuffers import flexbuffers
from test_runtime_malformed import BASE, LPN_BASE, custom_op, mutate, sg

import lpn_tf
import lpn_tf.runtime as runtime
from lpn_tf.cli import main as lpn_main
from lpn_tf.export import lpn_ops, tflite_writer
from lpn_tf.export import tflite_format as fmt
from lpn_tf.export.random_graphs import LayerSpec, random_graph
from lpn_tf.export.tflite_reader import ModelVersionError, TFLiteFormatError, parse_version, read_tflite

TANH = schema.BuiltinOperator.TANH
SC = "LPN_SHIFT_CONV_2D"


def metadata(model: schema.ModelT) -> dict:
    """The decoded "lpn" metadata object of an object-API model."""
    entry = next(m for m in model.metadata if m.name.decode() == fmt.METADATA_NAME)
    return json.loads(bytes(model.buffers[entry.buffer].data))


def with_metadata(edit: Callable[[dict], None]) -> Callable[[schema.ModelT], None]:
    """An object-API edit that rewrites the "lpn" metadata JSON through ``edit``."""

    def apply(model: schema.ModelT) -> None:
        entry = next(m for m in model.metadata if m.name.decode() == fmt.METADATA_NAME)
        meta = metadata(model)
        edit(meta)
        model.buffers[entry.buffer].data = list(json.dumps(meta, sort_keys=True).encode())

    return apply


def without_metadata(model: schema.ModelT) -> None:
    """Drop the "lpn" metadata entry (its buffer stays, unreferenced): a file as other tools write it."""
    model.metadata = [m for m in model.metadata if m.name.decode() != fmt.METADATA_NAME]


def rename_custom_op(model: schema.ModelT, old: str, new: str) -> None:
    code = model.operatorCodes[custom_op(model, old).opcodeIndex]
    code.customCode = new


def newer_lpn_file(model: schema.ModelT) -> None:
    """What a hypothetical lpn 9.0.0 writes: a new LPN op in place of the shift conv, listed in metadata."""
    rename_custom_op(model, SC, "LPN_FUTURE_CONV")

    def edit(meta: dict) -> None:
        meta["lpn_version"] = "9.0.0"
        meta["min_reader_version"] = "9.0.0"
        meta["lpn_ops"]["LPN_FUTURE_CONV"] = meta["lpn_ops"].pop(SC)

    with_metadata(edit)(model)


def write(tmp_path: Path, data: bytes, name: str = "model.tflite") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused_everywhere(path: Path, *patterns: str) -> str:
    """The refusal of read_tflite, runtime.load(backend="reference") and `lpn inspect`: same message,
    containing every regex of ``patterns``; returns it."""
    with pytest.raises(ModelVersionError) as info:
        read_tflite(path)
    message = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message), (pattern, message)
    with pytest.raises(ModelVersionError, match="upgrade lpn"):
        runtime.load(path, backend="reference")
    return message


def test_writer_records_versions_and_lpn_ops() -> None:
    for data, flavor in ((BASE, "builtin"), (LPN_BASE, "lpn")):
        model = schema.ModelT.InitFromPackedBuf(data, 0)
        meta = metadata(model)
        assert meta["lpn_version"] == lpn_tf.__version__
        assert meta["min_reader_version"] == fmt.MIN_READER_VERSION
        assert parse_version(meta["min_reader_version"], "m") <= parse_version(lpn_tf.__version__, "v")
        used = {model.operatorCodes[o.opcodeIndex].customCode.decode() for o in sg(model).operators
                if model.operatorCodes[o.opcodeIndex].builtinCode == schema.BuiltinOperator.CUSTOM}
        assert set(meta["lpn_ops"]) == used and used <= set(lpn_ops.SPECS)
        assert (flavor == "lpn") == bool(used)
        for versions in meta["lpn_ops"].values():
            assert versions == {"op_version": fmt.LPN_OP_VERSION, "options_version": lpn_ops.OPTIONS_VERSION}
        for code in model.operatorCodes:
            if code.builtinCode == schema.BuiltinOperator.CUSTOM:
                assert code.version == fmt.LPN_OP_VERSION
    # the reader hands the version fields on
    assert read_tflite(LPN_BASE).metadata["lpn_ops"][SC]["options_version"] == lpn_ops.OPTIONS_VERSION


def test_export_with_version_metadata_is_byte_for_byte_reproducible() -> None:
    layers = [LayerSpec("shift_conv", exponent_bits=1), LayerSpec("conv"), LayerSpec("quant_norm")]
    graphs = [random_graph(np.random.default_rng(8), (5, 5), 2, layers, 3, "shift_dense") for _ in range(2)]
    first, second = (tflite_writer.to_tflite_bytes(g, "lpn") for g in graphs)
    assert first == second
    assert tflite_writer.to_tflite_bytes(read_tflite(first), "lpn") == first  # read back, re-exported


def test_file_needing_a_newer_lpn_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, mutate(with_metadata(lambda m: m.update(min_reader_version="99.1.0",
                                                                    lpn_version="99.2.0")), BASE))
    message = refused_everywhere(path, r"written by lpn 99\.2\.0", r"needs lpn >= 99\.1\.0",
                                 rf"this is lpn {lpn_tf.__version__}", "upgrade lpn", r"model\.metadata\[0\]")
    assert lpn_main(["inspect", str(path)]) == 1
    assert message in capsys.readouterr().err
    # the same file is fine for an lpn that is new enough, and a file for older readers always is
    for need in (lpn_tf.__version__, "0.0.1"):
        ok = mutate(with_metadata(lambda m, need=need: m.update(min_reader_version=need)), BASE)
        assert read_tflite(ok).metadata["min_reader_version"] == need


def test_minimum_version_is_compared_with_the_installed_lpn(monkeypatch: pytest.MonkeyPatch) -> None:
    """An lpn older than the writer's MIN_READER_VERSION refuses today's files (not a hard-coded string)."""
    monkeypatch.setattr(lpn_tf, "__version__", "0.0.9")
    with pytest.raises(ModelVersionError, match=rf"needs lpn >= {fmt.MIN_READER_VERSION}.*lpn 0\.0\.9"):
        read_tflite(BASE)
    monkeypatch.setattr(lpn_tf, "__version__", "0.10.0")  # numeric, not string, order: 0.10 > 0.1
    assert read_tflite(BASE).ops


def test_unknown_lpn_op_from_a_newer_lpn_is_named(tmp_path: Path) -> None:
    # without the min_reader_version guard, the op list in the metadata still names the new op
    path = write(tmp_path, mutate(lambda m: (newer_lpn_file(m), with_metadata(
        lambda meta: meta.update(min_reader_version="0.1.0"))(m)), LPN_BASE))
    refused_everywhere(path, "'LPN_FUTURE_CONV'", "op version 1, options version 1", "written by lpn 9.0.0",
                       rf"lpn {lpn_tf.__version__} does not know", "upgrade lpn")
    # with it, the version is the first thing refused
    path = write(tmp_path, mutate(newer_lpn_file, LPN_BASE), "newer.tflite")
    refused_everywhere(path, r"needs lpn >= 9\.0\.0", "upgrade lpn")


@pytest.mark.parametrize(("key", "value"), [("op_version", 2), ("options_version", 2)])
def test_newer_op_or_options_version_in_metadata_is_refused(key: str, value: int, tmp_path: Path) -> None:
    path = write(tmp_path, mutate(with_metadata(lambda m: m["lpn_ops"][SC].update({key: value})), LPN_BASE))
    known = f"reads op versions 1..{fmt.LPN_OP_VERSION} and options version {lpn_ops.OPTIONS_VERSION}"
    refused_everywhere(path, f"'{SC}'", f"{key.replace('_', ' ')} {value}", known, "upgrade lpn")


def test_newer_versions_inside_the_graph_are_refused_too(tmp_path: Path) -> None:
    """Metadata that does not list them: the operator code's version and the options' own version key."""

    def op_version(model: schema.ModelT) -> None:
        model.operatorCodes[custom_op(model, SC).opcodeIndex].version = 3

    def options_version(model: schema.ModelT) -> None:
        op = custom_op(model, SC)
        options = flexbuffers.Loads(bytes(op.customOptions))
        options["version"] = 2
        op.customOptions = list(flexbuffers.Dumps(options))

    path = write(tmp_path, mutate(op_version, LPN_BASE), "op.tflite")
    refused_everywhere(path, rf"operator_codes\[\d+\]: LPN op {SC} has op version 3",
                       f"reads op versions 1..{fmt.LPN_OP_VERSION}", "upgrade lpn")
    path = write(tmp_path, mutate(options_version, LPN_BASE), "options.tflite")
    refused_everywhere(path, rf"operators\[\d+\]: {SC} options version 2",
                       f"reads options version {lpn_ops.OPTIONS_VERSION}", "upgrade lpn")


def test_malformed_version_fields_name_the_field() -> None:
    cases = {
        "min_reader_version": ("abc", r"min_reader_version: 'abc' is not a version string"),
        "lpn_ops": ([SC], r"lpn_ops: expected an object, got list"),
    }
    for key, (value, pattern) in cases.items():
        data = mutate(with_metadata(lambda m, key=key, value=value: m.update({key: value})), LPN_BASE)
        with pytest.raises(TFLiteFormatError, match=pattern) as info:
            read_tflite(data)
        assert not isinstance(info.value, ModelVersionError)
    data = mutate(with_metadata(lambda m: m["lpn_ops"].update({SC: {"op_version": "1"}})), LPN_BASE)
    with pytest.raises(TFLiteFormatError, match=rf"lpn_ops\['{SC}'\]: expected"):
        read_tflite(data)


def test_parse_version() -> None:
    assert parse_version("0.1.0", "v") == (0, 1, 0)
    assert parse_version("0.2.0.dev1", "v") == (0, 2, 0)
    assert parse_version("1.0rc1", "v") == (1, 0)
    assert parse_version("0.10.0", "v") > parse_version("0.9.3", "v")
    for bad in ("", "x.1", None, 3):
        with pytest.raises(TFLiteFormatError, match="not a version string"):
            parse_version(bad, "field")


def test_file_without_lpn_metadata_loads_when_its_ops_are_supported(tmp_path: Path) -> None:
    """Other tools' files carry no "lpn" metadata: builtin and LPN ops read, results unchanged."""
    for data in (BASE, LPN_BASE):
        path = write(tmp_path, mutate(without_metadata, data))
        plain = runtime.load(path, backend="reference")
        x = np.random.default_rng(0).integers(-128, 128, plain.inputs[0].shape, dtype=np.int8)
        ours = runtime.load(write(tmp_path, data, "ours.tflite"), backend="reference")
        for a, b in zip(plain.run(x), ours.run(x), strict=True):
            np.testing.assert_array_equal(a, b)
        assert "min_reader_version" not in read_tflite(path).metadata


def test_file_without_lpn_metadata_names_the_unsupported_op() -> None:
    def tanh(model: schema.ModelT) -> None:
        without_metadata(model)
        code = model.operatorCodes[sg(model).operators[0].opcodeIndex]
        code.builtinCode = code.deprecatedBuiltinCode = TANH

    with pytest.raises(TFLiteFormatError, match=r"operator_codes\[0\]: builtin op TANH is not supported"):
        read_tflite(mutate(tanh, BASE))

    def foreign_custom(model: schema.ModelT) -> None:
        without_metadata(model)
        rename_custom_op(model, SC, "VendorOp")

    with pytest.raises(TFLiteFormatError, match=r"custom op 'VendorOp'.*not written by lpn") as info:
        read_tflite(mutate(foreign_custom, LPN_BASE))
    assert not isinstance(info.value, ModelVersionError)  # nothing says a newer lpn wrote it


@pytest.fixture(scope="module")
def converter_model() -> bytes:
    """A tiny int8 model written by TFLiteConverter (its own metadata entries, no "lpn" entry)."""
    from test_runtime_models import _convert

    from lpn_tf._keras import keras

    keras.utils.set_random_seed(1)
    inp = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(3, 3, activation="relu")(inp)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return _convert(keras.Model(inp, keras.layers.Dense(3)(x)), (6, 6, 2), 9)


def test_converter_output_loads_and_inspects(converter_model: bytes, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    model = schema.ModelT.InitFromPackedBuf(converter_model, 0)
    assert model.metadata and all(m.name.decode() != fmt.METADATA_NAME for m in model.metadata)
    path = write(tmp_path, converter_model)
    graph = read_tflite(path)
    assert [op.kind for op in graph.ops] == ["CONV_2D", "MEAN", "FULLY_CONNECTED"]
    assert "lpn_version" not in graph.metadata
    rt = runtime.load(path, backend="reference")
    assert rt.run(np.zeros(rt.inputs[0].shape, np.int8)).shape == tuple(rt.outputs[0].shape)
    assert lpn_main(["inspect", str(path)]) == 0
    assert "FULLY_CONNECTED" in capsys.readouterr().out


def test_min_reader_version_follows_the_features_a_file_uses() -> None:
    """0.1.0 files stay readable by 0.1.0; a file with an int8-weight LPN op or a ceil/pow2 grid (0.2.0
    features) says so, and an lpn older than that refuses it naming the version."""
    newer = (Path(__file__).parents[1] / "firmware/fuzz/corpus/lpn_int8_conv_grids.tflite").read_bytes()
    assert read_tflite(BASE).metadata["min_reader_version"] == fmt.MIN_READER_VERSION == "0.1.0"
    assert read_tflite(LPN_BASE).metadata["min_reader_version"] == "0.1.0"
    assert read_tflite(newer).metadata["min_reader_version"] == "0.2.0"
    assert fmt.reader_version_for({"op:LPN_SHIFT_CONV_2D"}) == "0.1.0"
    assert fmt.reader_version_for({"op:LPN_SHIFT_CONV_2D", "option:grid"}) == "0.2.0"
    old = lpn_tf.__version__
    try:
        lpn_tf.__version__ = "0.1.0"
        assert read_tflite(LPN_BASE).ops
        with pytest.raises(ModelVersionError, match=r"needs lpn >= 0\.2\.0.*upgrade lpn"):
            read_tflite(newer)
    finally:
        lpn_tf.__version__ = old
