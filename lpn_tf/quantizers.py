"""Quantizers: small serializable objects with a declared bit width, a pure forward and an explicit gradient.

A quantizer is a Keras layer (so it owns its state variables and is saved with the model) whose
forward function is :meth:`Quantizer.quantize`. Two families live here:

* **λ-blend quantizers** (the shift-bit paper, ``papers.md`` §1): :class:`Shift` (power-of-two levels)
  and :class:`Uniform` (symmetric uniform levels, no zero). Both compute
  ``y = λ·x + (1−λ)·sgn(x)·L(|x|)`` on a normalised value, with ``sgn(0) = −1`` and a gradient given by
  ``tf.custom_gradient``: ``dy`` with gradient scaling (the paper's ``λ·dy / λ``), ``λ·dy`` without.
* **affine int8-style quantizers** with exactly the semantics of
  ``tf.quantization.fake_quant_with_min_max_vars``
  (the TFLite converter's): :class:`AffineQuantizer` (activations: zero point, moving-average min/max)
  and :class:`SymmetricQuantizer` (weights: per-channel, symmetric, narrow range, last value).

Every quantizer exposes its integer representation for lowering: :meth:`Quantizer.integer_spec`
(scale(s), zero point(s), allowed integer values) and :meth:`Quantizer.to_integer` (the integer values
of a tensor), with ``from_integer(to_integer(x)) == quantize(x)`` at λ = 0. ``docs/qat.md`` explains
the mapping of each quantizer to integers.

Aliases (``get("shift3")`` ≡ ``Shift(exponent_bits=2)``): ``shift2``…``shift5`` (1 sign + 1…4 exponent
bits), ``uniform2``…``uniform8``, ``int8`` (affine activations), ``int8_weight`` (symmetric weights).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lpn_tf._keras import keras, tf

__all__ = [
    "AffineQuantizer",
    "IntegerSpec",
    "Quantizer",
    "QuantizerLike",
    "Shift",
    "SymmetricQuantizer",
    "Uniform",
    "aliases",
    "clone",
    "get",
    "serialize",
]

LAMBDA_VARIABLE_NAME = "lpn_lambda"
"""Every λ variable's name contains this string; :func:`lpn_tf.set_lambda` finds λ by it."""

_EPS = 1e-8
_MEAN = tf.VariableAggregation.MEAN


@dataclasses.dataclass(frozen=True)
class IntegerSpec:
    """How a quantized tensor maps to integers: ``real = scale · (n − zero_point)``.

    Attributes:
        kind: quantizer family, ``"shift"``, ``"uniform"``, ``"affine"`` or ``"symmetric"``.
        bits: bits of information per value (the quantizer's ``precision``).
        scale: float32 array, one entry per channel (flattened channel axes, row-major) for per-channel
            quantizers, shape ``(1,)`` for per-tensor ones. Units: real value per integer step.
        zero_point: int32 array, same shape as ``scale``.
        qmin, qmax: range of the integer values ``n`` (inclusive).
        levels: sorted int32 array of the integer values ``n`` the quantizer can produce, or ``None``
            when every integer in ``[qmin, qmax]`` is possible.
        channel_axes: axes of the tensor that carry per-channel scales (``None`` for per-tensor).
        signed: whether negative real values are representable.
    """

    kind: str
    bits: int
    scale: np.ndarray
    zero_point: np.ndarray
    qmin: int
    qmax: int
    levels: np.ndarray | None
    channel_axes: tuple[int, ...] | None
    signed: bool


@dataclasses.dataclass(frozen=True)
class _StateSpec:
    shape: tuple[int, ...]
    initial: float


def _as_bool_training(training: Any) -> Any:
    if training is None:
        return False
    return training


def _smart_cond(pred: Any, true_fn: Any, false_fn: Any) -> Any:
    if isinstance(pred, bool | np.bool_):
        return true_fn() if pred else false_fn()
    static = tf.get_static_value(pred)
    if static is not None:
        return true_fn() if bool(static) else false_fn()
    return tf.cond(tf.cast(pred, tf.bool), true_fn, false_fn)


class Quantizer(keras.layers.Layer):
    """Base class: a Keras layer whose call is :meth:`quantize` with the layer's own state.

    Subclasses define :attr:`precision`, :meth:`state_spec`, :meth:`quantize`, :meth:`integer_spec`,
    :meth:`to_integer`. The state (λ, scales, moving ranges) is created by :meth:`build` from
    :meth:`state_spec`, so the same math can also run on state owned by someone else (the tfmot adapter).
    """

    #: axes of a weight tensor that index output channels; set by the quantized layer that owns it
    channel_axes: tuple[int, ...] = (-1,)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self._state: dict[str, tf.Variable] = {}

    # -- interface ---------------------------------------------------------------------------------
    @property
    def precision(self) -> int:
        """Bits per quantized value."""
        raise NotImplementedError

    def state_spec(self, shape: Sequence[int | None] | None) -> dict[str, _StateSpec]:
        """Variables this quantizer needs for a tensor of ``shape`` (name → shape and initial value)."""
        return {}

    def quantize(self, x: tf.Tensor, state: Mapping[str, Any], training: Any = False) -> tf.Tensor:
        """The forward function on ``x`` with the given state; may update moving statistics in training."""
        raise NotImplementedError

    def integer_spec(self, kernel: Any = None) -> IntegerSpec:
        """Scale(s), zero point(s) and allowed integer values of the quantized tensor (λ = 0).

        ``kernel`` is needed only by quantizers whose range is a function of the weights rather than
        state (:class:`SymmetricQuantizer`); the others ignore it.
        """
        raise NotImplementedError

    def to_integer(self, x: Any) -> np.ndarray:
        """Integer values ``n`` (int32, same shape as ``x``) of the λ = 0 quantization of ``x``."""
        raise NotImplementedError

    def from_integer(self, n: Any, kernel: Any = None) -> np.ndarray:
        """Real values (float32) of integer values ``n``: ``scale·(n − zero_point)``, per channel."""
        spec = self.integer_spec(kernel)
        n = np.asarray(n)
        scale, zp = self._broadcast_params(spec, n.shape)
        return (scale * (n.astype(np.float32) - zp.astype(np.float32))).astype(np.float32)

    # -- Keras plumbing ----------------------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        shape = None if input_shape is None else tf.TensorShape(input_shape)
        dims = None if shape is None or shape.rank is None else tuple(shape.as_list())
        for key, spec in self.state_spec(dims).items():
            self._state[key] = self.add_weight(
                name=key,
                shape=spec.shape,
                initializer=keras.initializers.Constant(spec.initial),
                trainable=False,
                aggregation=_MEAN,
            )
        super().build(input_shape)

    def call(self, inputs: tf.Tensor, training: Any = None) -> tf.Tensor:
        return self.quantize(inputs, self._state, _as_bool_training(training))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def _broadcast_params(self, spec: IntegerSpec, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        if spec.channel_axes is None:
            return spec.scale.reshape(()), spec.zero_point.reshape(())
        rank = len(shape)
        axes = sorted(a % rank for a in spec.channel_axes)
        bshape = [shape[a] if a in axes else 1 for a in range(rank)]
        return spec.scale.reshape(bshape), spec.zero_point.reshape(bshape)

    def _reduce_axes(self, rank: int) -> list[int]:
        channel = {a % rank for a in self.channel_axes}
        return [a for a in range(rank) if a not in channel]

    def _channel_shape(self, shape: Sequence[int | None] | None) -> tuple[int, ...]:
        if shape is None or any(d is None for d in shape):
            raise ValueError(
                f"quantizer {self.name!r}: per-channel state needs a fully known shape, got {shape}"
            )
        rank = len(shape)
        channel = {a % rank for a in self.channel_axes}
        return tuple(int(d) if a in channel else 1 for a, d in enumerate(shape))


# ------------------------------------------------------------------------------------------------
# λ-blend quantizers (shift-bit paper)
# ------------------------------------------------------------------------------------------------


def _sign(x: tf.Tensor) -> tf.Tensor:
    """sgn(x) with sgn(0) = −1 (no zero level)."""
    return tf.where(x > 0, tf.ones_like(x), -tf.ones_like(x))


def _pow2_ceil_clip(a: tf.Tensor, lowest_exponent: int) -> tf.Tensor:
    """``2 ** clip(ceil(log2 a), lowest_exponent, 0)`` for float32 ``a ≥ 0``, exactly (bit manipulation)."""
    bits = tf.bitcast(tf.cast(a, tf.float32), tf.int32)
    exponent = tf.bitwise.right_shift(bits, 23) - 127
    mantissa = tf.bitwise.bitwise_and(bits, 0x7FFFFF)
    k = exponent + tf.cast(tf.not_equal(mantissa, 0), tf.int32)
    k = tf.clip_by_value(k, lowest_exponent, 0)
    return tf.bitcast(tf.bitwise.left_shift(k + 127, 23), tf.float32)


def _np_ceil_log2(a: np.ndarray) -> np.ndarray:
    """``ceil(log2 a)`` for float32 ``a ≥ 0`` exactly (``−1000`` for 0), via ``frexp``."""
    m, e = np.frexp(a.astype(np.float32))
    k = np.where(m == 0.5, e - 1, e)
    return np.where(a == 0, -1000, k).astype(np.int64)


class _BlendQuantizer(Quantizer):
    """Shared machinery of :class:`Shift` and :class:`Uniform`: λ, scale handling, gradient.

    Args:
        gradient_scaling: divide the incoming gradient by λ (effective gradient = identity, the paper's
            λ-independence); without it the gradient is ``λ·dy``.
        scale: ``"none"`` (the bare function, levels in [−1, 1]), ``"per_channel"`` (weights: per output
            channel ``α_c = range_factor·σ_c`` and mean ``μ_c``, frozen by :meth:`calibrate`) or
            ``"per_tensor"`` (activations: ``s`` = moving average of a per-batch range, see
            ``range_statistic``).
            ``None`` lets the owning layer decide (kernel → per_channel, tensors → per_tensor); a
            quantizer used on its own with ``None`` behaves as ``"none"``.
        unsigned: for non-negative inputs (after ReLU): ``x ≤ 0 → 0``, ``x > 0 → L(x)``. For
            :class:`Uniform` this is ``relu(Q_signed(x))`` at λ = 0; :class:`Shift` also spends the
            sign's codes on more magnitudes (see :attr:`Shift.lowest_exponent`).
        center: per_channel only: subtract ``μ_c`` before quantizing (the paper's standardisation). The
            quantized weight is ``α_c·Q((w − μ_c)/α_c) + λ·μ_c``: the mean is blended out with λ, so
            λ = 1 is the float kernel and λ = 0 is purely ``±α_c·level`` (no weight zero point).
        range_factor: the 3 of ``α = 3σ``, and the factor of the per-tensor statistic. Default (``None``):
            1 for a per-tensor ``"max"`` statistic, else 3.
        range_statistic: per_tensor only: ``"max"`` (``s = range_factor·max|x|``, default) or ``"rms"``
            (``s = range_factor·RMS(x)``), per batch, then moving-averaged. On the benchmark nets
            (shift3 activations after ReLU) max·1 matched the best RMS factor tried (6) with no factor to
            tune (docs/qat.md, Benchmark).
        ema_decay: per_tensor only: moving-average decay of the scale; the first training batch sets it.
        initial_lambda: λ at creation (0 = hard quantizer; :class:`lpn_tf.LambdaSchedule` sets it).
    """

    _kind = "blend"

    def __init__(
        self,
        gradient_scaling: bool = True,
        scale: str | None = None,
        unsigned: bool = False,
        center: bool = True,
        range_factor: float | None = None,
        ema_decay: float = 0.99,
        initial_lambda: float = 0.0,
        range_statistic: str = "max",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if range_statistic not in ("rms", "max"):
            raise ValueError(f"range_statistic must be 'rms' or 'max', got {range_statistic!r}")
        self.range_statistic = range_statistic
        if scale not in (None, "none", "per_channel", "per_tensor"):
            raise ValueError(f"scale must be None, 'none', 'per_channel' or 'per_tensor', got {scale!r}")
        self.gradient_scaling = bool(gradient_scaling)
        self.scale = scale
        self.unsigned = bool(unsigned)
        self.center = bool(center)
        self.range_factor = None if range_factor is None else float(range_factor)
        self.ema_decay = float(ema_decay)
        self.initial_lambda = float(initial_lambda)

    # subclasses: level function on normalised magnitudes, and its integer form
    @property
    def _int_unit_log2(self) -> int:
        """Integer values are ``level · 2**_int_unit_log2``."""
        raise NotImplementedError

    def _level(self, a: tf.Tensor) -> tf.Tensor:
        """``L(a)`` for ``a ≥ 0`` (normalised magnitude), in (0, 1]."""
        raise NotImplementedError

    def _np_int_level(self, a: np.ndarray) -> np.ndarray:
        """``L(a)·2**_int_unit_log2`` as int64, computed independently in numpy."""
        raise NotImplementedError

    def _int_magnitudes(self) -> np.ndarray:
        raise NotImplementedError

    @property
    def effective_range_factor(self) -> float:
        """``range_factor`` with ``None`` resolved: 1 for a per-tensor max statistic, else 3."""
        if self.range_factor is not None:
            return self.range_factor
        return 1.0 if (self.effective_scale == "per_tensor" and self.range_statistic == "max") else 3.0

    @property
    def effective_scale(self) -> str:
        """``scale`` with ``None`` resolved to ``"none"``."""
        return self.scale or "none"

    # -- state -------------------------------------------------------------------------------------
    def state_spec(self, shape: Sequence[int | None] | None) -> dict[str, _StateSpec]:
        spec = {LAMBDA_VARIABLE_NAME: _StateSpec((), self.initial_lambda)}
        if self.effective_scale == "per_channel":
            cshape = self._channel_shape(shape)
            spec.update(
                mean=_StateSpec(cshape, 0.0), alpha=_StateSpec(cshape, 1.0), calibrated=_StateSpec((), 0.0)
            )
        elif self.effective_scale == "per_tensor":
            spec.update(scale=_StateSpec((), 1.0), count=_StateSpec((), 0.0))
        return spec

    def _channel_stats(self, w: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        axes = self._reduce_axes(w.shape.rank)
        w = tf.stop_gradient(tf.cast(w, tf.float32))
        mean = tf.reduce_mean(w, axis=axes, keepdims=True)
        centered = w - mean if self.center else w
        std = tf.sqrt(tf.reduce_mean(tf.square(centered), axis=axes, keepdims=True))
        return mean, tf.maximum(self.effective_range_factor * std, _EPS)

    def calibrate(self, kernel: Any) -> None:
        """Freeze ``μ_c`` and ``α_c = range_factor·σ_c`` from ``kernel`` (per_channel only; eager only)."""
        if self.effective_scale != "per_channel":
            return
        if not self.built:
            self.build(tf.TensorShape(np.shape(kernel)))
        mean, alpha = self._channel_stats(tf.convert_to_tensor(kernel, tf.float32))
        self._state["mean"].assign(mean)
        self._state["alpha"].assign(alpha)
        self._state["calibrated"].assign(1.0)

    # -- forward -----------------------------------------------------------------------------------
    def _blend(self, z: tf.Tensor, lam: tf.Tensor) -> tf.Tensor:
        scaling = self.gradient_scaling
        unsigned = self.unsigned

        @tf.custom_gradient
        def blend(z: tf.Tensor, lam: tf.Tensor) -> Any:
            if unsigned:
                q = tf.where(z > 0, self._level(tf.maximum(z, 0.0)), tf.zeros_like(z))
            else:
                q = _sign(z) * self._level(tf.abs(z))
            y = lam * z + (1.0 - lam) * q

            def grad(dy: tf.Tensor) -> tuple[tf.Tensor, None]:
                # ∂y/∂z = λ; gradient scaling divides by λ, so the effective gradient is the identity
                return (dy if scaling else lam * dy), None

            return y, grad

        return blend(z, lam)

    def _tensor_scale(self, x: tf.Tensor, state: Mapping[str, Any], training: Any) -> tf.Tensor:
        var, count = state["scale"], state["count"]

        def update() -> tf.Tensor:
            x32 = tf.stop_gradient(tf.cast(x, tf.float32))
            if self.range_statistic == "max":
                stat = tf.reduce_max(tf.abs(x32))
            else:
                stat = tf.sqrt(tf.reduce_mean(tf.square(x32)))
            batch = tf.maximum(self.effective_range_factor * stat, _EPS)
            decay = self.ema_decay
            new = tf.where(count > 0, decay * var + (1.0 - decay) * batch, batch)
            with tf.control_dependencies([var.assign(new), count.assign_add(1.0)]):
                return tf.identity(new)

        return _smart_cond(training, update, lambda: tf.convert_to_tensor(var))

    def quantize(self, x: tf.Tensor, state: Mapping[str, Any], training: Any = False) -> tf.Tensor:
        x = tf.convert_to_tensor(x)
        dtype = x.dtype
        x = tf.cast(x, tf.float32)
        lam = tf.cast(tf.convert_to_tensor(state[LAMBDA_VARIABLE_NAME]), tf.float32)
        mode = self.effective_scale
        if mode == "none":
            y = self._blend(x, lam)
        elif mode == "per_channel":
            live_mean, live_alpha = self._channel_stats(x)
            c = tf.convert_to_tensor(state["calibrated"])
            mean = c * state["mean"] + (1.0 - c) * live_mean
            alpha = c * state["alpha"] + (1.0 - c) * live_alpha
            if self.center:
                y = alpha * self._blend((x - mean) / alpha, lam) + lam * mean
            else:
                y = alpha * self._blend(x / alpha, lam)
        else:
            s = self._tensor_scale(x, state, training)
            y = s * self._blend(x / s, lam)
        return tf.cast(y, dtype)

    # -- integer representation --------------------------------------------------------------------
    def _unit_scale(self) -> np.ndarray:
        mode = self.effective_scale
        if mode == "none":
            base = np.ones((1,), np.float32)
        elif mode == "per_channel":
            self._require_calibrated()
            base = self._state["alpha"].numpy().reshape(-1)
        else:
            base = self._state["scale"].numpy().reshape(1)
        return (base * np.float32(2.0**-self._int_unit_log2)).astype(np.float32)

    def _require_calibrated(self) -> None:
        if not self.built or float(self._state["calibrated"].numpy()) != 1.0:
            raise ValueError(
                f"quantizer {self.name!r}: per-channel scale not calibrated (call calibrate(kernel))"
            )

    def integer_spec(self, kernel: Any = None) -> IntegerSpec:
        scale = self._unit_scale()
        mags = self._int_magnitudes()
        levels = np.concatenate([[0], mags]) if self.unsigned else np.concatenate([-mags[::-1], mags])
        return IntegerSpec(
            kind=self._kind,
            bits=self.precision,
            scale=scale,
            zero_point=np.zeros(scale.shape, np.int32),
            qmin=int(levels.min()),
            qmax=int(levels.max()),
            levels=levels.astype(np.int32),
            channel_axes=tuple(self.channel_axes) if self.effective_scale == "per_channel" else None,
            signed=not self.unsigned,
        )

    def _normalised(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        mode = self.effective_scale
        if mode == "none":
            return x
        if mode == "per_channel":
            self._require_calibrated()
            mean = self._state["mean"].numpy() if self.center else np.float32(0)
            alpha = self._state["alpha"].numpy()
            return ((x - mean) / alpha).astype(np.float32)
        return (x / self._state["scale"].numpy()).astype(np.float32)

    def to_integer(self, x: Any) -> np.ndarray:
        z = self._normalised(x)
        if self.unsigned:
            n = np.where(z > 0, self._np_int_level(np.maximum(z, 0)), 0)
        else:
            n = np.where(z > 0, 1, -1) * self._np_int_level(np.abs(z))
        return n.astype(np.int32)

    def to_codes(self, x: Any) -> np.ndarray:
        """Packed codes (uint8): ``(sign_bit << m) | index`` with ``index`` the magnitude index.

        For :class:`Shift`, ``m = exponent_bits`` and ``index = e`` with magnitude ``2**-e``; for
        :class:`Uniform`, ``m = bits − 1`` and ``index = k − 1`` with magnitude ``k / 2**(bits−1)``.
        ``sign_bit`` is 1 for negative values. Unsigned :class:`Shift`: code 0 is zero and code ``e + 1``
        is ``2**-e``. Unsigned :class:`Uniform` codes zero as sign bit 1 (the code of the smallest
        negative level, whose ReLU is 0), i.e. it uses the signed codebook.
        """
        n = self.to_integer(x).astype(np.int64)
        mags = self._int_magnitudes().astype(np.int64)
        if self.unsigned and isinstance(self, Shift):
            # zero is code 0, magnitude 2**-e is code e + 1
            return np.where(n == 0, 0, self._magnitude_index(np.maximum(n, 1)) + 1).astype(np.uint8)
        # unsigned zero behaves like the smallest negative level under ReLU
        neg = n <= 0
        mag = np.where(n == 0, mags[0], np.abs(n))
        index = self._magnitude_index(mag)
        return ((neg.astype(np.int64) << self._index_bits) | index).astype(np.uint8)

    @property
    def _index_bits(self) -> int:
        raise NotImplementedError

    def _magnitude_index(self, mag: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            gradient_scaling=self.gradient_scaling,
            scale=self.scale,
            unsigned=self.unsigned,
            center=self.center,
            range_factor=self.range_factor,
            ema_decay=self.ema_decay,
            initial_lambda=self.initial_lambda,
            range_statistic=self.range_statistic,
        )
        return config


@keras.utils.register_keras_serializable(package="lpn")
class Shift(_BlendQuantizer):
    """Power-of-two (shift) quantizer with ``s`` exponent bits: ``1 + s`` bits per value.

    Normalised levels ``±{1, 2**-1, …, 2**-(2**s − 1)}``; ``L(a) = 2**clip(ceil(log2 a), −(2**s − 1), 0)``
    (a ceiling in log2: ``a ∈ (2**-(k+1), 2**-k]`` → ``2**-k``; ``a > 1`` → 1; ``a = 0`` → the smallest
    level, with sign −1). Integer values: ``n = ±2**(E − e)`` with ``E = 2**s − 1`` at unit scale
    ``scale·2**-E``; e.g. ``s = 2``: levels ``±{1, ½, ¼, ⅛}`` are ``±{8, 4, 2, 1}`` at scale ``/8``.

    Args:
        exponent_bits: ``s ≥ 1``.
        **kwargs: see :class:`_BlendQuantizer` (gradient_scaling, scale, unsigned, center, …).
    """

    _kind = "shift"

    def __init__(self, exponent_bits: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 1 <= int(exponent_bits) <= 4:
            raise ValueError(f"exponent_bits must be in 1..4, got {exponent_bits}")
        self.exponent_bits = int(exponent_bits)

    @property
    def precision(self) -> int:
        return 1 + self.exponent_bits

    @property
    def lowest_exponent(self) -> int:
        """The smallest level is ``2**lowest_exponent``: ``−(2**s − 1)`` signed, ``−(2**(s+1) − 2)`` unsigned.

        An unsigned (post-ReLU) tensor needs no sign, so its ``1 + s`` bits code zero and
        ``2**(s+1) − 1`` magnitudes: ``shift3`` unsigned has levels ``{0} ∪ {2**-e, e = 0…6}``.
        """
        if self.unsigned:
            return -(2 ** (self.exponent_bits + 1) - 2)
        return -(2**self.exponent_bits - 1)

    @property
    def _int_unit_log2(self) -> int:
        return -self.lowest_exponent

    @property
    def _index_bits(self) -> int:
        return self.exponent_bits

    def _level(self, a: tf.Tensor) -> tf.Tensor:
        return _pow2_ceil_clip(a, self.lowest_exponent)

    def _np_int_level(self, a: np.ndarray) -> np.ndarray:
        k = np.clip(_np_ceil_log2(a), self.lowest_exponent, 0)
        return np.left_shift(1, k - self.lowest_exponent).astype(np.int64)

    def _int_magnitudes(self) -> np.ndarray:
        return np.array([1 << i for i in range(-self.lowest_exponent + 1)], np.int64)

    def _magnitude_index(self, mag: np.ndarray) -> np.ndarray:
        # mag = 2**(E − e)  →  e = E − log2(mag)
        log2 = np.frexp(mag.astype(np.float64))[1] - 1
        return (-self.lowest_exponent - log2).astype(np.int64)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "exponent_bits": self.exponent_bits}


@keras.utils.register_keras_serializable(package="lpn")
class Uniform(_BlendQuantizer):
    """Symmetric uniform quantizer with ``q`` bits and no zero level (the paper's uniform variant).

    ``x' = x·2**(q−1)``, ``L = clip(ceil(|x'|), 1, 2**(q−1))·2**-(q−1)``: ``2**q`` levels
    ``±k/2**(q−1)``, ``k = 1 … 2**(q−1)``. Integer values ``n = ±k`` at unit scale ``scale·2**-(q−1)``.

    Args:
        bits: ``q ≥ 2``.
        **kwargs: see :class:`_BlendQuantizer`.
    """

    _kind = "uniform"

    def __init__(self, bits: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 2 <= int(bits) <= 8:
            raise ValueError(f"bits must be in 2..8, got {bits}")
        self.bits = int(bits)

    @property
    def precision(self) -> int:
        return self.bits

    @property
    def _int_unit_log2(self) -> int:
        return self.bits - 1

    @property
    def _index_bits(self) -> int:
        return self.bits - 1

    def _level(self, a: tf.Tensor) -> tf.Tensor:
        half = float(2 ** (self.bits - 1))
        return tf.clip_by_value(tf.math.ceil(a * half), 1.0, half) * (1.0 / half)

    def _np_int_level(self, a: np.ndarray) -> np.ndarray:
        half = 2 ** (self.bits - 1)
        scaled = (a.astype(np.float32) * np.float32(half)).astype(np.float32)
        return np.clip(np.ceil(scaled), 1, half).astype(np.int64)

    def _int_magnitudes(self) -> np.ndarray:
        return np.arange(1, 2 ** (self.bits - 1) + 1, dtype=np.int64)

    def _magnitude_index(self, mag: np.ndarray) -> np.ndarray:
        return (mag - 1).astype(np.int64)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "bits": self.bits}


# ------------------------------------------------------------------------------------------------
# Affine quantizers with TFLite (fake_quant_with_min_max_vars) semantics
# ------------------------------------------------------------------------------------------------


def nudge(min_value: Any, max_value: Any, bits: int, narrow_range: bool) -> dict[str, np.ndarray]:
    """The range nudging of ``tf.quantization.fake_quant_with_min_max_vars``, in float32 numpy.

    Returns ``scale``, ``inv_scale``, ``nudged_min``, ``nudged_max`` (float32) and ``zero_point``
    (the unsigned code of real 0, in ``[quant_min, quant_max]``), ``quant_min``, ``quant_max``.
    """
    f32 = np.float32
    lo, hi = np.asarray(min_value, f32), np.asarray(max_value, f32)
    quant_min, quant_max = (1 if narrow_range else 0), 2**bits - 1
    qmin_f, qmax_f = f32(quant_min), f32(quant_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = ((hi - lo) / (qmax_f - qmin_f)).astype(f32)
        inv_scale = ((qmax_f - qmin_f) / (hi - lo)).astype(f32)
        zp_from_min = (qmin_f - lo / scale).astype(f32)
    # StdRound: round half away from zero
    rounded = np.sign(zp_from_min) * np.floor(np.abs(zp_from_min) + f32(0.5))
    zp = np.where(zp_from_min < qmin_f, quant_min, np.where(zp_from_min > qmax_f, quant_max, rounded))
    zp = zp.astype(np.int64)
    nudged_min = ((qmin_f - zp.astype(f32)) * scale).astype(f32)
    nudged_max = ((qmax_f - zp.astype(f32)) * scale).astype(f32)
    return {
        "scale": scale,
        "inv_scale": inv_scale,
        "nudged_min": nudged_min,
        "nudged_max": nudged_max,
        "zero_point": zp,
        "quant_min": np.int64(quant_min),
        "quant_max": np.int64(quant_max),
    }


def _np_fake_quant_codes(x: np.ndarray, n: dict[str, np.ndarray]) -> np.ndarray:
    """Unsigned codes of the fake-quant kernel.

    ``quant_min + floor((clamp(x) − nudged_min)·inv_scale + 0.5)``, as TensorFlow's kernel computes them.
    """
    f32 = np.float32
    clamped = np.minimum(np.maximum(x.astype(f32), n["nudged_min"]), n["nudged_max"]).astype(f32)
    shifted = (clamped - n["nudged_min"]).astype(f32)
    steps = np.floor((shifted * n["inv_scale"]).astype(f32) + f32(0.5)).astype(np.int64)
    return steps + n["quant_min"]


class _AffineBase(Quantizer):
    def __init__(self, bits: int = 8, narrow_range: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 2 <= int(bits) <= 16:
            raise ValueError(f"bits must be in 2..16, got {bits}")
        self.bits = int(bits)
        self.narrow_range = bool(narrow_range)

    @property
    def precision(self) -> int:
        return self.bits

    def _signed_offset(self) -> int:
        """Integer values are the unsigned fake-quant codes minus this (int8: 128)."""
        return 2 ** (self.bits - 1)

    def _spec_from_nudge(self, n: dict[str, np.ndarray], channel_axes: tuple[int, ...] | None) -> IntegerSpec:
        off = self._signed_offset()
        return IntegerSpec(
            kind=self._kind,
            bits=self.bits,
            scale=np.asarray(n["scale"], np.float32).reshape(-1),
            zero_point=(np.asarray(n["zero_point"]).reshape(-1) - off).astype(np.int32),
            qmin=int(n["quant_min"]) - off,
            qmax=int(n["quant_max"]) - off,
            levels=None,
            channel_axes=channel_axes,
            signed=True,
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "bits": self.bits, "narrow_range": self.narrow_range}


@keras.utils.register_keras_serializable(package="lpn")
class AffineQuantizer(_AffineBase):
    """Per-tensor affine (zero point) quantizer for activations, moving-average min/max (tfmot-like).

    Forward: ``tf.quantization.fake_quant_with_min_max_vars(x, min, max, bits, narrow_range)`` — the
    exact arithmetic the TFLite converter assumes. In training, ``min ← EMA(min(batch_min, 0))`` and
    ``max ← EMA(max(batch_max, 0))`` (0 always representable); the first training batch sets them.
    Gradient: straight-through inside the nudged range, 0 outside (TensorFlow's registered gradient).
    Integer values: int8 ``n = code − 128`` with ``real = scale·(n − zero_point)``.

    Args:
        bits: bits per value (8 for int8).
        narrow_range: drop the lowest code (``−127…127`` for int8).
        ema_decay: decay of the moving averages.
        fixed_range: ``(min, max)`` that never moves (e.g. ``(0, 255/256)`` for a softmax output).
        init_range: initial ``(min, max)`` before the first training batch.
    """

    _kind = "affine"

    def __init__(
        self,
        bits: int = 8,
        narrow_range: bool = False,
        ema_decay: float = 0.99,
        fixed_range: Sequence[float] | None = None,
        init_range: Sequence[float] = (-6.0, 6.0),
        **kwargs: Any,
    ) -> None:
        super().__init__(bits=bits, narrow_range=narrow_range, **kwargs)
        self.ema_decay = float(ema_decay)
        self.fixed_range = None if fixed_range is None else (float(fixed_range[0]), float(fixed_range[1]))
        self.init_range = (float(init_range[0]), float(init_range[1]))

    def state_spec(self, shape: Sequence[int | None] | None) -> dict[str, _StateSpec]:
        lo, hi = self.fixed_range or self.init_range
        return {"min": _StateSpec((), lo), "max": _StateSpec((), hi), "count": _StateSpec((), 0.0)}

    def quantize(self, x: tf.Tensor, state: Mapping[str, Any], training: Any = False) -> tf.Tensor:
        x = tf.convert_to_tensor(x)
        dtype = x.dtype
        x = tf.cast(x, tf.float32)
        lo_var, hi_var, count = state["min"], state["max"], state["count"]

        def update() -> tuple[tf.Tensor, tf.Tensor]:
            xs = tf.stop_gradient(x)
            b_lo = tf.minimum(tf.reduce_min(xs), 0.0)
            b_hi = tf.maximum(tf.maximum(tf.reduce_max(xs), 0.0), b_lo + 1e-6)
            d = self.ema_decay
            lo = tf.where(count > 0, d * lo_var + (1.0 - d) * b_lo, b_lo)
            hi = tf.where(count > 0, d * hi_var + (1.0 - d) * b_hi, b_hi)
            with tf.control_dependencies([lo_var.assign(lo), hi_var.assign(hi), count.assign_add(1.0)]):
                return tf.identity(lo), tf.identity(hi)

        def read() -> tuple[tf.Tensor, tf.Tensor]:
            return tf.convert_to_tensor(lo_var), tf.convert_to_tensor(hi_var)

        lo, hi = read() if self.fixed_range is not None else _smart_cond(training, update, read)
        y = tf.quantization.fake_quant_with_min_max_vars(
            x, lo, hi, num_bits=self.bits, narrow_range=self.narrow_range
        )
        return tf.cast(y, dtype)

    def _nudged(self) -> dict[str, np.ndarray]:
        if not self.built:
            raise ValueError(f"quantizer {self.name!r} is not built: no range yet")
        return nudge(self._state["min"].numpy(), self._state["max"].numpy(), self.bits, self.narrow_range)

    def integer_spec(self, kernel: Any = None) -> IntegerSpec:
        return self._spec_from_nudge(self._nudged(), None)

    def to_integer(self, x: Any) -> np.ndarray:
        codes = _np_fake_quant_codes(np.asarray(x, np.float32), self._nudged())
        return (codes - self._signed_offset()).astype(np.int32)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "ema_decay": self.ema_decay,
            "fixed_range": self.fixed_range,
            "init_range": self.init_range,
        }


@keras.utils.register_keras_serializable(package="lpn")
class SymmetricQuantizer(_AffineBase):
    """Per-output-channel symmetric weight quantizer, range from the current kernel (tfmot "last value").

    ``max_c = max|w_c|``; forward ``fake_quant_with_min_max_vars_per_channel(w, −max_c, max_c, bits,
    narrow_range=True)``: int8 values ``−127…127``, zero point 0, ``scale_c = max_c/127`` (after nudging).
    No state: the exporter recomputes the range from the kernel it lowers.
    """

    _kind = "symmetric"

    def __init__(self, bits: int = 8, narrow_range: bool = True, **kwargs: Any) -> None:
        super().__init__(bits=bits, narrow_range=narrow_range, **kwargs)

    def _ranges(self, w: tf.Tensor) -> tf.Tensor:
        axes = self._reduce_axes(w.shape.rank)
        return tf.maximum(tf.reduce_max(tf.abs(tf.stop_gradient(w)), axis=axes), 1e-8)

    def quantize(self, x: tf.Tensor, state: Mapping[str, Any], training: Any = False) -> tf.Tensor:
        x = tf.convert_to_tensor(x)
        dtype = x.dtype
        w = tf.cast(x, tf.float32)
        rank = w.shape.rank
        channel = sorted(a % rank for a in self.channel_axes)
        if channel != list(range(rank - len(channel), rank)):
            raise ValueError(f"quantizer {self.name!r}: channel axes {self.channel_axes} must be trailing")
        m = tf.reshape(self._ranges(w), [-1])
        flat = tf.reshape(w, [-1, tf.size(m)])
        y = tf.quantization.fake_quant_with_min_max_vars_per_channel(
            flat, -m, m, num_bits=self.bits, narrow_range=self.narrow_range
        )
        return tf.cast(tf.reshape(y, tf.shape(w)), dtype)

    def _nudged_for(self, kernel: Any) -> dict[str, np.ndarray]:
        w = tf.convert_to_tensor(kernel, tf.float32)
        m = tf.reshape(self._ranges(w), [-1]).numpy()
        return nudge(-m, m, self.bits, self.narrow_range)

    def integer_spec(self, kernel: Any = None) -> IntegerSpec:
        """Per-channel scales of ``kernel`` (the range is a function of the kernel, not state)."""
        if kernel is None:
            raise ValueError(
                f"quantizer {self.name!r}: integer_spec needs the kernel (the range is not state)"
            )
        return self._spec_from_nudge(self._nudged_for(kernel), tuple(self.channel_axes))

    def to_integer(self, x: Any) -> np.ndarray:
        w = np.asarray(x, np.float32)
        n = self._nudged_for(w)
        flat = w.reshape(-1, n["scale"].size)
        codes = _np_fake_quant_codes(flat, n)
        return (codes - self._signed_offset()).reshape(w.shape).astype(np.int32)


# ------------------------------------------------------------------------------------------------
# registry
# ------------------------------------------------------------------------------------------------

QuantizerLike = Quantizer | str | Mapping[str, Any] | None

_CLASSES: dict[str, type[Quantizer]] = {
    cls.__name__: cls for cls in (Shift, Uniform, AffineQuantizer, SymmetricQuantizer)
}

_ALIASES: dict[str, tuple[type[Quantizer], dict[str, Any]]] = {
    **{f"shift{s + 1}": (Shift, {"exponent_bits": s}) for s in range(1, 5)},
    **{f"uniform{q}": (Uniform, {"bits": q}) for q in range(2, 9)},
    "int8": (AffineQuantizer, {"bits": 8}),
    "int8_weight": (SymmetricQuantizer, {"bits": 8}),
}


def aliases() -> dict[str, str]:
    """Alias → description of the quantizer it builds."""
    return {
        alias: f"{cls.__name__}({', '.join(f'{k}={v}' for k, v in kw.items())})"
        for alias, (cls, kw) in _ALIASES.items()
    }


def serialize(quantizer: Quantizer) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}`` of a quantizer (round-trips through :func:`get`)."""
    return {"class_name": type(quantizer).__name__, "config": quantizer.get_config()}


def get(identifier: QuantizerLike) -> Quantizer | None:
    """A quantizer from an alias (``"shift3"``), a serialized dict, a class name, or a quantizer.

    A quantizer object is returned as is; ``None`` gives ``None``. Unknown names raise ``ValueError``
    listing the aliases.
    """
    if identifier is None or isinstance(identifier, Quantizer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _ALIASES:
            cls, kwargs = _ALIASES[key]
            return cls(**kwargs)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(
            f"unknown quantizer {identifier!r}; aliases: {sorted(_ALIASES)}; classes: {sorted(_CLASSES)}"
        )
    if isinstance(identifier, Mapping):
        class_name = str(identifier.get("class_name", ""))
        class_name = class_name.split(">")[-1]
        if class_name == "TfmotQuantizer":
            raise ValueError(
                "a TfmotQuantizer config is not an lpn quantizer; use TfmotQuantizer.from_config"
            )
        if class_name not in _CLASSES:
            raise ValueError(
                f"unknown quantizer class {identifier.get('class_name')!r}; known: {sorted(_CLASSES)}"
            )
        return _CLASSES[class_name].from_config(dict(identifier.get("config", {})))
    raise TypeError(f"cannot interpret {identifier!r} as a quantizer")


def clone(identifier: QuantizerLike, **overrides: Any) -> Quantizer | None:
    """A fresh quantizer (new state) with the same configuration, optionally changing arguments."""
    q = get(identifier)
    if q is None:
        return None
    config = q.get_config()
    config.pop("name", None)
    config.update(overrides)
    out = type(q).from_config(config)
    out.channel_axes = q.channel_axes
    return out


# ------------------------------------------------------------------------------------------------
# tfmot interop (tfmot is imported only when this is used)
# ------------------------------------------------------------------------------------------------

_TFMOT_CLASS: type | None = None


def _make_tfmot_class() -> type:
    import tensorflow_model_optimization as tfmot

    base = tfmot.quantization.keras.quantizers.Quantizer

    @keras.utils.register_keras_serializable(package="lpn")
    class TfmotQuantizer(base):  # type: ignore[misc, valid-type]
        """An lpn quantizer as a tfmot ``Quantizer``, for use inside a tfmot ``QuantizeConfig``.

        State lives in the tfmot wrapper (``layer.add_weight``), the math is the lpn quantizer's
        :meth:`Quantizer.quantize`. Per-channel weight scales are computed live from the kernel (no
        calibration step in tfmot); λ variables are found by :func:`lpn_tf.set_lambda` as usual.
        """

        def __init__(self, quantizer: QuantizerLike) -> None:
            q = get(quantizer)
            if q is None:
                raise ValueError("TfmotQuantizer needs a quantizer")
            self.quantizer = q

        def build(self, tensor_shape: Any, name: str, layer: Any) -> dict[str, Any]:
            shape = tf.TensorShape(tensor_shape)
            dims = None if shape.rank is None else tuple(shape.as_list())
            return {
                key: layer.add_weight(
                    f"{name}_{key}",
                    shape=spec.shape,
                    initializer=keras.initializers.Constant(spec.initial),
                    trainable=False,
                    aggregation=_MEAN,
                )
                for key, spec in self.quantizer.state_spec(dims).items()
            }

        def __call__(self, inputs: Any, training: Any, weights: Mapping[str, Any], **kwargs: Any) -> Any:
            return self.quantizer.quantize(inputs, weights, _as_bool_training(training))

        def get_config(self) -> dict[str, Any]:
            config = serialize(self.quantizer)
            config["config"].pop("name", None)  # the state lives in the wrapper; the name is irrelevant
            return {"quantizer": config}

        def __eq__(self, other: object) -> bool:
            return isinstance(other, TfmotQuantizer) and self.get_config() == other.get_config()

        def __ne__(self, other: object) -> bool:
            return not self.__eq__(other)

    return TfmotQuantizer


def __getattr__(name: str) -> Any:
    global _TFMOT_CLASS
    if name == "TfmotQuantizer":
        if _TFMOT_CLASS is None:
            _TFMOT_CLASS = _make_tfmot_class()
        return _TFMOT_CLASS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
