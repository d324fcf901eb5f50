"""lpn: low-precision networks from Keras to Cortex-M.

The public API is imported lazily, so ``import lpn_tf`` (and ``lpn --version``) stays fast and does
not pull in TensorFlow until a training or export function is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    # QAT core
    "quantizers": "lpn_tf.quantizers",
    "layers": "lpn_tf.layers",
    "set_lambda": "lpn_tf.schedule",
    "finalize": "lpn_tf.schedule",
    "LambdaSchedule": "lpn_tf.schedule",
    "quantize_model": "lpn_tf.quantize",
    "Scheme": "lpn_tf.quantize",
    "custom_objects": "lpn_tf.layers",
    # data sets
    "data": "lpn_tf.data",
    # export and runtimes
    "export": "lpn_tf.export",
    "runtime": "lpn_tf.runtime",
    "ace": "lpn_tf.ace",  # the subpackage is callable: lpn_tf.ace(model, version=2)
    "calibrate": "lpn_tf.ace.fit",
    "models": "lpn_tf.models",
    "QuantNorm": "lpn_tf.pikelpn",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'lpn_tf' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name.endswith("." + name) else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
