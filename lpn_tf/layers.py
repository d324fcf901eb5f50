"""Quantized Keras layers: mixins over the stock tf_keras layers (every Keras argument still works).

Each layer takes ``kernel_quantizer`` (the weights), ``input_quantizer`` (its input tensor) and
``output_quantizer`` (its output, after the activation); each is a quantizer, an alias such as
``"shift3"``, a serialized dict, or ``None``. A kernel quantizer whose ``scale`` is unset becomes
per-output-channel, a tensor quantizer per-tensor. :class:`QSeparableConv2D` also takes
``depthwise_quantizer`` / ``pointwise_quantizer`` (default: copies of ``kernel_quantizer``).

:class:`QuantizeTensor` is the identity with one quantizer: :func:`lpn_tf.quantize_model` puts one on
every tensor that will exist as an integer tensor on the device, so each such tensor carries exactly one
quantization however many layers consume it.

Shapes: as the stock layer (``QConv2D``: ``(batch, H, W, C_in) → (batch, H', W', C_out)``, …).
"""

from __future__ import annotations

from typing import Any

from lpn_tf import quantizers as qz
from lpn_tf._keras import keras, tf

__all__ = [
    "QConv1D",
    "QConv2D",
    "QDense",
    "QDepthwiseConv2D",
    "QSeparableConv2D",
    "QuantizeTensor",
    "QuantizedLayerMixin",
    "custom_objects",
]


def _tensor_quantizer(identifier: qz.QuantizerLike, name: str) -> qz.Quantizer | None:
    q = qz.clone(identifier, name=name)
    if q is not None and getattr(q, "scale", "unset") is None:
        q.scale = "per_tensor"
    return q


def _kernel_quantizer(
    identifier: qz.QuantizerLike, channel_axes: tuple[int, ...], name: str
) -> qz.Quantizer | None:
    q = qz.clone(identifier, name=name)
    if q is None:
        return None
    if getattr(q, "scale", "unset") is None:
        q.scale = "per_channel"
    q.channel_axes = channel_axes
    return q


class QuantizedLayerMixin:
    """Adds kernel / input / output quantizers to a stock Keras layer.

    Subclasses list their kernels in ``_kernels``: attribute name → (quantizer attribute, channel axes).
    During ``call`` each kernel attribute temporarily holds the quantized kernel, so the stock layer's
    own ``call`` (convolution, bias, activation) runs unchanged.
    """

    _kernels: dict[str, tuple[str, tuple[int, ...]]] = {"kernel": ("kernel_quantizer", (-1,))}

    def __init__(
        self,
        *args: Any,
        kernel_quantizer: qz.QuantizerLike = None,
        input_quantizer: qz.QuantizerLike = None,
        output_quantizer: qz.QuantizerLike = None,
        **kwargs: Any,
    ) -> None:
        own = {qattr for qattr, _ in self._kernels.values()} - {"kernel_quantizer"}
        explicit = {name: kwargs.pop(name, None) for name in own}
        super().__init__(*args, **kwargs)
        for qattr, axes in self._kernels.values():
            chosen = explicit.get(qattr)
            if chosen is None:
                chosen = kernel_quantizer
            setattr(self, qattr, _kernel_quantizer(chosen, axes, qattr))
        if own and "kernel_quantizer" not in {q for q, _ in self._kernels.values()}:
            # only the specific kernel quantizers are state; kernel_quantizer was their default
            self.kernel_quantizer = None
        self.input_quantizer = _tensor_quantizer(input_quantizer, "input_quantizer")
        self.output_quantizer = _tensor_quantizer(output_quantizer, "output_quantizer")

    # -- quantizers --------------------------------------------------------------------------------
    def kernel_quantizers(self) -> dict[str, qz.Quantizer]:
        """Kernel attribute name → its quantizer (only the quantized kernels)."""
        out = {}
        for attr, (qattr, _) in self._kernels.items():
            q = getattr(self, qattr)
            if q is not None:
                out[attr] = q
        return out

    def calibrate(self) -> None:
        """Freeze per-channel weight scales from the current kernels (after loading float weights)."""
        for attr, q in self.kernel_quantizers().items():
            if hasattr(q, "calibrate"):
                q.calibrate(getattr(self, attr))

    def quantized_kernels(self) -> dict[str, tf.Tensor]:
        """Kernel attribute name → the kernel as the layer uses it now (at the current λ)."""
        return {attr: q(getattr(self, attr), training=False) for attr, q in self.kernel_quantizers().items()}

    # -- Keras -------------------------------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        super().build(input_shape)  # type: ignore[misc]
        for attr, q in self.kernel_quantizers().items():
            kernel = getattr(self, attr)
            if not q.built:
                q.build(kernel.shape)
            if tf.executing_eagerly() and hasattr(q, "calibrate"):
                q.calibrate(kernel)
        for q in (self.input_quantizer, self.output_quantizer):
            if q is not None and not q.built:
                q.build(None)

    def call(self, inputs: Any, training: Any = None) -> Any:
        if self.input_quantizer is not None:
            inputs = self.input_quantizer(inputs, training=training)
        saved = {}
        try:
            for attr, q in self.kernel_quantizers().items():
                saved[attr] = getattr(self, attr)
                # bypass Keras attribute tracking: the variable stays tracked, only the value used changes
                object.__setattr__(self, attr, q(saved[attr], training=training))
            outputs = super().call(inputs)  # type: ignore[misc]
        finally:
            for attr, value in saved.items():
                object.__setattr__(self, attr, value)
        if self.output_quantizer is not None:
            outputs = self.output_quantizer(outputs, training=training)
        return outputs

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()  # type: ignore[misc]
        names = {"kernel_quantizer", "input_quantizer", "output_quantizer"}
        names |= {qattr for qattr, _ in self._kernels.values()}
        for name in sorted(names):
            q = getattr(self, name)
            config[name] = None if q is None else qz.serialize(q)
        return config


@keras.utils.register_keras_serializable(package="lpn")
class QConv2D(QuantizedLayerMixin, keras.layers.Conv2D):
    """``keras.layers.Conv2D`` with quantizers; kernel ``(kh, kw, C_in/groups, C_out)``, channel axis −1."""


@keras.utils.register_keras_serializable(package="lpn")
class QConv1D(QuantizedLayerMixin, keras.layers.Conv1D):
    """``keras.layers.Conv1D`` with quantizers; kernel ``(k, C_in, C_out)``, per-channel axis −1."""


@keras.utils.register_keras_serializable(package="lpn")
class QDense(QuantizedLayerMixin, keras.layers.Dense):
    """``keras.layers.Dense`` with quantizers; kernel ``(C_in, C_out)``, per-channel axis −1."""


@keras.utils.register_keras_serializable(package="lpn")
class QDepthwiseConv2D(QuantizedLayerMixin, keras.layers.DepthwiseConv2D):
    """``keras.layers.DepthwiseConv2D`` with quantizers; kernel ``(kh, kw, C_in, multiplier)``.

    Output channel ``c·multiplier + m`` has its own scale (channel axes 2 and 3, row-major).
    """

    _kernels = {"depthwise_kernel": ("kernel_quantizer", (2, 3))}


@keras.utils.register_keras_serializable(package="lpn")
class QSeparableConv2D(QuantizedLayerMixin, keras.layers.SeparableConv2D):
    """``keras.layers.SeparableConv2D`` with quantizers for its two kernels.

    Args:
        depthwise_quantizer: for the depthwise kernel ``(kh, kw, C_in, multiplier)`` (channel axes 2, 3);
            default: a copy of ``kernel_quantizer``.
        pointwise_quantizer: for the pointwise kernel ``(1, 1, C_in·multiplier, C_out)`` (axis −1);
            default: a copy of ``kernel_quantizer``.
    """

    _kernels = {
        "depthwise_kernel": ("depthwise_quantizer", (2, 3)),
        "pointwise_kernel": ("pointwise_quantizer", (-1,)),
    }


@keras.utils.register_keras_serializable(package="lpn")
class QuantizeTensor(keras.layers.Layer):
    """Identity that quantizes its input: the one quantization of an integer tensor of the deployed graph.

    Args:
        quantizer: the tensor's quantizer (per-tensor when its ``scale`` is unset).

    Shape: any, unchanged.
    """

    def __init__(self, quantizer: qz.QuantizerLike = "int8", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        q = _tensor_quantizer(quantizer, "quantizer")
        if q is None:
            raise ValueError(f"QuantizeTensor {self.name!r} needs a quantizer")
        self.quantizer = q

    def build(self, input_shape: Any) -> None:
        if not self.quantizer.built:
            self.quantizer.build(None)
        super().build(input_shape)

    def call(self, inputs: Any, training: Any = None) -> Any:
        return self.quantizer(inputs, training=training)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "quantizer": qz.serialize(self.quantizer)}


custom_objects: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        QConv1D,
        QConv2D,
        QDense,
        QDepthwiseConv2D,
        QSeparableConv2D,
        QuantizeTensor,
        qz.Shift,
        qz.Uniform,
        qz.AffineQuantizer,
        qz.SymmetricQuantizer,
    )
}
"""Name → class of every lpn layer and quantizer, for ``keras.models.load_model(..., custom_objects=...)``."""
