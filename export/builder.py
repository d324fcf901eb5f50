"""A small builder that appends ops with consistent tensors to an :class:`IntGraph`.

Used by the lowering and by tests. Each method takes already-integer weights and real scales, creates
the constant and output tensors with TFLite-consistent quantization (bias scale ``s_in · s_w[c]``,
weights symmetric per channel along the output-channel axis) and returns the output tensor index.
"""

from __future__ import annotations

import numpy as np

from lpn_tf.export import kernels, packing
from lpn_tf.export.graph import DTYPES, IntGraph, Op, Quant, Tensor


class GraphBuilder:
    """Build an integer graph op by op.

    Example::

        b = GraphBuilder()
        x = b.input("x", (1, 8, 8, 3), scale=0.05, zero_point=-3)
        y = b.conv_2d(x, w_int8, bias_int32, w_scales, out_scale=0.1, out_zero_point=2)
        b.output(y)
        graph = b.graph
    """

    def __init__(self, scheme: str = "int8") -> None:
        self.graph = IntGraph(metadata={"scheme": scheme})

    # -- tensors ----------------------------------------------------------------------------------
    def _unique(self, base: str) -> str:
        names = {t.name for t in self.graph.tensors}
        if base not in names:
            return base
        k = 1
        while f"{base}_{k}" in names:
            k += 1
        return f"{base}_{k}"

    def tensor(
        self,
        name: str,
        shape: tuple[int, ...],
        dtype: str = "int8",
        quant: Quant | None = None,
        data: np.ndarray | None = None,
        bits: int = 0,
    ) -> int:
        """Add a tensor (name made unique) and return its index."""
        return self.graph.add_tensor(Tensor(self._unique(name), tuple(shape), dtype, quant, data, bits))

    def constant(
        self, name: str, data: np.ndarray, dtype: str, quant: Quant | None = None, bits: int = 0
    ) -> int:
        """Add a constant tensor holding ``data`` cast to ``dtype``."""
        arr = np.ascontiguousarray(np.asarray(data).astype(DTYPES[dtype]))
        return self.tensor(name, arr.shape, dtype, quant, arr, bits)

    def input(self, name: str, shape: tuple[int, ...], scale: float, zero_point: int = 0) -> int:
        """Add an int8 graph input."""
        idx = self.tensor(name, shape, "int8", Quant.per_tensor(scale, zero_point))
        self.graph.inputs.append(idx)
        return idx

    def output(self, index: int) -> None:
        """Mark a tensor as a graph output."""
        self.graph.outputs.append(index)

    def _t(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def _act_out(self, name: str, shape: tuple[int, ...], scale: float, zero_point: int) -> int:
        return self.tensor(name, shape, "int8", Quant.per_tensor(scale, zero_point))

    def _bias(self, name: str, bias: np.ndarray | None, x: int, w_scales: np.ndarray) -> int:
        if bias is None:
            return -1
        bias_scales = np.float32(self._t(x).scale) * np.asarray(w_scales, np.float32)
        return self.constant(name, bias, "int32", Quant.per_channel(bias_scales, 0))

    # -- builtin ops ------------------------------------------------------------------------------
    def conv_2d(
        self,
        x: int,
        weights: np.ndarray,
        bias: np.ndarray | None,
        w_scales: np.ndarray,
        out_scale: float,
        out_zero_point: int = 0,
        stride: tuple[int, int] = (1, 1),
        padding: str = "SAME",
        activation: str = "NONE",
        name: str = "conv",
    ) -> int:
        """CONV_2D with int8 weights ``[O, KH, KW, I]`` and per-channel scales ``w_scales`` ``[O]``."""
        n, h, w, _ = self._t(x).shape
        o, kh, kw, _ = weights.shape
        w_scales = np.broadcast_to(np.asarray(w_scales, np.float32), (o,))
        wi = self.constant(f"{name}/weights", weights, "int8", Quant.per_channel(w_scales, 0))
        bi = self._bias(f"{name}/bias", bias, x, w_scales)
        oh = kernels.output_size(h, kh, stride[0], padding)
        ow = kernels.output_size(w, kw, stride[1], padding)
        y = self._act_out(name, (n, oh, ow, o), out_scale, out_zero_point)
        self.graph.add_op(
            Op(
                "CONV_2D",
                [x, wi, bi],
                [y],
                {"padding": padding, "stride_h": stride[0], "stride_w": stride[1], "activation": activation},
                name,
            )
        )
        return y

    def depthwise_conv_2d(
        self,
        x: int,
        weights: np.ndarray,
        bias: np.ndarray | None,
        w_scales: np.ndarray,
        out_scale: float,
        out_zero_point: int = 0,
        depth_multiplier: int = 1,
        stride: tuple[int, int] = (1, 1),
        padding: str = "SAME",
        activation: str = "NONE",
        name: str = "dwconv",
    ) -> int:
        """DEPTHWISE_CONV_2D with int8 weights ``[1, KH, KW, I·M]`` and scales ``[I·M]``."""
        n, h, w, _ = self._t(x).shape
        _, kh, kw, c = weights.shape
        w_scales = np.broadcast_to(np.asarray(w_scales, np.float32), (c,))
        wi = self.constant(f"{name}/weights", weights, "int8", Quant.per_channel(w_scales, 3))
        bi = self._bias(f"{name}/bias", bias, x, w_scales)
        oh = kernels.output_size(h, kh, stride[0], padding)
        ow = kernels.output_size(w, kw, stride[1], padding)
        y = self._act_out(name, (n, oh, ow, c), out_scale, out_zero_point)
        self.graph.add_op(
            Op(
                "DEPTHWISE_CONV_2D",
                [x, wi, bi],
                [y],
                {
                    "padding": padding,
                    "stride_h": stride[0],
                    "stride_w": stride[1],
                    "depth_multiplier": depth_multiplier,
                    "activation": activation,
                },
                name,
            )
        )
        return y

    def fully_connected(
        self,
        x: int,
        weights: np.ndarray,
        bias: np.ndarray | None,
        w_scales: np.ndarray,
        out_scale: float,
        out_zero_point: int = 0,
        activation: str = "NONE",
        name: str = "dense",
    ) -> int:
        """FULLY_CONNECTED with int8 weights ``[O, I]``; ``w_scales`` of length 1 (per tensor) or ``O``."""
        o = weights.shape[0]
        w_scales = np.asarray(w_scales, np.float32).reshape(-1)
        quant = Quant.per_channel(w_scales, 0) if w_scales.size > 1 else Quant.per_tensor(float(w_scales[0]))
        wi = self.constant(f"{name}/weights", weights, "int8", quant)
        bias_scales = np.broadcast_to(w_scales, (o,)) if w_scales.size > 1 else w_scales
        bi = -1
        if bias is not None:
            bq = np.float32(self._t(x).scale) * bias_scales
            bi = self.constant(
                f"{name}/bias",
                bias,
                "int32",
                Quant.per_channel(bq, 0) if bq.size > 1 else Quant.per_tensor(float(bq[0])),
            )
        batch = self._t(x).shape[0]
        y = self._act_out(name, (batch, o), out_scale, out_zero_point)
        self.graph.add_op(Op("FULLY_CONNECTED", [x, wi, bi], [y], {"activation": activation}, name))
        return y

    def add(
        self,
        a: int,
        b: int,
        out_scale: float,
        out_zero_point: int = 0,
        activation: str = "NONE",
        name: str = "add",
    ) -> int:
        """ADD of two int8 tensors of the same shape."""
        y = self._act_out(name, self._t(a).shape, out_scale, out_zero_point)
        self.graph.add_op(Op("ADD", [a, b], [y], {"activation": activation}, name))
        return y

    def pool_2d(
        self,
        kind: str,
        x: int,
        size: tuple[int, int],
        stride: tuple[int, int],
        padding: str = "VALID",
        name: str = "pool",
    ) -> int:
        """AVERAGE_POOL_2D or MAX_POOL_2D; the output shares the input's quantization."""
        n, h, w, c = self._t(x).shape
        oh = kernels.output_size(h, size[0], stride[0], padding)
        ow = kernels.output_size(w, size[1], stride[1], padding)
        y = self.tensor(name, (n, oh, ow, c), "int8", self._t(x).quant)
        self.graph.add_op(
            Op(
                kind,
                [x],
                [y],
                {
                    "padding": padding,
                    "stride_h": stride[0],
                    "stride_w": stride[1],
                    "filter_h": size[0],
                    "filter_w": size[1],
                    "activation": "NONE",
                },
                name,
            )
        )
        return y

    def reshape(self, x: int, shape: tuple[int, ...], name: str = "reshape") -> int:
        """RESHAPE (new shape as a constant int32 second input); output quantization = input's."""
        s = self.constant(f"{name}/shape", np.asarray(shape, np.int32), "int32")
        y = self.tensor(name, shape, "int8", self._t(x).quant)
        self.graph.add_op(Op("RESHAPE", [x, s], [y], {}, name))
        return y

    def mean_hw(self, x: int, out_scale: float, out_zero_point: int = 0, name: str = "mean") -> int:
        """MEAN over H and W with ``keep_dims`` → ``[N, 1, 1, C]``."""
        n, _, _, c = self._t(x).shape
        axes = self.constant(f"{name}/axes", np.array([1, 2], np.int32), "int32")
        y = self._act_out(name, (n, 1, 1, c), out_scale, out_zero_point)
        self.graph.add_op(Op("MEAN", [x, axes], [y], {"keep_dims": 1}, name))
        return y

    def softmax(self, x: int, name: str = "softmax") -> int:
        """SOFTMAX over the last axis; the int8 output has scale 1/256 and zero point −128 (TFLite rule)."""
        y = self._act_out(name, self._t(x).shape, 1.0 / 256, -128)
        self.graph.add_op(Op("SOFTMAX", [x], [y], {}, name))
        return y

    # -- LPN ops ----------------------------------------------------------------------------------
    def _lpn_params(self, name: str, mantissa: np.ndarray, shift: np.ndarray) -> tuple[int, int]:
        mi = self.constant(f"{name}/mantissa", mantissa, "int16")
        si = self.constant(f"{name}/shift", shift, "int8")
        return mi, si

    def _shift_op(
        self,
        kind: str,
        x: int,
        codes: np.ndarray,
        exponent_bits: int,
        bias: np.ndarray | None,
        mantissa: np.ndarray,
        shift: np.ndarray,
        mantissa_bits: int,
        out_shape: tuple[int, ...],
        out_scale: float,
        out_zero_point: int,
        act_range: tuple[int, int],
        name: str,
        extra: dict[str, int | str],
    ) -> int:
        code_bits = exponent_bits + 1
        packed = packing.pack(codes, code_bits)
        ci = self.constant(f"{name}/codes", packed, "uint8", bits=code_bits)
        bi = -1 if bias is None else self.constant(f"{name}/bias", bias, "int32")
        mi, si = self._lpn_params(name, mantissa, shift)
        y = self._act_out(name, out_shape, out_scale, out_zero_point)
        options: dict = {
            "version": 1,
            "exponent_bits": exponent_bits,
            "filter_shape": tuple(codes.shape),
            "mantissa_bits": mantissa_bits,
            "act_min": act_range[0],
            "act_max": act_range[1],
            **extra,
        }
        self.graph.add_op(Op(kind, [x, ci, bi, mi, si], [y], options, name))
        return y

    def shift_conv_2d(
        self,
        x: int,
        codes: np.ndarray,
        exponent_bits: int,
        bias: np.ndarray | None,
        mantissa: np.ndarray,
        shift: np.ndarray,
        out_scale: float,
        out_zero_point: int = 0,
        stride: tuple[int, int] = (1, 1),
        padding: str = "SAME",
        mantissa_bits: int = 16,
        act_range: tuple[int, int] = (-128, 127),
        name: str = "shift_conv",
    ) -> int:
        """LPN_SHIFT_CONV_2D with unpacked codes ``[O, KH, KW, I]`` (packed here)."""
        n, h, w, _ = self._t(x).shape
        o, kh, kw, _ = codes.shape
        shape = (
            n,
            kernels.output_size(h, kh, stride[0], padding),
            kernels.output_size(w, kw, stride[1], padding),
            o,
        )
        return self._shift_op(
            "LPN_SHIFT_CONV_2D",
            x,
            codes,
            exponent_bits,
            bias,
            mantissa,
            shift,
            mantissa_bits,
            shape,
            out_scale,
            out_zero_point,
            act_range,
            name,
            {"padding": padding, "stride_h": stride[0], "stride_w": stride[1]},
        )

    def shift_depthwise_conv_2d(
        self,
        x: int,
        codes: np.ndarray,
        exponent_bits: int,
        bias: np.ndarray | None,
        mantissa: np.ndarray,
        shift: np.ndarray,
        out_scale: float,
        out_zero_point: int = 0,
        depth_multiplier: int = 1,
        stride: tuple[int, int] = (1, 1),
        padding: str = "SAME",
        mantissa_bits: int = 16,
        act_range: tuple[int, int] = (-128, 127),
        name: str = "shift_dwconv",
    ) -> int:
        """LPN_SHIFT_DEPTHWISE_CONV_2D with unpacked codes ``[1, KH, KW, I·M]``."""
        n, h, w, _ = self._t(x).shape
        _, kh, kw, c = codes.shape
        shape = (
            n,
            kernels.output_size(h, kh, stride[0], padding),
            kernels.output_size(w, kw, stride[1], padding),
            c,
        )
        return self._shift_op(
            "LPN_SHIFT_DEPTHWISE_CONV_2D",
            x,
            codes,
            exponent_bits,
            bias,
            mantissa,
            shift,
            mantissa_bits,
            shape,
            out_scale,
            out_zero_point,
            act_range,
            name,
            {
                "padding": padding,
                "stride_h": stride[0],
                "stride_w": stride[1],
                "depth_multiplier": depth_multiplier,
            },
        )

    def shift_fully_connected(
        self,
        x: int,
        codes: np.ndarray,
        exponent_bits: int,
        bias: np.ndarray | None,
        mantissa: np.ndarray,
        shift: np.ndarray,
        out_scale: float,
        out_zero_point: int = 0,
        mantissa_bits: int = 16,
        act_range: tuple[int, int] = (-128, 127),
        name: str = "shift_dense",
    ) -> int:
        """LPN_SHIFT_FULLY_CONNECTED with unpacked codes ``[O, I]``."""
        shape = (self._t(x).shape[0], codes.shape[0])
        return self._shift_op(
            "LPN_SHIFT_FULLY_CONNECTED",
            x,
            codes,
            exponent_bits,
            bias,
            mantissa,
            shift,
            mantissa_bits,
            shape,
            out_scale,
            out_zero_point,
            act_range,
            name,
            {},
        )

    def quant_norm(
        self,
        x: int,
        bias: np.ndarray,
        mantissa: np.ndarray,
        shift: np.ndarray,
        out_scale: float,
        out_zero_point: int = 0,
        mantissa_bits: int = 16,
        act_range: tuple[int, int] = (-128, 127),
        name: str = "quant_norm",
    ) -> int:
        """LPN_QUANT_NORM: per-channel (last axis) integer affine map of an int8 tensor."""
        bi = self.constant(f"{name}/bias", bias, "int32")
        mi, si = self._lpn_params(name, mantissa, shift)
        y = self._act_out(name, self._t(x).shape, out_scale, out_zero_point)
        self.graph.add_op(
            Op(
                "LPN_QUANT_NORM",
                [x, bi, mi, si],
                [y],
                {
                    "version": 1,
                    "mantissa_bits": mantissa_bits,
                    "act_min": act_range[0],
                    "act_max": act_range[1],
                },
                name,
            )
        )
        return y

    def lpn_conv(
        self,
        x: int,
        weights: np.ndarray,
        bias: np.ndarray | None,
        mantissa: np.ndarray,
        shift: np.ndarray,
        out_scale: float,
        out_zero_point: int = 0,
        depthwise: bool = False,
        depth_multiplier: int = 1,
        stride: tuple[int, int] = (1, 1),
        padding: str = "SAME",
        mantissa_bits: int = 16,
        act_range: tuple[int, int] = (-128, 127),
        grid: int = 0,
        name: str = "lpn_conv",
    ) -> int:
        """LPN_CONV_2D (int8 ``weights [O, KH, KW, I]``) or LPN_DEPTHWISE_CONV_2D (``[1, KH, KW, I·M]``):
        builtin accumulation, LPN requantization onto output grid ``grid`` (0 nearest: key left out)."""
        n, h, w, _ = self._t(x).shape
        _, kh, kw, _ = weights.shape
        channels = weights.shape[3] if depthwise else weights.shape[0]
        shape = (
            n,
            kernels.output_size(h, kh, stride[0], padding),
            kernels.output_size(w, kw, stride[1], padding),
            channels,
        )
        wi = self.constant(f"{name}/filter", weights, "int8")
        bi = -1 if bias is None else self.constant(f"{name}/bias", bias, "int32")
        mi, si = self._lpn_params(name, mantissa, shift)
        y = self._act_out(name, shape, out_scale, out_zero_point)
        options: dict = {
            "version": 1,
            "mantissa_bits": mantissa_bits,
            "act_min": act_range[0],
            "act_max": act_range[1],
            "padding": padding,
            "stride_h": stride[0],
            "stride_w": stride[1],
        }
        if depthwise:
            options["depth_multiplier"] = depth_multiplier
        if grid:
            options["grid"] = grid
        kind = "LPN_DEPTHWISE_CONV_2D" if depthwise else "LPN_CONV_2D"
        self.graph.add_op(Op(kind, [x, wi, bi, mi, si], [y], options, name))
        return y
