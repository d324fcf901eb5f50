"""One runner API for every backend: ``rt = load(path, backend=...)``, ``y = rt.run(x)``.

Backends: ``"reference"`` (numpy integer executor), ``"litert"`` (ai_edge_litert with LPN ops),
``"host"`` (firmware runtime built for the host), ``"qemu-m4"``, ``"qemu-m7"``, ``"qemu-m33"``
(firmware on emulated Cortex-M). Each backend lives in its own module of this package.
"""

from lpn_tf.runtime.api import Runner, load  # noqa: F401 - the public runner API
