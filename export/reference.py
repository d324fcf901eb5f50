"""The numpy reference executor: the executable integer spec (docs/integer-spec.md).

``ReferenceExecutor(graph)`` *prepares* every op once — checks shapes and types and derives the
integer parameters (TFLite multipliers and shifts from the float32 scales of builtin ops, exactly as
TFLite's prepare does; LPN ops carry theirs) — then :meth:`ReferenceExecutor.run` executes with integer
arithmetic only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from lpn_tf.export import fixed_point as fp
from lpn_tf.export import kernels as K
from lpn_tf.export import lpn_ops, packing
from lpn_tf.export.graph import DTYPES, GraphError, IntGraph, Op, Tensor

Kernel = Callable[[list[np.ndarray | None]], np.ndarray]

INT8_MIN, INT8_MAX = -128, 127


def activation_range(kind: str, output: Tensor) -> tuple[int, int]:
    """TFLite ``CalculateActivationRangeQuantized`` (int8): the clamp bounds of a fused activation.

    ``quantize(f) = zp + round_half_away(f / scale)`` with the division in float32 (as TFLite does).
    """
    scale = np.float32(output.scale)
    zp = output.zero_point

    def quantize(f: float) -> int:
        return zp + fp.tflite_round(float(np.float32(f) / scale))

    if kind == "NONE":
        return INT8_MIN, INT8_MAX
    if kind == "RELU":
        return max(INT8_MIN, quantize(0.0)), INT8_MAX
    if kind == "RELU6":
        return max(INT8_MIN, quantize(0.0)), min(INT8_MAX, quantize(6.0))
    raise GraphError(f"unsupported fused activation {kind!r}")


def _window(op: Op, kernel_h: int, kernel_w: int) -> K.Window:
    return K.Window(
        kernel_h,
        kernel_w,
        int(op.options.get("stride_h", 1)),
        int(op.options.get("stride_w", 1)),
        str(op.options.get("padding", "VALID")),
    )


def per_channel_requant(x: Tensor, w: Tensor, y: Tensor, channels: int, act: str) -> K.Requant:
    """TFLite ``PopulateConvolutionQuantizationParams``: ``M_c = s_in · s_w[c] / s_out`` in double."""
    if w.quant is None:
        raise GraphError(f"weight tensor {w.name!r} has no quantization parameters")
    scales = w.quant.scale if w.quant.is_per_channel else np.repeat(w.quant.scale, channels)
    if scales.size != channels:
        raise GraphError(f"weight tensor {w.name!r}: {scales.size} scales for {channels} output channels")
    pairs = [
        fp.quantize_multiplier(float(np.float64(x.scale)) * float(np.float64(s)) / float(np.float64(y.scale)))
        for s in scales
    ]
    lo, hi = activation_range(act, y)
    return K.Requant(
        np.array([p[0] for p in pairs], np.int64),
        np.array([p[1] for p in pairs], np.int64),
        y.zero_point,
        lo,
        hi,
    )


def _lpn_requant(graph: IntGraph, op: Op, mantissa_idx: int, shift_idx: int, channels: int) -> K.LpnRequant:
    m = _const(graph, op, mantissa_idx, "mantissa")
    k = _const(graph, op, shift_idx, "shift")
    if m.shape != (channels,) or k.shape != (channels,):
        raise GraphError(f"{op.kind} {op.name!r}: mantissa/shift must have {channels} entries")
    bits = int(op.options["mantissa_bits"])
    if np.any(np.abs(m.astype(np.int64)) > (1 << (bits - 1)) - 1):
        raise GraphError(f"{op.kind} {op.name!r}: a mantissa exceeds {bits} signed bits")
    if np.any(k < 0) or np.any(k > 62):
        raise GraphError(f"{op.kind} {op.name!r}: shifts must be in [0, 62]")
    y = graph.tensors[op.outputs[0]]
    return K.LpnRequant(
        m.astype(np.int64),
        k.astype(np.int64),
        y.zero_point,
        int(op.options["act_min"]),
        int(op.options["act_max"]),
        int(op.options.get("grid", fp.GRID_NEAREST)),
    )


def _const(graph: IntGraph, op: Op, position: int, role: str) -> np.ndarray:
    idx = op.inputs[position] if position < len(op.inputs) else -1
    if idx == -1 or graph.tensors[idx].data is None:
        raise GraphError(f"{op.kind} {op.name!r}: input {position} ({role}) must be a constant tensor")
    return graph.tensors[idx].data  # type: ignore[return-value]


def _optional_const(graph: IntGraph, op: Op, position: int, role: str) -> np.ndarray | None:
    if position >= len(op.inputs) or op.inputs[position] == -1:
        return None
    return _const(graph, op, position, role)


def _same_quant(op: Op, x: Tensor, y: Tensor) -> None:
    if x.quant != y.quant:
        raise GraphError(
            f"{op.kind} {op.name!r}: input {x.name!r} and output {y.name!r} must share scale and zero point"
        )


# expected dtypes of the inputs by position (shorter lists: later inputs unchecked); outputs are int8.
_SIGNATURES: dict[str, tuple[str, ...]] = {
    "CONV_2D": ("int8", "int8", "int32"),
    "DEPTHWISE_CONV_2D": ("int8", "int8", "int32"),
    "FULLY_CONNECTED": ("int8", "int8", "int32"),
    "ADD": ("int8", "int8"),
    "AVERAGE_POOL_2D": ("int8",),
    "MAX_POOL_2D": ("int8",),
    "RESHAPE": ("int8", "int32"),
    "MEAN": ("int8", "int32"),
    "SOFTMAX": ("int8",),
    "LPN_SHIFT_CONV_2D": ("int8", "uint8", "int32", "int16", "int8"),
    "LPN_CONV_2D": ("int8", "int8", "int32", "int16", "int8"),
    "LPN_DEPTHWISE_CONV_2D": ("int8", "int8", "int32", "int16", "int8"),
    "LPN_SHIFT_DEPTHWISE_CONV_2D": ("int8", "uint8", "int32", "int16", "int8"),
    "LPN_SHIFT_FULLY_CONNECTED": ("int8", "uint8", "int32", "int16", "int8"),
    "LPN_QUANT_NORM": ("int8", "int32", "int16", "int8"),
}
_MIN_INPUTS = {"ADD": 2, "RESHAPE": 1, "MEAN": 2, "CONV_2D": 2, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 2}


def _check_signature(graph: IntGraph, op: Op) -> None:
    """Input/output counts, dtypes, per-tensor activation quantization and weight/input channel match."""
    expected = _SIGNATURES[op.kind]
    need = _MIN_INPUTS.get(op.kind, len(expected) if op.kind.startswith("LPN_") else 1)
    if not need <= len(op.inputs) <= len(expected) or len(op.outputs) != 1:
        raise GraphError(
            f"{len(op.inputs)} inputs / {len(op.outputs)} outputs, expected {need}..{len(expected)} / 1"
        )
    for pos, (idx, dtype) in enumerate(zip(op.inputs, expected, strict=False)):
        if idx != -1 and graph.tensors[idx].dtype != dtype:
            t = graph.tensors[idx]
            raise GraphError(f"input {pos} ({t.name!r}) is {t.dtype}, expected {dtype}")
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if y.dtype != "int8":
        raise GraphError(f"output {y.name!r} is {y.dtype}, expected int8")
    for t in (x, y):
        if t.quant is None or t.quant.is_per_channel:
            raise GraphError(f"activation {t.name!r} needs per-tensor quantization parameters")
    base = op.kind.removeprefix("LPN_") if op.kind in ("LPN_CONV_2D", "LPN_DEPTHWISE_CONV_2D") else op.kind
    if base in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        w = graph.tensors[op.inputs[1]].shape
        mult = int(op.options.get("depth_multiplier", 1))
        ok = {
            "CONV_2D": len(w) == 4 and len(x.shape) == 4 and w[3] == x.shape[-1],
            "DEPTHWISE_CONV_2D": len(w) == 4
            and len(x.shape) == 4
            and w[0] == 1
            and w[3] == x.shape[-1] * mult,
            "FULLY_CONNECTED": len(w) == 2 and int(np.prod(x.shape)) % max(w[1], 1) == 0,
        }[base]
        if not ok:
            raise GraphError(f"filter shape {w} does not fit input {x.name!r} of shape {x.shape}")


def _prepare_builtin(graph: IntGraph, op: Op) -> Kernel:
    t = graph.tensors
    x = t[op.inputs[0]]
    y = t[op.outputs[0]]
    act = str(op.options.get("activation", "NONE"))
    if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        filt = _const(graph, op, 1, "filter")
        bias = _optional_const(graph, op, 2, "bias")
        win = _window(op, filt.shape[1], filt.shape[2])
        zp = x.zero_point
        if op.kind == "CONV_2D":
            rq = per_channel_requant(x, t[op.inputs[1]], y, filt.shape[0], act)
            return lambda v: K.conv_2d(v[0], zp, filt, bias, win, rq)
        mult = int(op.options.get("depth_multiplier", 1))
        rq = per_channel_requant(x, t[op.inputs[1]], y, filt.shape[3], act)
        return lambda v: K.depthwise_conv_2d(v[0], zp, filt, bias, win, mult, rq)
    if op.kind == "FULLY_CONNECTED":
        filt = _const(graph, op, 1, "filter")
        bias = _optional_const(graph, op, 2, "bias")
        rq = per_channel_requant(x, t[op.inputs[1]], y, filt.shape[0], act)
        zp = x.zero_point
        return lambda v: K.fully_connected(v[0], zp, filt, bias, rq).reshape(y.shape)
    if op.kind == "ADD":
        x2 = t[op.inputs[1]]
        if x.shape != x2.shape:
            raise GraphError(
                f"ADD {op.name!r}: input shapes {x.shape} and {x2.shape} differ (no broadcasting)"
            )
        return _prepare_add(x, x2, y, act)
    if op.kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        _same_quant(op, x, y)
        win = _window(op, int(op.options["filter_h"]), int(op.options["filter_w"]))
        lo, hi = activation_range(act, y)
        pool = K.average_pool_2d if op.kind == "AVERAGE_POOL_2D" else K.max_pool_2d
        return lambda v: pool(v[0], win, lo, hi)
    if op.kind == "RESHAPE":
        _same_quant(op, x, y)
        return lambda v: np.asarray(v[0]).reshape(y.shape)
    if op.kind == "MEAN":
        axes = sorted(int(a) % 4 for a in _const(graph, op, 1, "axis").reshape(-1))
        if len(x.shape) != 4 or axes != [1, 2]:
            raise GraphError(f"MEAN {op.name!r}: only the mean over H and W of a 4-D tensor is supported")
        q, s = fp.quantize_multiplier(float(np.float64(x.scale)) / float(np.float64(y.scale)))
        q, s = K.mean_multiplier(q, s, x.shape[1] * x.shape[2])
        zin, zout = x.zero_point, y.zero_point
        return lambda v: K.mean_hw(v[0], zin, q, s, zout).reshape(y.shape)
    if op.kind == "SOFTMAX":
        if y.zero_point != -128 or np.float32(y.scale) != np.float32(1.0 / 256):
            raise GraphError(f"SOFTMAX {op.name!r}: output must have scale 1/256 and zero point -128")
        sp = K.softmax_params(float(np.float64(x.scale)))
        return lambda v: K.softmax(v[0], sp)
    raise GraphError(f"op kind {op.kind!r} {op.name!r} is not supported by the reference executor")


def _prepare_add(x1: Tensor, x2: Tensor, y: Tensor, act: str) -> Kernel:
    params = add_params(x1, x2, y, act)
    return lambda v: K.add(v[0], v[1], params)


def add_params(x1: Tensor, x2: Tensor, y: Tensor, act: str) -> K.AddParams:
    """TFLite int8 ADD prepare: ``left_shift = 20``; multipliers from ``2·max(s1, s2)`` (double)."""
    s1, s2, so = (float(np.float64(t.scale)) for t in (x1, x2, y))
    left_shift = 20
    twice_max = 2.0 * max(s1, s2)
    m1 = fp.quantize_multiplier(s1 / twice_max)
    m2 = fp.quantize_multiplier(s2 / twice_max)
    mo = fp.quantize_multiplier(twice_max / (float(1 << left_shift) * so))
    lo, hi = activation_range(act, y)
    return K.AddParams(
        left_shift,
        -x1.zero_point,
        m1[0],
        m1[1],
        -x2.zero_point,
        m2[0],
        m2[1],
        mo[0],
        mo[1],
        y.zero_point,
        lo,
        hi,
    )


def _prepare_lpn(graph: IntGraph, op: Op) -> Kernel:
    spec = lpn_ops.SPECS[op.kind]
    spec.check_options(op)
    x = graph.tensors[op.inputs[0]]
    zp = x.zero_point
    o = op.options
    if op.kind == "LPN_QUANT_NORM":
        channels = x.shape[-1]
        bias = _const(graph, op, 1, "bias")
        rq = _lpn_requant(graph, op, 2, 3, channels)
        return lambda v: K.quant_norm(v[0], zp, bias, rq)
    if op.kind in ("LPN_CONV_2D", "LPN_DEPTHWISE_CONV_2D"):
        return _prepare_lpn_int8_conv(graph, op)
    s = int(o["exponent_bits"])
    filter_shape = tuple(int(d) for d in o["filter_shape"])  # type: ignore[union-attr]
    count = int(np.prod(filter_shape))
    packed = _const(graph, op, 1, "codes")
    try:
        codes = packing.unpack(packed, count, s + 1).reshape(filter_shape)
    except ValueError as err:
        raise GraphError(f"{op.kind} {op.name!r}: codes tensor: {err}") from None
    bias = _optional_const(graph, op, 2, "bias")
    y = graph.tensors[op.outputs[0]]
    if op.kind == "LPN_SHIFT_FULLY_CONNECTED":
        rq = _lpn_requant(graph, op, 3, 4, filter_shape[0])
        return lambda v: K.shift_fully_connected(v[0], zp, codes, s, bias, rq).reshape(y.shape)
    win = _window(op, filter_shape[1], filter_shape[2])
    if op.kind == "LPN_SHIFT_CONV_2D":
        rq = _lpn_requant(graph, op, 3, 4, filter_shape[0])
        return lambda v: K.shift_conv_2d(v[0], zp, codes, s, bias, win, rq)
    mult = int(o["depth_multiplier"])
    rq = _lpn_requant(graph, op, 3, 4, filter_shape[3])
    return lambda v: K.shift_depthwise_conv_2d(v[0], zp, codes, s, bias, win, mult, rq)


def _prepare_lpn_int8_conv(graph: IntGraph, op: Op) -> Kernel:
    """LPN_CONV_2D / LPN_DEPTHWISE_CONV_2D: int8 filter (TFLite layout), LPN requantization."""
    x = graph.tensors[op.inputs[0]]
    filt = _const(graph, op, 1, "filter").astype(np.int64)
    if filt.ndim != 4:
        raise GraphError(f"{op.kind} {op.name!r}: filter must be rank 4, got shape {filt.shape}")
    bias = _optional_const(graph, op, 2, "bias")
    win = _window(op, filt.shape[1], filt.shape[2])
    zp = x.zero_point
    if op.kind == "LPN_CONV_2D":
        rq = _lpn_requant(graph, op, 3, 4, filt.shape[0])
        return lambda v: K.lpn_conv_2d(v[0], zp, filt, bias, win, rq)
    mult = int(op.options["depth_multiplier"])
    rq = _lpn_requant(graph, op, 3, 4, filt.shape[3])
    return lambda v: K.lpn_depthwise_conv_2d(v[0], zp, filt, bias, win, mult, rq)


class ReferenceExecutor:
    """Runs an :class:`IntGraph` with integer numpy kernels.

    Args:
        graph: a validated (or validatable) integer graph.

    Raises:
        GraphError: at construction, naming the op that cannot be prepared.
    """

    def __init__(self, graph: IntGraph) -> None:
        graph.validate()
        self.graph = graph
        self._kernels: list[Kernel] = []
        for k, op in enumerate(graph.ops):
            try:
                _check_signature(graph, op)
                kernel = _prepare_lpn(graph, op) if op.kind in lpn_ops.SPECS else _prepare_builtin(graph, op)
            except (GraphError, KeyError, ValueError, IndexError) as err:
                raise GraphError(f"{op.label(k)}: {err}") from None
            self._kernels.append(kernel)

    def run_all(
        self, inputs: Sequence[np.ndarray], seconds: list[float] | None = None
    ) -> dict[int, np.ndarray]:
        """Execute and return every non-constant tensor by index (graph inputs included).

        Args:
            inputs: one array per graph input, with the input's dtype and shape.
            seconds: if given (one float per op), each op's wall time is added to its entry.
        """
        g = self.graph
        if len(inputs) != len(g.inputs):
            raise ValueError(f"expected {len(g.inputs)} inputs, got {len(inputs)}")
        values: dict[int, np.ndarray] = {}
        for idx, arr in zip(g.inputs, inputs, strict=True):
            t = g.tensors[idx]
            arr = np.asarray(arr)
            if arr.dtype != np.dtype(DTYPES[t.dtype]) or tuple(arr.shape) != t.shape:
                raise ValueError(
                    f"input {t.name!r}: expected {t.dtype}{list(t.shape)}, got {arr.dtype}{list(arr.shape)}"
                )
            values[idx] = arr
        for k, (op, kernel) in enumerate(zip(g.ops, self._kernels, strict=True)):
            args = [None if i == -1 else (values[i] if i in values else g.tensors[i].data) for i in op.inputs]
            start = time.perf_counter()
            try:
                out = kernel(args)
            except (OverflowError, ValueError) as err:
                raise type(err)(f"{op.label(k)}: {err}") from None
            y = g.tensors[op.outputs[0]]
            if tuple(out.shape) != y.shape:
                raise GraphError(
                    f"{op.label(k)}: computed shape {out.shape} != declared {y.shape} of {y.name!r}"
                )
            values[op.outputs[0]] = out.astype(DTYPES[y.dtype], copy=False)
            if seconds is not None:
                seconds[k] += time.perf_counter() - start
        return values

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        """Execute and return the graph outputs (integer arrays)."""
        values = self.run_all(inputs)
        return [values[i] for i in self.graph.outputs]
