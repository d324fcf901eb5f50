"""The per-op measurement file: one row per op with its description and measured cost.

CSV (header line + one line per op) and JSON (``{"format": "lpn-ace-measurements", "version": 1,
"rows": [...]}``) carry the same columns; ``docs/ace.md`` documents them and how to produce them.
Loading checks every value and names the file, row and column at fault.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lpn_tf.ace.ops import ARITHS, ELEMENTWISE_KINDS, CountError, Elementwise, OpCount

FORMAT = "lpn-ace-measurements"
VERSION = 1

METRICS: tuple[str, ...] = ("instructions", "cycles", "microjoules")
"""Measured quantities a row can carry (per inference of the op)."""

INT_COLUMNS: tuple[str, ...] = (
    "macs",
    "padding_macs",
    "taps",
    "input_elements",
    "output_elements",
    "weight_elements",
    "bits_weight",
    "bits_activation",
    "bits_output",
    "bits_accumulator",
    "bits_scale",
    "requant_count",
    "weight_bytes",
    "input_bytes",
    "output_bytes",
)
TEXT_COLUMNS: tuple[str, ...] = ("model", "target", "name", "note")
REQUIRED: tuple[str, ...] = ("op", "arith", "macs", "bits_weight", "bits_activation")
COLUMNS: tuple[str, ...] = (
    "model",
    "target",
    "name",
    "op",
    "arith",
    *INT_COLUMNS,
    "elementwise",
    "input_shape",
    "output_shape",
    *METRICS,
    "note",
)
"""All columns, in file order."""


class MeasurementError(ValueError):
    """A measurement file is malformed; the message names the file, row and column."""


@dataclass(frozen=True)
class Measurement:
    """One measured op.

    Attributes:
        op: the op description (what :mod:`lpn_tf.ace.ops` prices).
        measured: metric name (of :data:`METRICS`) -> measured value (instructions, cycles, µJ).
        target: the core or board measured (``m4``, ``m7``, ``nucleo-f446re``...).
        model: the model file the op came from.
    """

    op: OpCount
    measured: dict[str, float] = field(default_factory=dict)
    target: str = ""
    model: str = ""


def format_elementwise(ops: Iterable[Elementwise]) -> str:
    """``kind:count:bits_x[:bits_y]`` items separated by spaces (the ``elementwise`` column)."""
    return " ".join(f"{e.kind}:{e.count}:{e.bits_x}" + (f":{e.bits_y}" if e.bits_y else "") for e in ops)


def parse_elementwise(text: str) -> tuple[Elementwise, ...]:
    """Inverse of :func:`format_elementwise`; raises ``ValueError`` describing the bad item."""
    out = []
    for item in text.split():
        parts = item.split(":")
        if len(parts) not in (3, 4) or parts[0] not in ELEMENTWISE_KINDS:
            raise ValueError(
                f"item {item!r} is not kind:count:bits_x[:bits_y] with kind in {list(ELEMENTWISE_KINDS)}"
            )
        try:
            numbers = [int(p) for p in parts[1:]]
        except ValueError:
            raise ValueError(f"item {item!r}: count and widths must be integers") from None
        try:
            out.append(Elementwise(parts[0], *numbers))
        except CountError as err:
            raise ValueError(f"item {item!r}: {err}") from None
    return tuple(out)


def _shape_text(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape)


def to_record(m: Measurement) -> dict[str, Any]:
    """A flat row (column -> value) for CSV/JSON; empty strings for absent metrics."""
    op = m.op
    rec: dict[str, Any] = {
        "model": m.model,
        "target": m.target,
        "name": op.name,
        "op": op.kind,
        "arith": op.arith,
    }
    rec.update({c: getattr(op, c) for c in INT_COLUMNS})
    rec["elementwise"] = format_elementwise(op.elementwise)
    rec["input_shape"] = _shape_text(op.input_shape)
    rec["output_shape"] = _shape_text(op.output_shape)
    for metric in METRICS:
        rec[metric] = m.measured.get(metric, "")
    rec["note"] = op.note
    return rec


def from_record(rec: Mapping[str, Any], where: str) -> Measurement:
    """Parse one row; ``where`` (``"file.csv: line 7"``) prefixes every error with the column name."""

    def fail(column: str, problem: str) -> MeasurementError:
        return MeasurementError(f"{where}: column {column!r}: {problem}")

    unknown = [k for k in rec if k not in COLUMNS]
    if unknown:
        raise fail(unknown[0], f"unknown column (columns: {', '.join(COLUMNS)})")
    for column in REQUIRED:
        if _blank(rec.get(column)):
            raise fail(column, "required value missing")
    ints: dict[str, int] = {}
    for column in INT_COLUMNS:
        value = rec.get(column)
        if _blank(value):
            ints[column] = 0
            continue
        try:
            number = int(str(value).strip()) if not isinstance(value, int | float) else value
        except ValueError:
            raise fail(column, f"{value!r} is not an integer") from None
        if isinstance(number, bool) or number != int(number) or number < 0:
            raise fail(column, f"{value!r} is not a non-negative integer")
        ints[column] = int(number)
    arith = str(rec["arith"]).strip()
    if arith not in ARITHS:
        raise fail("arith", f"{arith!r} is not one of {list(ARITHS)}")
    ew_raw = rec.get("elementwise") or ""
    try:
        if isinstance(ew_raw, list):
            ew = tuple(
                Elementwise(str(e["kind"]), int(e["count"]), int(e["bits_x"]), int(e.get("bits_y", 0)))
                for e in ew_raw
            )
        else:
            ew = parse_elementwise(str(ew_raw))
    except (ValueError, KeyError, TypeError, CountError) as err:
        raise fail("elementwise", str(err)) from None
    shapes = {}
    for column in ("input_shape", "output_shape"):
        value = rec.get(column)
        try:
            shapes[column] = _parse_shape(value)
        except ValueError:
            raise fail(column, f"{value!r} is not a shape like 8x8x3") from None
    measured: dict[str, float] = {}
    for metric in METRICS:
        value = rec.get(metric)
        if _blank(value):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise fail(metric, f"{value!r} is not a number") from None
        if not math.isfinite(number) or number < 0:
            raise fail(metric, f"{value!r} must be finite and >= 0")
        measured[metric] = number
    text = {c: "" if _blank(rec.get(c)) else str(rec[c]) for c in TEXT_COLUMNS}
    try:
        op = OpCount(
            name=text["name"],
            kind=str(rec["op"]).strip(),
            arith=arith,
            elementwise=ew,
            note=text["note"],
            **ints,
            **shapes,
        )
    except CountError as err:
        raise MeasurementError(f"{where}: {err}") from None
    return Measurement(op, measured, text["target"], text["model"])


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse_shape(value: Any) -> tuple[int, ...]:
    if _blank(value):
        return ()
    if isinstance(value, list):
        return tuple(int(v) for v in value)
    return tuple(int(d) for d in str(value).strip().split("x"))


def load(path: str | Path) -> list[Measurement]:
    """Read a ``.csv`` or ``.json`` measurement file.

    Raises:
        MeasurementError: naming the file, the row (CSV line number / JSON ``rows[i]``) and column.
    """
    path = Path(path)
    if not path.exists():
        raise MeasurementError(f"{path}: no such file")
    if path.suffix == ".csv":
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames:
                raise MeasurementError(f"{path}: line 1: empty file, expected a header line")
            rows = []
            for rec in reader:
                if None in rec:
                    raise MeasurementError(f"{path}: line {reader.line_num}: more values than header columns")
                rows.append(from_record(rec, f"{path}: line {reader.line_num}"))
    elif path.suffix == ".json":
        try:
            doc = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise MeasurementError(
                f"{path}: line {err.lineno} column {err.colno}: invalid JSON ({err.msg})"
            ) from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise MeasurementError(f'{path}: expected a JSON object with "format": {FORMAT!r}')
        if doc.get("version") != VERSION:
            raise MeasurementError(
                f"{path}: version {doc.get('version')!r} not supported (this lpn reads {VERSION})"
            )
        if not isinstance(doc.get("rows"), list):
            raise MeasurementError(f"{path}: 'rows' must be a list")
        rows = []
        for i, rec in enumerate(doc["rows"]):
            if not isinstance(rec, dict):
                raise MeasurementError(f"{path}: rows[{i}]: expected an object")
            rows.append(from_record(rec, f"{path}: rows[{i}]"))
    else:
        raise MeasurementError(f"{path}: measurement files end in .csv or .json")
    if not rows:
        raise MeasurementError(f"{path}: no measurement rows")
    return rows


def save(path: str | Path, measurements: Sequence[Measurement]) -> Path:
    """Write measurements as ``.csv`` or ``.json`` (by the suffix of ``path``)."""
    path = Path(path)
    records = [to_record(m) for m in measurements]
    if path.suffix == ".csv":
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(COLUMNS), lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
    elif path.suffix == ".json":
        for rec in records:
            for metric in METRICS:
                if rec[metric] == "":
                    del rec[metric]
        path.write_text(json.dumps({"format": FORMAT, "version": VERSION, "rows": records}, indent=1) + "\n")
    else:
        raise MeasurementError(f"{path}: measurement files end in .csv or .json")
    return path


def for_graph(
    graph: Any, measured: Mapping[int, Mapping[str, float]], target: str = "", model: str = ""
) -> list[Measurement]:
    """Join per-op measurements of an integer graph (op index -> ``{"instructions": ...}``, e.g. from
    ``lpn profile``) with the ops' descriptions. Ops that cost nothing (RESHAPE) or that have no
    measurement are left out; a layer counted as several rows cannot be measured per row and is refused."""
    from lpn_tf.ace.graph_adapter import FREE_KINDS, count_graph_op

    out = []
    for index, values in sorted(measured.items()):
        op = graph.ops[index]
        if op.kind in FREE_KINDS:
            continue
        rows = count_graph_op(graph, op, op.name or f"op{index}")
        if len(rows) != 1:
            raise MeasurementError(
                f"op {index} ({op.kind}): counted as {len(rows)} rows, cannot attribute one measurement"
            )
        unknown = [k for k in values if k not in METRICS]
        if unknown:
            raise MeasurementError(
                f"op {index} ({op.kind}): unknown metric {unknown[0]!r} (metrics: {list(METRICS)})"
            )
        out.append(Measurement(rows[0], {k: float(v) for k, v in values.items()}, target, model))
    return out
