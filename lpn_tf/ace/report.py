"""The ACE report: per-op rows priced with a cost table, totals, Markdown / CSV / bar-chart output."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from lpn_tf.ace.costs import CostTable
from lpn_tf.ace.ops import OpCount, ace_v1, price

PLOTTED: tuple[tuple[str, str, str], ...] = (
    ("mac_cost", "MAC", "#4C72B0"),
    ("elementwise_cost", "elementwise", "#DD8452"),
    ("requant_cost", "requantization", "#55A868"),
    ("other_cost", "memory + overhead", "#8C8C8C"),
)


@dataclass(frozen=True)
class AceRow:
    """One op of the report.

    Attributes:
        name: layer / op name.  op: op kind.  arith: float / int / shift.
        macs: multiply-accumulates per sample.  bits: bit widths (``w8 a8 acc32 s32``).
        mac_cost / elementwise_cost / requant_cost / other_cost: ACEv2 cost by category, in the table's
            unit (``other`` = memory traffic + per-op overhead, zero in the default table).
        elementwise: elementwise ops by kind and width, e.g. ``2048 mul32x32 + 2048 add32``.
        requant_count: requantizations per sample.
        memory_bytes: weight + input + output bytes.
        ace_v1: ``macs · b_a · b_w`` (ACE units, independent of the table).
        ace_v2: the row's total cost with the table.
        note: e.g. ``fused into conv1``.
    """

    name: str
    op: str
    arith: str
    macs: int
    bits: str
    mac_cost: float
    elementwise: str
    elementwise_cost: float
    requant_count: int
    requant_cost: float
    other_cost: float
    memory_bytes: int
    ace_v1: int
    ace_v2: float
    note: str = ""


def elementwise_label(op: OpCount) -> str:
    """The op's elementwise operations summed by kind and width, e.g. ``2048 mul32x32 + 2048 add32``."""
    counts: dict[str, int] = {}
    for ew in op.elementwise:
        if ew.count:
            counts[ew.label()] = counts.get(ew.label(), 0) + ew.count
    return " + ".join(f"{n} {label}" for label, n in counts.items())


def make_row(op: OpCount, table: CostTable) -> AceRow:
    """Price one op with ``table``."""
    c = price(op, table)
    return AceRow(
        name=op.name,
        op=op.kind,
        arith=op.arith,
        macs=op.macs,
        bits=op.bits_label(),
        mac_cost=c["mac"],
        elementwise=elementwise_label(op),
        elementwise_cost=c["elementwise"],
        requant_count=op.requant_count,
        requant_cost=c["requant"],
        other_cost=c["memory"] + c["overhead"],
        memory_bytes=op.memory_bytes,
        ace_v1=ace_v1(op),
        ace_v2=sum(c.values()),
        note=op.note,
    )


@dataclass
class AceReport:
    """ACE v1 and ACEv2 of a model, per op and in total.

    Attributes:
        rows: one per op, execution order.
        ops: the op descriptions the rows were priced from.
        version: 1 or 2; selects what :attr:`total` and the chart show.
        table: the cost table (ACEv2).
        model_name: shown in titles.
    """

    rows: list[AceRow]
    ops: list[OpCount]
    version: int
    table: CostTable
    model_name: str = "model"

    @classmethod
    def build(
        cls,
        ops: Sequence[OpCount],
        version: int = 2,
        table: CostTable | None = None,
        model_name: str = "model",
    ) -> AceReport:
        """Price ``ops`` with ``table`` (default: the uncalibrated ACEv2 table)."""
        if version not in (1, 2):
            raise ValueError(f"ACE version must be 1 or 2, got {version!r}")
        table = table or CostTable.default()
        return cls([make_row(op, table) for op in ops], list(ops), version, table, model_name)

    @property
    def total_v1(self) -> int:
        """ACE v1 of the model (ACE units)."""
        return sum(r.ace_v1 for r in self.rows)

    @property
    def total_v2(self) -> float:
        """ACEv2 of the model (in :attr:`unit`)."""
        return sum(r.ace_v2 for r in self.rows)

    @property
    def total(self) -> float:
        """The model's cost for the report's version."""
        return float(self.total_v1 if self.version == 1 else self.total_v2)

    @property
    def unit(self) -> str:
        """Unit of ACEv2 costs (ACE v1 is always in ACE units)."""
        return "ace" if self.version == 1 else self.table.unit

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.rows)

    def totals(self) -> dict[str, float]:
        """Model totals: MACs, cost by category, ACE v1, ACEv2, memory bytes."""
        out: dict[str, float] = {"macs": float(self.macs)}
        for key, _, _ in PLOTTED:
            out[key] = sum(getattr(r, key) for r in self.rows)
        out["ace_v1"] = float(self.total_v1)
        out["ace_v2"] = self.total_v2
        out["memory_bytes"] = float(sum(r.memory_bytes for r in self.rows))
        return out

    def shares(self) -> dict[str, float]:
        """Fraction of ACEv2 in each category (MAC, elementwise, requantization, other)."""
        t = self.totals()
        whole = t["ace_v2"] or 1.0
        return {label: t[key] / whole for key, label, _ in PLOTTED}

    def to_markdown(self) -> str:
        """A Markdown table of all rows plus a totals row and a one-line summary."""
        head = [
            "layer",
            "op",
            "arith",
            "MACs",
            "bits",
            "MAC cost",
            "elementwise ops",
            "elementwise cost",
            "requant",
            "requant cost",
            "other",
            "memory B",
            "ACE v1",
            "ACEv2",
        ]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            ew = r.elementwise or ("-" if not r.note else r.note)
            cells = [
                r.name,
                r.op,
                r.arith,
                f"{r.macs:,}",
                r.bits or "-",
                _num(r.mac_cost),
                ew,
                _num(r.elementwise_cost),
                f"{r.requant_count:,}",
                _num(r.requant_cost),
                _num(r.other_cost),
                f"{r.memory_bytes:,}",
                f"{r.ace_v1:,}",
                _num(r.ace_v2),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        t = self.totals()
        lines.append(
            "| **total** | | | "
            + " | ".join(
                [
                    f"{int(t['macs']):,}",
                    "",
                    _num(t["mac_cost"]),
                    "",
                    _num(t["elementwise_cost"]),
                    "",
                    _num(t["requant_cost"]),
                    _num(t["other_cost"]),
                    f"{int(t['memory_bytes']):,}",
                    f"{int(t['ace_v1']):,}",
                    _num(t["ace_v2"]),
                ]
            )
            + " |"
        )
        share = ", ".join(f"{label} {100 * v:.1f}%" for label, v in self.shares().items() if v)
        title = (
            f"**{self.model_name}**: ACE v1 = {self.total_v1:,} ace; ACEv2 = {_num(self.total_v2)} "
            f"{self.table.unit} (table {self.table.name!r}; {share or 'no cost'})"
        )
        return title + "\n\n" + "\n".join(lines) + "\n"

    def to_csv(self, path: str | Path | None = None) -> str:
        """All rows as CSV (one header line, columns = :class:`AceRow` fields); also written to ``path``."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=[f.name for f in fields(AceRow)], lineterminator="\n")
        writer.writeheader()
        for r in self.rows:
            writer.writerow(asdict(r))
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text)
        return text

    def plot(self, path: str | Path) -> Path:
        """Write a horizontal stacked bar chart (PNG) of cost per op split into MAC / elementwise /
        requantization (/ memory + overhead when the table prices them); zero-cost rows are left out.
        Version 1 reports show ACE v1 (MAC) only. Returns ``path``."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = [r for r in self.rows if (r.ace_v1 if self.version == 1 else r.ace_v2) > 0]
        parts = (
            [("ace_v1", "MAC (ACE v1)", PLOTTED[0][2])]
            if self.version == 1
            else [p for p in PLOTTED if any(getattr(r, p[0]) for r in rows)]
        )
        height = max(2.5, 0.32 * len(rows) + 1.6)
        fig, ax = plt.subplots(figsize=(9.5, height), dpi=110)
        y = list(range(len(rows)))[::-1]
        left = [0.0] * len(rows)
        for key, label, color in parts:
            values = [float(getattr(r, key)) for r in rows]
            ax.barh(y, values, left=left, color=color, label=label, height=0.72)
            left = [a + b for a, b in zip(left, values, strict=True)]
        if self.version == 2 and self.table.unit == "ace" and rows:
            marks = [(r.ace_v1, yy) for r, yy in zip(rows, y, strict=True) if r.ace_v1]
            ax.scatter(
                [m[0] for m in marks],
                [m[1] for m in marks],
                marker="|",
                s=160,
                color="black",
                zorder=3,
                label="ACE v1 (MACs only)",
            )
        ax.set_yticks(y, [_tick_label(r) for r in rows], fontsize=8)
        unit = "ACE units" if self.unit == "ace" else self.unit
        ax.set_xlabel(f"cost per inference [{unit}]")
        ax.xaxis.set_major_formatter(matplotlib.ticker.EngFormatter())
        ax.grid(axis="x", alpha=0.3)
        ax.margins(x=0.03)
        ax.set_axisbelow(True)
        if self.version == 1:
            title = f"{self.model_name}: ACE v1 = {_eng(self.total_v1)}"
        else:
            share = ", ".join(f"{label} {100 * v:.0f}%" for label, v in self.shares().items() if v >= 0.005)
            unit_text = "" if self.unit == "ace" else f" {self.unit}"
            title = f"{self.model_name}: ACEv2 = {_eng(self.total_v2)}{unit_text}"
            title += f" vs ACE v1 = {_eng(self.total_v1)}\n{share}"
        ax.set_title(title, fontsize=10)
        ax.legend(loc="best", fontsize=8, framealpha=0.9)
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path)
        plt.close(fig)
        return path


def _tick_label(row: AceRow) -> str:
    """``name (op, w3 a8)``: the op and its weight / activation widths."""
    widths = " ".join(b for b in row.bits.split() if b[0] in "wa")
    return f"{row.name} ({row.op}{', ' + widths if widths else ''})"


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 or x == int(x) else f"{x:,.2f}"


def _eng(x: float) -> str:
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"
