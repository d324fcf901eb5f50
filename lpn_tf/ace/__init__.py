"""ACE v1 / ACEv2: counting what a model costs, and calibrating the prices against measurements.

- :mod:`lpn_tf.ace.costs` — the cost table (coefficients per term, JSON);
- :mod:`lpn_tf.ace.ops` — the op description (:class:`OpCount`) and its cost units;
- :mod:`lpn_tf.ace.registry` — where model adapters and Keras layer counters are registered;
- :mod:`lpn_tf.ace.keras_adapter`, :mod:`lpn_tf.ace.graph_adapter` — the adapters;
- :mod:`lpn_tf.ace.report` — rows, totals, Markdown / CSV / PNG;
- :mod:`lpn_tf.ace.api` — :func:`ace`;
- :mod:`lpn_tf.ace.measurements` — the per-op measurement file format;
- :mod:`lpn_tf.ace.fit` — :func:`calibrate`;
- :mod:`lpn_tf.ace.cli` — the ``lpn ace`` and ``lpn calibrate`` subcommands.

The package itself is callable: ``lpn_tf.ace(model, version=2, costs=None)`` is
:func:`lpn_tf.ace.api.ace` (a module object that is also the function, so ``lpn_tf.ace`` stays both
the subpackage and the function whatever was imported first).

The definitions are in ``docs/ace.md``. Importing this package does not import TensorFlow.
"""

import sys
import types
from typing import Any

from lpn_tf.ace.costs import CostTable
from lpn_tf.ace.ops import Elementwise, Numerics, OpCount

__all__ = ["CostTable", "Elementwise", "Numerics", "OpCount"]


class _CallableModule(types.ModuleType):
    """This package is also the function :func:`lpn_tf.ace.api.ace`: ``lpn_tf.ace(model, version=2)``."""

    def __call__(self, model: Any, version: int = 2, costs: Any = None, **options: Any) -> Any:
        from lpn_tf.ace.api import ace

        return ace(model, version, costs, **options)


sys.modules[__name__].__class__ = _CallableModule
