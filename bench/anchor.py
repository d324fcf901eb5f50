"""lpn's builtin export beside the anchor users would otherwise pick (tfmot int8 QAT + TFLiteConverter).

For each data set: train the float demo CNN, fine-tune it with tfmot and with lpn's int8 scheme (3 epochs),
export both, and print file bytes, int8 filter bytes and test top-1 side by side.

Usage: ``python bench/anchor.py [--datasets mnist1d digits] [--epochs 3]``.
"""

from __future__ import annotations

import argparse

from lpn_tf import anchor, data, models, train

DATASETS = {"mnist1d": (data.mnist1d, models.mnist1d_cnn), "digits": (data.digits, models.digits_cnn)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--epochs", type=int, default=3, help="QAT fine-tuning epochs for both tools")
    args = parser.parse_args()
    for name in args.datasets:
        load, build = DATASETS[name]
        split = load()
        float_model = train.train_float(build(), split[0], split[1], epochs=60)
        print(f"\n## {name} (float top-1 {train.top1(float_model, split[2], split[3]):.2f} %)\n")
        print(anchor.to_markdown(anchor.compare_with_converter(float_model, split, epochs=args.epochs)))
    print(f"\ncommand: python bench/anchor.py --datasets {' '.join(args.datasets)} --epochs {args.epochs}")


if __name__ == "__main__":
    main()
