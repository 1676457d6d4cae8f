"""Ranking, alerting, calibration and cost metrics of a risk score, overall and over time.

Risk teams read a score at an alert budget ("we can review 1% of payments"), so next to ROC-AUC and
PR-AUC (average precision, the honest one when bad rows are rare) come precision and recall at ``k``
rows or at an alert rate. Ties at the cut are broken by row order, so ``k`` rows are always taken.

Example::

    evaluate(y_test, p_test, alert_rate=0.01)            # -> Metrics
    metrics_over_time(times, y_test, p_test, freq="W")   # one row per week
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models.calibration import brier_score, expected_calibration_error
from cryptoscope.models.costs import Costs, decision_costs


@dataclass(frozen=True)
class Metrics:
    """The numbers a model card and a report show for one period. AUCs are NaN with one class only."""

    rows: int
    positives: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    brier: float
    ece: float
    alert_rate: float
    precision_at_alert_rate: float
    recall_at_alert_rate: float
    cost: float | None = None
    cost_per_row: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metrics:
        """Inverse of ``to_dict``: JSON nulls become NaN again, except for the optional costs."""
        values: dict[str, Any] = {k: (math.nan if v is None and k not in ("cost", "cost_per_row") else v)
                                  for k, v in data.items()}
        return cls(**values)


def roc_auc(y: Any, p: Any) -> float:
    labels, scores = _pair(y, p)
    return float(roc_auc_score(labels, scores)) if _both_classes(labels) else math.nan


def pr_auc(y: Any, p: Any) -> float:
    """Average precision: the area under the precision-recall curve as scikit-learn steps it."""
    labels, scores = _pair(y, p)
    return float(average_precision_score(labels, scores)) if labels.sum() > 0 else math.nan


def precision_at_k(y: Any, p: Any, k: int) -> float:
    """Share of bad rows among the ``k`` highest scores."""
    labels, top = _top(y, p, k)
    return float(labels[top].mean())


def recall_at_k(y: Any, p: Any, k: int) -> float:
    """Share of all bad rows found among the ``k`` highest scores (NaN when there are none)."""
    labels, top = _top(y, p, k)
    total = labels.sum()
    return float(labels[top].sum() / total) if total > 0 else math.nan


def alert_count(rows: int, alert_rate: float) -> int:
    """Rows flagged at ``alert_rate``: ceil(rate x rows), at least one."""
    if not 0.0 < alert_rate <= 1.0:
        raise CryptoscopeError(f"alert_rate must be in (0, 1], got {alert_rate}")
    return max(1, math.ceil(alert_rate * rows - 1e-9))


def precision_recall_at_rate(y: Any, p: Any, alert_rate: float) -> tuple[float, float]:
    """Precision and recall when the top ``alert_rate`` share of rows raise an alert."""
    k = alert_count(len(np.asarray(y)), alert_rate)
    return precision_at_k(y, p, k), recall_at_k(y, p, k)


def expected_cost(y: Any, decisions: Any, costs: Costs, frame: pd.DataFrame | None = None) -> float:
    """Mean cost per row of the given decisions (see ``costs.py`` for the cost model)."""
    return float(decision_costs(y, decisions, costs, frame).mean())


def evaluate(y: Any, p: Any, *, alert_rate: float = 0.01, decisions: Any = None, costs: Costs | None = None,
             frame: pd.DataFrame | None = None) -> Metrics:
    """All metrics of calibrated probabilities ``p``; the costs too when ``decisions`` and ``costs`` are given."""
    labels, probs = _pair(y, p)
    precision, recall = precision_recall_at_rate(labels, probs, alert_rate)
    cost = None
    if decisions is not None and costs is not None:
        cost = float(decision_costs(labels, decisions, costs, frame).sum())
    return Metrics(rows=labels.size, positives=int(labels.sum()), base_rate=float(labels.mean()),
                   roc_auc=roc_auc(labels, probs), pr_auc=pr_auc(labels, probs), brier=brier_score(labels, probs),
                   ece=expected_calibration_error(labels, probs), alert_rate=alert_rate,
                   precision_at_alert_rate=precision, recall_at_alert_rate=recall, cost=cost,
                   cost_per_row=None if cost is None else cost / labels.size)


def metrics_over_time(times: Any, y: Any, p: Any, *, freq: str = "W", alert_rate: float = 0.01) -> pd.DataFrame:
    """One row per period (``"D"``, ``"W"`` weeks from Monday, or any fixed pandas frequency like ``"6h"``).

    Columns: ``period`` (its start), ``rows``, ``positives``, ``roc_auc``, ``pr_auc``,
    ``precision_at_alert_rate``, ``recall_at_alert_rate``. A drop shows drift before the monthly review does.
    """
    labels, scores = _pair(y, p)
    stamps = pd.Series(pd.to_datetime(times)).reset_index(drop=True)  # positions, whatever the index was
    if stamps.size != labels.size:
        raise CryptoscopeError(f"{stamps.size} times for {labels.size} rows")
    day = stamps.dt.floor("D")
    if freq.upper() == "W":
        period = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    else:
        try:
            period = stamps.dt.floor(freq)
        except ValueError as exc:
            raise CryptoscopeError(f"freq {freq!r} is not a fixed period: use 'D', 'W' or e.g. '6h'") from exc
    rows = []
    for start, index in period.groupby(period.to_numpy(), sort=True).groups.items():
        idx = np.asarray(index)
        ys, ps = labels[idx], scores[idx]
        precision, recall = precision_recall_at_rate(ys, ps, alert_rate)
        rows.append({"period": start, "rows": idx.size, "positives": int(ys.sum()), "roc_auc": roc_auc(ys, ps),
                     "pr_auc": pr_auc(ys, ps), "precision_at_alert_rate": precision,
                     "recall_at_alert_rate": recall})
    return pd.DataFrame(rows)


def _pair(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    labels, scores = np.asarray(y, dtype=float).ravel(), np.asarray(p, dtype=float).ravel()
    if labels.shape != scores.shape:
        raise CryptoscopeError(f"{scores.size} scores for {labels.size} labels")
    if labels.size == 0:
        raise CryptoscopeError("no rows to measure")
    return labels, scores


def _both_classes(labels: np.ndarray) -> bool:
    return 0 < labels.sum() < labels.size


def _top(y: Any, p: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    labels, scores = _pair(y, p)
    if not 1 <= k <= labels.size:
        raise CryptoscopeError(f"k must be between 1 and the number of rows ({labels.size}), got {k}")
    return labels, np.argsort(-scores, kind="stable")[:k]
