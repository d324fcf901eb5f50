"""Backend ``"host"``: the firmware runtime (firmware/runtime + firmware/kernels) as a shared library.

``open(path)`` builds ``build/firmware/host/liblpn.so`` with ``make -C firmware host`` when needed (make
skips an up-to-date build), loads it with ctypes and initializes the runtime on the model's bytes with an
arena sized exactly as the runtime asks. ``run(x)`` takes numpy arrays in the model's integer input type.

Every failure of the C runtime surfaces as :class:`FirmwareError`, which carries the status code, its name
and the byte offset / op / tensor at fault, exactly as ``lpn_format_error`` reports them.
"""

from __future__ import annotations

import ctypes
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lpn_tf import toolchain
from lpn_tf.runtime.api import join_batch, split_batch

LPN_MAX_DIMS = 6
LPN_MAX_OP_INPUTS = 8
LPN_MAX_OP_OUTPUTS = 2
NO_OFFSET = 0xFFFFFFFF

# lpn_rt_status_t values (firmware/include/lpn/runtime.h; tests/test_runtime_host.py checks the mirror).
STATUS_NAMES: tuple[str, ...] = (
    "OK", "NULL_ARGUMENT", "MODEL_SIZE", "IDENTIFIER", "OFFSET", "VTABLE", "FIELD", "VECTOR", "STRING",
    "ALIGNMENT", "MISSING_FIELD", "SCHEMA_VERSION", "SUBGRAPH_COUNT", "TENSOR_INDEX", "BUFFER_INDEX",
    "OPCODE_INDEX", "TENSOR_TYPE", "TENSOR_SHAPE", "BUFFER_SIZE", "EXTERNAL_BUFFER", "QUANTIZATION",
    "UNKNOWN_BUILTIN", "UNKNOWN_CUSTOM", "OP_VERSION", "OP_ARITY", "OP_OPTIONS", "OP_TENSORS", "GRAPH",
    "MULTIPLIER", "ARENA_TOO_SMALL", "NOT_READY", "IO_INDEX", "IO_SIZE", "KERNEL", "TOO_MANY",
)
STATUS = {name: code for code, name in enumerate(STATUS_NAMES)}
_DTYPES = {2: np.dtype(np.int32), 3: np.dtype(np.uint8), 7: np.dtype(np.int16), 9: np.dtype(np.int8)}


def status_name(code: int) -> str:
    """``"ARENA_TOO_SMALL"`` for 29; ``"STATUS_<code>"`` for codes the table does not know."""
    return STATUS_NAMES[code] if 0 <= code < len(STATUS_NAMES) else f"STATUS_{code}"


class FirmwareError(RuntimeError):
    """The firmware runtime refused a model or failed to run it.

    Attributes:
        status: the ``lpn_rt_status_t`` code; ``status_name`` its name (``"OPCODE_INDEX"``, ...).
        offset: byte offset in the .tflite at fault, or None.
        op_index, tensor_index: the operator / tensor at fault, or None.
        detail: code-specific number (builtin code, required arena bytes, ...).
        op_name: custom-op name for ``UNKNOWN_CUSTOM``, the unknown option key for ``OP_OPTIONS`` with
            detail −3 (else "").
    """

    def __init__(self, message: str, status: int, offset: int | None = None, op_index: int | None = None,
                 tensor_index: int | None = None, detail: int = 0, op_name: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.status_name = status_name(status)
        self.offset = offset
        self.op_index = op_index
        self.tensor_index = tensor_index
        self.detail = detail
        self.op_name = op_name


_PROFILE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32)


class _TensorInfo(ctypes.Structure):
    _fields_ = [
        ("index", ctypes.c_int32), ("type", ctypes.c_int32), ("rank", ctypes.c_int32),
        ("dims", ctypes.c_int32 * LPN_MAX_DIMS), ("bytes", ctypes.c_uint32), ("scale_bits", ctypes.c_uint32),
        ("zero_point", ctypes.c_int32), ("is_constant", ctypes.c_int32), ("arena_offset", ctypes.c_uint32),
        ("first_op", ctypes.c_int32), ("last_op", ctypes.c_int32),
    ]


class _OpInfo(ctypes.Structure):
    _fields_ = [
        ("builtin_code", ctypes.c_int32), ("name", ctypes.c_char_p), ("n_inputs", ctypes.c_int32),
        ("n_outputs", ctypes.c_int32), ("inputs", ctypes.c_int32 * LPN_MAX_OP_INPUTS),
        ("outputs", ctypes.c_int32 * LPN_MAX_OP_OUTPUTS), ("macs", ctypes.c_uint64),
    ]


class _ArenaStats(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint32) for name in
                ("descriptor_bytes", "planned_bytes", "scratch_bytes", "used_bytes", "arena_bytes")]


class _Error(ctypes.Structure):
    _fields_ = [
        ("status", ctypes.c_int), ("offset", ctypes.c_uint32), ("op_index", ctypes.c_int32),
        ("tensor_index", ctypes.c_int32), ("detail", ctypes.c_int64), ("name", ctypes.c_char * 32),
    ]


@dataclass(frozen=True)
class TensorSpec:
    """A tensor as the runtime sees it.

    Attributes:
        index: tensor index in the subgraph.
        dtype: numpy dtype (int8 or int32).
        shape: dimensions.
        nbytes: element count times element size, in bytes.
        scale: first quantization scale (0.0 when not quantized); zero_point its zero point.
        is_constant: the data lives in the model.
        arena_offset: planned byte offset in the tensor region of the arena, or None.
        first_op, last_op: the planner's lifetime (op indices, inclusive), or None.
    """

    index: int
    dtype: np.dtype
    shape: tuple[int, ...]
    nbytes: int
    scale: float
    zero_point: int
    is_constant: bool
    arena_offset: int | None
    first_op: int | None
    last_op: int | None


@dataclass(frozen=True)
class OpSpec:
    """One operator: TFLite builtin code (32 = custom), kind (kernel name: "CONV_2D" or the custom code),
    tensor indices, multiply-accumulates per invoke."""

    index: int
    builtin_code: int
    kind: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    macs: int


@dataclass(frozen=True)
class ArenaStats:
    """Arena use in bytes: descriptors + per-op data, planned tensor region, kernel scratch, total used."""

    descriptor_bytes: int
    planned_bytes: int
    scratch_bytes: int
    used_bytes: int
    arena_bytes: int


def builtin_name(code: int) -> str:
    """TFLite's name of builtin operator ``code`` (e.g. 77 -> "SHAPE"), from the LiteRT schema."""
    from ai_edge_litert import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return names.get(code, f"BUILTIN_{code}")


def library_path(build_dir: Path | None = None) -> Path:
    """Where ``make -C firmware host`` puts liblpn.so (``build/firmware/host/liblpn.so`` by default)."""
    return (build_dir or toolchain.BUILD_DIR / "firmware") / "host" / "liblpn.so"


_LIBRARIES: dict[Path, ctypes.CDLL] = {}


def load_library(build_dir: Path | None = None) -> ctypes.CDLL:
    """Builds (``make -C firmware host``) and loads liblpn.so; checks that the ctypes mirrors match it."""
    path = library_path(build_dir).resolve()
    if path not in _LIBRARIES:
        toolchain.make_firmware("host", build_dir=path.parent.parent)
        lib = ctypes.CDLL(str(path))
        _declare(lib)
        for fn, mirror in (("lpn_host_tensor_info_bytes", _TensorInfo), ("lpn_host_op_info_bytes", _OpInfo),
                           ("lpn_host_arena_stats_bytes", _ArenaStats), ("lpn_host_error_bytes", _Error)):
            if getattr(lib, fn)() != ctypes.sizeof(mirror):
                raise RuntimeError(f"{path}: {fn}() = {getattr(lib, fn)()} differs from the ctypes mirror "
                                   f"({ctypes.sizeof(mirror)} bytes); rebuild with `make -C firmware host`")
        _LIBRARIES[path] = lib
    return _LIBRARIES[path]


def _declare(lib: ctypes.CDLL) -> None:
    p, u32, sz = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_size_t
    sigs = {
        "lpn_init": (ctypes.c_int, [p, p, sz, p, sz]),
        "lpn_input_count": (u32, [p]), "lpn_output_count": (u32, [p]),
        "lpn_tensor_count": (u32, [p]), "lpn_op_count": (u32, [p]),
        "lpn_input_info": (ctypes.c_int, [p, u32, p]), "lpn_output_info": (ctypes.c_int, [p, u32, p]),
        "lpn_tensor_info": (ctypes.c_int, [p, u32, p]), "lpn_op_info": (ctypes.c_int, [p, u32, p]),
        "lpn_arena_stats": (ctypes.c_int, [p, p]),
        "lpn_set_input": (ctypes.c_int, [p, u32, p, sz]), "lpn_get_output": (ctypes.c_int, [p, u32, p, sz]),
        "lpn_invoke": (ctypes.c_int, [p]), "lpn_set_profiler": (None, [p, p, p]),
        "lpn_last_error": (p, [p]), "lpn_format_error": (sz, [p, ctypes.c_char_p, sz]),
        "lpn_error_string": (ctypes.c_char_p, [ctypes.c_int]),
        "lpn_host_runtime_bytes": (sz, []), "lpn_host_tensor_info_bytes": (sz, []),
        "lpn_host_op_info_bytes": (sz, []), "lpn_host_arena_stats_bytes": (sz, []),
        "lpn_host_error_bytes": (sz, []),
        "lpn_host_quantize_multiplier_batch": (None, [p, p, p, p, sz, p, p, p]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def quantize_multiplier_batch(a_bits: np.ndarray, b_bits: np.ndarray, c_bits: np.ndarray,
                              pow2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The C ``lpn_quantize_multiplier`` over arrays of float32 bit patterns (uint32) and int32 powers.

    Returns (multiplier int32, shift int32, status int32), each shaped like the inputs (1-D).
    """
    lib = load_library()
    arrays = [np.ascontiguousarray(v, dtype) for v, dtype in
              ((a_bits, np.uint32), (b_bits, np.uint32), (c_bits, np.uint32), (pow2, np.int32))]
    n = arrays[0].size
    if any(v.size != n for v in arrays):
        raise ValueError("quantize_multiplier_batch: all inputs need the same length")
    out = [np.zeros(n, np.int32) for _ in range(3)]
    lib.lpn_host_quantize_multiplier_batch(*(v.ctypes.data for v in arrays), n, *(v.ctypes.data for v in out))
    return out[0], out[1], out[2]


def _float_from_bits(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


class HostRuntime:
    """The firmware runtime on the host: ``run(x)`` executes the model with the C kernels.

    Args:
        model: the .tflite bytes (kept alive by this object; the runtime reads them in place).
        build_dir: firmware build directory (default ``build/firmware``).
        arena_bytes: arena size; None sizes it exactly from the runtime's ARENA_TOO_SMALL report.
        profile: time every op (wall clock, through lpn_set_profiler): ``profile`` rows gain ``seconds``.
        source: a name for error messages (the file path).
    """

    backend = "host"

    def __init__(self, model: bytes, *, build_dir: Path | None = None, arena_bytes: int | None = None,
                 profile: bool = False, source: str = "<bytes>") -> None:
        self._lib = load_library(build_dir)
        self.source = source
        self._callback: object = None
        self._op_seconds: dict[int, float] = {}
        self._model = ctypes.create_string_buffer(bytes(model), len(model))
        self._state = ctypes.create_string_buffer(self._lib.lpn_host_runtime_bytes())
        self.profile: list[dict[str, object]] = []  # op rows after a run; the host measures nothing per op
        size = 0 if arena_bytes is None else arena_bytes
        for _ in range(3):
            # 16-byte aligned start, so the size the runtime asks for does not depend on the allocation
            self._arena = (ctypes.c_uint8 * (size + 16))()
            start = ctypes.addressof(self._arena) + (-ctypes.addressof(self._arena)) % 16
            status = self._lib.lpn_init(self._state, self._model, len(model), start, size)
            if status == STATUS["ARENA_TOO_SMALL"] and arena_bytes is None:
                size = int(self._error_record().detail)
                continue
            break
        if status != 0:
            raise self._error("init")
        if profile:
            self.set_profiler(self._time_op)
        n_in, n_out = self._lib.lpn_input_count(self._state), self._lib.lpn_output_count(self._state)
        self.inputs = [self._info(self._lib.lpn_input_info, i) for i in range(n_in)]
        self.outputs = [self._info(self._lib.lpn_output_info, i) for i in range(n_out)]

    # -- introspection ------------------------------------------------------------------------------
    def _error_record(self) -> _Error:
        return _Error.from_address(self._lib.lpn_last_error(self._state))

    def _error(self, stage: str) -> FirmwareError:
        record = self._error_record()
        text = ctypes.create_string_buffer(256)
        self._lib.lpn_format_error(ctypes.addressof(record), text, len(text))
        what = text.value.decode(errors="replace")
        if status_name(record.status) == "UNKNOWN_BUILTIN":
            what += f" = {builtin_name(int(record.detail))}"
        return FirmwareError(
            f"{self.source}: firmware runtime {stage} failed: {status_name(record.status)}: {what}",
            record.status,
            None if record.offset == NO_OFFSET else record.offset,
            None if record.op_index < 0 else record.op_index,
            None if record.tensor_index < 0 else record.tensor_index,
            int(record.detail), record.name.decode(errors="replace"))

    def _info(self, fn: ctypes._CFuncPtr, i: int) -> TensorSpec:
        raw = _TensorInfo()
        status = fn(self._state, i, ctypes.byref(raw))
        if status != 0:
            raise FirmwareError(f"{self.source}: tensor info {i}: {status_name(status)}", status)
        return TensorSpec(
            index=raw.index, dtype=_DTYPES[raw.type], shape=tuple(raw.dims[: raw.rank]), nbytes=raw.bytes,
            scale=_float_from_bits(raw.scale_bits), zero_point=raw.zero_point,
            is_constant=bool(raw.is_constant),
            arena_offset=None if raw.arena_offset == NO_OFFSET else raw.arena_offset,
            first_op=None if raw.first_op < 0 else raw.first_op,
            last_op=None if raw.last_op < 0 else raw.last_op)

    def tensors(self) -> list[TensorSpec]:
        """Every tensor of the subgraph, by index, with its planned arena offset and lifetime."""
        count = self._lib.lpn_tensor_count(self._state)
        return [self._info(self._lib.lpn_tensor_info, i) for i in range(count)]

    def ops(self) -> list[OpSpec]:
        """Every operator in execution order, with its MACs per invoke."""
        rows = []
        for i in range(self._lib.lpn_op_count(self._state)):
            raw = _OpInfo()
            self._lib.lpn_op_info(self._state, i, ctypes.byref(raw))
            rows.append(OpSpec(i, raw.builtin_code, raw.name.decode(), tuple(raw.inputs[: raw.n_inputs]),
                               tuple(raw.outputs[: raw.n_outputs]), int(raw.macs)))
        return rows

    @property
    def arena(self) -> ArenaStats:
        """Planned and used arena bytes."""
        raw = _ArenaStats()
        self._lib.lpn_arena_stats(self._state, ctypes.byref(raw))
        return ArenaStats(raw.descriptor_bytes, raw.planned_bytes, raw.scratch_bytes, raw.used_bytes,
                          raw.arena_bytes)

    # -- profiling ----------------------------------------------------------------------------------
    def set_profiler(self, fn: Callable[[int, int], None] | None) -> None:
        """Calls ``fn(op_index, phase)`` before (phase 0) and after (phase 1) every operator
        (``lpn_set_profiler``); None removes it."""
        if fn is None:
            self._callback = None
            self._lib.lpn_set_profiler(self._state, None, None)
            return
        callback = _PROFILE_FN(lambda _user, op, phase: fn(int(op), int(phase)))
        self._callback = callback  # keep the ctypes thunk alive as long as C may call it
        self._lib.lpn_set_profiler(self._state, ctypes.cast(callback, ctypes.c_void_p), None)

    def _time_op(self, op: int, phase: int) -> None:
        now = time.perf_counter()
        if phase == 0:
            self._op_seconds[op] = now
        else:
            self._op_seconds[op] = now - self._op_seconds[op]

    # -- execution ----------------------------------------------------------------------------------
    def run(self, x: np.ndarray | Sequence[np.ndarray]) -> np.ndarray | list[np.ndarray]:
        """Runs the model on ``x`` (one array per graph input, in the model's integer input type).

        An input may carry a leading batch axis of N samples when the model's batch size is 1 (shape
        ``(N, *input_shape[1:])``): the samples run one after another and the outputs are stacked the
        same way. Returns one array for a single-output model, else a list.
        """
        samples = split_batch(self.inputs, x, self.source)
        results: list[list[np.ndarray]] = [[] for _ in self.outputs]
        for sample in samples:
            for i, (spec, value) in enumerate(zip(self.inputs, sample, strict=True)):
                value = np.ascontiguousarray(value)
                status = self._lib.lpn_set_input(self._state, i, value.ctypes.data, spec.nbytes)
                if status != 0:
                    raise FirmwareError(f"{self.source}: set input {i}: {status_name(status)}", status)
            if self._lib.lpn_invoke(self._state) != 0:
                raise self._error("invoke")
            for i, spec in enumerate(self.outputs):
                out = np.empty(spec.shape, spec.dtype)
                self._lib.lpn_get_output(self._state, i, out.ctypes.data, spec.nbytes)
                results[i].append(out)
        self.profile = [{"op": op.index, "kind": op.kind, "macs": op.macs} for op in self.ops()]
        if self._op_seconds:  # profile=True: seconds of the last sample's ops (the Python callback included)
            for row in self.profile:
                row["seconds"] = self._op_seconds.get(int(row["op"]), 0.0)
        return join_batch(results)


def open(path: str | Path, **kwargs: object) -> HostRuntime:  # noqa: A001 - the runner registry's name
    """Loads a .tflite file into the host runtime (see :class:`HostRuntime` for keyword arguments)."""
    data = Path(path).read_bytes()
    return HostRuntime(data, source=str(path), **kwargs)  # type: ignore[arg-type]
