"""Monitoring of the served models: drift (PSI) per model, feature and day; performance as labels arrive.

**Drift.** The reference of a model is the decisions the lake held in the two weeks before serving
began, turned into model inputs by the same online code (``bootstrap.py``) and scored by the same
model. Each served day's inputs and scores are compared to it with the population stability index

    PSI = Σ_bins (a − e) · ln(a / e)

over ten quantile bins of the reference (missing values are a bin of their own; shares floored at
1e-4). The usual reading: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 a shift to act on. A day
with at least ``min_rows`` decisions whose score PSI or any feature's PSI passes the threshold
raises a drift alert (logged, counted in Prometheus, shown in the console).

**Performance.** Fraud labels come weeks after the decision (chargebacks, takeover reports). Each
served decision is joined to the lake's ``labels`` as they stand *now*; per day we report how many
decisions have a bad label so far, and how many of those the model sent to review or block.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

EPS = 1e-4
THRESHOLD = 0.25


def psi(reference: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``reference`` (see the module doc)."""
    ref = np.asarray(reference, dtype=float)
    act = np.asarray(actual, dtype=float)
    if len(ref) == 0 or len(act) == 0:
        return float("nan")
    finite = ref[~np.isnan(ref)]
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])) if len(finite) else np.array([])

    def shares(x: np.ndarray) -> np.ndarray:
        missing = np.isnan(x)
        idx = np.searchsorted(edges, x[~missing], side="right")
        counts = np.bincount(idx, minlength=len(edges) + 1).astype(float)
        out = np.append(counts, float(missing.sum())) / len(x)
        return np.maximum(out, EPS)

    e, a = shares(ref), shares(act)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class DayDrift:
    """Drift of one model on one day."""

    model: str
    day: str
    rows: int
    score_psi: float
    features: dict[str, float]

    @property
    def worst(self) -> tuple[str, float]:
        finite = {k: v for k, v in self.features.items() if not math.isnan(v)}
        if not finite:
            return "", float("nan")
        name = max(finite, key=lambda k: finite[k])
        return name, finite[name]

    def alerting(self, threshold: float = THRESHOLD, min_rows: int = 50) -> list[tuple[str, float]]:
        """(what, psi) over ``threshold``: ``score`` and/or feature names; none on a thin day."""
        if self.rows < min_rows:
            return []
        out = [("score", self.score_psi)] if self.score_psi > threshold else []
        return out + sorted(((k, v) for k, v in self.features.items() if v > threshold), key=lambda kv: -kv[1])


def drift_by_day(reference: pd.DataFrame, reference_scores: np.ndarray, served: pd.DataFrame, model: str
                 ) -> list[DayDrift]:
    """PSI per day of ``served`` (columns day, score, features as JSON) against the reference inputs."""
    out = []
    for day, rows in served.groupby("day", sort=True):
        inputs = pd.DataFrame.from_records([json.loads(f) for f in rows["features"]])
        feats = {name: psi(reference[name].to_numpy(dtype=float),
                           inputs[name].to_numpy(dtype=float) if name in inputs else np.full(len(rows), np.nan))
                 for name in reference.columns}
        out.append(DayDrift(model, str(day), len(rows), psi(reference_scores, rows["score"].to_numpy(dtype=float)),
                            feats))
    return out


def performance_by_day(served: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Per day: decisions, those flagged (review/block), bad labels known so far, bad ones flagged.

    ``served``: day, entity_id, decision, score; ``labels``: entity_id, label (as ``label_events``)."""
    bad = set(labels.loc[labels["label"] == 1, "entity_id"].astype(str))
    frame = served.assign(bad=served["entity_id"].astype(str).isin(bad),
                          flagged=served["decision"].isin(["review", "block"]))
    frame["caught"] = frame["bad"] & frame["flagged"]
    out = frame.groupby("day").agg(decisions=("decision", "size"), flagged=("flagged", "sum"),
                                   bad_known=("bad", "sum"), bad_flagged=("caught", "sum"),
                                   mean_score=("score", "mean")).reset_index()
    out["recall_so_far"] = (out["bad_flagged"] / out["bad_known"].where(out["bad_known"] > 0)).round(3)
    out["precision_so_far"] = (out["bad_flagged"] / out["flagged"].where(out["flagged"] > 0)).round(3)
    return out
