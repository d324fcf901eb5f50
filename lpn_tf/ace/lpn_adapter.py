"""Counting lpn QAT models (:mod:`lpn_tf.layers`, built by :func:`lpn_tf.quantize_model`).

An lpn QAT model simulates its integer graph: each integer tensor is the output of one
``QuantizeTensor`` (whose quantizer's ``precision`` is the tensor's bit width); ``QConv2D`` & co. carry
their weight quantizers; BatchNormalization stays a float Keras layer that the exporter folds into the
preceding conv/dense, and a ReLU/ReLU6 ending a block becomes its output clamp. So the model is priced
as its deployment:

- weighted layers: ``b_w`` = the kernel quantizer's precision (shift quantizers: ``1 + exponent_bits``,
  arith ``shift``), ``b_a`` = the precision of the QuantizeTensor feeding the layer, a 32-bit
  accumulator, one requantization per output with a 32-bit multiplier (int weights, builtin TFLite ops)
  or a ``mantissa_bits``-bit one (shift weights, LPN ops with double quantization); with
  ``ops="builtin"`` (the exporter's builtin flavor) shift weights are int8 builtin ops too: arith
  ``int``, 32-bit multipliers. An int-weight layer followed by a QuantNorm is a builtin op as well: the
  QuantNorm's ``mantissa_bits``-wide multiplier is held and applied as a Q31 int32 (32-bit multiply);
  except with sub-8-bit activations in the lpn flavor (schemes ``"pikelpn"``, ``"shift-wa"``), where the
  lowering makes every requantizing op an LPN op: int-weight layers are LPN_CONV_2D /
  LPN_DEPTHWISE_CONV_2D with ``mantissa_bits``-wide multipliers (:func:`integer_requant`);
- a layer's output width ``b_out`` is the precision of the ``QuantizeTensor`` its result flows into;
- a weighted layer without bias followed by a folded BN (or QuantNorm) gets the bias the fold creates
  (one accumulator-width add per output, ``C_out`` 32-bit biases), as in the exported graph;
- a BN not folded into a conv/dense is a QuantNorm (``mantissa_bits`` multiplier); Add, pools,
  softmax are their int8 TFLite ops;
- ``QuantizeTensor`` layers cost nothing themselves (their requantization is counted at the producer).

``mantissa_bits`` (default 16) and ``ops`` (default ``"lpn"``) must match the exporter's choice; pass
them to ``ace``. docs/ace.md ("QAT model and .tflite") lists what the exported graph counts differently.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lpn_tf import quantizers as qz
from lpn_tf.ace import keras_adapter
from lpn_tf.ace.keras_adapter import count_keras, is_keras_model
from lpn_tf.ace.ops import CountError, Numerics, OpCount
from lpn_tf.ace.registry import LAYER_COUNTERS, LayerInfo, ModelAdapter, register_model

WEIGHTED = ("QConv1D", "QConv2D", "QDense", "QDepthwiseConv2D", "QSeparableConv2D")
QUANTIZE_TENSOR = "QuantizeTensor"
ACCUMULATOR_BITS = 32
BUILTIN_SCALE_BITS = 32
DEFAULT_MANTISSA_BITS = 16
FLAVORS = ("lpn", "builtin")


def is_lpn_model(obj: Any) -> bool:
    """True for tf_keras models containing lpn QAT layers."""
    return is_keras_model(obj) and any(
        type(layer).__name__ in (*WEIGHTED, QUANTIZE_TENSOR) for layer in obj.layers
    )


def _producer(layer: Any) -> Any | None:
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes:
        return None
    inbound = nodes[0].inbound_layers
    if isinstance(inbound, list | tuple):
        return inbound[0] if inbound else None
    return inbound


def input_bits(layer: Any, default: int = 8) -> int:
    """Bit width of the integer tensor a layer reads: the precision of the nearest QuantizeTensor
    upstream (through layers that keep their input's quantization: Flatten, MaxPool, fused BN...)."""
    current = _producer(layer)
    for _ in range(64):
        if current is None:
            return default
        if type(current).__name__ == QUANTIZE_TENSOR:
            return int(current.quantizer.precision)
        current = _producer(current)
    return default


def _consumer(layer: Any) -> Any | None:
    nodes = getattr(layer, "_outbound_nodes", [])
    return nodes[0].outbound_layer if len(nodes) == 1 else None


def output_bits(layer: Any, default: int) -> int:
    """Bit width of the integer tensor a layer's result is stored as: the precision of the QuantizeTensor
    it flows into (through a single chain of layers that fold into it: BN, QuantNorm, ReLU, ...), or
    ``default`` (a layer with several consumers, or none quantized)."""
    current = _consumer(layer)
    for _ in range(64):
        if current is None:
            return default
        if type(current).__name__ == QUANTIZE_TENSOR:
            return int(current.quantizer.precision)
        current = _consumer(current)
    return default


def _on_lpn_grid(quantizer: Any) -> bool:
    """A sub-8-bit activation grid that only LPN ops produce (Uniform / Shift, per tensor), as the
    lowering's ``grid`` option: ``1`` ceil / ``2`` pow2 (docs/integer-spec.md §5)."""
    return isinstance(quantizer, qz.Uniform | qz.Shift) and quantizer.effective_scale == "per_tensor"


def integer_requant(model: Any, flavor: str) -> bool:
    """Whether :func:`lpn_tf.export.lower` makes every requantizing op an LPN op: ``ops="lpn"`` and a
    tensor on a sub-8-bit grid (schemes ``"pikelpn"``, ``"shift-wa"``); int8-weight convs / dense then
    become LPN_CONV_2D / LPN_DEPTHWISE_CONV_2D with ``mantissa_bits``-wide multipliers."""
    return flavor == "lpn" and any(
        type(layer).__name__ == QUANTIZE_TENSOR and _on_lpn_grid(layer.quantizer) for layer in model.layers
    )


def _weight_numerics(
    quantizer: Any, bits_activation: int, mantissa_bits: int, flavor: str = "lpn", lpn_requant: bool = False
) -> Numerics:
    """Widths of a weighted layer: shift weights in the lpn flavor are LPN shift ops, int weights are
    builtin ops (32-bit multipliers) unless ``lpn_requant`` (:func:`integer_requant`) makes them LPN ops."""
    if quantizer is None:
        return Numerics.floating(32)
    if type(quantizer).__name__ == "Shift" and flavor == "lpn":
        return Numerics.integer(
            int(quantizer.precision), bits_activation, ACCUMULATOR_BITS, mantissa_bits, "shift"
        )
    scale = mantissa_bits if lpn_requant else BUILTIN_SCALE_BITS
    return Numerics.integer(int(quantizer.precision), bits_activation, ACCUMULATOR_BITS, scale)


def count_lpn(
    model: Any, *, mantissa_bits: int = DEFAULT_MANTISSA_BITS, ops: str = "lpn", **options: Any
) -> list[OpCount]:
    """The op rows of an lpn QAT model (see the module docstring).

    Args:
        model: a model from :func:`lpn_tf.quantize_model` (or built from lpn layers).
        mantissa_bits: width of the requantization multipliers of LPN ops (shift layers, QuantNorm).
        ops: the export flavor priced, ``"lpn"`` (LPN shift ops) or ``"builtin"`` (TFLite builtins only),
            as in :func:`lpn_tf.export.lower`.
        options: passed to :func:`lpn_tf.ace.keras_adapter.count_keras`.

    Raises:
        CountError: ``ops`` is not a flavor, or a layer cannot be counted (naming it).
    """
    if ops not in FLAVORS:
        raise CountError(f"ops must be one of {FLAVORS}, got {ops!r}")
    lpn_requant = integer_requant(model, ops)

    def numerics(layer: Any) -> Numerics:
        cls = type(layer).__name__
        bits = input_bits(layer)
        if cls in WEIGHTED:
            quantizers = layer.kernel_quantizers()
            main = (
                quantizers.get("pointwise_kernel")
                or quantizers.get("kernel")
                or quantizers.get("depthwise_kernel")
            )
            num = _weight_numerics(main, bits, mantissa_bits, ops, lpn_requant)
        elif cls == "BatchNormalization":
            num = Numerics.integer(8, bits, ACCUMULATOR_BITS, mantissa_bits)
        else:
            num = Numerics.integer(8, bits, ACCUMULATOR_BITS, BUILTIN_SCALE_BITS)
        return dataclasses.replace(num, bits_output=output_bits(layer, num.out))

    return count_keras(
        model, numerics=numerics, mantissa_bits=mantissa_bits, ops=ops, lpn_requant=lpn_requant, **options
    )


def count_qseparable(info: LayerInfo) -> list[OpCount]:
    """QSeparableConv2D: the depthwise half with its own quantizer (DHQ: different widths/families)."""
    dw_q = info.layer.kernel_quantizers().get("depthwise_kernel")
    mantissa = int(info.options.get("mantissa_bits", DEFAULT_MANTISSA_BITS))
    flavor = str(info.options.get("ops", "lpn"))
    lpn_requant = bool(info.options.get("lpn_requant", False))
    dw_num = _weight_numerics(dw_q, info.numerics.bits_activation, mantissa, flavor, lpn_requant)
    return keras_adapter.count_separable(info, depthwise_numerics=dw_num)


def _free(info: LayerInfo) -> list[OpCount]:
    return []


LAYER_COUNTERS.update(
    {
        "QConv1D": keras_adapter.count_conv,
        "QConv2D": keras_adapter.count_conv,
        "QDense": keras_adapter.count_dense,
        "QDepthwiseConv2D": keras_adapter.count_depthwise,
        "QSeparableConv2D": count_qseparable,
        QUANTIZE_TENSOR: _free,
    }
)
LPN_ADAPTER = register_model(ModelAdapter("lpn-keras", is_lpn_model, count_lpn), first=True)
