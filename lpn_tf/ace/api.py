"""``lpn_tf.ace(model)``: the ACE v1 / ACEv2 report of a model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lpn_tf.ace import graph_adapter, keras_adapter, lpn_adapter  # noqa: F401  (registers the adapters)
from lpn_tf.ace.costs import CostTable
from lpn_tf.ace.ops import OpCount
from lpn_tf.ace.registry import count_model
from lpn_tf.ace.report import AceReport

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def load_keras_model(path: str | Path) -> Any:
    """Load a Keras file (.keras / .h5) or SavedModel folder with lpn's and tfmot's custom objects."""
    from lpn_tf._keras import keras

    custom: dict[str, Any] = {}
    try:
        from lpn_tf import layers as lpn_layers

        custom.update(getattr(lpn_layers, "custom_objects", {}) or {})
    except ImportError:
        pass
    import tensorflow_model_optimization as tfmot

    with tfmot.quantization.keras.quantize_scope(custom):
        return keras.models.load_model(path, compile=False)


def ace(
    model: Any, version: int = 2, costs: CostTable | str | Path | None = None, **options: Any
) -> AceReport:
    """Count and price a model.

    Args:
        model: a tf_keras model (float, tfmot QAT, lpn QAT), an ``IntGraph``, a path to a ``.tflite``
            file, a Keras file (``.keras``/``.h5``) or SavedModel folder, or a list of ``OpCount``.
        version: 1 (MACs only, ``b_w·b_a`` each) or 2 (ACEv2; ACE v1 is reported alongside).
        costs: a :class:`CostTable`, a path to its JSON, or None for the default ACEv2 table.
        options: adapter options: ``float_bits=16`` (bfloat16 float models), ``fold_batch_norm=True``
            (fold BN into the preceding conv/dense of a float model), ``mantissa_bits=8`` (requantization
            multiplier width of LPN shift layers and QuantNorm in lpn QAT models, default 16).

    Returns:
        An :class:`~lpn_tf.ace.report.AceReport` with ``.rows``, ``.total``, ``.to_markdown()``,
        ``.to_csv()`` and ``.plot(path)``.
    """
    table = costs if isinstance(costs, CostTable) else CostTable.load(costs) if costs else CostTable.default()
    name = "model"
    if isinstance(model, str | Path) and not graph_adapter.is_tflite_path(model):
        path = Path(model)
        if not (path.suffix in KERAS_SUFFIXES or path.is_dir()):
            raise ValueError(
                f"{path}: not a Keras file ({', '.join(KERAS_SUFFIXES)}), SavedModel folder or .tflite file"
            )
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        model, name = load_keras_model(path), path.name
    elif isinstance(model, str | Path):
        name = Path(model).name
    else:
        name = str(getattr(model, "name", "") or "model")
    if isinstance(model, Sequence) and all(isinstance(op, OpCount) for op in model):
        ops = list(model)
    else:
        ops = count_model(model, **options)
    return AceReport.build(ops, version, table, name)
