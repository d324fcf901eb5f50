"""Backend ``"litert"``: ai_edge_litert's interpreter (reference builtin kernels) plus the LPN custom ops.

The LPN ops run the firmware's C kernels through the registrar library of ``firmware/targets/litert/``
(built here on first use with ``make``). The registrar calls ``tflite::MutableOpResolver::AddCustom``;
of the installed wheels only TensorFlow's ``libtensorflow_cc.so.2`` exports it, so that library is loaded
(not ``import tensorflow``: just the shared object) and its AddCustom handed to the registrar. This ties
the registrar to the TFLite C ABI of the pinned versions (:data:`PINNED_VERSIONS`); a self-test runs once
per process before the first model and raises :class:`LiteRTABIError` if what the C side reads through
its declared structs differs from the model file, or if its results differ from the reference executor.

Builtin ops run LiteRT's ``BUILTIN_REF`` kernels, bit-exact with lpn's integer spec except
FULLY_CONNECTED (single rounding; docs/integer-spec.md §6).
"""

from __future__ import annotations

import ctypes
import functools
import importlib.metadata
import importlib.util
import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lpn_tf.export import lpn_ops
from lpn_tf.export.builder import GraphBuilder
from lpn_tf.export.graph import LPN_OPS, IntGraph
from lpn_tf.export.reference import ReferenceExecutor
from lpn_tf.export.summary import op_rows
from lpn_tf.export.tflite_reader import read_tflite
from lpn_tf.export.tflite_writer import to_tflite_bytes
from lpn_tf.runtime.api import TensorDescription, join_batch, split_batch
from lpn_tf.toolchain import BUILD_DIR, FIRMWARE_DIR

# distribution -> the version prefix whose TFLite C ABI firmware/targets/litert/tflite_abi.h declares
PINNED_VERSIONS: dict[str, str] = {"ai-edge-litert": "2.3.", "tensorflow": "2.21."}
ALLOW_UNTESTED_ENV = "LPN_LITERT_ALLOW_UNTESTED"
MAKEFILE = FIRMWARE_DIR / "targets" / "litert" / "litert.mk"
LIBRARY_DIR = BUILD_DIR / "firmware" / "litert"
ADD_CUSTOM_SYMBOL = "_ZN6tflite17MutableOpResolver9AddCustomEPKcPK18TfLiteRegistrationi"
# TfLiteType codes of lpn's dtypes
TFLITE_TYPES: dict[str, int] = {"int32": 2, "uint8": 3, "int16": 7, "int8": 9}


class LiteRTError(RuntimeError):
    """LiteRT refused or failed to run a model; the message names the op, tensor or file at fault."""


class LiteRTABIError(LiteRTError):
    """The LPN registrar and the installed LiteRT disagree on the TFLite C ABI (versions drifted)."""


def build_registrar(out_dir: Path | None = None, extra_cflags: str = "") -> Path:
    """Build ``liblpn_litert.so`` (if out of date) with ``firmware/targets/litert/litert.mk``; its path.

    ``extra_cflags`` is for tests only (e.g. ``-DLPN_TFLITE_ABI_DRIFT_TEST``); use a separate ``out_dir``.
    """
    out = Path(out_dir or LIBRARY_DIR).resolve()
    cmd = ["make", "-s", "-f", str(MAKEFILE), f"OUT={out}"]
    if extra_cflags:
        cmd.append(f"LITERT_EXTRA_CFLAGS={extra_cflags}")
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
    if result.returncode != 0:
        raise LiteRTError(
            f"building the LPN registrar failed: `{' '.join(cmd)}`\n{result.stdout}{result.stderr}"
        )
    return out / "liblpn_litert.so"


def check_versions() -> None:
    """Raise :class:`LiteRTABIError` unless the installed versions are the pinned ones.

    Set the environment variable ``LPN_LITERT_ALLOW_UNTESTED=1`` to try other versions; the load-time
    self-test then is the only guard.
    """
    if os.environ.get(ALLOW_UNTESTED_ENV) == "1":
        return
    for dist, prefix in PINNED_VERSIONS.items():
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            raise LiteRTError(f"the litert backend needs the {dist} package ({prefix}*)") from None
        if not version.startswith(prefix):
            raise LiteRTABIError(
                f"{dist} {version} installed, but the LPN registrar declares the TFLite C ABI of {dist} "
                f"{prefix}* (firmware/targets/litert/tflite_abi.h); check that header against the new "
                f"tensorflow/lite/core/c/common.h, or set {ALLOW_UNTESTED_ENV}=1 to rely on the self-test"
            )


def _add_custom_address() -> int:
    """Address of ``tflite::MutableOpResolver::AddCustom`` in TensorFlow's libtensorflow_cc.so.2."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or spec.origin is None:
        raise LiteRTError("the litert backend needs the tensorflow wheel (its libtensorflow_cc.so.2)")
    path = Path(spec.origin).parent / "libtensorflow_cc.so.2"
    try:
        library = ctypes.CDLL(str(path))
        function = library[ADD_CUSTOM_SYMBOL]
    except (OSError, AttributeError) as err:
        raise LiteRTABIError(f"{path} does not provide {ADD_CUSTOM_SYMBOL} ({err})") from None
    address = ctypes.cast(function, ctypes.c_void_p).value
    assert address is not None
    return address


class Registrar:
    """The loaded ``liblpn_litert.so``: a registerer for ``InterpreterWithCustomOps`` and its diagnostics."""

    def __init__(self, library: Path, add_custom: int) -> None:
        lib = ctypes.CDLL(str(library))
        lib.lpn_litert_register.argtypes = [ctypes.c_void_p]
        lib.lpn_litert_register.restype = None
        lib.lpn_litert_set_add_custom.argtypes = [ctypes.c_void_p]
        lib.lpn_litert_last_error.restype = ctypes.c_char_p
        lib.lpn_litert_probe.argtypes = [ctypes.c_int32]
        lib.lpn_litert_probe_text.restype = ctypes.c_char_p
        lib.lpn_litert_op_code.restype = ctypes.c_char_p
        lib.lpn_litert_op_code.argtypes = [ctypes.c_int32]
        lib.lpn_litert_check_options.argtypes = [
            ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
        ]  # fmt: skip
        lib.lpn_litert_set_add_custom(add_custom)
        self.library = library
        self._lib = lib

    def registerer(self) -> Callable[[int], None]:
        """The callable ``InterpreterWithCustomOps(custom_op_registerers=[...])`` calls with the resolver."""
        lib = self._lib

        def register(resolver: int) -> None:
            lib.lpn_litert_clear_error()
            lib.lpn_litert_register(resolver)

        return register

    @property
    def op_codes(self) -> list[str]:
        """The custom codes the registrar adds."""
        return [self._lib.lpn_litert_op_code(i).decode() for i in range(self._lib.lpn_litert_op_count())]

    @property
    def last_error(self) -> str:
        """The last registration or Prepare/Invoke error of an LPN op ("" if none)."""
        return self._lib.lpn_litert_last_error().decode(errors="replace")

    def clear_error(self) -> None:
        self._lib.lpn_litert_clear_error()

    def probe(self, enable: bool) -> None:
        """Start (clearing) or stop recording what Prepare reads through the ABI structs."""
        self._lib.lpn_litert_probe(1 if enable else 0)

    def probe_text(self) -> str:
        return self._lib.lpn_litert_probe_text().decode(errors="replace")

    def check_options(self, custom_code: str, options: bytes) -> str | None:
        """Validate flexbuffer custom options with the C parser: None if valid, else its error message."""
        error = ctypes.create_string_buffer(512)
        bad = self._lib.lpn_litert_check_options(
            custom_code.encode(), options, len(options), error, len(error)
        )
        return error.value.decode(errors="replace") if bad else None


def _interpreter(data: bytes, registerers: list[Callable[[int], None]], source: str) -> Any:
    from ai_edge_litert import interpreter as litert

    try:
        interp = litert.InterpreterWithCustomOps(
            model_content=data,
            custom_op_registerers=registerers,
            experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF,
        )
        interp.allocate_tensors()
    except (RuntimeError, ValueError) as err:
        message = str(err).strip()
        hint = ""
        if "custom op" in message.lower() and not registerers:
            hint = " (the model has custom ops: open it with lpn_ops=True to register the LPN ops)"
        raise LiteRTError(f"{source}: LiteRT could not prepare the model: {message}{hint}") from None
    return interp


def _self_test_graph() -> IntGraph:
    """A tiny model using every LPN op plus builtins, every op output a graph output."""
    rng = np.random.default_rng(7)
    b = GraphBuilder("pikelpn")
    x = b.input("abi_input", (1, 6, 5, 3), 0.04, -7)
    outputs = []
    codes = rng.integers(0, 8, (4, 3, 3, 3))
    y = b.shift_conv_2d(
        x, codes, 2, rng.integers(-300, 300, 4), np.array([901, -750, 1200, 333]), np.array([14, 13, 15, 12]),
        0.05, 3, stride=(2, 1), padding="SAME", mantissa_bits=12, name="abi_conv",
    )  # fmt: skip
    outputs.append(y)
    y = b.shift_depthwise_conv_2d(
        y, rng.integers(0, 4, (1, 2, 2, 8)), 1, None, rng.integers(200, 900, 8), np.full(8, 11),
        0.05, -5, depth_multiplier=2, padding="VALID", mantissa_bits=12, act_range=(-5, 127), name="abi_dw",
    )  # fmt: skip
    outputs.append(y)
    y = b.quant_norm(y, rng.integers(-2000, 2000, 8), rng.integers(-900, 900, 8), np.full(8, 10), 0.05, 4,
                     mantissa_bits=11, name="abi_norm")  # fmt: skip
    outputs.append(y)
    y = b.lpn_conv(
        y, rng.integers(-127, 128, (6, 3, 3, 8)), rng.integers(-500, 500, 6), rng.integers(100, 900, 6),
        np.full(6, 14), 0.1, 0, padding="SAME", mantissa_bits=12, act_range=(0, 16), grid=1,
        name="abi_int8_conv",
    )  # fmt: skip
    outputs.append(y)
    y = b.lpn_conv(
        y, rng.integers(-127, 128, (1, 2, 2, 6)), None, rng.integers(100, 900, 6), np.full(6, 10), 0.1, 0,
        depthwise=True, padding="VALID", mantissa_bits=12, act_range=(-8, 8), grid=2, name="abi_int8_dw",
    )  # fmt: skip
    outputs.append(y)
    shape = b.graph.tensors[y].shape
    y = b.reshape(y, (1, int(np.prod(shape))), name="abi_flatten")
    y = b.shift_fully_connected(
        y, rng.integers(0, 16, (5, int(np.prod(shape)))), 3, rng.integers(-99, 99, 5), np.full(5, 1500),
        np.full(5, 20), 0.1, -2, mantissa_bits=12, name="abi_dense",
    )  # fmt: skip
    outputs.append(y)
    for t in outputs:
        b.output(t)
    b.graph.validate()
    return b.graph


def _check_probe(text: str, graph: IntGraph) -> list[str]:
    """Differences between the registrar's probe lines and the graph; empty when the ABI agrees."""
    problems: list[str] = []
    lpn_count = sum(op.kind in LPN_OPS for op in graph.ops)
    nodes = [line.split() for line in text.splitlines() if line.startswith("n ")]
    if len(nodes) != lpn_count:
        problems.append(f"Prepare saw {len(nodes)} LPN nodes, the model has {lpn_count}")
    lpn = [op for op in graph.ops if op.kind in LPN_OPS]
    for fields, op in zip(nodes, lpn, strict=False):
        want = [op.kind, str(len(op.inputs)), str(len(op.outputs)), str(len(lpn_ops.encode_options(op)))]
        if fields[1:] != want:
            problems.append(f"node {fields[1:]} != expected {want} (TfLiteNode layout)")
    for line in text.splitlines():
        fields = line.split()
        if fields[0] == "c" and int(fields[1]) != len(graph.tensors):
            problems.append(
                f"context has {fields[1]} tensors, the model {len(graph.tensors)} (TfLiteContext layout)"
            )
        if fields[0] != "t":
            continue
        index, ttype, nbytes, zp, affine, rank = (int(v) for v in fields[1:7])
        dims = tuple(int(v) for v in fields[7 : 7 + rank])
        name = " ".join(fields[7 + rank :])
        t = graph.tensors[index] if 0 <= index < len(graph.tensors) else None
        got = (name, ttype, nbytes, dims, zp)
        want_t = None if t is None else (t.name, TFLITE_TYPES[t.dtype], t.nbytes, t.shape, t.zero_point)
        if got != want_t:
            problems.append(f"tensor {index}: read {got}, the file says {want_t} (TfLiteTensor layout)")
        if t is not None and t.quant is not None and affine != t.quant.zero_point.size:
            problems.append(
                f"tensor {index}: {affine} affine zero points, the file has {t.quant.zero_point.size}"
            )
    return problems


def abi_self_test(registrar: Registrar) -> None:
    """Run the self-test model through LiteRT with the registrar; raise :class:`LiteRTABIError` on any drift.

    Checks what Prepare read through the declared C structs (tensor count, names, types, byte sizes,
    shapes, zero points, node inputs/outputs, custom-option sizes) against the model, then the outputs
    of every op against the reference executor, bit for bit.
    """
    graph = _self_test_graph()
    data = to_tflite_bytes(graph, flavor="lpn")
    registrar.probe(True)
    try:
        interp = _interpreter(data, [registrar.registerer()], "<LPN ABI self-test>")
        probe = registrar.probe_text()
    except LiteRTError as err:
        raise LiteRTABIError(f"LPN registrar self-test: {err} {registrar.last_error}") from None
    finally:
        registrar.probe(False)
    problems = _check_probe(probe, graph)
    if problems:
        raise LiteRTABIError(
            "LPN registrar self-test: the TFLite C ABI differs from firmware/targets/litert/tflite_abi.h:\n  "
            + "\n  ".join(problems)
        )
    x = np.random.default_rng(3).integers(-128, 128, graph.tensors[graph.inputs[0]].shape).astype(np.int8)
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    got = [interp.get_tensor(d["index"]) for d in interp.get_output_details()]
    values = ReferenceExecutor(graph).run_all([x])
    for index, y in zip(graph.outputs, got, strict=True):
        if not np.array_equal(values[index], y):
            raise LiteRTABIError(
                f"LPN registrar self-test: output {graph.tensors[index].name!r} differs from the reference "
                f"executor ({int(np.sum(values[index] != y))} of {y.size} values)"
            )


@functools.cache
def registrar() -> Registrar:
    """The process-wide registrar: versions checked, library built and loaded, ABI self-test passed."""
    check_versions()
    reg = Registrar(build_registrar(), _add_custom_address())
    abi_self_test(reg)
    return reg


def _describe(detail: dict[str, Any]) -> TensorDescription:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return TensorDescription(
        int(detail["index"]), str(detail["name"]), np.dtype(detail["dtype"]),
        tuple(int(d) for d in detail["shape"]), float(scale), int(zero_point),
    )  # fmt: skip


class LiteRTRunner:
    """A .tflite in ai_edge_litert (``BUILTIN_REF`` kernels), with the LPN ops registered when needed.

    Attributes:
        inputs, outputs: :class:`TensorDescription` per model input/output (LiteRT's order).
        profile: after :meth:`run`, one row per op: ``op``, ``kind``, ``name``, ``output_shape``, ``macs``
            (per sample); LiteRT does not time single ops here.
        lpn_ops: whether the LPN registrar was used.
    """

    def __init__(self, data: bytes, source: str, lpn_ops: bool | None = None) -> None:
        self.source = source
        self.graph = read_tflite(data)
        has_lpn = any(op.kind in LPN_OPS for op in self.graph.ops)
        self.lpn_ops = has_lpn if lpn_ops is None else lpn_ops
        self._registrar = registrar() if self.lpn_ops else None
        registerers = [self._registrar.registerer()] if self._registrar is not None else []
        try:
            self._interp = _interpreter(data, registerers, source)
        except LiteRTError as err:
            detail = self._registrar.last_error if self._registrar is not None else ""
            raise LiteRTError(f"{err}{' -- ' + detail if detail else ''}") from None
        self.inputs = [_describe(d) for d in self._interp.get_input_details()]
        self.outputs = [_describe(d) for d in self._interp.get_output_details()]
        self.profile: list[dict[str, Any]] = []

    def run(self, x: np.ndarray | Sequence[np.ndarray]) -> np.ndarray | list[np.ndarray]:
        """Run on ``x`` (see :mod:`lpn_tf.runtime.api` for the batch convention)."""
        samples = split_batch(self.inputs, x, self.source)
        results: list[list[np.ndarray]] = [[] for _ in self.outputs]
        for sample in samples:
            for spec, value in zip(self.inputs, sample, strict=True):
                self._interp.set_tensor(spec.index, value)
            try:
                self._interp.invoke()
            except RuntimeError as err:
                detail = self._registrar.last_error if self._registrar is not None else ""
                raise LiteRTError(f"{self.source}: LiteRT invoke failed: {err} {detail}".strip()) from None
            for i, spec in enumerate(self.outputs):
                results[i].append(np.array(self._interp.get_tensor(spec.index)))
        self.profile = op_rows(self.graph)
        return join_batch(results)


def open(path: str | Path, *, lpn_ops: bool | None = None) -> LiteRTRunner:  # noqa: A001 - the registry's name
    """Load the .tflite at ``path`` into LiteRT.

    Args:
        path: an lpn-written .tflite (builtin or lpn flavor).
        lpn_ops: register the LPN custom ops (default: when the model uses them). ``False`` on a model with
            LPN ops fails with LiteRT's "unresolved custom op" error.

    Raises:
        lpn_tf.export.TFLiteFormatError: the file is not a valid lpn model (e.g. an unknown custom op).
        LiteRTError: LiteRT refused the model; LiteRTABIError: the registrar's ABI self-test failed.
    """
    data = Path(path).read_bytes()
    return LiteRTRunner(data, str(path), lpn_ops)


__all__ = [
    "LiteRTABIError",
    "LiteRTError",
    "LiteRTRunner",
    "PINNED_VERSIONS",
    "Registrar",
    "abi_self_test",
    "build_registrar",
    "check_versions",
    "open",
    "registrar",
]
