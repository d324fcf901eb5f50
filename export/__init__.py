"""Lowering, reference executor and TFLite writer (installed as ``lpn_tf.export``).

Modules (one concept each):

* :mod:`~lpn_tf.export.graph` — the integer graph (:class:`IntGraph`, :class:`Tensor`, :class:`Op`);
* :mod:`~lpn_tf.export.builder` — :class:`GraphBuilder`, appends ops with consistent tensors;
* :mod:`~lpn_tf.export.fixed_point` — multiplier encoding and requantization arithmetic;
* :mod:`~lpn_tf.export.packing` — shift codes (sign + exponent) and their nibble packing;
* :mod:`~lpn_tf.export.kernels` — integer numpy kernels of every op;
* :mod:`~lpn_tf.export.reference` — :class:`ReferenceExecutor`, the executable integer spec;
* :mod:`~lpn_tf.export.lpn_ops` — LPN custom-op definitions and their flexbuffer options;
* :mod:`~lpn_tf.export.tflite_writer` / :mod:`~lpn_tf.export.tflite_reader` — .tflite bytes;
* :mod:`~lpn_tf.export.memory_plan` — the static arena plan;
* :mod:`~lpn_tf.export.overflow` — proof that no int32 accumulator or intermediate overflows;
* :mod:`~lpn_tf.export.summary` — the `lpn inspect` report (ops, tensors, bit widths, bytes, MACs);
* :mod:`~lpn_tf.export.random_graphs` — random small graphs for property tests and golden data.

Specs: docs/integer-spec.md, docs/custom-ops.md, docs/memory-planning.md, docs/overflow.md.
"""

from lpn_tf.export.builder import GraphBuilder
from lpn_tf.export.graph import GraphError, IntGraph, Op, Quant, Tensor
from lpn_tf.export.memory_plan import MemoryPlan, plan
from lpn_tf.export.reference import ReferenceExecutor
from lpn_tf.export.tflite_reader import TFLiteFormatError, read_tflite
from lpn_tf.export.tflite_writer import to_tflite_bytes, write_atomic, write_tflite

__all__ = [
    "ExportReport",
    "GraphBuilder",
    "GraphError",
    "IntGraph",
    "LoweringError",
    "MemoryPlan",
    "Op",
    "Quant",
    "ReferenceExecutor",
    "TFLiteFormatError",
    "Tensor",
    "export_tflite",
    "lower",
    "register_lowering",
    "plan",
    "read_tflite",
    "to_tflite_bytes",
    "write_atomic",
    "write_tflite",
]

# the lowering imports TensorFlow: its names load on first use, so executors and readers stay light
_LAZY = {
    "ExportReport": "lpn_tf.export.api",
    "export_tflite": "lpn_tf.export.api",
    "LoweringError": "lpn_tf.export.lowering",
    "lower": "lpn_tf.export.lowering",
    "register_lowering": "lpn_tf.export.lowering",
}


def __getattr__(name: str) -> object:
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
