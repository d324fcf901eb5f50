"""``lpn export MODEL -o out.tflite --ops lpn|builtin [--representative N]`` (registered by lpn_tf.cli)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np


def add_export_parser(sub: Any) -> None:
    """Register the ``export`` subcommand on an argparse subparsers object."""
    p = sub.add_parser("export", help="a finalized QAT Keras model (.keras / SavedModel) → integer .tflite")
    p.add_argument("model", help="QAT model saved by keras (made by lpn_tf.quantize_model)")
    p.add_argument("-o", "--output", required=True, help="the .tflite to write (atomically)")
    p.add_argument("--ops", default="lpn", choices=["lpn", "builtin"], help="op flavor (default: lpn)")
    p.add_argument(
        "--representative",
        type=int,
        default=0,
        metavar="N",
        help="check the integer model against the QAT model on N random inputs from the input's int8 grid",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the --representative inputs")
    p.add_argument("--mantissa-bits", type=int, default=16, help="LPN requantization mantissa width (2..16)")
    p.add_argument(
        "--allow-overflow",
        action="store_true",
        help="write the model even if an accumulator can overflow int32 for some input (docs/overflow.md)",
    )
    p.set_defaults(func=_main)


def random_grid_inputs(model: Any, count: int, seed: int) -> list[np.ndarray]:
    """``count`` float inputs per model input, drawn uniformly from each input's int8 grid (dequantized)."""
    from lpn_tf.export.lowering import input_quantizers

    rng = np.random.default_rng(seed)
    arrays = []
    for kt, quantizer in zip(model.inputs, input_quantizers(model), strict=True):
        spec = quantizer.integer_spec()
        shape = (count, *(int(d) for d in kt.shape[1:]))
        q = rng.integers(spec.qmin, spec.qmax + 1, shape)
        arrays.append((np.float32(spec.scale[0]) * (q - int(spec.zero_point[0]))).astype(np.float32))
    return arrays


def _main(args: argparse.Namespace) -> int:
    from lpn_tf import custom_objects, finalize
    from lpn_tf._keras import keras
    from lpn_tf.export.api import export_tflite

    try:
        model = keras.models.load_model(args.model, custom_objects=custom_objects, compile=False)
        if _has_lambda(model):  # a loaded copy: the file keeps its λ; the export is the λ = 0 model
            finalize(model)
        data = random_grid_inputs(model, args.representative, args.seed) if args.representative else None
        report = export_tflite(
            model,
            args.output,
            args.ops,
            data,
            mantissa_bits=args.mantissa_bits,
            allow_overflow=args.allow_overflow,
        )
    except (OSError, ValueError) as exc:  # LoweringError and AccumulatorOverflowError are ValueErrors
        print(f"lpn export: {exc}", file=sys.stderr)
        return 1
    print(report.format())
    return 0


def _has_lambda(model: Any) -> bool:
    from lpn_tf.schedule import lambda_variables

    return bool(lambda_variables(model))
