"""Golden vectors for the C kernel tests, produced by LiteRT's reference kernels.

Every case is one builtin int8 operator of a real ``.tflite`` model: tiny tf_keras layers are converted by
``TFLiteConverter`` (full-integer, int8 inputs and outputs, a random representative dataset), the model
runs in ``ai_edge_litert``'s ``Interpreter`` with ``OpResolverType.BUILTIN_REF`` on random int8 inputs,
and each operator's inputs, constants, options (read from the flatbuffer) and output are written as one
case file. The kernel parameters (multipliers, shifts, offsets, activation bounds, padding) are derived
from the tensors' scales exactly as TFLite's ``Prepare`` functions derive them, so a C test that matches
the recorded output proves the C kernel *and* the parameter recipe documented in ``docs/kernels.md``.

Case file format (``case_NNN.bin``, little-endian int32 words)::

    magic 0x4b4e504c ("LPNK"), version 1, op code, n_params, params[n_params],
    n_tensors, then per tensor: dtype (1 = int8, 4 = int32), element count, data padded to 4 bytes.

Op codes and parameter layouts are listed in ``OPS`` and mirrored in ``firmware/tests/kernel_test.c``.

Run as a script to write the cases of a directory: ``python firmware/tests/golden.py OUT_DIR``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import struct
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

MAGIC = 0x4B4E504C
VERSION = 1

#: op code of each case kind, as in kernel_test.c
OPS = {
    "conv": 1,
    "depthwise_conv": 2,
    "fully_connected": 3,
    "fully_connected_per_channel": 4,
    "add": 5,
    "avg_pool": 6,
    "max_pool": 7,
    "mean": 8,
    "softmax": 9,
}

#: lpn_mean_form values of lpn/kernels.h
MEAN_RESCALE_DIVIDE, MEAN_FOLDED, MEAN_SAME_QUANT = 0, 1, 2


@dataclasses.dataclass
class Case:
    """One operator: a name (the Keras branch), its op kind, int parameters and tensors (last = expected)."""

    name: str
    op: str
    params: list[int]
    tensors: list[np.ndarray]

    def to_bytes(self) -> bytes:
        """Serialize in the case file format described in the module docstring."""
        words = [MAGIC, VERSION, OPS[self.op], len(self.params), *self.params, len(self.tensors)]
        out = bytearray(struct.pack(f"<{len(words)}i", *words))
        for tensor in self.tensors:
            if tensor.dtype == np.int8:
                code, data = 1, tensor.astype("<i1").tobytes()
            elif tensor.dtype == np.int32:
                code, data = 4, tensor.astype("<i4").tobytes()
            else:
                raise TypeError(f"case {self.name}: tensor dtype {tensor.dtype} is neither int8 nor int32")
            out += struct.pack("<2i", code, tensor.size) + data + b"\0" * (-len(data) % 4)
        return bytes(out)


# --------------------------------------------------------------------------------------------------------
# TFLite's Prepare-time integer parameters (double / float32 arithmetic exactly as the C++ code).


def _quantize_multiplier(real: float) -> tuple[int, int]:
    from lpn_tf.export.fixed_point import quantize_multiplier

    return quantize_multiplier(real)


def _round_half_away(value: float) -> int:
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def activation_range(fused: int, scale: float, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for int8: ``f / scale`` in float32, rounded half away from zero."""

    def quantize(f: float) -> int:
        return zero_point + _round_half_away(float(np.float32(f) / np.float32(scale)))

    if fused == 0:  # NONE
        return -128, 127
    if fused == 1:  # RELU
        return max(-128, quantize(0.0)), 127
    if fused == 2:  # RELU_N1_TO_1
        return max(-128, quantize(-1.0)), min(127, quantize(1.0))
    if fused == 3:  # RELU6
        return max(-128, quantize(0.0)), min(127, quantize(6.0))
    raise ValueError(f"fused activation {fused} has no int8 range")


def padding(in_size: int, filter_size: int, stride: int, dilation: int, same: bool) -> tuple[int, int]:
    """ComputePaddingHeightWidth for one axis: (output size, leading padding)."""
    effective = (filter_size - 1) * dilation + 1
    out = (in_size + stride - 1) // stride if same else (in_size - effective + stride) // stride
    total = (out - 1) * stride + effective - in_size
    return out, max(total // 2, 0)


def per_channel_multipliers(input_scale: float, filter_scales: np.ndarray, output_scale: float):
    """PopulateConvolutionQuantizationParams: double(in) * double(filter[c]) / double(out) per channel."""
    pairs = [_quantize_multiplier(float(input_scale) * float(s) / float(output_scale)) for s in filter_scales]
    return np.array([p[0] for p in pairs], np.int32), np.array([p[1] for p in pairs], np.int32)


def nhwc(shape) -> list[int]:
    """A TFLite shape as the four lpn_dims values (2-D [b, d] -> {b, 1, 1, d})."""
    shape = [int(s) for s in shape]
    if len(shape) == 4:
        return shape
    if len(shape) == 2:
        return [shape[0], 1, 1, shape[1]]
    if len(shape) == 1:
        return [1, 1, 1, shape[0]]
    raise ValueError(f"shape {shape} has no NHWC form")


# --------------------------------------------------------------------------------------------------------
# Models: one Keras model per op family, one independent branch (input -> layer) per case.


@dataclasses.dataclass(frozen=True)
class Branch:
    """One independent input(s) -> layer path of a golden model: its case name, input shapes and batch."""

    name: str
    shapes: tuple[tuple[int, ...], ...]
    make: Callable  # list of Keras inputs -> Keras output
    batch: int = 1


def _single(name: str, shape: tuple[int, ...], layer: Callable, batch: int = 1) -> Branch:
    return Branch(name, (shape,), lambda xs: layer()(xs[0]), batch)


def _branches() -> list[Branch]:
    """Every branch of the golden model; each must convert to exactly one builtin op."""
    from lpn_tf._keras import keras

    layers = keras.layers
    init = {"bias_initializer": "random_normal"}
    out: list[Branch] = []
    conv_shapes = [
        # (kernel, stride, padding, in channels, out channels, size, activation, dilation)
        (1, 1, "valid", 3, 4, 6, None, 1),
        (1, 2, "same", 16, 8, 7, "relu", 1),
        (2, 2, "valid", 5, 3, 8, None, 1),
        (3, 1, "same", 3, 8, 7, "relu6", 1),
        (3, 2, "same", 7, 5, 9, None, 1),
        (3, 1, "valid", 16, 16, 6, None, 1),
        (4, 2, "same", 5, 6, 8, "relu", 1),
        (5, 1, "same", 3, 7, 6, None, 1),
        (5, 2, "valid", 7, 4, 11, None, 1),
        (3, 1, "same", 5, 4, 9, None, 2),
        (3, 1, "same", 8, 16, 16, None, 1),  # 4096 outputs: enough ties to tell the rounding modes apart
    ]
    for k, s, pad, cin, cout, size, act, dil in conv_shapes:
        out.append(
            _single(
                f"conv_k{k}_s{s}_{pad}_c{cin}x{cout}_{act}_d{dil}",
                (size, size, cin),
                lambda k=k, s=s, pad=pad, cout=cout, act=act, dil=dil: layers.Conv2D(
                    cout, k, strides=s, padding=pad, activation=act, dilation_rate=dil, **init
                ),
            )
        )
    out.append(
        _single(
            "conv_k3x1_s2x1_same_c5x6",
            (8, 6, 5),
            lambda: layers.Conv2D(6, (3, 1), strides=(2, 1), padding="same", **init),
        )
    )
    for cin, cout, groups in [(8, 8, 2), (6, 4, 2)]:  # grouped: 4 and 3 input channels per group
        out.append(
            _single(
                f"conv_k3_s1_same_c{cin}x{cout}_g{groups}",
                (6, 6, cin),
                lambda cout=cout, groups=groups: layers.Conv2D(
                    cout, 3, padding="same", groups=groups, **init
                ),
            )
        )
    dw_shapes = [
        (3, 1, "same", 3, 1, 7, None),
        (3, 2, "same", 16, 1, 9, "relu"),
        (3, 1, "valid", 5, 2, 8, None),
        (5, 2, "same", 7, 2, 10, "relu6"),
        (1, 1, "valid", 16, 1, 5, None),
        (2, 2, "valid", 7, 1, 8, None),
        (4, 1, "same", 3, 2, 6, None),
        (3, 1, "same", 16, 1, 16, None),  # 4096 outputs
    ]
    for k, s, pad, cin, mult, size, act in dw_shapes:
        out.append(
            _single(
                f"dw_k{k}_s{s}_{pad}_c{cin}_m{mult}_{act}",
                (size, size, cin),
                lambda k=k, s=s, pad=pad, mult=mult, act=act: layers.DepthwiseConv2D(
                    k, strides=s, padding=pad, depth_multiplier=mult, activation=act, **init
                ),
            )
        )
    out += _fc_branches()
    for kind, k, s, pad, c, size in [
        ("avg", 2, 2, "valid", 3, 8),
        ("avg", 3, 2, "same", 5, 7),
        ("avg", 3, 1, "same", 16, 5),
        ("max", 2, 2, "valid", 7, 8),
        ("max", 3, 2, "same", 5, 7),
        ("max", 3, 1, "same", 3, 6),
    ]:
        layer = layers.AveragePooling2D if kind == "avg" else layers.MaxPooling2D
        out.append(
            _single(
                f"{kind}pool_k{k}_s{s}_{pad}_c{c}",
                (size, size, c),
                lambda layer=layer, k=k, s=s, pad=pad: layer(k, strides=s, padding=pad),
            )
        )
    for h, w, c, keep in [(6, 6, 3, True), (5, 7, 16, True), (4, 4, 7, False), (8, 3, 5, False)]:
        out.append(
            _single(
                f"mean_{h}x{w}x{c}_keep{int(keep)}",
                (h, w, c),
                lambda keep=keep: layers.GlobalAveragePooling2D(keepdims=keep),
            )
        )
    out += [_single(f"softmax_{n}", (n,), lambda: layers.Softmax()) for n in (3, 10, 37)]
    out.append(_single("softmax_100_b16", (100,), lambda: layers.Softmax(), batch=16))
    # ADD: equal shapes, and broadcasts of a [1, 1, 1, C] / [1, H, W, 1] operand
    for name, shape_a, shape_b, act in [
        ("add_5x5x3", (5, 5, 3), (5, 5, 3), None),
        ("add_4x6x16_relu", (4, 6, 16), (4, 6, 16), "relu"),
        ("add_bcast_c7", (3, 3, 7), (1, 1, 7), None),
        ("add_bcast_hw", (4, 4, 5), (4, 4, 1), None),
    ]:

        def make(xs, act=act, same=shape_a == shape_b):
            y = layers.Add()(xs) if same else layers.Lambda(lambda t: t[0] + t[1])(xs)
            return layers.Activation(act)(y) if act else y

        out.append(Branch(name, (shape_a, shape_b), make))
    return out


def _fc_branches() -> list[Branch]:
    from lpn_tf._keras import keras

    return [
        _single(
            f"fc_d{depth}_u{units}_b{batch}_{act}",
            (depth,),
            lambda units=units, act=act: keras.layers.Dense(
                units, activation=act, bias_initializer="random_normal"
            ),
            batch=batch,
        )
        # the 32 x 64 outputs of the last one hold enough ties to tell the rounding modes apart
        for depth, units, batch, act in [
            (8, 5, 2, None),
            (16, 10, 2, "relu"),
            (3, 7, 2, None),
            (33, 64, 32, None),
        ]
    ]


def _convert(model, per_channel_dense: bool, seed: int) -> bytes:
    from lpn_tf._keras import tf

    rng = np.random.default_rng(seed)

    def representative() -> Iterator[dict[str, np.ndarray]]:
        for _ in range(8):
            yield {t.name.split(":")[0]: rng.normal(size=t.shape).astype(np.float32) for t in model.inputs}

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    if not per_channel_dense:
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    return converter.convert()


def _with_output_quant_of_input(flatbuffer: bytes, op_name: str) -> bytes:
    """The model with every ``op_name`` output re-quantized like its input (same scale and zero point).

    TFLiteConverter never emits that for MEAN, but TFLite has a separate code path for it
    (``LPN_MEAN_SAME_QUANT``), so the golden data for that path edits the converted flatbuffer.
    """
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(flatbuffer, 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    tensors = model.subgraphs[0].tensors
    for op in model.subgraphs[0].operators:
        code = model.operatorCodes[op.opcodeIndex]
        if names[max(code.builtinCode, code.deprecatedBuiltinCode)] == op_name:
            source = tensors[op.inputs[0]].quantization
            target = tensors[op.outputs[0]].quantization
            target.scale, target.zeroPoint = list(source.scale), list(source.zeroPoint)
    builder = flatbuffers.Builder(len(flatbuffer) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _branch_model(keras, branches: list[Branch]):
    """One Keras model holding every branch; input k is named ``inNNN`` (k zero-padded)."""
    inputs, outputs = [], []
    for branch in branches:
        xs = []
        for shape in branch.shapes:
            xs.append(keras.Input(shape, batch_size=branch.batch, name=f"in{len(inputs):03d}"))
            inputs.append(xs[-1])
        outputs.append(branch.make(xs))
    return keras.Model(inputs, outputs)


# --------------------------------------------------------------------------------------------------------
# Running a model and turning each operator into a case.


class _Model:
    """A converted model run once by LiteRT's reference kernels on random int8 inputs."""

    def __init__(self, flatbuffer: bytes, seed: int) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        from tensorflow.lite.python import schema_py_generated as schema

        self.model = schema.ModelT.InitFromPackedBuf(flatbuffer, 0)
        self.schema = schema
        self.interpreter = Interpreter(
            model_content=flatbuffer,
            experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
            experimental_preserve_all_tensors=True,
        )
        self.interpreter.allocate_tensors()
        rng = np.random.default_rng(seed)
        for detail in self.interpreter.get_input_details():
            self.interpreter.set_tensor(
                detail["index"], rng.integers(-128, 128, size=detail["shape"], dtype=np.int8)
            )
        self.interpreter.invoke()
        self.details = {d["index"]: d for d in self.interpreter.get_tensor_details()}

    def ops(self) -> Iterator[tuple[str, object, list[int], int]]:
        """(builtin op name, options object, input tensor indices, output tensor index) per operator."""
        names = {v: k for k, v in vars(self.schema.BuiltinOperator).items() if not k.startswith("_")}
        for op in self.model.subgraphs[0].operators:
            code = self.model.operatorCodes[op.opcodeIndex]
            builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
            yield names[builtin], op.builtinOptions, [int(i) for i in op.inputs], int(op.outputs[0])

    def value(self, index: int) -> np.ndarray:
        return self.interpreter.get_tensor(index)

    def shape(self, index: int) -> list[int]:
        return [int(s) for s in self.details[index]["shape"]]

    def quant(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        q = self.details[index]["quantization_parameters"]
        return q["scales"].astype(np.float32), q["zero_points"].astype(np.int64)

    def input_name(self, index: int) -> str:
        return self.details[index]["name"]


def _input_number(model: _Model, tensor: int) -> int:
    """k of the model input ``serving_default_inNNN:0`` that feeds ``tensor``."""
    name = model.input_name(tensor)
    return int(name.split("_in")[-1].split(":")[0])


def _conv_case(m: _Model, name: str, op: str, opts, ins: list[int], out: int) -> Case:
    in_scale, in_zp = m.quant(ins[0])
    f_scales, _ = m.quant(ins[1])
    out_scale, out_zp = m.quant(out)
    in_dims, f_dims, out_dims = m.shape(ins[0]), m.shape(ins[1]), m.shape(out)
    same = opts.padding == 0
    oh, pad_h = padding(in_dims[1], f_dims[1], opts.strideH, opts.dilationHFactor, same)
    ow, pad_w = padding(in_dims[2], f_dims[2], opts.strideW, opts.dilationWFactor, same)
    if [oh, ow] != out_dims[1:3]:
        raise AssertionError(f"{name}: padding arithmetic gives {oh}x{ow}, LiteRT {out_dims[1:3]}")
    act = activation_range(opts.fusedActivationFunction, float(out_scale[0]), int(out_zp[0]))
    n_out = out_dims[3]
    scales = np.broadcast_to(f_scales, (n_out,))
    mult, shift = per_channel_multipliers(float(in_scale[0]), scales, float(out_scale[0]))
    params = [
        *in_dims,
        *f_dims,
        *out_dims,
        -int(in_zp[0]),
        int(out_zp[0]),
        opts.strideH,
        opts.strideW,
        pad_h,
        pad_w,
        opts.dilationHFactor,
        opts.dilationWFactor,
        *act,
    ]
    if op == "depthwise_conv":
        params.append(int(opts.depthMultiplier) if opts.depthMultiplier else n_out // in_dims[3])
    bias = m.value(ins[2]).astype(np.int32) if len(ins) > 2 and ins[2] >= 0 else np.zeros(0, np.int32)
    return Case(name, op, params, [m.value(ins[0]), m.value(ins[1]), bias, mult, shift, m.value(out)])


def _fc_case(m: _Model, name: str, opts, ins: list[int], out: int) -> Case:
    in_scale, in_zp = m.quant(ins[0])
    f_scales, f_zp = m.quant(ins[1])
    out_scale, out_zp = m.quant(out)
    act = activation_range(opts.fusedActivationFunction, float(out_scale[0]), int(out_zp[0]))
    units = m.shape(ins[1])[0]
    if f_scales.size > 1:
        op = "fully_connected_per_channel"
        mult, shift = per_channel_multipliers(
            float(in_scale[0]), np.broadcast_to(f_scales, (units,)), float(out_scale[0])
        )
    else:
        op = "fully_connected"
        # GetQuantizedConvolutionMultipler: the input x filter scale product is a float32 product.
        product = float(np.float32(in_scale[0]) * np.float32(f_scales[0]))
        q, s = _quantize_multiplier(product / float(out_scale[0]))
        mult, shift = np.array([q], np.int32), np.array([s], np.int32)
    params = [
        *nhwc(m.shape(ins[0])),
        *nhwc(m.shape(ins[1])),
        *nhwc(m.shape(out)),
        -int(in_zp[0]),
        -int(f_zp[0]),
        int(out_zp[0]),
        *act,
    ]
    bias = m.value(ins[2]).astype(np.int32) if len(ins) > 2 and ins[2] >= 0 else np.zeros(0, np.int32)
    return Case(name, op, params, [m.value(ins[0]), m.value(ins[1]), bias, mult, shift, m.value(out)])


def _add_case(m: _Model, name: str, opts, ins: list[int], out: int) -> Case:
    (s1,), (z1,) = m.quant(ins[0])
    (s2,), (z2,) = m.quant(ins[1])
    (so,), (zo,) = m.quant(out)
    left_shift = 20
    twice_max = float(np.float32(2) * max(s1, s2))  # float32 as in add.cc
    q1 = _quantize_multiplier(float(s1) / twice_max)
    q2 = _quantize_multiplier(float(s2) / twice_max)
    qo = _quantize_multiplier(twice_max / float(np.float32(1 << left_shift) * so))
    act = activation_range(opts.fusedActivationFunction if opts else 0, float(so), int(zo))
    params = [
        *nhwc(m.shape(ins[0])),
        *nhwc(m.shape(ins[1])),
        *nhwc(m.shape(out)),
        -int(z1),
        -int(z2),
        int(zo),
        left_shift,
        *q1,
        *q2,
        *qo,
        *act,
    ]
    return Case(name, "add", params, [m.value(ins[0]), m.value(ins[1]), m.value(out)])


def _pool_case(m: _Model, name: str, op: str, opts, ins: list[int], out: int) -> Case:
    in_dims, out_dims = m.shape(ins[0]), m.shape(out)
    (so,), (zo,) = m.quant(out)
    same = opts.padding == 0
    _, pad_h = padding(in_dims[1], opts.filterHeight, opts.strideH, 1, same)
    _, pad_w = padding(in_dims[2], opts.filterWidth, opts.strideW, 1, same)
    act = activation_range(opts.fusedActivationFunction, float(so), int(zo))
    params = [
        *in_dims,
        opts.filterHeight,
        opts.filterWidth,
        *out_dims,
        opts.strideH,
        opts.strideW,
        pad_h,
        pad_w,
        *act,
    ]
    return Case(name, op, params, [m.value(ins[0]), m.value(out)])


def _mean_case(m: _Model, name: str, opts, ins: list[int], out: int) -> Case:
    (si,), (zi,) = m.quant(ins[0])
    (so,), (zo,) = m.quant(out)
    axis = sorted(int(a) for a in m.value(ins[1]).ravel())
    if axis != [1, 2]:
        raise AssertionError(f"{name}: MEAN over axis {axis}, the kernel reduces [1, 2]")
    # LiteRT 2.3's reference MEAN (and TFLite Micro's) take the folded QuantizedMeanOrSum path for every
    # int8 mean over H and W: with and without keep_dims, and when input and output share quantization
    # (the *_same_quant cases), as these golden vectors show.
    form = MEAN_FOLDED
    q, s = _quantize_multiplier(float(si) / float(so))
    in_dims = m.shape(ins[0])
    params = [*in_dims, in_dims[0], 1, 1, in_dims[3], -int(zi), int(zo), q, s, form]
    return Case(name, "mean", params, [m.value(ins[0]), m.value(out)])


def _softmax_case(m: _Model, name: str, opts, ins: list[int], out: int) -> Case:
    (si,), _ = m.quant(ins[0])
    (so,), (zo,) = m.quant(out)
    if abs(float(so) - 1.0 / 256) > 1e-9 or int(zo) != -128:
        raise AssertionError(f"{name}: softmax output quantization {so}, {zo} is not (1/256, -128)")
    int_bits = 5
    real = min(float(opts.beta) * float(si) * float(1 << (31 - int_bits)), float((1 << 31) - 1))
    q, left_shift = _quantize_multiplier(real)
    radius = math.floor(1.0 * ((1 << int_bits) - 1) * (1 << (31 - int_bits)) / (1 << left_shift))
    shape = m.shape(ins[0])
    rows = int(np.prod(shape[:-1]))
    params = [rows, shape[-1], q, left_shift, -radius]
    return Case(name, "softmax", params, [m.value(ins[0]), m.value(out)])


def _cases_of(m: _Model, branches: list[Branch], suffix: str = "", only: str | None = None) -> list[Case]:
    """One case per operator of a run model (only the ``only`` builtin ops when given)."""
    owner = [b for b in branches for _ in b.shapes]  # model input k -> its branch
    cases = []
    for op_name, opts, ins, out in m.ops():
        if only is not None and op_name != only:
            continue
        name = owner[_input_number(m, ins[0])].name + suffix
        if op_name == "CONV_2D":
            cases.append(_conv_case(m, name, "conv", opts, ins, out))
        elif op_name == "DEPTHWISE_CONV_2D":
            cases.append(_conv_case(m, name, "depthwise_conv", opts, ins, out))
        elif op_name == "FULLY_CONNECTED":
            cases.append(_fc_case(m, name, opts, ins, out))
        elif op_name == "ADD":
            cases.append(_add_case(m, name, opts, ins, out))
        elif op_name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            op = "avg_pool" if op_name == "AVERAGE_POOL_2D" else "max_pool"
            cases.append(_pool_case(m, name, op, opts, ins, out))
        elif op_name == "MEAN":
            cases.append(_mean_case(m, name, opts, ins, out))
        elif op_name == "SOFTMAX":
            cases.append(_softmax_case(m, name, opts, ins, out))
        else:
            raise AssertionError(f"branch {name}: the converter emitted {op_name}; a branch must be one op")
    names = [c.name for c in cases]
    if len(names) != len(set(names)) or (only is None and len(cases) != len(branches)):
        raise AssertionError(f"expected one op per branch ({len(branches)}), got {names}")
    return cases


def generate(seed: int = 0) -> list[Case]:
    """Convert and run the golden models; return the cases ordered by op code, then name.

    Two conversions: every branch (dense layers per-channel), and the dense branches alone with
    per-tensor dense quantization. A copy of the first model with MEAN outputs re-quantized like their
    inputs adds the equal-quantization MEAN cases.
    """
    from lpn_tf._keras import keras

    keras.utils.set_random_seed(seed)
    branches = _branches()
    flatbuffer = _convert(_branch_model(keras, branches), per_channel_dense=True, seed=seed)
    cases = _cases_of(_Model(flatbuffer, seed=seed + 1), branches)
    edited = _with_output_quant_of_input(flatbuffer, "MEAN")
    cases += _cases_of(_Model(edited, seed=seed + 2), branches, suffix="_same_quant", only="MEAN")
    fc = _fc_branches()
    fc_flatbuffer = _convert(_branch_model(keras, fc), per_channel_dense=False, seed=seed)
    cases += _cases_of(_Model(fc_flatbuffer, seed=seed + 1), fc, suffix="_per_tensor")
    return sorted(cases, key=lambda c: (OPS[c.op], c.name))


def write(cases: list[Case], directory: Path) -> list[str]:
    """Write ``case_NNN.bin`` files and ``cases.json`` (the names, by index); return the names."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, case in enumerate(cases):
        (directory / f"case_{i:03d}.bin").write_bytes(case.to_bytes())
    names = [f"{c.op}:{c.name}" for c in cases]
    (directory / "cases.json").write_text(json.dumps(names, indent=1))
    return names


if __name__ == "__main__":
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "golden")
    for line in write(generate(), out_dir):
        print(line)
