"""``quantize_model``: a trained float Keras model → a QAT model that reuses its weights.

The QAT graph simulates the integer graph of the device. Every tensor that will exist as an integer
tensor there carries exactly one quantization, given by one :class:`lpn_tf.layers.QuantizeTensor`:

* each model input;
* the output of each *block*: a Conv/Dense layer, then (if it is the only consumer) a
  BatchNormalization, then (if it is the only consumer) a ReLU/ReLU6 — the fused conv+BN+activation
  of the integer graph; likewise Add(+ReLU), GlobalAveragePooling, AveragePooling, a standalone
  BatchNormalization, and Softmax (fixed output range ``[0, 255/256]``: TFLite's int8 softmax output);
* tensors produced by Flatten, Reshape, Dropout, MaxPooling, GlobalMaxPooling, ZeroPadding and unfused
  ReLU inherit the quantization of their input (on the device they reuse its scale and zero point).

Layers with weights become lpn quantized layers with ``input_quantizer = output_quantizer = None``
(their input is already a quantized tensor). BatchNormalization stays a separate float layer: the
exporter folds it into the per-channel scales (exact, since weight scales are per output channel).
Any other layer raises ``ValueError`` naming the layer, its class and the supported classes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from lpn_tf import layers as ql
from lpn_tf import quantizers as qz
from lpn_tf._keras import keras, tf

__all__ = ["SCHEMES", "Scheme", "calibrate_activations", "quantize_model", "quantization_points"]

K = keras.layers

_QUANTIZED: dict[type, type] = {
    K.Conv1D: ql.QConv1D,
    K.Conv2D: ql.QConv2D,
    K.DepthwiseConv2D: ql.QDepthwiseConv2D,
    K.SeparableConv2D: ql.QSeparableConv2D,
    K.Dense: ql.QDense,
}
_PRODUCERS: tuple[type, ...] = (
    K.Add,
    K.GlobalAveragePooling1D,
    K.GlobalAveragePooling2D,
    K.AveragePooling1D,
    K.AveragePooling2D,
    K.BatchNormalization,
    K.Softmax,
)
_INHERIT: tuple[type, ...] = (
    K.InputLayer,
    K.Flatten,
    K.Reshape,
    K.Dropout,
    K.SpatialDropout1D,
    K.SpatialDropout2D,
    K.MaxPooling1D,
    K.MaxPooling2D,
    K.GlobalMaxPooling1D,
    K.GlobalMaxPooling2D,
    K.ZeroPadding1D,
    K.ZeroPadding2D,
    K.ReLU,
    K.Activation,
)
_ACTIVATIONS = ("linear", "relu", "relu6", "softmax")
SOFTMAX_RANGE = (0.0, 255.0 / 256.0)


def supported_layers() -> list[str]:
    """Class names quantize_model accepts."""
    return sorted({c.__name__ for c in (*_QUANTIZED, *_PRODUCERS, *_INHERIT)})


@dataclasses.dataclass
class Scheme:
    """Which quantizer goes where.

    Attributes:
        name: label (printed by benchmarks, stored in export metadata).
        weights: kernel quantizer of Conv/Dense layers (alias, dict or quantizer; cloned per layer).
        depthwise_weights: kernel quantizer of depthwise kernels (DepthwiseConv2D and the depthwise half
            of SeparableConv2D); ``None`` = ``weights``.
        activations: quantizer of the integer tensors inside the network (block outputs). A λ-blend
            quantizer (Shift/Uniform) on a block ending in ReLU/ReLU6 is made ``unsigned``.
        inputs: quantizer of each model input tensor.
        first_layer: ``"scheme"`` (use ``weights``) or ``"int8"`` (8-bit symmetric weights) for the first
            layers: layers with weights fed by a model input (through Flatten/Reshape/… only).
        last_layer: ``"scheme"`` or ``"int8"`` for the last layers: layers with weights whose block output
            is a model output (through Flatten/Reshape/… only): their weights, and their output tensor
            (the logits) with ``"int8"`` activations. Without such layers: the topologically first/last.
        overrides: layer name → ``{"weights": ..., "depthwise_weights": ..., "output": ...}``, winning
            over everything above (``"output"`` is the quantizer of the block output of that layer).
        quant_norm: ``None`` (BatchNormalization stays a float layer, folded by the exporter) or the
            keyword arguments of :class:`lpn_tf.pikelpn.QuantNorm` (e.g. ``{"mantissa_bits": 8}``): each
            BN folded into a conv/dense becomes a QuantNorm with that conv's ReLU/ReLU6 as its clamp, and
            Add / AveragePooling2D (valid) / GlobalAveragePooling2D become the QuantAdd / Quant…Pooling
            layers of :mod:`lpn_tf.pikelpn` (its ``mantissa_bits`` / ``power_of_two`` / ``max_shift``)
            unless it has ``"rescale_ops": False``.
    """

    name: str = "custom"
    weights: qz.QuantizerLike = "int8_weight"
    depthwise_weights: qz.QuantizerLike = None
    activations: qz.QuantizerLike = "int8"
    inputs: qz.QuantizerLike = "int8"
    first_layer: Literal["scheme", "int8"] = "scheme"
    last_layer: Literal["scheme", "int8"] = "scheme"
    overrides: Mapping[str, Mapping[str, qz.QuantizerLike]] = dataclasses.field(default_factory=dict)
    quant_norm: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        for policy in (self.first_layer, self.last_layer):
            if policy not in ("scheme", "int8"):
                raise ValueError(f"first_layer/last_layer must be 'scheme' or 'int8', got {policy!r}")
        for layer_name, override in self.overrides.items():
            unknown = set(override) - {"weights", "depthwise_weights", "output"}
            if unknown:
                raise ValueError(f"override for layer {layer_name!r} has unknown keys {sorted(unknown)}")

    @classmethod
    def get(cls, scheme: str | Scheme, **changes: Any) -> Scheme:
        """A named scheme (``"int8"``, ``"shift"``, ``"shift-wa"``) or a copy of ``scheme``, with changes."""
        if isinstance(scheme, Scheme):
            return dataclasses.replace(scheme, **changes)
        if scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {scheme!r}; known: {sorted(SCHEMES)} or a Scheme object")
        return dataclasses.replace(SCHEMES[scheme], **changes)

    def describe(self) -> str:
        """One line: name, weight/activation quantizers and the first/last-layer policy."""

        def alias(q: qz.QuantizerLike) -> str:
            return str(q) if isinstance(q, str) or q is None else type(qz.get(q)).__name__

        return (
            f"{self.name}: weights={alias(self.weights)} activations={alias(self.activations)} "
            f"inputs={alias(self.inputs)} first_layer={self.first_layer} last_layer={self.last_layer}"
        )


SCHEMES: dict[str, Scheme] = {
    "int8": Scheme(name="int8"),
    "shift": Scheme(
        name="shift", weights="shift3", activations="int8", first_layer="int8", last_layer="int8"
    ),
    "shift-wa": Scheme(
        name="shift-wa", weights="shift3", activations="shift3", first_layer="int8", last_layer="int8"
    ),
    # PikeLPN (docs/pikelpn.md): DHQ (depthwise 8-bit per-channel, others shift3), 5-bit activations,
    # QuantNorm with 8-bit double-quantized requantization factors; "pikelpn-a8": int8 activations
    # (exports in both flavors; "pikelpn" only with ops="lpn", on the LPN ops' ceil grid)
    "pikelpn": Scheme(
        name="pikelpn",
        weights="shift3",
        depthwise_weights="int8_weight",
        activations="uniform5",
        first_layer="int8",
        last_layer="int8",
        quant_norm={"mantissa_bits": 8},
    ),
    "pikelpn-a8": Scheme(
        name="pikelpn-a8",
        weights="shift3",
        depthwise_weights="int8_weight",
        activations="int8",
        first_layer="int8",
        last_layer="int8",
        quant_norm={"mantissa_bits": 8, "rescale_ops": False},
    ),
}
"""The named schemes. ``shift``: shift weights (1 sign + 2 exponent bits), 8-bit activations;
``shift-wa``: shift weights and activations. Both keep the first and last layer at int8 weights (and
int8 logits), the usual policy for deployment; change it with
``Scheme.get("shift", first_layer="scheme")``. ``pikelpn``: see docs/pikelpn.md."""


# ------------------------------------------------------------------------------------------------
# graph analysis
# ------------------------------------------------------------------------------------------------


def _activation_name(layer: Any) -> str:
    """Name of a layer's (fused or standalone) activation, or raise naming the layer."""
    if isinstance(layer, K.ReLU):
        cfg = layer.get_config()
        slope, thr, mx = cfg.get("negative_slope", 0.0), cfg.get("threshold", 0.0), cfg.get("max_value")
        if slope or thr or mx not in (None, 6.0, 6):
            raise ValueError(
                f"layer {layer.name!r} (ReLU): only max_value None or 6 with zero slope and threshold "
                "is supported"
            )
        return "relu" if mx is None else "relu6"
    act = getattr(layer, "activation", None)
    if act is None:
        return "linear"
    name = keras.activations.serialize(act)
    if isinstance(name, dict):
        name = name.get("config", name.get("class_name"))
    if name not in _ACTIVATIONS:
        raise ValueError(
            f"layer {layer.name!r} ({type(layer).__name__}): activation {name!r} is not supported; "
            f"supported: {list(_ACTIVATIONS)}"
        )
    return str(name)


def _check_layer(layer: Any) -> None:
    cls = type(layer)
    if cls in _QUANTIZED or cls in _PRODUCERS or cls in _INHERIT:
        if cls in _QUANTIZED or cls is K.Activation:
            _activation_name(layer)
        if cls is K.ReLU:
            _activation_name(layer)
        return
    raise ValueError(
        f"quantize_model cannot handle layer {layer.name!r} of class {cls.__name__}; "
        f"supported layers: {supported_layers()}"
    )


@dataclasses.dataclass
class _Graph:
    nodes: list[Any]  # topological order, inputs excluded
    consumers: dict[str, list[Any]]  # tensor id -> consumer nodes
    producer: dict[str, Any]  # tensor id -> producing node


def _graph(model: Any) -> _Graph:
    if not getattr(model, "_is_graph_network", False) or model.inputs is None:
        raise ValueError(
            f"model {model.name!r}: quantize_model needs a Functional or Sequential model with a known "
            "input shape (build it with keras.Input or an input_shape first)"
        )
    ordered = []
    for depth in sorted(model._nodes_by_depth, reverse=True):
        ordered.extend(model._nodes_by_depth[depth])
    nodes = [n for n in ordered if not n.is_input]
    consumers: dict[str, list[Any]] = {}
    producer: dict[str, Any] = {}
    for node in ordered:
        for tid in node.flat_output_ids:
            producer[tid] = node
        if node.is_input:
            continue
        for tid in node.flat_input_ids:
            consumers.setdefault(tid, []).append(node)
    for node in nodes:
        if isinstance(node.layer, keras.Model):
            raise ValueError(
                f"layer {node.layer.name!r} of class {type(node.layer).__name__} is a nested model; "
                "flatten it first"
            )
        _check_layer(node.layer)
    return _Graph(nodes, consumers, producer)


def _single_output(node: Any) -> str:
    ids = node.flat_output_ids
    if len(ids) != 1:
        raise ValueError(f"layer {node.layer.name!r} has {len(ids)} outputs; quantize_model needs one")
    return ids[0]


def _is_relu_like(layer: Any) -> bool:
    return type(layer) in (K.ReLU, K.Activation) and _activation_name(layer) in ("relu", "relu6")


@dataclasses.dataclass
class _Point:
    """A quantization point: after tensor ``tensor_id``, for the block started by ``head``."""

    tensor_id: str
    head: Any  # the block's producing layer
    ends_in_relu: bool
    softmax_output: bool = False


def _blocks(graph: _Graph) -> tuple[dict[str, _Point], dict[int, Any]]:
    """Quantization points (tensor id → point) and, for absorbed nodes, the block head (node id → layer)."""
    points: dict[str, _Point] = {}
    absorbed: dict[int, Any] = {}
    for node in graph.nodes:
        if id(node) in absorbed:
            continue
        layer = node.layer
        cls = type(layer)
        if cls not in _QUANTIZED and cls not in _PRODUCERS:
            if cls is K.Activation and _activation_name(layer) == "softmax":
                points[_single_output(node)] = _Point(_single_output(node), layer, False, softmax_output=True)
            continue
        if cls is K.Softmax:
            points[_single_output(node)] = _Point(_single_output(node), layer, False, softmax_output=True)
            continue
        tid = _single_output(node)
        act = _activation_name(layer) if cls in _QUANTIZED else "linear"
        relu = act in ("relu", "relu6")
        if act == "softmax":
            points[tid] = _Point(tid, layer, False, softmax_output=True)
            continue
        if act == "linear":
            nxt = graph.consumers.get(tid, [])
            if cls in _QUANTIZED and len(nxt) == 1 and type(nxt[0].layer) is K.BatchNormalization:
                absorbed[id(nxt[0])] = layer
                tid = _single_output(nxt[0])
                nxt = graph.consumers.get(tid, [])
            if len(nxt) == 1 and _is_relu_like(nxt[0].layer):
                absorbed[id(nxt[0])] = layer
                tid = _single_output(nxt[0])
                relu = True
        points[tid] = _Point(tid, layer, relu)
    return points, absorbed


def quantization_points(model: Any) -> list[tuple[str, str, bool]]:
    """Where :func:`quantize_model` would quantize: ``(block head, tensor's producer, ends_in_relu)`` names.

    Tensors of model inputs are not listed (each input is always quantized).
    """
    graph = _graph(model)
    points, _ = _blocks(graph)
    return [(p.head.name, graph.producer[p.tensor_id].layer.name, p.ends_in_relu) for p in points.values()]


# ------------------------------------------------------------------------------------------------
# rewriting
# ------------------------------------------------------------------------------------------------


def _unsigned_if_relu(q: qz.QuantizerLike, relu: bool) -> qz.Quantizer:
    out = qz.clone(q)
    if out is None:
        raise ValueError("an activation quantizer is required")
    if relu and isinstance(out, qz.Shift | qz.Uniform):
        out.unsigned = True
    return out


def _float_copy(layer: Any) -> Any:
    return type(layer).from_config(layer.get_config())


def _quantized_copy(layer: Any, weights: qz.QuantizerLike, depthwise: qz.QuantizerLike) -> Any:
    config = dict(layer.get_config())
    qcls = _QUANTIZED[type(layer)]
    if _activation_name(layer) == "softmax":
        config["activation"] = "linear"
    if qcls is ql.QSeparableConv2D:
        config.update(depthwise_quantizer=depthwise, pointwise_quantizer=weights)
    elif qcls is ql.QDepthwiseConv2D:
        config.update(kernel_quantizer=depthwise)
    else:
        config.update(kernel_quantizer=weights)
    return qcls.from_config(config)


def _copy_weights(src: Any, dst: Any) -> None:
    if type(src) in _QUANTIZED:
        for attr in ("kernel", "depthwise_kernel", "pointwise_kernel", "bias"):
            value = getattr(src, attr, None)
            if value is not None:
                getattr(dst, attr).assign(value)
        dst.calibrate()
    elif src.weights:
        dst.set_weights(src.get_weights())


def _first_and_last(model: Any, graph: _Graph, points: dict[str, _Point]) -> tuple[set[int], set[int]]:
    """ids of the first layers (weighted layers fed by a model input through inheriting layers only)
    and of the last ones (weighted layers whose block output reaches a model output the same way);
    if no layer qualifies, the topologically first / last weighted layer."""
    weighted = [n for n in graph.nodes if type(n.layer) in _QUANTIZED]

    def through_inherit(tid: str, step: Any) -> str:
        while (nxt := step(tid)) is not None:  # terminates: the graph is acyclic
            tid = nxt
        return tid

    def upstream(tid: str) -> str | None:
        node = graph.producer.get(tid)
        if node is None or node.is_input or type(node.layer) not in _INHERIT:
            return None
        ids = node.flat_input_ids
        return ids[0] if len(ids) == 1 else None

    def downstream(tid: str) -> str | None:
        nxt = graph.consumers.get(tid, [])
        if len(nxt) != 1 or type(nxt[0].layer) not in _INHERIT or len(nxt[0].flat_output_ids) != 1:
            return None
        return nxt[0].flat_output_ids[0]

    input_ids = {str(id(t)) for t in model.inputs}
    output_ids = {str(id(t)) for t in model.outputs}
    first = {
        id(n.layer)
        for n in weighted
        if any(through_inherit(t, upstream) in input_ids for t in n.flat_input_ids)
    }
    last = {id(p.head) for p in points.values() if through_inherit(p.tensor_id, downstream) in output_ids}
    last = {i for i in last if any(id(n.layer) == i for n in weighted)}
    if weighted and not first:
        first = {id(weighted[0].layer)}
    if weighted and not last:
        last = {id(weighted[-1].layer)}
    return first, last


def quantize_model(float_model: Any, scheme: str | Scheme = "int8") -> Any:
    """Convert a trained float model into a QAT model with the same weights.

    Args:
        float_model: a built ``keras.Sequential`` or Functional model (tf_keras), not modified.
        scheme: ``"int8"``, ``"shift"``, ``"shift-wa"`` or a :class:`Scheme`.

    Returns:
        A Functional ``keras.Model`` named ``<name>_qat``: quantized layers keep their original names;
        each quantization point is a :class:`lpn_tf.layers.QuantizeTensor` named ``<producer>_quant``
        (inputs: ``<input>_quant``). λ starts at 0 (hard quantization); fine-tune with
        :class:`lpn_tf.LambdaSchedule`, which starts at λ = 1 (the float model). Activation ranges are
        set by the first training batch and then tracked by moving averages.

    Raises:
        ValueError: naming the layer and its class for anything that cannot be quantized.
    """
    scheme = Scheme.get(scheme)
    graph = _graph(float_model)
    points, absorbed = _blocks(graph)
    first, last = _first_and_last(float_model, graph, points)
    unknown = set(scheme.overrides) - {n.layer.name for n in graph.nodes}
    if unknown:
        raise ValueError(f"scheme overrides name layers not in model {float_model.name!r}: {sorted(unknown)}")

    def weights_for(layer: Any) -> tuple[qz.QuantizerLike, qz.QuantizerLike]:
        w, dw = scheme.weights, scheme.depthwise_weights or scheme.weights
        if (id(layer) in first and scheme.first_layer == "int8") or (
            id(layer) in last and scheme.last_layer == "int8"
        ):
            w = dw = "int8_weight"
        override = scheme.overrides.get(layer.name, {})
        w = override.get("weights", w)
        dw = override.get("depthwise_weights", override.get("weights", dw))
        return w, dw

    def output_quantizer(point: _Point) -> qz.Quantizer:
        if point.softmax_output:
            return qz.AffineQuantizer(bits=8, fixed_range=SOFTMAX_RANGE)
        act: qz.QuantizerLike = scheme.activations
        if id(point.head) in last and scheme.last_layer == "int8":
            act = "int8"
        act = scheme.overrides.get(point.head.name, {}).get("output", act)
        return _unsigned_if_relu(act, point.ends_in_relu)

    used_names: set[str] = {n.layer.name for n in graph.nodes} | {t.name for t in float_model.inputs}

    def unique(name: str) -> str:
        candidate, i = name, 1
        while candidate in used_names:
            candidate, i = f"{name}_{i}", i + 1
        used_names.add(candidate)
        return candidate

    new_layers: dict[int, Any] = {}  # id(float layer) -> new layer
    folded_relu = _quant_norm_relus(graph, absorbed) if scheme.quant_norm is not None else {}
    clamps = {i for i in folded_relu.values() if i is not None}
    tensors: dict[str, Any] = {}
    new_inputs = []
    for kt in float_model.inputs:
        inp_layer = kt._keras_history.layer
        new_inp = keras.Input(type_spec=kt.type_spec, name=inp_layer.name)
        new_inputs.append(new_inp)
        q = qz.clone(scheme.inputs)
        tensors[str(id(kt))] = ql.QuantizeTensor(q, name=unique(f"{inp_layer.name}_quant"))(new_inp)

    def mapped(x: Any) -> Any:
        if keras.backend.is_keras_tensor(x):
            return tensors[str(id(x))]
        return x

    for node in graph.nodes:
        layer = node.layer
        if id(node) in clamps:  # the clamp of a QuantNorm: pass the tensor through
            tensors[_single_output(node)] = mapped(node.call_args[0])
            point = points.get(_single_output(node))
            if point is not None:
                tid = _single_output(node)
                q = ql.QuantizeTensor(output_quantizer(point), name=unique(f"{layer.name}_quant"))
                tensors[tid] = q(tensors[tid])
            continue
        if id(layer) not in new_layers:
            if id(node) in folded_relu:
                from lpn_tf.pikelpn import QuantNorm

                relu_id = folded_relu[id(node)]
                relu = next((n.layer for n in graph.nodes if id(n) == relu_id), None)
                act = "linear" if relu is None else _activation_name(relu)
                kwargs = {k: v for k, v in scheme.quant_norm.items() if k != "rescale_ops"}
                new_layers[id(layer)] = QuantNorm.from_batch_norm(layer, activation=act, **kwargs)
            elif type(layer) in _QUANTIZED:
                new_layers[id(layer)] = _quantized_copy(layer, *weights_for(layer))
            elif (
                scheme.quant_norm is not None
                and scheme.quant_norm.get("rescale_ops", True)
                and _rescaled_class(layer) is not None
            ):
                dq = {k: v for k, v in scheme.quant_norm.items() if k in _DQ_KEYS}
                new_layers[id(layer)] = _rescaled_class(layer).from_config({**layer.get_config(), **dq})
            else:
                new_layers[id(layer)] = _float_copy(layer)
        new_layer = new_layers[id(layer)]
        args, kwargs = tf.nest.map_structure(mapped, (tuple(node.call_args), dict(node.call_kwargs)))
        out = new_layer(*args, **kwargs)
        for tid, value in zip(node.flat_output_ids, tf.nest.flatten(out), strict=True):
            point = points.get(tid)
            if point is not None:
                head_softmax = type(point.head) in _QUANTIZED and _activation_name(point.head) == "softmax"
                if head_softmax:
                    logits_q = dataclasses.replace(point, softmax_output=False)
                    value = ql.QuantizeTensor(
                        output_quantizer(logits_q), name=unique(f"{layer.name}_logits_quant")
                    )(value)
                    value = K.Activation("softmax", name=unique(f"{layer.name}_softmax"))(value)
                    point = dataclasses.replace(point, softmax_output=True)
                value = ql.QuantizeTensor(output_quantizer(point), name=unique(f"{layer.name}_quant"))(value)
            tensors[tid] = value

    outputs = tf.nest.map_structure(mapped, float_model.outputs)
    if len(outputs) == 1 and not isinstance(float_model.output, list | tuple):
        outputs = outputs[0]
    qat = keras.Model(new_inputs, outputs, name=f"{float_model.name}_qat")
    for node in graph.nodes:
        if id(node.layer) in new_layers:
            _copy_weights(node.layer, new_layers[id(node.layer)])
    return qat


_DQ_KEYS = ("mantissa_bits", "power_of_two", "max_shift")


def _rescaled_class(layer: Any) -> type | None:
    """pikelpn: the rescaling layer (double-quantized multipliers) replacing an Add / average pooling."""
    from lpn_tf.pikelpn import RESCALED

    if type(layer) is K.AveragePooling2D and layer.padding != "valid":
        return None
    return RESCALED.get(type(layer))


def _quant_norm_relus(graph: _Graph, absorbed: dict[int, Any]) -> dict[int, int | None]:
    """For the pikelpn rewrite: id(BN node folded into a conv/dense) → id(its absorbed ReLU/ReLU6 node,
    which becomes the QuantNorm's clamp) or None."""
    out: dict[int, int | None] = {}
    for node in graph.nodes:
        if type(node.layer) is not K.BatchNormalization or id(node) not in absorbed:
            continue
        nxt = graph.consumers.get(_single_output(node), [])
        relu = len(nxt) == 1 and id(nxt[0]) in absorbed and _is_relu_like(nxt[0].layer)
        out[id(node)] = id(nxt[0]) if relu else None
    return out


def calibrate_activations(model: Any, x: Any) -> Any:
    """Set the range of every tensor quantizer from data, without training (weights and BN untouched).

    Walks the :class:`lpn_tf.layers.QuantizeTensor` layers in topological order; each one's input is
    computed by the model in inference mode (upstream tensors already quantized with their new ranges),
    then the quantizer sees it once in training mode, which sets its moving range from that batch (a
    quantizer that has already seen data moves by its EMA decay). Useful to get a QAT model with sensible
    ranges for export tests; fine-tuning does the same as a side effect.

    Args:
        model: a model made by :func:`quantize_model` (or any model with QuantizeTensor layers).
        x: one batch of model inputs (numpy array or tensor; a list for several inputs).

    Returns:
        ``model``.
    """
    quant = [layer for layer in model.layers if isinstance(layer, ql.QuantizeTensor)]
    for layer in quant:
        probe = keras.Model(model.inputs, layer.input)
        layer.quantizer(probe(x, training=False), training=True)
    return model
