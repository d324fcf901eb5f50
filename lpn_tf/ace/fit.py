"""``lpn_tf.calibrate``: fit the cost table's coefficients to measured per-op costs.

The cost model is linear in its coefficients: ``cost(op) = Σ_term c_term · units_term(op)``
(:func:`lpn_tf.ace.ops.term_units`), so fitting is a non-negative least-squares problem. Rows are
weighted by ``1/measured`` (relative error, so small ops matter as much as big ones). Two fits:

1. *pooled*: one coefficient per term over all ops — the table's generic coefficients, used for op
   families the measurements did not cover;
2. *per family* (``per_family=True``): one coefficient per term and op family (``conv2d:int``,
   ``conv2d:shift``, ...), stored as ``"term@family"`` overrides — a kernel's cost per MAC depends on
   its implementation, not only on its bit widths.

The split into training and held-out ops is stratified by family (every family keeps ≥ 1 training op).
The uncalibrated table is reported beside the fit, scaled by the one factor that best converts its
ACE units into the measured metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lpn_tf.ace import measurements as meas
from lpn_tf.ace.costs import TERMS, UNITS, CostTable
from lpn_tf.ace.ops import price, term_units


class CalibrationError(ValueError):
    """Calibration cannot run on these measurements; the message says which row or setting is at fault."""


@dataclass(frozen=True)
class FitStats:
    """Agreement between predicted and measured costs on a set of ops.

    Attributes:
        n: ops.  r2: coefficient of determination.  median_rel_error / max_rel_error: of
        ``|predicted − measured| / measured``.
    """

    n: int
    r2: float
    median_rel_error: float
    max_rel_error: float

    @staticmethod
    def of(predicted: np.ndarray, measured: np.ndarray) -> FitStats:
        rel = np.abs(predicted - measured) / measured
        ss_tot = float(np.sum((measured - measured.mean()) ** 2))
        ss_res = float(np.sum((predicted - measured) ** 2))
        r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else float("-inf"))
        return FitStats(len(measured), r2, float(np.median(rel)), float(np.max(rel)))


@dataclass
class CalibrationResult:
    """The fitted table and how well it predicts held-out ops.

    Attributes:
        table: the fitted :class:`CostTable` (unit = the target metric).
        target: the metric fitted (``instructions``, ``cycles`` or ``microjoules``).
        train / test: fit statistics on the training and held-out ops (test = train when ``holdout=0``).
        baseline: the uncalibrated table's statistics on the held-out ops, after scaling by
            :attr:`baseline_scale` (its best single ACE-unit -> metric factor on the training ops).
        test_names / test_families: the held-out ops.
        test_measured / test_predicted / test_baseline: values for the held-out ops.
        train_measured / train_predicted: values for the training ops.
    """

    table: CostTable
    target: str
    train: FitStats
    test: FitStats
    baseline: FitStats
    baseline_scale: float
    test_names: list[str] = field(default_factory=list)
    test_families: list[str] = field(default_factory=list)
    test_measured: np.ndarray = field(default_factory=lambda: np.zeros(0))
    test_predicted: np.ndarray = field(default_factory=lambda: np.zeros(0))
    test_baseline: np.ndarray = field(default_factory=lambda: np.zeros(0))
    train_measured: np.ndarray = field(default_factory=lambda: np.zeros(0))
    train_predicted: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def to_markdown(self) -> str:
        """A small table: calibrated vs uncalibrated on the held-out ops (and the training fit)."""
        rows = [
            ("calibrated, held-out", self.test),
            ("uncalibrated default x scale, held-out", self.baseline),
            ("calibrated, training", self.train),
        ]
        lines = [
            f"Calibration of {self.target} ({self.train.n} training ops, {self.test.n} held-out ops)",
            "",
            "| table | ops | R² | median rel. error | max rel. error |",
            "|---|---|---|---|---|",
        ]
        for label, s in rows:
            lines.append(
                f"| {label} | {s.n} | {s.r2:.4f} | {100 * s.median_rel_error:.2f}% | "
                f"{100 * s.max_rel_error:.2f}% |"
            )
        lines.append("")
        lines.append(f"uncalibrated scale: {self.baseline_scale:.4g} {self.target} per ACE unit")
        return "\n".join(lines) + "\n"

    def plot(self, path: str | Path) -> Path:
        """Write a log-log predicted-vs-measured scatter plot (PNG): held-out ops by family, training ops
        in grey, the scaled uncalibrated table as hollow markers, the identity line and a ±10 % band."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.8, 6.0), dpi=110)
        ax.scatter(self.train_measured, self.train_predicted, s=10, color="#BBBBBB", label="training ops")
        ax.scatter(
            self.test_measured,
            self.test_baseline,
            s=22,
            facecolors="none",
            edgecolors="#C44E52",
            label=f"uncalibrated ×{self.baseline_scale:.3g} (R²={self.baseline.r2:.3f})",
        )
        families = sorted(set(self.test_families))
        cmap = plt.get_cmap("tab10")
        for i, fam in enumerate(families):
            sel = np.array([f == fam for f in self.test_families])
            ax.scatter(
                self.test_measured[sel],
                self.test_predicted[sel],
                s=24,
                color=cmap(i % 10),
                label=f"held-out {fam}",
            )
        values = np.concatenate(
            [
                self.train_measured,
                self.test_measured,
                self.test_predicted,
                self.train_predicted,
                self.test_baseline,
            ]
        )
        values = values[values > 0]
        lo, hi = (float(values.min()) / 1.5, float(values.max()) * 1.5) if values.size else (1.0, 10.0)
        line = np.array([lo, hi])
        ax.plot(line, line, color="black", lw=1)
        ax.fill_between(line, line * 0.9, line * 1.1, color="black", alpha=0.08, label="±10 %")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(f"measured {self.target}")
        ax.set_ylabel(f"predicted {self.target} (ACEv2, calibrated)")
        ax.set_title(
            f"held-out: R² = {self.test.r2:.4f}, median rel. error = {100 * self.test.median_rel_error:.1f}%"
            f", max = {100 * self.test.max_rel_error:.0f}%",
            fontsize=10,
        )
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="upper left")
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path)
        plt.close(fig)
        return path


def _design(ops: Sequence[Any], columns: Sequence[tuple[str, str]]) -> np.ndarray:
    """Feature matrix: ``X[i, j]`` = units of term ``columns[j][0]`` of op i if its family matches
    ``columns[j][1]`` (``""`` = any family)."""
    x = np.zeros((len(ops), len(columns)))
    index = {c: j for j, c in enumerate(columns)}
    for i, op in enumerate(ops):
        for term, value in term_units(op).items():
            for key in ((term, ""), (term, op.family)):
                if key in index:
                    x[i, index[key]] = value
    return x


def _nnls(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative least squares of ``x·c ≈ y`` with relative (1/y) row weights and column scaling."""
    from scipy.optimize import nnls

    w = 1.0 / y
    xw = x * w[:, None]
    norms = np.linalg.norm(xw, axis=0)
    norms[norms == 0] = 1.0
    coef, _ = nnls(xw / norms, np.ones_like(y), maxiter=50 * x.shape[1] + 500)
    return coef / norms


def _split(families: Sequence[str], holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split: per family, ``round(holdout·n)`` held-out ops, at least one kept for training."""
    rng = np.random.default_rng(seed)
    train: list[int] = []
    test: list[int] = []
    for fam in sorted(set(families)):
        idx = np.array([i for i, f in enumerate(families) if f == fam])
        rng.shuffle(idx)
        k = min(int(round(holdout * len(idx))), len(idx) - 1)
        test.extend(idx[:k].tolist())
        train.extend(idx[k:].tolist())
    return np.array(sorted(train), dtype=int), np.array(sorted(test), dtype=int)


def calibrate(
    measurements: str | Path | Sequence[meas.Measurement],
    target: str = "instructions",
    holdout: float = 0.25,
    seed: int = 0,
    *,
    device: str | None = None,
    per_family: bool = True,
    terms: Sequence[str] = TERMS,
    base: CostTable | None = None,
    plot: str | Path | None = None,
) -> CalibrationResult:
    """Fit cost coefficients to measured per-op costs.

    Args:
        measurements: a measurement file (``.csv`` / ``.json``, see ``docs/ace.md``) or loaded rows.
        target: the metric to fit, one of ``instructions``, ``cycles``, ``microjoules``.
        holdout: fraction of ops (per family) held out for evaluation, in ``[0, 1)``; 0 evaluates on
            the training ops.
        seed: seed of the split.
        device: keep only rows measured on this target (required when the file mixes targets).
        per_family: fit ``term@family`` overrides besides the pooled generic coefficients.
        terms: the terms to fit (others are 0 in the fitted table). A fitted term that no training op
            exercises (e.g. ``lut`` without softmax ops) keeps the base table's coefficient times the
            base table's fitted scale (listed in ``table.meta["unmeasured_terms"]``).
        base: the uncalibrated table shown beside the fit (default: the ACEv2 default table).
        plot: if given, write the predicted-vs-measured scatter plot PNG there.

    Returns:
        A :class:`CalibrationResult` with the fitted ``table`` and held-out statistics.

    Raises:
        CalibrationError: bad arguments, a row without the target metric (named), too few rows.
    """
    if target not in meas.METRICS:
        raise CalibrationError(f"target {target!r} is not one of {list(meas.METRICS)}")
    if not 0 <= holdout < 1:
        raise CalibrationError(f"holdout {holdout} must be in [0, 1)")
    unknown = [t for t in terms if t not in TERMS]
    if unknown or not terms:
        raise CalibrationError(f"terms {unknown or '[]'} invalid (terms: {', '.join(TERMS)})")
    source = str(measurements) if isinstance(measurements, str | Path) else "measurements"
    rows = meas.load(measurements) if isinstance(measurements, str | Path) else list(measurements)
    devices = sorted({m.target for m in rows})
    if device is not None:
        rows = [m for m in rows if m.target == device]
        if not rows:
            raise CalibrationError(f"{source}: no rows for device {device!r} (devices: {devices})")
    elif len(devices) > 1:
        raise CalibrationError(f"{source}: rows from several targets {devices}; pick one with device=")
    for i, m in enumerate(rows):
        value = m.measured.get(target)
        if value is None or value <= 0:
            raise CalibrationError(
                f"{source}: row {i} ({m.op.name or m.op.kind}): {target} "
                f"{'missing' if value is None else 'must be > 0'}"
            )
    if len(rows) < 2:
        raise CalibrationError(f"{source}: need at least 2 measured ops, got {len(rows)}")
    ops = [m.op for m in rows]
    y = np.array([m.measured[target] for m in rows], dtype=np.float64)
    families = [op.family for op in ops]
    train, test = _split(families, holdout, seed)
    if test.size == 0:
        test = train

    base = base or CostTable.default()
    p0 = np.array([sum(price(op, base).values()) for op in ops])
    r0 = p0[train] / y[train]
    scale = float(np.sum(r0) / np.sum(r0 * r0)) if np.any(r0) else 0.0

    generic = [(t, "") for t in terms]
    x_generic = _design([ops[i] for i in train], generic)
    coef_generic = _nnls(x_generic, y[train])
    coefficients = {t: 0.0 for t in TERMS}
    coefficients.update({t: float(c) for (t, _), c in zip(generic, coef_generic, strict=True)})
    # terms no training op exercises keep the uncalibrated price, converted to the target metric
    unmeasured = [t for (t, _), col in zip(generic, x_generic.T, strict=True) if not np.any(col)]
    coefficients.update({t: scale * base.coefficient(t) for t in unmeasured})
    if per_family:
        for fam in sorted(set(families[i] for i in train)):
            members = [i for i in train if families[i] == fam]
            x = _design([ops[i] for i in members], [(t, fam) for t in terms])
            used = np.flatnonzero(np.any(x != 0, axis=0))
            coef = _nnls(x[:, used], y[members])
            coefficients.update({f"{terms[j]}@{fam}": float(c) for j, c in zip(used, coef, strict=True)})
    unit = target if target in UNITS else "ace"
    table = CostTable(
        coefficients,
        unit=unit,
        name=f"calibrated-{target}" + (f"-{devices[0]}" if len(devices) == 1 and devices[0] else ""),
    )
    predicted = np.array([sum(price(op, table).values()) for op in ops])
    result = CalibrationResult(
        table=table,
        target=target,
        train=FitStats.of(predicted[train], y[train]),
        test=FitStats.of(predicted[test], y[test]),
        baseline=FitStats.of(scale * p0[test], y[test]),
        baseline_scale=scale,
        test_names=[ops[i].name for i in test],
        test_families=[families[i] for i in test],
        test_measured=y[test],
        test_predicted=predicted[test],
        test_baseline=scale * p0[test],
        train_measured=y[train],
        train_predicted=predicted[train],
    )
    table.meta = {
        "source": source,
        "target": target,
        "device": device or (devices[0] if len(devices) == 1 else ""),
        "per_family": per_family,
        "holdout": holdout,
        "seed": seed,
        "n_train": int(train.size),
        "unmeasured_terms": unmeasured,
        "n_test": int(test.size) if holdout else 0,
        "test_r2": result.test.r2,
        "test_median_rel_error": result.test.median_rel_error,
        "test_max_rel_error": result.test.max_rel_error,
    }
    if plot is not None:
        result.plot(plot)
    return result
