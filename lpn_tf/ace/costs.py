"""The ACEv2 cost table: one coefficient per cost term, loadable from and savable to JSON.

Every cost lpn reports is ``Σ_term coefficient(term, family) · units(term)``, where the *units* of an
op come from :mod:`lpn_tf.ace.ops` (bit-width products, counts, bytes) and the *coefficients* live
here, nowhere else. The default table is the PikeLPN ACEv2 reconstruction (``docs/ace.md``), in ACE
units (1 ACE = one 1-bit × 1-bit multiply-accumulate, ≈ 1.25 fJ in the AQT energy model):

====================  ===========================================  =======
term                  units per occurrence                         default
====================  ===========================================  =======
``mac``               ``b_a · b_w`` per multiply-accumulate         1
``pad_mac``           ``b_a · b_w`` per MAC on a zero-padding tap   1
``mul``               ``b_x · b_y`` per elementwise multiply        1
``add``               ``max(b_x, b_y)`` per add / subtract          1
``cmp``               ``max(b_x, b_y)`` per compare (max, min)      1
``shift``             ``b_x`` per shift                             1
``lut``               ``b_y`` per table lookup (one b_y-bit read)   1
``func``              ``b_x · b_y`` per nonlinear function          1
``load_byte``         bytes read (weights + input activations)     0
``store_byte``        bytes written (output activations)           0
``tap``               1 per executed (output, kernel tap) pair     0
``op``                1 per op (fixed call overhead)               0
====================  ===========================================  =======

A coefficient can be overridden for one op family with the key ``"term@family"`` (e.g.
``"mac@conv2d:shift"``); calibration (:mod:`lpn_tf.ace.fit`) produces such overrides because a
Cortex-M kernel's cost per MAC depends on its implementation, not only on bit widths.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "lpn-ace-costs"
VERSION = 1

TERMS: tuple[str, ...] = (
    "mac",
    "pad_mac",
    "mul",
    "add",
    "cmp",
    "shift",
    "lut",
    "func",
    "load_byte",
    "store_byte",
    "tap",
    "op",
)
"""The cost terms, in report order."""

DEFAULT_COEFFICIENTS: dict[str, float] = {
    "mac": 1.0,
    "pad_mac": 1.0,
    "mul": 1.0,
    "add": 1.0,
    "cmp": 1.0,
    "shift": 1.0,
    "lut": 1.0,
    "func": 1.0,
    "load_byte": 0.0,
    "store_byte": 0.0,
    "tap": 0.0,
    "op": 0.0,
}

UNITS: tuple[str, ...] = ("ace", "instructions", "cycles", "microjoules")
"""What one unit of a table's cost means."""

FJ_PER_ACE = 1.25
"""AQT's energy figure: femtojoules per ACE unit (a reference point, see docs/ace.md)."""


class CostTableError(ValueError):
    """A cost table (or its JSON file) is malformed; the message names the file and key at fault."""


@dataclass
class CostTable:
    """Coefficients of the ACEv2 cost terms.

    Attributes:
        coefficients: ``term`` or ``"term@family"`` -> non-negative coefficient (cost per unit).
            Every term of :data:`TERMS` has a generic entry.
        unit: what the resulting cost counts, one of :data:`UNITS` (``"ace"`` for the default table).
        name: a label shown in reports (e.g. ``"default"``, ``"calibrated-m4-instructions"``).
        meta: free-form provenance (fit statistics, measurement file, target core).
    """

    coefficients: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_COEFFICIENTS))
    unit: str = "ace"
    name: str = "default"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def default(cls) -> CostTable:
        """The uncalibrated PikeLPN ACEv2 table (ACE units)."""
        return cls()

    def validate(self, where: str = "cost table") -> None:
        """Raise :class:`CostTableError` naming the key at fault if a term or value is invalid."""
        if self.unit not in UNITS:
            raise CostTableError(f"{where}: unit {self.unit!r} is not one of {list(UNITS)}")
        for key, value in self.coefficients.items():
            term = key.split("@", 1)[0]
            if term not in TERMS:
                raise CostTableError(
                    f"{where}: key {key!r}: unknown term {term!r} (terms: {', '.join(TERMS)})"
                )
            if "@" in key and not key.split("@", 1)[1]:
                raise CostTableError(f"{where}: key {key!r}: empty family after '@'")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise CostTableError(f"{where}: key {key!r}: coefficient {value!r} is not a number")
            if not math.isfinite(value) or value < 0:
                raise CostTableError(f"{where}: key {key!r}: coefficient {value!r} must be finite and >= 0")
        missing = [t for t in TERMS if t not in self.coefficients]
        if missing:
            raise CostTableError(f"{where}: missing generic coefficients for {missing}")

    def coefficient(self, term: str, family: str = "") -> float:
        """The coefficient of ``term`` for ops of ``family`` (the override if present, else generic)."""
        if family:
            override = self.coefficients.get(f"{term}@{family}")
            if override is not None:
                return float(override)
        try:
            return float(self.coefficients[term])
        except KeyError:
            raise CostTableError(f"unknown cost term {term!r} (terms: {', '.join(TERMS)})") from None

    def families(self) -> list[str]:
        """Families that have at least one override, sorted."""
        return sorted({k.split("@", 1)[1] for k in self.coefficients if "@" in k})

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (``format``, ``version``, ``name``, ``unit``, ``coefficients``, ``meta``)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "unit": self.unit,
            "coefficients": {
                k: float(self.coefficients[k]) for k in sorted(self.coefficients, key=_key_order)
            },
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, doc: Any, where: str = "cost table") -> CostTable:
        """Inverse of :meth:`to_dict`; raises :class:`CostTableError` naming ``where`` and the key."""
        if not isinstance(doc, dict):
            raise CostTableError(f"{where}: expected a JSON object, got {type(doc).__name__}")
        if doc.get("format") != FORMAT:
            raise CostTableError(f"{where}: 'format' is {doc.get('format')!r}, expected {FORMAT!r}")
        if doc.get("version") != VERSION:
            raise CostTableError(
                f"{where}: 'version' {doc.get('version')!r} not supported (this lpn reads {VERSION})"
            )
        coefficients = doc.get("coefficients")
        if not isinstance(coefficients, dict):
            raise CostTableError(f"{where}: 'coefficients' must be an object of term -> number")
        meta = doc.get("meta", {})
        if not isinstance(meta, dict):
            raise CostTableError(f"{where}: 'meta' must be an object")
        table = cls.__new__(cls)
        table.coefficients = dict(coefficients)
        table.unit = str(doc.get("unit", "ace"))
        table.name = str(doc.get("name", Path(where).stem))
        table.meta = meta
        table.validate(where)
        table.coefficients = {k: float(v) for k, v in table.coefficients.items()}
        return table

    def save(self, path: str | Path) -> None:
        """Write the table as JSON (sorted keys, 2-space indent)."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> CostTable:
        """Read a table written by :meth:`save`; errors name the file and the key at fault."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise CostTableError(
                f"{path}: line {err.lineno} column {err.colno}: invalid JSON ({err.msg})"
            ) from None
        return cls.from_dict(doc, str(path))


def _key_order(key: str) -> tuple[int, str]:
    term, _, family = key.partition("@")
    return (TERMS.index(term) if term in TERMS else len(TERMS), family)
