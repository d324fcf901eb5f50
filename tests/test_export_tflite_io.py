"""Writer and reader: determinism, alignment, metadata, atomic writes, and errors naming the field."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from lpn_tf.export import memory_plan, tflite_writer
from lpn_tf.export.graph import GraphError, Op
from lpn_tf.export.random_graphs import LayerSpec, random_graph
from lpn_tf.export.tflite_reader import TFLiteFormatError, read_tflite
from lpn_tf.export.tflite_writer import to_tflite_bytes, write_tflite

LAYERS = [
    LayerSpec("conv", 3, 2, "SAME", 5, activation="RELU"),
    LayerSpec("residual", 3),
    LayerSpec("dwconv", 3, 1, "VALID", multiplier=2),
    LayerSpec("maxpool", 2, 2, "VALID"),
]


def make_graph(seed: int = 0):
    return random_graph(np.random.default_rng(seed), (9, 9), 3, LAYERS, 5, "mean_dense")


def test_bytes_are_deterministic() -> None:
    a = to_tflite_bytes(make_graph(), "builtin")
    b = to_tflite_bytes(make_graph(), "builtin")
    c = to_tflite_bytes(make_graph().copy(), "builtin")
    assert a == b == c
    assert to_tflite_bytes(make_graph(1), "builtin") != a


def test_round_trip_preserves_graph() -> None:
    g = make_graph()
    back = read_tflite(to_tflite_bytes(g, "builtin"))
    assert [(t.name, t.shape, t.dtype, t.quant, t.bits) for t in back.tensors] == [
        (t.name, t.shape, t.dtype, t.quant, t.bits) for t in g.tensors
    ]
    for t, u in zip(g.tensors, back.tensors, strict=True):
        assert (t.data is None) == (u.data is None)
        if t.data is not None:
            assert np.array_equal(t.data, u.data) and t.data.dtype == u.data.dtype
    assert [(o.kind, o.inputs, o.outputs, o.options) for o in back.ops] == [
        (
            o.kind,
            o.inputs,
            o.outputs,
            {**o.options, **({"keep_num_dims": 0} if o.kind == "FULLY_CONNECTED" else {})},
        )
        for o in g.ops
    ]
    assert back.inputs == g.inputs and back.outputs == g.outputs


def test_metadata_and_alignment() -> None:
    g = make_graph()
    data = to_tflite_bytes(g, "builtin")
    model = schema.Model.GetRootAs(data, 0)
    entries = {
        model.Metadata(i).Name().decode(): model.Metadata(i).Buffer() for i in range(model.MetadataLength())
    }
    meta = json.loads(model.Buffers(entries["lpn"]).DataAsNumpy().tobytes())
    assert meta["flavor"] == "builtin" and meta["format"] == 1
    assert meta["arena_bytes"] == memory_plan.plan(g).arena_bytes > 0
    assert meta["tensor_bits"] == [t.bits for t in g.tensors]
    for i in range(1, model.BuffersLength()):
        buf = model.Buffers(i)
        if buf.DataLength():
            start = buf._tab.Vector(buf._tab.Offset(4))
            assert start % 16 == 0, f"buffer {i} data starts at byte {start}"
    assert read_tflite(data).metadata["arena_bytes"] == meta["arena_bytes"]


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "model.tflite"
    write_tflite(make_graph(), target, "builtin")
    before = target.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_tflite(make_graph(1), target, "builtin")
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tflite"]
    monkeypatch.undo()
    bad = make_graph()
    bad.ops[0].options["activation"] = 1.5  # floats are not integer options
    with pytest.raises(GraphError, match="op 0"):
        write_tflite(bad, tmp_path / "bad.tflite", "builtin")
    assert not (tmp_path / "bad.tflite").exists()


def test_reader_errors_name_the_field() -> None:
    data = to_tflite_bytes(make_graph(), "builtin")
    with pytest.raises(TFLiteFormatError, match="too short"):
        read_tflite(data[:5])
    with pytest.raises(TFLiteFormatError, match="bytes 4..8: file identifier"):
        read_tflite(data[:4] + b"XXXX" + data[8:])
    with pytest.raises(TFLiteFormatError, match="byte 0: root table offset"):
        read_tflite(struct.pack("<I", len(data) + 10) + data[4:])
    with pytest.raises(TFLiteFormatError, match=r"model|subgraphs|byte"):
        read_tflite(data[: len(data) // 3])


def test_reader_rejects_inconsistent_buffers_and_types() -> None:
    g = make_graph()
    w = g.ops[0].inputs[1]
    model = schema.ModelT.InitFromPackedBuf(to_tflite_bytes(g, "builtin"), 0)
    tensors = model.subgraphs[0].tensors
    tensors[w].shape = [5, 3, 3, 4]  # buffer holds 5*3*3*3 bytes
    with pytest.raises(TFLiteFormatError, match=rf"tensors\[{w}\].*needs 180"):
        read_tflite(_pack(model))
    tensors[w].shape = [5, 3, 3, 3]
    tensors[w].buffer = 999
    with pytest.raises(TFLiteFormatError, match=rf"tensors\[{w}\].*buffer index 999 out of range"):
        read_tflite(_pack(model))
    tensors[w].buffer = 1
    tensors[0].type = schema.TensorType.FLOAT32
    with pytest.raises(TFLiteFormatError, match=r"tensors\[0\].*FLOAT32 is not supported"):
        read_tflite(_pack(model))
    tensors[0].type = schema.TensorType.INT8
    model.subgraphs[0].operators[1].inputs = [4000, *list(model.subgraphs[0].operators[1].inputs)[1:]]
    with pytest.raises(TFLiteFormatError, match="op 1 .*index 4000 out of range"):
        read_tflite(_pack(model))


def _pack(model: schema.ModelT) -> bytes:
    import flatbuffers

    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def test_unsupported_builtin_op_named() -> None:
    model = schema.ModelT.InitFromPackedBuf(to_tflite_bytes(make_graph(), "builtin"), 0)
    model.operatorCodes[0].builtinCode = schema.BuiltinOperator.TANH
    model.operatorCodes[0].deprecatedBuiltinCode = schema.BuiltinOperator.TANH
    with pytest.raises(TFLiteFormatError, match=r"operator_codes\[0\]: builtin op TANH"):
        read_tflite(_pack(model))


def test_graph_validation_names_the_culprit() -> None:
    g = make_graph()
    g.ops[2].inputs[0] = g.ops[3].outputs[0]  # read before written
    with pytest.raises(GraphError, match="op 2 .*read before it is written"):
        g.validate()
    g = make_graph()
    g.ops.append(Op("TANH", [g.outputs[-1]], [g.inputs[0]]))
    with pytest.raises(GraphError, match="op .* unknown op kind"):
        g.validate()
    g = make_graph()
    g.tensors[g.ops[0].inputs[1]].data = g.tensors[g.ops[0].inputs[1]].data.astype(np.int16)
    with pytest.raises(GraphError, match="weights.*data dtype int16"):
        g.validate()
    with pytest.raises(ValueError, match="flavor"):
        tflite_writer.to_tflite_bytes(make_graph(), "float")


def test_mutated_files_fail_cleanly() -> None:
    """Truncated or byte-flipped files raise TFLiteFormatError/GraphError, never another exception."""
    from lpn_tf.export.reference import ReferenceExecutor

    graph = random_graph(
        np.random.default_rng(0),
        (8, 8),
        3,
        [LayerSpec("shift_conv", 3, 1, "SAME", 5), LayerSpec("conv", 3, 2), LayerSpec("quant_norm")],
        3,
        "mean_dense",
    )
    data = to_tflite_bytes(graph, "lpn")
    rng = np.random.default_rng(1)
    rejected = 0
    for i in range(300):
        b = bytearray(data)
        if i % 3 == 0:
            b = b[: int(rng.integers(0, len(b)))]
        else:
            for _ in range(int(rng.integers(1, 4))):
                b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
        try:
            ReferenceExecutor(read_tflite(bytes(b)))
        except (TFLiteFormatError, GraphError):
            rejected += 1
    assert rejected > 150


def test_inspect_report(tmp_path: Path) -> None:
    from lpn_tf.export.summary import inspect_tflite, summarize

    g = make_graph()
    path = write_tflite(g, tmp_path / "m.tflite", "builtin")
    text = inspect_tflite(path)
    s = summarize(g)
    assert f"weights: {s.weight_bytes} B" in text and f"arena (planned): {s.arena_bytes} B" in text
    assert s.weight_bytes == sum(t.data.nbytes for t in g.tensors if t.data is not None)
    assert s.op_counts["CONV_2D"] == 2 and "DEPTHWISE_CONV_2D x1" in text
    conv = g.ops[0]
    k = g.tensors[conv.inputs[1]].shape
    assert s.macs >= int(np.prod(g.tensors[conv.outputs[0]].shape)) * k[1] * k[2] * k[3]
    assert text.count("\n") > len(g.ops) + len(g.tensors)
