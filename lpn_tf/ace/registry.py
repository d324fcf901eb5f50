"""Registration points: which adapter counts which model, and which function counts which layer.

Two tables, both plain dicts so that other parts of lpn (the lpn QAT layers, the .tflite reader) and
users can plug in without editing this package:

- :data:`MODEL_ADAPTERS`: name -> :class:`ModelAdapter` (``accepts(obj)`` and ``count(obj, **options)``
  returning the model's :class:`~lpn_tf.ace.ops.OpCount` list). :func:`count_model` asks them in
  registration order; the first that accepts counts.
- :data:`LAYER_COUNTERS`: Keras layer class name -> :data:`LayerCounter`, used by the Keras adapter
  for every layer (after unwrapping tfmot ``QuantizeWrapper``\\ s).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lpn_tf.ace.ops import CountError, Numerics, OpCount


@dataclass
class LayerInfo:
    """What a layer counter gets to see about one Keras layer.

    Attributes:
        layer: the Keras layer (the inner layer for a tfmot ``QuantizeWrapper``).
        name: the name shown in reports (the wrapper's name for wrapped layers).
        input_shapes: one shape per input, without the batch dimension.
        output_shape: without the batch dimension.
        numerics: the bit widths the layer computes with (float, or the quantization scheme's).
        fold_batch_norm: whether a BN right after a conv/dense is folded into it (integer deployment).
        fused_into: set by the adapter when the layer disappears into its producer (folded BN, an
            activation clamped by the producer's requantization); the counter then returns a free row.
        options: the adapter options passed to :func:`lpn_tf.ace.api.ace` (e.g. ``float_bits``).
    """

    layer: Any
    name: str
    input_shapes: list[tuple[int, ...]]
    output_shape: tuple[int, ...]
    numerics: Numerics
    fold_batch_norm: bool = False
    fused_into: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The first input's shape."""
        return self.input_shapes[0]


LayerCounter = Callable[[LayerInfo], list[OpCount]]
"""Counts one layer: returns its op rows (``[]`` for layers that cost nothing, e.g. Flatten)."""

LAYER_COUNTERS: dict[str, LayerCounter] = {}
"""Keras layer class name -> counter."""


def register_layer(*class_names: str) -> Callable[[LayerCounter], LayerCounter]:
    """Decorator: register ``counter`` for Keras layer classes called ``class_names`` (overrides)."""

    def deco(counter: LayerCounter) -> LayerCounter:
        for name in class_names:
            LAYER_COUNTERS[name] = counter
        return counter

    return deco


@dataclass(frozen=True)
class ModelAdapter:
    """Counts one kind of model.

    Attributes:
        name: e.g. ``"keras"``, ``"int-graph"``, ``"tflite"``.
        accepts: ``accepts(obj)`` is true for the models this adapter counts.
        count: ``count(obj, **options)`` -> op rows in execution order.
    """

    name: str
    accepts: Callable[[Any], bool]
    count: Callable[..., list[OpCount]]


MODEL_ADAPTERS: dict[str, ModelAdapter] = {}
"""Adapter name -> adapter, asked in insertion order."""


def register_model(adapter: ModelAdapter, first: bool = False) -> ModelAdapter:
    """Add (or replace, by name) a model adapter; ``first=True`` asks it before all others (an adapter
    for a special case of a more general one, e.g. lpn QAT models among Keras models)."""
    MODEL_ADAPTERS.pop(adapter.name, None)
    if first:
        others = dict(MODEL_ADAPTERS)
        MODEL_ADAPTERS.clear()
        MODEL_ADAPTERS[adapter.name] = adapter
        MODEL_ADAPTERS.update(others)
    else:
        MODEL_ADAPTERS[adapter.name] = adapter
    return adapter


def count_model(model: Any, **options: Any) -> list[OpCount]:
    """The op rows of ``model`` from the first registered adapter that accepts it."""
    for adapter in MODEL_ADAPTERS.values():
        if adapter.accepts(model):
            return adapter.count(model, **options)
    raise CountError(
        f"no ACE adapter accepts {type(model).__name__} {model!r:.80} "
        f"(registered: {', '.join(MODEL_ADAPTERS) or 'none'})"
    )
