"""PikeLPN (papers.md §2): QuantNorm, Double Quantization of scales, and the DHQ configuration.

* :func:`double_quantize` — fake-quantizes a real multiplier to ``mantissa · 2^-k`` (signed
  ``mantissa_bits``-bit mantissa, per-element shift ``k``) or to a pure power of two, with the same
  encoding as :func:`lpn_tf.export.fixed_point.double_quantize` / ``power_of_two`` (tested against them).
* :class:`QuantNorm` — batch normalization whose folded per-channel multiplier, merged with the scales
  of the preceding layer's accumulator and of the following activation, is ONE double-quantized
  requantization factor, and whose bias lies on the accumulator grid. Training statistics behave like
  ``keras.layers.BatchNormalization(fused=False)``. ReLU / ReLU6 become the output clamp.
* :class:`DHQ` — Distribution-Heterogeneous Quantization: independent quantizers for the depthwise and
  the pointwise half of separable convolutions / MobileNet depthwise→pointwise pairs.

Design notes and what is (not) known from the paper: ``docs/pikelpn.md``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from lpn_tf import layers as ql
from lpn_tf import quantizers as qz
from lpn_tf._keras import keras, tf

__all__ = [
    "DHQ",
    "QuantNorm",
    "QuantNormParams",
    "double_quantize",
    "round_half_away",
    "tensor_integer_scale",
    "weight_integer_scale",
]

ACTIVATIONS = ("linear", "relu", "relu6")
INT32_MAX = 2**31 - 1


# ------------------------------------------------------------------------------------------------
# Double quantization
# ------------------------------------------------------------------------------------------------


def round_half_away(x: tf.Tensor) -> tf.Tensor:
    """Round half away from zero (C ``round``; what :func:`export.fixed_point.tflite_round` does)."""
    return tf.sign(x) * tf.floor(tf.abs(x) + 0.5)


def double_quantize(
    multiplier: Any, mantissa_bits: int | None = 8, power_of_two: bool = False, max_shift: int = 47
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Fake-quantize real multipliers to ``mantissa · 2^-shift`` (no gradient; see :class:`QuantNorm`).

    Args:
        multiplier: float32 tensor of real multipliers (any shape; may be negative).
        mantissa_bits: width ``m`` of the signed mantissa (2 … 16): ``|mantissa| ≤ 2^(m−1) − 1`` with
            the largest ``shift ≤ max_shift`` that keeps it in range (as ``fixed_point.double_quantize``);
            ``None`` = no quantization (``mantissa`` is then the multiplier itself and ``shift`` 0).
        power_of_two: a pure shift instead: ``mantissa = ±1``, ``shift = −round(log2 |M|)``, clipped to
            ``[0, max_shift]`` (as ``fixed_point.power_of_two``).
        max_shift: the largest right shift.

    Returns:
        ``(quantized, mantissa, shift)`` float32 tensors of the input's shape, ``quantized = mantissa ·
        2^-shift`` exactly. A multiplier too large for the mantissa at shift 0 saturates the mantissa
        (:meth:`QuantNorm.integer_params` refuses it).
    """
    m = tf.convert_to_tensor(multiplier, tf.float32)
    if mantissa_bits is None and not power_of_two:
        return m, m, tf.zeros_like(m)
    a = tf.abs(m)
    safe = tf.where(a > 0, a, tf.ones_like(a))
    log2 = tf.math.log(safe) / math.log(2.0)
    if power_of_two:
        shift = tf.clip_by_value(-tf.round(log2), 0.0, float(max_shift))
        mant = tf.where(m < 0, -tf.ones_like(m), tf.ones_like(m))
    else:
        if not 2 <= int(mantissa_bits) <= 16:
            raise ValueError(f"mantissa_bits must be in [2, 16] or None, got {mantissa_bits}")
        limit = float(2 ** (int(mantissa_bits) - 1) - 1)
        # start one above the log2 estimate, then step down while the rounded mantissa is too large:
        # exact (the estimate is off by at most one; round(a·2^k) is monotone in k)
        shift = tf.clip_by_value(float(mantissa_bits) - 1.0 - tf.floor(log2), 0.0, float(max_shift))
        for _ in range(4):
            too_big = tf.logical_and(round_half_away(safe * tf.pow(2.0, shift)) > limit, shift > 0)
            shift = tf.where(too_big, shift - 1.0, shift)
        mag = tf.minimum(round_half_away(safe * tf.pow(2.0, shift)), limit)
        mant = tf.sign(m) * mag
    mant = tf.where(a > 0, mant, tf.zeros_like(m))
    shift = tf.where(a > 0, shift, tf.zeros_like(m))
    return mant * tf.pow(2.0, -shift), mant, shift


def _ste(x: tf.Tensor, q: tf.Tensor) -> tf.Tensor:
    """``q`` in the forward pass, the identity gradient to ``x`` (straight-through)."""
    return x + tf.stop_gradient(q - x)


# ------------------------------------------------------------------------------------------------
# integer scales of lpn quantizers, as tensors (they move during training)
# ------------------------------------------------------------------------------------------------


def tensor_integer_scale(q: qz.Quantizer) -> tf.Tensor:
    """Real value of one integer step of a per-tensor activation quantizer (scalar float32 tensor).

    λ-blend quantizers: ``s · 2^-unit`` (the IntegerSpec scale, see docs/qat.md); affine: ``(max − min)
    / (2^bits − 1)`` (the nudged scale of ``fake_quant_with_min_max_vars``).
    """
    if isinstance(q, qz.AffineQuantizer):
        levels = float(2**q.bits - 1 - (1 if q.narrow_range else 0))
        return (tf.convert_to_tensor(q._state["max"]) - tf.convert_to_tensor(q._state["min"])) / levels
    if isinstance(q, qz.Shift | qz.Uniform) and q.effective_scale == "per_tensor":
        return tf.convert_to_tensor(q._state["scale"]) * (2.0**-q._int_unit_log2)
    raise ValueError(f"quantizer {q.name!r} ({type(q).__name__}) has no per-tensor integer scale")


def weight_integer_scale(q: qz.Quantizer, kernel: Any) -> tf.Tensor:
    """Per-output-channel real value of one integer weight step, flattened row-major ``(C,)``.

    Shift/Uniform per-channel: ``α_c · 2^-unit`` (frozen α_c); SymmetricQuantizer: ``max|w_c| / qmax``.
    """
    if isinstance(q, qz.SymmetricQuantizer):
        w = tf.stop_gradient(tf.convert_to_tensor(kernel, tf.float32))
        rank = w.shape.rank
        channel = {a % rank for a in q.channel_axes}
        axes = [a for a in range(rank) if a not in channel]
        qmax = float(2 ** (q.bits - 1) - 1)
        return tf.reshape(tf.maximum(tf.reduce_max(tf.abs(w), axis=axes), 1e-8) / qmax, [-1])
    if isinstance(q, qz.Shift | qz.Uniform) and q.effective_scale == "per_channel":
        return tf.reshape(tf.convert_to_tensor(q._state["alpha"]), [-1]) * (2.0**-q._int_unit_log2)
    raise ValueError(f"quantizer {q.name!r} ({type(q).__name__}) has no per-channel integer weight scale")


def _inbound(layer: Any) -> Any | None:
    nodes = getattr(layer, "_inbound_nodes", [])
    if len(nodes) != 1:
        return None
    inbound = nodes[0].inbound_layers
    if isinstance(inbound, list | tuple):
        return inbound[0] if len(inbound) == 1 else None
    return inbound


def _outbound(layer: Any) -> Any | None:
    nodes = getattr(layer, "_outbound_nodes", [])
    return nodes[0].outbound_layer if len(nodes) == 1 else None


_PASS_THROUGH = (
    keras.layers.Flatten,
    keras.layers.Reshape,
    keras.layers.Dropout,
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.ZeroPadding1D,
    keras.layers.ZeroPadding2D,
    keras.layers.ReLU,
    keras.layers.Activation,
)


def _input_quantizer(weighted: Any) -> qz.Quantizer | None:
    """The quantizer of the integer tensor a weighted layer reads (own input quantizer, or the nearest
    QuantizeTensor upstream through layers that keep their input's quantization)."""
    if weighted.input_quantizer is not None:
        return weighted.input_quantizer
    return _upstream_quantizer(_inbound(weighted))


def _main_kernel(weighted: Any) -> tuple[qz.Quantizer | None, Any]:
    for attr in ("pointwise_kernel", "kernel", "depthwise_kernel"):
        q = weighted.kernel_quantizers().get(attr)
        if q is not None:
            return q, getattr(weighted, attr)
    return None, None


# ------------------------------------------------------------------------------------------------
# QuantNorm
# ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class QuantNormParams:
    """The integer requantization of ``producer → QuantNorm → output tensor`` (inference statistics).

    On the device: ``y = clamp(((acc + bias) · mantissa + 2^(shift−1)) >> shift + zp_out, act_min,
    act_max)`` with ``acc`` the producer's int32 accumulator (``Σ w_int · (x_int − zp_in)``, no bias);
    the fused LPN requantization of the producer (docs/custom-ops.md).

    Attributes:
        mantissa: int32 ``(C,)``, ``|mantissa| ≤ 2^(mantissa_bits−1) − 1`` (``±1`` for power-of-two).
        shift: int32 ``(C,)`` right shifts in ``[0, max_shift]``.
        bias: int32 ``(C,)`` on the accumulator grid (producer's bias folded in).
        multiplier: float64 ``(C,)`` ``mantissa · 2^-shift`` (exactly representable).
        accumulator_scale: float32 ``(C,)`` real value of one accumulator step ``s_in · s_w,c``.
        output_scale: float32 real value of one output integer step (unit of ``zp_out`` grid).
        activation: ``"linear"``, ``"relu"`` or ``"relu6"`` (relu6: ``act_max`` from
            ``round(6 / output_scale)``; the lowering adds ``zp_out`` and intersects with int8).
        mantissa_bits: the declared mantissa width (None: power of two).
    """

    mantissa: np.ndarray
    shift: np.ndarray
    bias: np.ndarray
    multiplier: np.ndarray
    accumulator_scale: np.ndarray
    output_scale: float
    activation: str
    mantissa_bits: int | None


@keras.utils.register_keras_serializable(package="lpn")
class QuantNorm(keras.layers.Layer):
    """Batch norm fused with the requantization of the preceding layer, double-quantized (PikeLPN).

    Forward (per channel ``c``; ``x`` is the producer's output, ``x = s_acc,c · acc``):

    * statistics: training → batch mean/variance (biased) and moving averages updated like
      ``BatchNormalization(fused=False)``; inference → moving averages;
    * fold: ``m_c = γ_c / √(σ²_c + ε)``, ``b_c = β_c − m_c·μ_c + m_c·bias_c`` (producer bias);
    * requantization factor ``M_c = m_c · s_acc,c / s_out``, double-quantized: ``M̂_c = mant_c · 2^-k_c``;
    * bias on the accumulator grid: ``B_c = round(b_c / (M̂_c · s_out))`` (int32);
    * ``y = s_out · M̂_c · (acc + B_c)``, then the activation clamp. The following quantizer rounds
      ``y`` to its grid. Gradients pass straight through both roundings.

    ``s_acc,c = s_in · s_w,c`` and ``s_out`` are read, at every call, from the lpn quantizers around the
    layer: the producer (QConv2D/QDepthwiseConv2D/QDense/QConv1D — not QSeparableConv2D, whose inner
    tensor is not quantized: use explicit depthwise/pointwise pairs; its kernel quantizer
    and the quantizer of its input tensor) and the QuantizeTensor consuming the output. Without those
    links (a QuantNorm used on its own), ``accumulator_scale`` / ``output_scale`` are used; an unset
    ``accumulator_scale`` leaves the bias unquantized, an unset ``output_scale`` means 1.

    Args:
        mantissa_bits: width of the requantization mantissa (2 … 16); ``None`` = float (exact BN).
        power_of_two: pure-shift requantization (``M̂ = 2^-k``).
        max_shift: largest right shift ``k``.
        quantize_bias: put ``b_c`` on the accumulator grid (needs an accumulator scale).
        activation: ``"linear"``, ``"relu"`` or ``"relu6"`` — integer clamps on the device.
        accumulator_scale, output_scale: fallback scales (floats) when not linked.
        axis, momentum, epsilon, center, scale, *_initializer: as ``BatchNormalization`` (``axis`` must
            be the last axis).

    Shape: ``(batch, …, C) → (batch, …, C)``. Weights: ``gamma, beta, moving_mean, moving_variance``
    (the order of ``BatchNormalization``, so ``set_weights(bn.get_weights())`` copies a BN).
    """

    def __init__(
        self,
        mantissa_bits: int | None = 8,
        power_of_two: bool = False,
        max_shift: int = 47,
        quantize_bias: bool = True,
        activation: str = "linear",
        accumulator_scale: float | None = None,
        output_scale: float | None = None,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if activation not in ACTIVATIONS:
            raise ValueError(f"QuantNorm {self.name!r}: activation must be one of {ACTIVATIONS}")
        if axis not in (-1,):
            raise ValueError(f"QuantNorm {self.name!r}: only axis=-1 (channels last) is supported")
        if mantissa_bits is not None and not 2 <= int(mantissa_bits) <= 16:
            raise ValueError(f"QuantNorm {self.name!r}: mantissa_bits must be in [2, 16] or None")
        self.mantissa_bits = None if mantissa_bits is None else int(mantissa_bits)
        self.power_of_two = bool(power_of_two)
        self.max_shift = int(max_shift)
        self.quantize_bias = bool(quantize_bias)
        self.activation = activation
        self.accumulator_scale = None if accumulator_scale is None else float(accumulator_scale)
        self.output_scale = None if output_scale is None else float(output_scale)
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self._init = {
            "beta_initializer": keras.initializers.get(beta_initializer),
            "gamma_initializer": keras.initializers.get(gamma_initializer),
            "moving_mean_initializer": keras.initializers.get(moving_mean_initializer),
            "moving_variance_initializer": keras.initializers.get(moving_variance_initializer),
        }

    @classmethod
    def from_batch_norm(cls, bn: Any, **kwargs: Any) -> QuantNorm:
        """A QuantNorm with the configuration of a ``BatchNormalization`` (weights copied if built)."""
        cfg = bn.get_config()
        axis = cfg["axis"]
        axis = axis[0] if isinstance(axis, list | tuple) else axis
        ndim = getattr(getattr(bn, "input_spec", None), "ndim", None)
        if axis != -1 and not (ndim is not None and axis == ndim - 1):
            raise ValueError(f"BatchNormalization {bn.name!r}: axis {axis} is not the channel axis")
        kwargs.setdefault("name", bn.name)
        return cls(
            momentum=cfg["momentum"],
            epsilon=cfg["epsilon"],
            center=cfg["center"],
            scale=cfg["scale"],
            **kwargs,
        )

    def build(self, input_shape: Any) -> None:
        channels = int(tf.TensorShape(input_shape)[-1])
        shape = (channels,)
        self.gamma = (
            self.add_weight(name="gamma", shape=shape, initializer=self._init["gamma_initializer"])
            if self.scale
            else None
        )
        self.beta = (
            self.add_weight(name="beta", shape=shape, initializer=self._init["beta_initializer"])
            if self.center
            else None
        )
        mean = tf.VariableAggregation.MEAN
        self.moving_mean = self.add_weight(
            name="moving_mean",
            shape=shape,
            initializer=self._init["moving_mean_initializer"],
            trainable=False,
            aggregation=mean,
        )
        self.moving_variance = self.add_weight(
            name="moving_variance",
            shape=shape,
            initializer=self._init["moving_variance_initializer"],
            trainable=False,
            aggregation=mean,
        )
        super().build(input_shape)

    # -- links to the surrounding quantizers ---------------------------------------------------------
    def producer(self) -> Any | None:
        """The lpn quantized layer whose accumulator this QuantNorm requantizes, or None."""
        layer = _inbound(self)
        if isinstance(layer, ql.QSeparableConv2D):
            # its depthwise→pointwise intermediate tensor is not quantized in QAT, so its accumulator
            # scale on the device is unknown here: use explicit DepthwiseConv2D / 1×1 Conv2D pairs
            return None
        return layer if isinstance(layer, ql.QuantizedLayerMixin) else None

    def output_quantizer(self) -> qz.Quantizer | None:
        """The quantizer of the output tensor (a QuantizeTensor consuming this layer, possibly through a
        ReLU/Activation), or None."""
        return _downstream_quantizer(self)

    def _scales(self, channels: int) -> tuple[tf.Tensor | None, tf.Tensor, tf.Tensor]:
        """``(s_acc (C,) or None, s_out scalar, producer bias (C,))`` as tensors (no gradient)."""
        acc = None if self.accumulator_scale is None else tf.fill([channels], self.accumulator_scale)
        out = tf.constant(1.0 if self.output_scale is None else self.output_scale)
        bias = tf.zeros([channels])
        prod = self.producer()
        if prod is not None:
            wq, kernel = _main_kernel(prod)
            iq = _input_quantizer(prod)
            if wq is not None and iq is not None:
                acc = tf.reshape(weight_integer_scale(wq, kernel) * tensor_integer_scale(iq), [channels])
            if getattr(prod, "use_bias", False) and prod.bias is not None:
                bias = tf.convert_to_tensor(prod.bias)
        oq = self.output_quantizer()
        if oq is not None:
            out = tensor_integer_scale(oq)
        stop = tf.stop_gradient
        return (None if acc is None else stop(tf.cast(acc, tf.float32))), stop(out), bias

    def _fold(self, mean: tf.Tensor, var: tf.Tensor, channels: int) -> dict[str, tf.Tensor]:
        gamma = self.gamma if self.gamma is not None else tf.ones([channels])
        beta = self.beta if self.beta is not None else tf.zeros([channels])
        m = gamma * tf.math.rsqrt(var + self.epsilon)
        acc, out, pbias = self._scales(channels)
        b = beta - m * mean + m * pbias
        unit = acc if acc is not None else tf.ones([channels])
        big_m = m * unit / out
        q, mant, shift = double_quantize(big_m, self.mantissa_bits, self.power_of_two, self.max_shift)
        big_m_hat = _ste(big_m, q)
        m_hat = big_m_hat * out / unit
        result = {"m": m, "m_hat": m_hat, "mant": mant, "shift": shift, "out": out, "pbias": pbias}
        if acc is not None and self.quantize_bias:
            safe = tf.where(tf.abs(m_hat) > 0, m_hat, tf.ones_like(m_hat))
            b_acc = b / (safe * acc)
            b_int = tf.clip_by_value(round_half_away(b_acc), -float(INT32_MAX), float(INT32_MAX))
            result["bias_int"] = tf.stop_gradient(b_int)
            result["b_hat"] = _ste(b_acc, b_int) * m_hat * acc
        else:
            result["b_hat"] = b
        result["acc"] = unit
        return result

    def call(self, inputs: Any, training: Any = None) -> Any:
        x = tf.cast(inputs, tf.float32)
        channels = int(x.shape[-1])
        axes = list(range(x.shape.rank - 1))
        if training is None:
            training = keras.backend.learning_phase()

        def train_stats() -> tuple[tf.Tensor, tf.Tensor]:
            mean, var = tf.nn.moments(x, axes)
            mom = self.momentum
            upd = [
                self.moving_mean.assign(self.moving_mean * mom + tf.stop_gradient(mean) * (1.0 - mom)),
                self.moving_variance.assign(self.moving_variance * mom + tf.stop_gradient(var) * (1.0 - mom)),
            ]
            with tf.control_dependencies(upd):
                return tf.identity(mean), tf.identity(var)

        def infer_stats() -> tuple[tf.Tensor, tf.Tensor]:
            return tf.convert_to_tensor(self.moving_mean), tf.convert_to_tensor(self.moving_variance)

        mean, var = qz._smart_cond(training, train_stats, infer_stats)
        f = self._fold(mean, var, channels)
        y = f["m_hat"] * (x - f["pbias"]) + f["b_hat"]
        if self.activation == "relu":
            y = tf.nn.relu(y)
        elif self.activation == "relu6":
            y = tf.clip_by_value(y, 0.0, 6.0)
        return tf.cast(y, inputs.dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    # -- integer form ---------------------------------------------------------------------------------
    def integer_params(self) -> QuantNormParams:
        """The per-channel mantissa, shift and int32 bias of the fused integer requantization (moving
        statistics, eager). The same TF computation as the forward pass, so the QAT model and the
        exported model agree.

        Raises:
            ValueError: naming this layer when it is not linked to an lpn producer and output quantizer
                (and no fallback ``accumulator_scale``), or a mantissa saturated / bias not on the grid.
        """
        if not self.built:
            raise ValueError(f"QuantNorm {self.name!r}: not built")
        channels = int(self.moving_mean.shape[0])
        f = self._fold(
            tf.convert_to_tensor(self.moving_mean), tf.convert_to_tensor(self.moving_variance), channels
        )
        if "bias_int" not in f:
            raise ValueError(
                f"QuantNorm {self.name!r}: no accumulator scale (not after an lpn QConv2D/QDepthwiseConv2D/"
                "QDense with quantized input, and no accumulator_scale): the bias cannot be put on the "
                "accumulator grid"
            )
        mant = f["mant"].numpy()
        if self.mantissa_bits is None and not self.power_of_two:
            raise ValueError(f"QuantNorm {self.name!r}: mantissa_bits=None is a float QuantNorm")
        if self.mantissa_bits is not None and not self.power_of_two:
            limit = 2 ** (self.mantissa_bits - 1) - 1
            big = f["m"].numpy() * f["acc"].numpy() / f["out"].numpy()
            bad = np.nonzero((np.abs(mant) >= limit) & (f["shift"].numpy() == 0) & (np.abs(big) > limit))[0]
            if bad.size:
                raise ValueError(
                    f"QuantNorm {self.name!r}: channel {int(bad[0])}: multiplier {float(big[bad[0]])!r} "
                    f"exceeds the {self.mantissa_bits}-bit mantissa at shift 0"
                )
        shift = f["shift"].numpy().astype(np.int32)
        return QuantNormParams(
            mantissa=mant.astype(np.int32),
            shift=shift,
            bias=f["bias_int"].numpy().astype(np.int32),
            multiplier=mant.astype(np.float64) * np.exp2(-shift.astype(np.float64)),
            accumulator_scale=f["acc"].numpy().astype(np.float32),
            output_scale=float(f["out"].numpy()),
            activation=self.activation,
            mantissa_bits=None if self.power_of_two else self.mantissa_bits,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            mantissa_bits=self.mantissa_bits,
            power_of_two=self.power_of_two,
            max_shift=self.max_shift,
            quantize_bias=self.quantize_bias,
            activation=self.activation,
            accumulator_scale=self.accumulator_scale,
            output_scale=self.output_scale,
            axis=self.axis,
            momentum=self.momentum,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            **{k: keras.initializers.serialize(v) for k, v in self._init.items()},
        )
        return config


# ------------------------------------------------------------------------------------------------
# DHQ
# ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DHQ:
    """Distribution-Heterogeneous Quantization: independent quantizers for the two halves of separable
    convolutions (a hyperparameter; the paper does not publish its choice, see docs/pikelpn.md).

    Attributes:
        depthwise: quantizer of depthwise kernels (few taps per channel, widely varying per-channel
            ranges): default 8-bit per-channel symmetric uniform (``int8_weight``: −127…127, which the
            exporter stores as int8; ``uniform8``'s ±128 does not fit int8).
        pointwise: quantizer of pointwise (1×1) and other conv/dense kernels: default ``shift3``.
    """

    depthwise: qz.QuantizerLike = "int8_weight"
    pointwise: qz.QuantizerLike = "shift3"

    def separable_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :class:`lpn_tf.layers.QSeparableConv2D`."""
        return {
            "depthwise_quantizer": qz.clone(self.depthwise),
            "pointwise_quantizer": qz.clone(self.pointwise),
        }

    def scheme_changes(self) -> dict[str, Any]:
        """``Scheme`` fields (``weights``, ``depthwise_weights``) implementing this configuration."""
        return {"weights": self.pointwise, "depthwise_weights": self.depthwise}


def channel_range_stats(kernel: Any, channel_axes: tuple[int, ...] = (-1,)) -> dict[str, np.ndarray]:
    """Per-output-channel weight statistics of a kernel (the DHQ distribution-mismatch evidence).

    Returns ``{"range": max−min, "absmax", "std", "kurtosis"}``, each ``(C,)`` float64 (C flattened
    row-major over ``channel_axes``).
    """
    w = np.asarray(kernel, np.float64)
    rank = w.ndim
    channel = sorted(a % rank for a in channel_axes)
    other = [a for a in range(rank) if a not in channel]
    w = np.transpose(w, other + channel).reshape(int(np.prod([w.shape[a] for a in other])), -1)
    mu = w.mean(axis=0)
    sd = w.std(axis=0)
    kurt = ((w - mu) ** 4).mean(axis=0) / np.maximum(sd, 1e-12) ** 4
    return {
        "range": w.max(axis=0) - w.min(axis=0),
        "absmax": np.abs(w).max(axis=0),
        "std": sd,
        "kurtosis": kurt,
    }


__all__ += ["channel_range_stats"]


# ------------------------------------------------------------------------------------------------
# ACEv2: how a QuantNorm is priced
# ------------------------------------------------------------------------------------------------


def _register_ace_counter() -> None:
    """Register the ACEv2 counter of QuantNorm (:mod:`lpn_tf.ace.registry`).

    After an lpn weighted layer the QuantNorm *is* that layer's requantization (already priced in its
    row with ``mantissa_bits``-wide multipliers): a free row. Elsewhere it is an LPN_QUANT_NORM op: an
    accumulator-width add and one requantization per element (:func:`lpn_tf.ace.ops.batch_norm`).
    """
    from lpn_tf.ace import keras_adapter, lpn_adapter, ops
    from lpn_tf.ace.registry import LayerInfo, register_layer

    @register_layer("QuantNorm")
    def count_quant_norm(info: LayerInfo) -> list[ops.OpCount]:
        layer = info.layer
        prod = _inbound(layer)
        if isinstance(prod, ql.QuantizedLayerMixin):
            return [
                ops.OpCount(
                    info.name,
                    "quant_norm",
                    info.numerics.arith,
                    input_shape=info.input_shape,
                    output_shape=info.output_shape,
                    note=f"fused into {prod.name}",
                )
            ]
        bits = lpn_adapter.input_bits(layer)
        num = ops.Numerics.integer(8, bits, lpn_adapter.ACCUMULATOR_BITS, _scale_bits(layer))
        return [ops.batch_norm(info.name, num, info.output_shape, kind="quant_norm")]

    def with_dq_scale(counter: Any) -> Any:
        def count(info: LayerInfo) -> list[ops.OpCount]:
            num = dataclasses.replace(info.numerics, bits_scale=_scale_bits(info.layer))
            return counter(dataclasses.replace(info, numerics=num))

        return count

    register_layer("QuantAdd")(with_dq_scale(keras_adapter.count_add))
    register_layer("QuantAveragePooling2D")(with_dq_scale(keras_adapter.count_pool))
    register_layer("QuantGlobalAveragePooling2D")(with_dq_scale(keras_adapter.count_global_pool))


def _scale_bits(layer: Any) -> int:
    """Width of a PikeLPN layer's requantization multipliers as ACEv2 prices them (power of two: 1)."""
    return 1 if layer.power_of_two else (layer.mantissa_bits or 32)


# ------------------------------------------------------------------------------------------------
# rescaling ops: residual add and average pooling with double-quantized multipliers
# ------------------------------------------------------------------------------------------------


def _upstream_quantizer(layer: Any) -> qz.Quantizer | None:
    """The quantizer of the integer tensor ``layer`` is (a QuantizeTensor, possibly behind layers that
    keep their input's quantization), or None."""
    current = layer
    for _ in range(64):
        if current is None:
            return None
        if isinstance(current, ql.QuantizeTensor):
            return current.quantizer
        if not isinstance(current, _PASS_THROUGH):
            return None
        current = _inbound(current)
    return None


def _downstream_quantizer(layer: Any) -> qz.Quantizer | None:
    current = _outbound(layer)
    for _ in range(4):
        if current is None:
            return None
        if isinstance(current, ql.QuantizeTensor):
            return current.quantizer
        if not isinstance(current, keras.layers.ReLU | keras.layers.Activation):
            return None
        current = _outbound(current)
    return None


@dataclasses.dataclass(frozen=True)
class RescaleParams:
    """Integer rescaling of a QuantAdd / QuantAveragePooling: per input ``i`` the output integer is
    ``Σ_i ((x_i − zp_i) · mantissa[i] + 2^(shift[i]−1)) >> shift[i]`` (the LPN requantization per
    input, then added; pooling: of the window sum), plus ``zp_out``.

    Attributes:
        mantissa, shift: int32 ``(n_inputs,)``.
        multiplier: float64 ``(n_inputs,)`` = ``mantissa · 2^-shift`` (exact).
        real_multiplier: float64 ``(n_inputs,)`` before double quantization (``c · s_i / s_out``).
        mantissa_bits: declared width (None: power of two).
    """

    mantissa: np.ndarray
    shift: np.ndarray
    multiplier: np.ndarray
    real_multiplier: np.ndarray
    mantissa_bits: int | None


class _RescaleMixin:
    """Multiplies each input by ``M̂_i / M_i``: the effect of double-quantizing the integer rescaling
    multipliers ``M_i = c · s_i / s_out`` (``s_i`` input scales, ``s_out`` the output scale, ``c`` the
    op's constant factor, e.g. 1/N for averaging) so that training sees them. Without links to lpn
    quantizers on every input and the output, the layer is its stock self."""

    def _init_dq(self, mantissa_bits: int | None, power_of_two: bool, max_shift: int) -> None:
        if mantissa_bits is not None and not 2 <= int(mantissa_bits) <= 16:
            raise ValueError(f"layer {self.name!r}: mantissa_bits must be in [2, 16] or None")  # type: ignore[attr-defined]
        self.mantissa_bits = None if mantissa_bits is None else int(mantissa_bits)
        self.power_of_two = bool(power_of_two)
        self.max_shift = int(max_shift)

    def _dq_config(self) -> dict[str, Any]:
        return {
            "mantissa_bits": self.mantissa_bits,
            "power_of_two": self.power_of_two,
            "max_shift": self.max_shift,
        }

    def _constant_factor(self) -> float:
        return 1.0

    def _input_layers(self) -> list[Any]:
        nodes = getattr(self, "_inbound_nodes", [])
        if len(nodes) != 1:
            return []
        inbound = nodes[0].inbound_layers
        return list(inbound) if isinstance(inbound, list | tuple) else [inbound]

    def _multipliers(self) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor] | None:
        """``(real M (n,), quantized, mantissa, shift)`` or None when not linked."""
        ins = [_upstream_quantizer(layer) for layer in self._input_layers()]
        out = _downstream_quantizer(self)
        if not ins or any(q is None for q in ins) or out is None:
            return None
        s_in = tf.stack([tensor_integer_scale(q) for q in ins])
        real = tf.stop_gradient(self._constant_factor() * s_in / tensor_integer_scale(out))
        q, mant, shift = double_quantize(real, self.mantissa_bits, self.power_of_two, self.max_shift)
        return real, q, mant, shift

    def _corrections(self) -> tf.Tensor | None:
        got = self._multipliers()
        if got is None:
            return None
        real, q, _, _ = got
        return q / real

    def integer_params(self) -> RescaleParams:
        """Mantissas and shifts of the integer rescaling (eager), as the forward pass uses them.

        Raises:
            ValueError: naming the layer when an input or the output is not an lpn-quantized tensor.
        """
        got = self._multipliers()
        if got is None:
            raise ValueError(
                f"layer {self.name!r}: inputs and output must be QuantizeTensor outputs (quantize_model)"  # type: ignore[attr-defined]
            )
        real, _, mant, shift = (t.numpy() for t in got)
        return RescaleParams(
            mantissa=mant.astype(np.int32),
            shift=shift.astype(np.int32),
            multiplier=mant.astype(np.float64) * np.exp2(-shift.astype(np.float64)),
            real_multiplier=real.astype(np.float64),
            mantissa_bits=None if self.power_of_two else self.mantissa_bits,
        )


@keras.utils.register_keras_serializable(package="lpn")
class QuantAdd(_RescaleMixin, keras.layers.Add):
    """Residual add whose per-input rescaling ``s_i / s_out`` is double-quantized (PikeLPN).

    Args:
        mantissa_bits, power_of_two, max_shift: as :func:`double_quantize`.

    Shape: a list of equal-shape tensors → that shape.
    """

    def __init__(
        self, mantissa_bits: int | None = 8, power_of_two: bool = False, max_shift: int = 47, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._init_dq(mantissa_bits, power_of_two, max_shift)

    def _merge_function(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        corr = self._corrections()
        if corr is None:
            return super()._merge_function(inputs)
        return tf.add_n([x * tf.cast(corr[i], x.dtype) for i, x in enumerate(inputs)])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._dq_config()}


@keras.utils.register_keras_serializable(package="lpn")
class QuantGlobalAveragePooling2D(_RescaleMixin, keras.layers.GlobalAveragePooling2D):
    """Global average pooling as on the device: an int32 window sum times the double-quantized
    ``s_in / (N · s_out)`` (N = H·W). Shape: ``(batch, H, W, C) → (batch, C)``."""

    def __init__(
        self, mantissa_bits: int | None = 8, power_of_two: bool = False, max_shift: int = 47, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._init_dq(mantissa_bits, power_of_two, max_shift)

    def _constant_factor(self) -> float:
        h, w = (int(d) for d in self.input_shape[1:3])  # channels last
        return 1.0 / (h * w)

    def call(self, inputs: Any) -> Any:
        y = super().call(inputs)
        corr = self._corrections()
        return y if corr is None else y * tf.cast(corr[0], y.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._dq_config()}


@keras.utils.register_keras_serializable(package="lpn")
class QuantAveragePooling2D(_RescaleMixin, keras.layers.AveragePooling2D):
    """Average pooling (``padding="valid"``) as on the device: window sum times the double-quantized
    ``s_in / (N · s_out)``, N = pool height·width. Shape as ``AveragePooling2D``."""

    def __init__(
        self, mantissa_bits: int | None = 8, power_of_two: bool = False, max_shift: int = 47, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if self.padding != "valid":
            raise ValueError(f"QuantAveragePooling2D {self.name!r}: only padding='valid' (equal windows)")
        self._init_dq(mantissa_bits, power_of_two, max_shift)

    def _constant_factor(self) -> float:
        return 1.0 / float(np.prod(self.pool_size))

    def call(self, inputs: Any) -> Any:
        y = super().call(inputs)
        corr = self._corrections()
        return y if corr is None else y * tf.cast(corr[0], y.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._dq_config()}


RESCALED: dict[type, type] = {
    keras.layers.Add: QuantAdd,
    keras.layers.GlobalAveragePooling2D: QuantGlobalAveragePooling2D,
    keras.layers.AveragePooling2D: QuantAveragePooling2D,
}
"""Stock Keras class → its PikeLPN rescaling version (used by ``quantize_model(..., "pikelpn")``)."""

custom_objects: dict[str, type] = {
    cls.__name__: cls for cls in (QuantNorm, QuantAdd, QuantGlobalAveragePooling2D, QuantAveragePooling2D)
}
"""Name → class of the PikeLPN layers, for ``keras.models.load_model(..., custom_objects=...)``."""

__all__ += ["QuantAdd", "QuantAveragePooling2D", "QuantGlobalAveragePooling2D", "RESCALED", "RescaleParams"]


_register_ace_counter()


# ------------------------------------------------------------------------------------------------
# lowering (export/lowering.py registry): QuantNorm folds into the pending conv it follows
# ------------------------------------------------------------------------------------------------


def _register_lowering() -> None:
    """Register the lowering of QuantNorm with ``lpn_tf.export.lowering`` (if the exporter is present).

    A QuantNorm after a conv/depthwise/dense (a ``Pending`` conv) folds into it as the per-channel affine
    map it applies at inference: scale ``m̂_c`` (the double-quantized multiplier divided by
    ``s_acc,c / s_out``) and offset ``b̂_c − m̂_c·bias_c`` (the accumulator-grid bias). The lowering then
    recomputes ``M = s_in·s_w,c·|m̂_c| / s_out`` = ``M̂_c`` (up to float32 rounding far below one
    mantissa step), so LPN ops get the same mantissa/shift and builtin ops (31-bit multipliers) the same
    value; the bias lands on the same integer. The clamp becomes the op's fused activation. Add / pools
    lower through their stock Keras base classes (builtin ops: 32-bit multipliers, not ``M̂``).
    """
    try:
        from lpn_tf.export import lowering as lw
    except ImportError:  # pragma: no cover - the exporter is part of lpn
        return

    fused = {"linear": None, "relu": "RELU", "relu6": "RELU6"}

    @lw.register_lowering(QuantNorm)
    def lower_quant_norm(ctx: Any, layer: QuantNorm, inputs: list[Any]) -> list[Any]:
        value = inputs[0]
        if not isinstance(value, lw.Pending):
            raise lw.LoweringError(
                f"layer {layer.name!r} (QuantNorm): only a QuantNorm right after a conv/depthwise/dense "
                "(whose requantization it is) can be lowered"
            )
        channels = int(layer.moving_mean.shape[0])
        f = layer._fold(
            tf.convert_to_tensor(layer.moving_mean), tf.convert_to_tensor(layer.moving_variance), channels
        )
        scale = f["m_hat"].numpy().astype(np.float64)
        offset = f["b_hat"].numpy().astype(np.float64) - scale * f["pbias"].numpy().astype(np.float64)
        folded = value.fold_affine(scale, offset, layer)
        if folded is None:
            raise lw.LoweringError(
                f"layer {layer.name!r} (QuantNorm) cannot fold into the output of {value.producer!r}"
            )
        act = fused[layer.activation]
        return [folded if act is None else folded.with_activation(act, layer)]

    from lpn_tf.export import lower_keras

    def lower_rescaled_pool(ctx: Any, layer: Any, inputs: list[Any]) -> list[Any]:
        try:
            params = layer.integer_params()
        except ValueError as err:
            raise lw.LoweringError(f"{lw.layer_label(layer)}: {err}") from None
        bits = 2 if layer.power_of_two else int(layer.mantissa_bits or 16)
        glob = isinstance(layer, QuantGlobalAveragePooling2D)
        m, k = int(params.mantissa[0]), int(params.shift[0])
        return lower_keras.lower_rescaled_pool(ctx, layer, inputs, m, k, bits, glob)

    lw.register_lowering(QuantGlobalAveragePooling2D, QuantAveragePooling2D)(lower_rescaled_pool)
    # a QuantAdd is the stock ADD: exact on int8 grids up to its 32-bit multipliers; refused (naming the
    # tensor) onto a sub-8-bit grid
    lw.register_lowering(QuantAdd)(lower_keras.lower_add)


_register_lowering()
