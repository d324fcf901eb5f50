"""Backend ``"reference"``: the numpy integer executor of ``lpn_tf.export`` behind the runner API."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lpn_tf.export.graph import DTYPES, IntGraph
from lpn_tf.export.reference import ReferenceExecutor
from lpn_tf.export.summary import op_rows
from lpn_tf.export.tflite_reader import read_tflite
from lpn_tf.runtime.api import TensorDescription, join_batch, split_batch


def _describe(graph: IntGraph, index: int) -> TensorDescription:
    t = graph.tensors[index]
    scale = float(t.quant.scale[0]) if t.quant is not None else 0.0
    return TensorDescription(index, t.name, np.dtype(DTYPES[t.dtype]), t.shape, scale, t.zero_point)


class ReferenceRunner:
    """Runs a .tflite (or an :class:`IntGraph`) with the numpy reference executor.

    Attributes:
        graph: the integer graph read from the file.
        inputs, outputs: :class:`TensorDescription` per graph input/output.
        profile: after :meth:`run`, one row per op: ``op``, ``kind``, ``name``, ``output_shape``,
            ``macs`` (per sample) and ``seconds`` (numpy wall time, summed over samples).
    """

    def __init__(self, graph: IntGraph, source: str = "<graph>") -> None:
        self.graph = graph
        self.source = source
        self._executor = ReferenceExecutor(graph)
        self.inputs = [_describe(graph, i) for i in graph.inputs]
        self.outputs = [_describe(graph, i) for i in graph.outputs]
        self.profile: list[dict[str, Any]] = []

    def run(self, x: np.ndarray | Sequence[np.ndarray]) -> np.ndarray | list[np.ndarray]:
        """Run on ``x`` (see :mod:`lpn_tf.runtime.api` for the batch convention)."""
        samples = split_batch(self.inputs, x, self.source)
        results: list[list[np.ndarray]] = [[] for _ in self.outputs]
        seconds = [0.0] * len(self.graph.ops)
        for sample in samples:
            values = self._executor.run_all(sample, seconds)
            for i, spec in enumerate(self.outputs):
                results[i].append(values[spec.index])
        self.profile = [{**row, "seconds": seconds[k]} for k, row in enumerate(op_rows(self.graph))]
        return join_batch(results)


def open(path: str | Path, **kwargs: Any) -> ReferenceRunner:  # noqa: A001 - the backend registry's name
    """Read the .tflite at ``path`` and prepare it for the reference executor."""
    if kwargs:
        raise TypeError(f"the reference backend takes no options, got {sorted(kwargs)}")
    return ReferenceRunner(read_tflite(Path(path)), source=str(path))
