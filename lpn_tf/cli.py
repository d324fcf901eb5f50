"""The ``lpn`` command line. Each subcommand lives in the module that owns its concept."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from lpn_tf import __version__


def _doctor(args: argparse.Namespace) -> int:
    from lpn_tf import doctor

    return doctor.main()


def _demo(args: argparse.Namespace) -> int:
    from lpn_tf import demo

    return demo.main(out_dir=args.out, quick=args.quick)


def _inspect(args: argparse.Namespace) -> int:
    from lpn_tf.export.summary import inspect_tflite

    try:
        print(inspect_tflite(args.model))
    except (OSError, ValueError) as exc:  # TFLiteFormatError and GraphError are ValueErrors
        print(f"lpn inspect: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lpn", description="Low-precision networks from Keras to Cortex-M.")
    parser.add_argument("--version", action="version", version=f"lpn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("doctor", help="versions, capabilities, and how to fix what is missing")
    p.set_defaults(func=_doctor)

    p = sub.add_parser("inspect", help="ops, tensors, bit widths and sizes of a .tflite")
    p.add_argument("model", help=".tflite file")
    p.set_defaults(func=_inspect)

    from lpn_tf import profile
    from lpn_tf.ace.cli import add_ace_parser, add_calibrate_parser
    from lpn_tf.export.cli import add_export_parser

    add_export_parser(sub)
    profile.add_parser(sub)
    add_ace_parser(sub)
    add_calibrate_parser(sub)

    p = sub.add_parser("demo", help="the end-to-end demo (the stages built so far)")
    p.add_argument("--out", default="build/demo", help="output folder (default: build/demo)")
    p.add_argument("--quick", action="store_true", help="few epochs: a smoke test of the pipeline")
    p.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
