"""The runner API with the reference backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lpn_tf
from lpn_tf.export.random_graphs import LayerSpec, random_graph
from lpn_tf.export.reference import ReferenceExecutor
from lpn_tf.export.tflite_writer import write_tflite
from lpn_tf.runtime import Runner, load
from lpn_tf.runtime.api import BACKENDS, UnknownBackendError


@pytest.fixture()
def model_path(tmp_path: Path) -> tuple[Path, object]:
    graph = random_graph(
        np.random.default_rng(0),
        (6, 6),
        3,
        [LayerSpec("conv", 3, 1, "SAME", 4), LayerSpec("shift_conv", 3, 2, "SAME", 5)],
        3,
        "dense",
    )
    graph.outputs = graph.outputs[-1:]
    path = tmp_path / "m.tflite"
    write_tflite(graph, path, "lpn")
    return path, graph


def test_load_and_run(model_path) -> None:
    path, graph = model_path
    rt = lpn_tf.runtime.load(path, backend="reference")
    assert isinstance(rt, Runner)
    assert rt.inputs[0].shape == (1, 6, 6, 3) and rt.inputs[0].dtype == np.int8
    x = np.random.default_rng(1).integers(-128, 128, (5, 6, 6, 3)).astype(np.int8)
    y = rt.run(x)  # 5 samples through a batch-1 model
    assert y.shape == (5, 3) and y.dtype == np.int8
    for k in range(5):
        assert np.array_equal(y[k : k + 1], ReferenceExecutor(graph).run(x[k : k + 1])[0])
    assert [row["kind"] for row in rt.profile] == [op.kind for op in graph.ops]
    assert rt.profile[0]["macs"] == 6 * 6 * 4 * 3 * 3 * 3
    assert all(row["seconds"] > 0 for row in rt.profile)


def test_input_errors(model_path) -> None:
    rt = load(model_path[0])
    with pytest.raises(TypeError, match="input 0 must be int8"):
        rt.run(np.zeros((1, 6, 6, 3), np.float32))
    with pytest.raises(ValueError, match="input 0 must have shape"):
        rt.run(np.zeros((1, 5, 6, 3), np.int8))


def test_unknown_backend_lists_known(model_path) -> None:
    with pytest.raises(UnknownBackendError, match="known backends: reference, litert, host, qemu-m4"):
        load(model_path[0], backend="tpu")
    with pytest.raises(FileNotFoundError):
        load(model_path[0].with_name("missing.tflite"))
    assert set(BACKENDS) >= {"reference", "litert", "host", "qemu-m4", "qemu-m7", "qemu-m33"}


def test_executor_refuses_bad_ops_naming_them() -> None:
    from lpn_tf.export.graph import GraphError, Quant

    graph = random_graph(
        np.random.default_rng(0), (6, 6), 3, [LayerSpec("conv", 3, 1, "SAME", 4)], 3, "dense"
    )
    w = graph.ops[0].inputs[1]
    bad = graph.copy()
    bad.tensors[w].data = bad.tensors[w].data[..., :2].copy()
    bad.tensors[w].shape = bad.tensors[w].data.shape
    with pytest.raises(
        GraphError, match=r"op 0 \(CONV_2D, l0_conv\): filter shape \(4, 3, 3, 2\) does not fit"
    ):
        ReferenceExecutor(bad)
    bad = graph.copy()
    b = bad.ops[0].inputs[2]
    bad.tensors[b].data = bad.tensors[b].data.astype(np.int16)
    bad.tensors[b].dtype, bad.tensors[b].bits = "int16", 16
    with pytest.raises(GraphError, match=r"op 0 .*input 2 .*int16, expected int32"):
        ReferenceExecutor(bad)
    bad = graph.copy()
    y = bad.ops[0].outputs[0]
    bad.tensors[y].quant = Quant.per_channel(np.full(4, 0.1), 3)
    with pytest.raises(GraphError, match="per-tensor quantization"):
        ReferenceExecutor(bad)
    x = np.zeros((1, 6, 6, 3), np.int8)
    with pytest.raises(ValueError, match="expected int8"):
        ReferenceExecutor(graph).run(x.astype(np.int16))


def test_overflow_is_detected_not_wrapped() -> None:
    from lpn_tf.export.builder import GraphBuilder

    b = GraphBuilder()
    x = b.input("x", (1, 1, 1, 4000), 0.1, -128)
    y = b.fully_connected(
        b.reshape(x, (1, 4000)), np.full((1, 4000), 127), np.array([2**31 - 10]), np.array([0.01]), 1.0
    )
    b.output(y)
    with pytest.raises(OverflowError, match=r"op 1 \(FULLY_CONNECTED.*accumulator"):
        ReferenceExecutor(b.graph).run(np.full((1, 1, 1, 4000), 127, np.int8))
