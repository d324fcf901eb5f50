"""Quantizers: levels and thresholds at λ = 0, the blend, gradients, integer forms, serialization."""

from __future__ import annotations

import numpy as np
import pytest

from lpn_tf import quantizers as qz
from lpn_tf._keras import keras, tf


def _run(q: qz.Quantizer, x: np.ndarray, training: bool = False) -> np.ndarray:
    return q(tf.constant(x, tf.float32), training=training).numpy()


def _above(v: float) -> np.float32:
    return np.nextafter(np.float32(v), np.float32(np.inf))


@pytest.mark.parametrize("s", [1, 2, 3, 4])
def test_shift_levels_and_thresholds(s: int) -> None:
    q = qz.Shift(exponent_bits=s)
    E = 2**s - 1
    assert q.precision == 1 + s
    mags, expected = [], []
    for k in range(E + 1):
        mags.append(np.float32(2.0**-k))  # exactly on a level → that level (ceil of log2)
        expected.append(2.0**-k)
        if k >= 1:
            mags.append(_above(2.0**-k))  # just above → the next larger level
            expected.append(2.0 ** -(k - 1))
    mags += [np.float32(2.0**-E / 3), np.float32(1e-30), np.float32(1.5), np.float32(1e6), _above(1.0)]
    expected += [2.0**-E, 2.0**-E, 1.0, 1.0, 1.0]
    a = np.array(mags, np.float32)
    np.testing.assert_array_equal(_run(q, a), np.array(expected, np.float32))
    np.testing.assert_array_equal(_run(q, -a), -np.array(expected, np.float32))
    # sgn(0) = −1: zero goes to the smallest negative level
    assert _run(q, np.zeros(1, np.float32))[0] == -(2.0**-E)
    grid = np.geomspace(2.0**-20, 2.0, 4001).astype(np.float32)
    levels = np.unique(_run(q, np.concatenate([-grid, grid])))
    np.testing.assert_array_equal(
        levels, np.sort(np.concatenate([-(2.0 ** -np.arange(E + 1)), 2.0 ** -np.arange(E + 1)]))
    )


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_uniform_levels_and_thresholds(bits: int) -> None:
    q = qz.Uniform(bits=bits)
    half = 2 ** (bits - 1)
    k = np.arange(1, half + 1)
    on = (k / half).astype(np.float32)
    np.testing.assert_array_equal(_run(q, on), on)  # |x'| = k exactly → k
    above = np.array([_above(v) for v in on[:-1]], np.float32)
    np.testing.assert_array_equal(_run(q, above), on[1:])  # just above k → k + 1
    np.testing.assert_array_equal(_run(q, -on), -on)
    assert _run(q, np.zeros(1, np.float32))[0] == -1.0 / half  # no zero level, sgn(0) = −1
    assert _run(q, np.array([7.0], np.float32))[0] == 1.0
    assert len(np.unique(_run(q, np.linspace(-2, 2, 9999, dtype=np.float32)))) == 2**bits


@pytest.mark.parametrize("alias", ["shift3", "uniform4"])
@pytest.mark.parametrize("lam", [0.3, 0.75])
def test_blend(alias: str, lam: float) -> None:
    x = np.random.default_rng(0).normal(size=200).astype(np.float32)
    hard = _run(qz.get(alias), x)
    q = qz.get(alias)
    q.build(None)
    q._state[qz.LAMBDA_VARIABLE_NAME].assign(lam)
    np.testing.assert_allclose(_run(q, x), lam * x + (1 - lam) * hard, rtol=1e-6, atol=1e-7)
    q._state[qz.LAMBDA_VARIABLE_NAME].assign(1.0)
    np.testing.assert_array_equal(_run(q, x), x)  # λ = 1 is the identity


@pytest.mark.parametrize("scaling", [True, False])
@pytest.mark.parametrize("lam", [0.0, 0.25, 1.0])
def test_gradient(scaling: bool, lam: float) -> None:
    x = tf.constant(np.random.default_rng(1).normal(size=64).astype(np.float32))
    for q in (
        qz.Shift(2, gradient_scaling=scaling, initial_lambda=lam),
        qz.Uniform(3, gradient_scaling=scaling, initial_lambda=lam),
        qz.Shift(2, gradient_scaling=scaling, initial_lambda=lam, scale="per_tensor"),
    ):
        dy = tf.constant(np.random.default_rng(2).normal(size=64).astype(np.float32))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = q(x, training=False)
        g = tape.gradient(y, x, output_gradients=dy).numpy()
        np.testing.assert_allclose(g, dy.numpy() if scaling else lam * dy.numpy(), rtol=1e-6)


def test_per_channel_weights_integer_form_is_exact() -> None:
    rng = np.random.default_rng(3)
    w = (rng.normal(size=(3, 3, 5, 7)) * rng.uniform(0.1, 2, size=7) + 0.05).astype(np.float32)
    for q in (
        qz.Shift(2, scale="per_channel"),
        qz.Shift(3, scale="per_channel"),
        qz.Uniform(4, scale="per_channel"),
    ):
        q.calibrate(w)
        y = _run(q, w)
        spec = q.integer_spec()
        n = q.to_integer(w)
        np.testing.assert_array_equal(q.from_integer(n), y)  # bit-exact
        assert set(np.unique(n)) <= set(spec.levels.tolist())
        assert spec.scale.shape == (7,) and spec.channel_axes == (-1,)
        sigma = np.sqrt(((w - w.mean(axis=(0, 1, 2))) ** 2).mean(axis=(0, 1, 2)))
        np.testing.assert_allclose(spec.scale * 2.0**q._int_unit_log2, 3 * sigma, rtol=1e-5)
    # frozen: changing the kernel does not move α_c
    q = qz.Shift(2, scale="per_channel")
    q.calibrate(w)
    alpha = q._state["alpha"].numpy().copy()
    _run(q, w * 10)
    np.testing.assert_array_equal(q._state["alpha"].numpy(), alpha)


def test_shift3_is_int8_times_one_eighth() -> None:
    q = qz.get("shift3")
    x = np.linspace(-1.5, 1.5, 301, dtype=np.float32)
    n = q.to_integer(x)
    assert set(np.unique(n).tolist()) == {-8, -4, -2, -1, 1, 2, 4, 8}
    np.testing.assert_array_equal(n.astype(np.float32) / 8, _run(q, x))
    codes = q.to_codes(x)
    sign, e = codes >> 2, codes & 3
    np.testing.assert_array_equal(np.where(sign == 1, -1.0, 1.0) * 2.0 ** -e.astype(np.float32), _run(q, x))


def test_unsigned() -> None:
    x = np.random.default_rng(4).normal(size=500).astype(np.float32)
    u = qz.clone("uniform3", unsigned=True)  # uniform: relu of the signed quantizer
    np.testing.assert_array_equal(_run(u, x), np.maximum(_run(qz.get("uniform3"), x), 0))
    assert u.integer_spec().levels.tolist() == [0, 1, 2, 3, 4]
    s = qz.clone("shift3", unsigned=True)  # shift: the sign's codes become magnitudes 2**-0 … 2**-6
    assert s.precision == 3 and s.lowest_exponent == -6
    assert s.integer_spec().levels.tolist() == [0, 1, 2, 4, 8, 16, 32, 64]
    y = _run(s, x)
    assert np.all(y[x <= 0] == 0)
    big = x > 2.0**-3
    np.testing.assert_array_equal(y[big], _run(qz.get("shift3"), x)[big])
    small = np.array([2.0**-6, _above(2.0**-6), 2.0**-7, 1e-9], np.float32)
    np.testing.assert_array_equal(_run(s, small), np.array([2.0**-6, 2.0**-5, 2.0**-6, 2.0**-6], np.float32))
    codes = s.to_codes(np.array([0.0, 1.0, 0.5, 2.0**-6], np.float32))
    assert codes.tolist() == [0, 1, 2, 7]
    np.testing.assert_array_equal(s.from_integer(s.to_integer(x)), y)


def test_per_tensor_scale_moving_average() -> None:
    q = qz.Shift(2, scale="per_tensor", ema_decay=0.5, range_statistic="rms")
    x1 = np.full(10, 2.0, np.float32)
    _run(q, x1, training=True)
    assert q._state["scale"].numpy() == pytest.approx(6.0)  # first batch: 3·RMS
    _run(q, np.full(10, 4.0, np.float32), training=True)
    assert q._state["scale"].numpy() == pytest.approx(0.5 * 6 + 0.5 * 12)
    m = qz.Uniform(3, scale="per_tensor", ema_decay=0.5)  # default: max|x|
    _run(m, np.array([1.0, -3.0, 2.0], np.float32), training=True)
    assert m._state["scale"].numpy() == pytest.approx(3.0)
    x = np.random.default_rng(5).normal(size=100).astype(np.float32) * 5
    before = q._state["scale"].numpy()
    y = _run(q, x)  # inference: no update
    assert q._state["scale"].numpy() == before
    np.testing.assert_array_equal(q.from_integer(q.to_integer(x)), y)


def test_affine_matches_fake_quant_and_tracks_range() -> None:
    q = qz.AffineQuantizer(ema_decay=0.9)
    rng = np.random.default_rng(6)
    x = (rng.normal(size=2000) * 2 + 1).astype(np.float32)
    _run(q, x, training=True)
    assert q._state["min"].numpy() == pytest.approx(min(x.min(), 0))
    assert q._state["max"].numpy() == pytest.approx(x.max())
    x2 = np.abs(x)
    _run(q, x2, training=True)
    assert q._state["min"].numpy() == pytest.approx(0.9 * min(x.min(), 0))
    y = _run(q, x)
    lo, hi = q._state["min"].numpy(), q._state["max"].numpy()
    ref = tf.quantization.fake_quant_with_min_max_vars(x, lo, hi, num_bits=8).numpy()
    np.testing.assert_array_equal(y, ref)
    spec = q.integer_spec()
    n = q.to_integer(x)
    assert n.min() >= -128 and n.max() <= 127 and spec.qmin == -128 and spec.qmax == 127
    np.testing.assert_allclose(q.from_integer(n), y, atol=1e-5 * float(spec.scale[0]) + 1e-6)
    np.testing.assert_array_equal(q.to_integer(y), n)  # the QAT output sits exactly on the integer grid
    assert q.from_integer(spec.zero_point)[0] == 0.0  # real zero is representable


def test_symmetric_weight_quantizer() -> None:
    w = np.random.default_rng(7).normal(size=(3, 3, 4, 6)).astype(np.float32)
    q = qz.get("int8_weight")
    y = _run(q, w)
    n = q.to_integer(w)
    spec = q.integer_spec(w)
    assert n.min() == -127 and n.max() == 127 and np.all(spec.zero_point == 0)
    np.testing.assert_allclose(spec.scale, np.abs(w).max(axis=(0, 1, 2)) / 127, rtol=1e-6)
    np.testing.assert_allclose(q.from_integer(n, w), y, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="needs the kernel"):
        q.integer_spec()
    # depthwise kernel: channel axes (2, 3) flattened row-major
    dq = qz.clone("int8_weight")
    dq.channel_axes = (2, 3)
    dw = w.reshape(3, 3, 4, 2, 3)[..., 0]
    assert dq.integer_spec(dw).scale.shape == (8,)
    np.testing.assert_allclose(dq.from_integer(dq.to_integer(dw), dw), _run(dq, dw), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "alias, obj",
    [
        ("shift2", qz.Shift(exponent_bits=1)),
        ("shift3", qz.Shift(exponent_bits=2)),
        ("shift5", qz.Shift(exponent_bits=4)),
        ("uniform4", qz.Uniform(bits=4)),
        ("int8", qz.AffineQuantizer(bits=8)),
        ("int8_weight", qz.SymmetricQuantizer(bits=8)),
    ],
)
def test_alias_object_equivalence_and_round_trip(alias: str, obj: qz.Quantizer) -> None:
    a = qz.get(alias)
    strip = lambda c: {k: v for k, v in c.items() if k != "name"}  # noqa: E731
    assert type(a) is type(obj) and strip(a.get_config()) == strip(obj.get_config())
    x = np.random.default_rng(8).normal(size=(4, 6)).astype(np.float32)
    np.testing.assert_array_equal(_run(a, x), _run(obj, x))
    for restored in (
        qz.get(qz.serialize(obj)),
        keras.utils.deserialize_keras_object(keras.utils.serialize_keras_object(obj)),
    ):
        assert type(restored) is type(obj) and restored.get_config() == obj.get_config()
        np.testing.assert_array_equal(_run(restored, x), _run(obj, x))


def test_get_errors() -> None:
    with pytest.raises(ValueError, match="unknown quantizer 'shift9'.*shift3"):
        qz.get("shift9")
    with pytest.raises(ValueError, match="exponent_bits"):
        qz.Shift(exponent_bits=0)
    assert qz.get(None) is None
    assert "shift3" in qz.aliases()
