"""The ``lpn ace`` and ``lpn calibrate`` subcommands (registered by ``lpn_tf.cli``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_ace_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``lpn ace MODEL [--costs costs.json] [--version 1|2] [--csv F] [--plot F]``."""
    p = subparsers.add_parser(
        "ace",
        help="ACE v1 / ACEv2 cost report of a model, per layer",
        description="Print the ACE v1 / ACEv2 report of a Keras model (.keras, .h5, "
        "SavedModel folder) or an exported .tflite file.",
    )
    p.add_argument("model", help="Keras file / SavedModel folder / .tflite file")
    p.add_argument("--costs", help="cost table JSON (default: the uncalibrated ACEv2 table)")
    p.add_argument("--version", type=int, choices=(1, 2), default=2, help="ACE version (default: 2)")
    p.add_argument("--csv", help="also write the rows as CSV to this file")
    p.add_argument("--plot", help="also write the cost-per-layer bar chart PNG to this file")
    p.add_argument(
        "--float-bits",
        type=int,
        default=32,
        choices=(16, 32),
        help="width of float arithmetic in float models (default: 32)",
    )
    p.set_defaults(func=run_ace)
    return p


def run_ace(args: argparse.Namespace) -> int:
    """Run ``lpn ace``; errors go to stderr with exit status 1."""
    from lpn_tf.ace.api import ace
    from lpn_tf.ace.costs import CostTableError
    from lpn_tf.ace.ops import CountError

    try:
        report = ace(args.model, version=args.version, costs=args.costs, float_bits=args.float_bits)
    except (CountError, CostTableError, OSError, ValueError) as err:
        print(f"lpn ace: error: {err}", file=sys.stderr)
        return 1
    print(report.to_markdown())
    if args.csv:
        report.to_csv(args.csv)
        print(f"rows written to {args.csv}")
    if args.plot:
        report.plot(args.plot)
        print(f"chart written to {args.plot}")
    return 0


def add_calibrate_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``lpn calibrate measurements.csv -o costs.json [--target ...] [--plot F]``."""
    p = subparsers.add_parser(
        "calibrate",
        help="fit the ACEv2 cost table to measured per-op costs",
        description="Fit the ACEv2 cost coefficients to a measurement file "
        "(docs/ace.md) and write the fitted table as JSON.",
    )
    p.add_argument("measurements", help="measurement file (.csv or .json)")
    p.add_argument("-o", "--output", required=True, help="fitted cost table JSON to write")
    p.add_argument(
        "--target",
        default="instructions",
        choices=("instructions", "cycles", "microjoules"),
        help="metric to fit (default: instructions)",
    )
    p.add_argument("--holdout", type=float, default=0.25, help="held-out fraction of ops (default: 0.25)")
    p.add_argument("--seed", type=int, default=0, help="seed of the train/held-out split (default: 0)")
    p.add_argument("--device", help="use only rows measured on this target (e.g. m4)")
    p.add_argument("--pooled", action="store_true", help="fit generic coefficients only (no per-family ones)")
    p.add_argument("--plot", help="write the predicted-vs-measured scatter plot PNG to this file")
    p.set_defaults(func=run_calibrate)
    return p


def run_calibrate(args: argparse.Namespace) -> int:
    """Run ``lpn calibrate``; errors go to stderr with exit status 1."""
    from lpn_tf.ace.fit import CalibrationError, calibrate
    from lpn_tf.ace.measurements import MeasurementError

    try:
        result = calibrate(
            args.measurements,
            target=args.target,
            holdout=args.holdout,
            seed=args.seed,
            device=args.device,
            per_family=not args.pooled,
            plot=args.plot,
        )
    except (CalibrationError, MeasurementError, OSError) as err:
        print(f"lpn calibrate: error: {err}", file=sys.stderr)
        return 1
    result.table.save(args.output)
    print(result.to_markdown())
    print(f"cost table written to {args.output}")
    if args.plot:
        print(f"scatter plot written to {args.plot}")
    return 0
