"""Write the libFuzzer seed corpus: small exporter-written .tflite models covering every op the runtime runs.

Usage (from the repository root)::

    .venv/bin/python firmware/fuzz/make_corpus.py [OUT_DIR]     # default: firmware/fuzz/corpus

Each seed is a valid model (checked by the host runtime before it is written) of at most
:data:`MAX_SEED_BYTES` bytes, so that the fuzzer's mutations reach past the reader into the planner,
the op adapters and the kernels. The output is deterministic (fixed seeds), so re-running it reproduces
the committed corpus byte for byte.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lpn_tf.export import tflite_writer
from lpn_tf.export.builder import GraphBuilder
from lpn_tf.export.graph import IntGraph
from lpn_tf.export.random_graphs import LayerSpec, random_graph

MAX_SEED_BYTES = 4096
CORPUS_DIR = Path(__file__).resolve().parent / "corpus"

Build = Callable[[np.random.Generator], IntGraph]
"""Draws a seed's integer graph from the seed's own generator."""


def _random(hw: tuple[int, int], channels: int, layers: list[LayerSpec], head_units: int, head: str) -> Build:
    """A seed drawn by :func:`random_graph` (input ``(H, W)``, input channels, body layers, head)."""
    return functools.partial(
        random_graph, input_hw=hw, input_channels=channels, layers=layers, head_units=head_units, head=head
    )


def lpn_int8_conv_grids(rng: np.random.Generator) -> IntGraph:
    """LPN_CONV_2D onto the ceil grid (option ``grid`` 1: a 5-bit unsigned Uniform tensor, ReLU clamp
    ``[0, 31]``), then LPN_DEPTHWISE_CONV_2D (``depth_multiplier`` 2, VALID, stride 2, no bias) onto the
    pow2 grid (``grid`` 2: a signed Shift tensor, clamp ``[-4, 4]``); input ``[1, 5, 5, 2]``, both
    outputs are graph outputs."""
    b = GraphBuilder(scheme="pikelpn")
    x = b.input("input", (1, 5, 5, 2), 0.05, int(rng.integers(-20, 21)))
    conv = b.lpn_conv(
        x,
        rng.integers(-127, 128, (3, 3, 3, 2)),
        rng.integers(-2000, 2001, 3),
        rng.integers(100, 2000, 3),
        rng.integers(19, 22, 3),
        out_scale=0.25,
        mantissa_bits=12,
        act_range=(0, 31),
        grid=1,
        name="conv_ceil",
    )
    dw = b.lpn_conv(
        conv,
        rng.integers(-127, 128, (1, 3, 3, 6)),
        None,
        rng.integers(-2000, 2001, 6),
        rng.integers(19, 23, 6),
        out_scale=0.5,
        depthwise=True,
        depth_multiplier=2,
        stride=(2, 2),
        padding="VALID",
        mantissa_bits=12,
        act_range=(-4, 4),
        grid=2,
        name="dwconv_pow2",
    )
    b.output(conv)
    b.output(dw)
    b.graph.validate()
    return b.graph


# name -> (flavor, graph builder); the position in this dict seeds the builder's generator
SEEDS: dict[str, tuple[str, Build]] = {
    "conv_relu_dense": (
        "builtin",
        _random((4, 4), 2, [LayerSpec("conv", channels=3, activation="RELU")], 3, "dense"),
    ),
    "dwconv_residual_mean": (
        "builtin",
        _random((4, 4), 2, [LayerSpec("dwconv", multiplier=2), LayerSpec("residual")], 2, "mean_dense"),
    ),
    "pools_softmax": (
        "builtin",
        _random(
            (6, 6),
            2,
            [
                LayerSpec("avgpool", kernel=2, stride=2),
                LayerSpec("maxpool", kernel=2, stride=1, padding="VALID"),
            ],
            3,
            "dense_softmax",
        ),
    ),
    "conv_valid_stride2": (
        "builtin",
        _random(
            (5, 5),
            1,
            [LayerSpec("conv", kernel=3, stride=2, padding="VALID", channels=2, activation="RELU6")],
            0,
            "dense",
        ),
    ),
    "shift_conv_dense": (
        "lpn",
        _random((4, 4), 2, [LayerSpec("shift_conv", channels=3, exponent_bits=1)], 2, "shift_dense"),
    ),
    "shift_dwconv_quant_norm": (
        "lpn",
        _random((4, 4), 3, [LayerSpec("shift_dwconv", exponent_bits=2), LayerSpec("quant_norm")], 0, "dense"),
    ),
    "mixed_lpn_builtin": (
        "lpn",
        _random(
            (4, 4),
            2,
            [
                LayerSpec("conv", channels=2),
                LayerSpec("shift_conv", kernel=1, channels=2, exponent_bits=3),
                LayerSpec("maxpool", kernel=2, stride=2),
            ],
            2,
            "mean_dense",
        ),
    ),
    "lpn_int8_conv_grids": ("lpn", lpn_int8_conv_grids),
}


def seed_bytes(name: str) -> bytes:
    """The .tflite bytes of seed ``name`` (deterministic: the rng is seeded from the seed's position)."""
    flavor, build = SEEDS[name]
    rng = np.random.default_rng(list(SEEDS).index(name) + 1000)
    return tflite_writer.to_tflite_bytes(build(rng), flavor=flavor)


def write_corpus(out_dir: Path = CORPUS_DIR) -> list[Path]:
    """Writes every seed to ``out_dir/<name>.tflite``; returns the paths.

    Raises:
        ValueError: when a seed exceeds :data:`MAX_SEED_BYTES` or the host runtime refuses it.
    """
    from lpn_tf.runtime import host  # the host library is built on first use

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in SEEDS:
        data = seed_bytes(name)
        if len(data) > MAX_SEED_BYTES:
            raise ValueError(f"seed {name}: {len(data)} bytes > {MAX_SEED_BYTES}")
        host.HostRuntime(data)  # raises on a model the runtime refuses: a seed must be valid
        path = out_dir / f"{name}.tflite"
        path.write_bytes(data)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_corpus(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS_DIR):
        print(f"{written} {written.stat().st_size} bytes")
