"""Float model builders (tf_keras Functional) to train, then quantize with :func:`lpn_tf.quantize_model`.

* :func:`mnist1d_cnn`, :func:`digits_cnn` — the small demo/benchmark CNNs (``bench/accuracy.py``);
* :func:`mobilenet_v1` — the PikeLPN / MobileNetV1 family (width multiplier ``alpha``, any input size),
  depthwise→pointwise pairs as separate DepthwiseConv2D / Conv2D 1×1 layers, each with BN + ReLU6 (so
  each half is its own integer op with its own quantizer: DHQ, docs/pikelpn.md);
* MLPerf Tiny reference architectures: :func:`resnet8` (CIFAR-10, 32×32×3), :func:`ds_cnn` (keyword
  spotting, 49×10×1 MFCC), :func:`mobilenet_v1_025` (visual wake words, 96×96×3).

Every builder uses only layers :func:`lpn_tf.quantize_model` supports (Conv/Depthwise/Dense, BN, ReLU,
Add, pooling) and returns logits (no softmax) unless ``softmax=True``.
"""

from __future__ import annotations

from typing import Any

from lpn_tf._keras import keras

__all__ = ["digits_cnn", "ds_cnn", "mnist1d_cnn", "mobilenet_v1", "mobilenet_v1_025", "resnet8"]

K = keras.layers

# MobileNetV1 body: (pointwise filters at alpha = 1, depthwise stride)
MOBILENET_V1_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    *((512, 1),) * 5,
    (1024, 2),
    (1024, 1),
)


def conv_bn_relu(
    x: Any, filters: int, kernel: Any, strides: Any = 1, relu6: bool = False, name: str | None = None
) -> Any:
    """Conv2D (no bias, same padding) → BatchNormalization → ReLU (or ReLU6)."""
    x = K.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)(x)
    x = K.BatchNormalization(name=None if name is None else f"{name}_bn")(x)
    return K.ReLU(6.0 if relu6 else None, name=None if name is None else f"{name}_relu")(x)


def depthwise_separable(x: Any, filters: int, strides: int, relu6: bool = True, name: str = "dw") -> Any:
    """DepthwiseConv2D 3×3 → BN → ReLU6 → Conv2D 1×1 → BN → ReLU6 (the MobileNet pair)."""
    x = K.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False, name=f"{name}_dw")(x)
    x = K.BatchNormalization(name=f"{name}_dw_bn")(x)
    x = K.ReLU(6.0 if relu6 else None, name=f"{name}_dw_relu")(x)
    return conv_bn_relu(x, filters, 1, 1, relu6, name=f"{name}_pw")


def _head(x: Any, classes: int, softmax: bool) -> Any:
    x = K.Dense(classes, name="logits")(x)
    return K.Softmax(name="probs")(x) if softmax else x


def mnist1d_cnn() -> keras.Model:
    """Input (40, 1) → 4 Conv+BN+ReLU blocks → Flatten → Dense(10) logits.

    The 1-D convolutions are Conv2D with (k, 1) kernels on a (40, 1, 1) view, because tfmot's default
    scheme (the baseline of bench/accuracy.py) does not support Conv1D.
    """
    inp = keras.Input((40, 1), name="signal")
    x = K.Reshape((40, 1, 1))(inp)
    x = conv_bn_relu(x, 32, (5, 1), 1)
    x = conv_bn_relu(x, 32, (3, 1), (2, 1))
    x = conv_bn_relu(x, 64, (3, 1), (2, 1))
    x = conv_bn_relu(x, 64, (3, 1), 1)
    x = K.Flatten()(x)
    return keras.Model(inp, K.Dense(10, name="logits")(x), name="mnist1d_cnn")


def digits_cnn() -> keras.Model:
    """Input (8, 8, 1) → 3 Conv2D+BN+ReLU blocks → GlobalAveragePooling → Dense(10) logits."""
    inp = keras.Input((8, 8, 1), name="image")
    x = conv_bn_relu(inp, 16, 3, 1)
    x = conv_bn_relu(x, 32, 3, 2)
    x = conv_bn_relu(x, 32, 3, 1)
    x = K.GlobalAveragePooling2D()(x)
    return keras.Model(inp, K.Dense(10, name="logits")(x), name="digits_cnn")


def mobilenet_v1(
    alpha: float = 1.0,
    input_shape: tuple[int, int, int] = (224, 224, 3),
    classes: int = 1000,
    depth: int | None = None,
    softmax: bool = False,
    name: str | None = None,
) -> keras.Model:
    """MobileNetV1 (the PikeLPN geometry): stem Conv 3×3/2, 13 depthwise-separable pairs, GAP, Dense.

    Args:
        alpha: width multiplier (filters ``max(8, int(f·alpha))``); PikeLPN variants use 1, 1.5, 2;
            MLPerf Tiny VWW uses 0.25.
        input_shape: ``(H, W, C)``, any size ≥ 32 (five stride-2 stages).
        classes: logits.
        depth: use only the first ``depth`` pairs (small variants for tests); None = all 13.
        softmax: end with a Softmax layer.
    """

    def width(f: int) -> int:
        return max(8, int(f * alpha))

    inp = keras.Input(input_shape, name="image")
    x = conv_bn_relu(inp, width(32), 3, 2, relu6=True, name="stem")
    blocks = MOBILENET_V1_BLOCKS if depth is None else MOBILENET_V1_BLOCKS[:depth]
    for i, (filters, stride) in enumerate(blocks):
        x = depthwise_separable(x, width(filters), stride, name=f"block{i + 1}")
    x = K.GlobalAveragePooling2D(name="gap")(x)
    out = _head(x, classes, softmax)
    return keras.Model(inp, out, name=name or f"mobilenet_v1_{alpha:g}_{input_shape[0]}")


def mobilenet_v1_025(classes: int = 2, softmax: bool = False) -> keras.Model:
    """MLPerf Tiny visual wake words reference: MobileNetV1, alpha 0.25, 96×96×3, 2 classes."""
    return mobilenet_v1(0.25, (96, 96, 3), classes, softmax=softmax, name="mobilenet_v1_025_vww")


def resnet8(classes: int = 10, softmax: bool = False) -> keras.Model:
    """MLPerf Tiny image classification reference (CIFAR-10, 32×32×3): ResNet-8.

    Stem Conv 3×3 16 + BN + ReLU; three residual stacks (16/1, 32/2, 64/2) of Conv-BN-ReLU-Conv-BN plus
    a shortcut (identity, or a biased Conv 1×1 with the stride and no BN), Add, ReLU; AveragePooling
    8×8 → Flatten → Dense. The reference's convs followed by BN also have biases (78,666 parameters);
    here they have none (BN's β is the bias): 78,426 parameters. No L2 regularization (a training choice).
    """
    inp = keras.Input((32, 32, 3), name="image")
    x = conv_bn_relu(inp, 16, 3, 1, name="stem")
    for stage, (filters, stride) in enumerate(((16, 1), (32, 2), (64, 2))):
        n = f"stack{stage + 1}"
        y = conv_bn_relu(x, filters, 3, stride, name=f"{n}_a")
        y = K.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{n}_b")(y)
        y = K.BatchNormalization(name=f"{n}_b_bn")(y)
        if stride != 1 or x.shape[-1] != filters:
            x = K.Conv2D(filters, 1, strides=stride, name=f"{n}_short")(x)  # with bias, no BN (reference)
        x = K.ReLU(name=f"{n}_relu")(K.Add(name=f"{n}_add")([x, y]))
    x = K.AveragePooling2D(8, name="pool")(x)
    x = K.Flatten()(x)
    return keras.Model(inp, _head(x, classes, softmax), name="resnet8")


def ds_cnn(classes: int = 12, softmax: bool = False) -> keras.Model:
    """MLPerf Tiny keyword spotting reference (49×10×1 MFCC): DS-CNN.

    Conv 10×4/2 64 + BN + ReLU, four depthwise-separable pairs (64 filters, 3×3, BN + ReLU after each
    half), AveragePooling over the remaining 25×5 map → Flatten → Dense(12). The reference's dropout
    layers are left out and its convs followed by BN have no bias here: 24,332 parameters (reference
    24,908 with those biases).
    """
    inp = keras.Input((49, 10, 1), name="mfcc")
    x = conv_bn_relu(inp, 64, (10, 4), 2, name="stem")
    for i in range(4):
        x = depthwise_separable(x, 64, 1, relu6=False, name=f"ds{i + 1}")
    x = K.AveragePooling2D(pool_size=tuple(int(d) for d in x.shape[1:3]), name="pool")(x)
    x = K.Flatten()(x)
    return keras.Model(inp, _head(x, classes, softmax), name="ds_cnn")
