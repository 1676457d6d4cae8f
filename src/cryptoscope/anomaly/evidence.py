"""How sure a lead is: the ensemble against each detector on one labelled table, with bootstrap intervals.

On one table, ROC-AUC differences of a few thousandths are often noise: a user choosing between the
ensemble and a single detector needs to know which differences the table can tell apart. The rows are
resampled with replacement within each class (stratified, so every resample keeps both classes and the
table's anomaly share); both methods are scored on the same resample (paired), and the 2.5th and 97.5th
percentiles of the differences are the 95 % interval (Efron & Tibshirani, *An Introduction to the
Bootstrap*, 1993, ch. 13).

>>> leads = paired_leads(y, {"ensemble": ens, "iforest": iso}, resamples=200)   # doctest: +SKIP
>>> leads["iforest"]["roc_auc"]        # {"lead": 0.012, "ci95": [0.004, 0.021]}  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import rankdata

from cryptoscope.errors import CryptoscopeError

METRICS = ("roc_auc", "average_precision")


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney statistic (a tie counts half): scikit-learn's figure, without its
    per-call checks, which dominate when a table is scored a thousand times."""
    pos = int(y.sum())
    return float((rankdata(s)[y == 1].sum() - pos * (pos + 1) / 2) / (pos * (len(y) - pos)))


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    """Average precision as scikit-learn defines it: precision at each distinct score, weighted by the
    recall it adds (no interpolation)."""
    order = np.argsort(-s, kind="mergesort")
    last = np.r_[np.diff(s[order]) != 0, True]  # the last row of each run of equal scores
    tp = np.cumsum(y[order])[last]
    precision = tp / np.arange(1, len(y) + 1)[last]
    return float(np.sum(np.diff(np.r_[0, tp]) / tp[-1] * precision))


def judge(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    """Both measures of one score column against 0/1 labels (both classes present)."""
    return {"roc_auc": roc_auc(y, s), "average_precision": average_precision(y, s)}


class Ranked:
    """One score column sorted once, so that a resample, given as how often it draws each row, is scored
    in linear time without sorting again: the same figures as `judge` on the resampled rows."""

    def __init__(self, y: np.ndarray, s: np.ndarray) -> None:
        self.order = np.argsort(s, kind="mergesort")
        self.y = np.asarray(y, dtype=float)[self.order]
        ascending = np.asarray(s, dtype=float)[self.order]
        self.groups = np.flatnonzero(np.r_[True, np.diff(ascending) != 0])  # where each run of ties starts

    def judge(self, weights: np.ndarray) -> dict[str, float]:
        w = np.asarray(weights, dtype=float)[self.order]
        pos = np.add.reduceat(w * self.y, self.groups)  # per distinct score, lowest first
        neg = np.add.reduceat(w, self.groups) - pos
        below = np.cumsum(neg) - neg
        auc = float(np.sum(pos * (below + 0.5 * neg)) / (pos.sum() * neg.sum()))
        pos_down, all_down = pos[::-1], (pos + neg)[::-1]  # highest score first, as the thresholds fall
        adds = pos_down > 0
        precision = np.cumsum(pos_down)[adds] / np.cumsum(all_down)[adds]
        return {"roc_auc": auc, "average_precision": float(np.sum(pos_down[adds] / pos.sum() * precision))}


def paired_leads(y: np.ndarray, scores: dict[str, np.ndarray], reference: str = "ensemble",
                 resamples: int = 200, seed: int = 0) -> dict[str, dict[str, dict[str, Any]]]:
    """For every other method: the reference's lead on each measure and its 95 % bootstrap interval.

    A lead whose interval holds 0 is one this table cannot tell from chance.
    """
    if resamples < 1:
        raise CryptoscopeError(f"the bootstrap needs at least 1 resample, got {resamples}")
    y = np.asarray(y, dtype=int)
    others = [m for m in scores if m != reference]
    full = {m: judge(y, scores[m]) for m in scores}
    ranked = {m: Ranked(y, scores[m]) for m in scores}
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    rng = np.random.default_rng(seed)
    diffs = {m: {k: np.empty(resamples) for k in METRICS} for m in others}
    for b in range(resamples):
        drawn = np.bincount(np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]),
                            minlength=len(y))
        ref = ranked[reference].judge(drawn)
        for m in others:
            other = ranked[m].judge(drawn)
            for k in METRICS:
                diffs[m][k][b] = ref[k] - other[k]
    return {m: {k: {"lead": round(full[reference][k] - full[m][k], 4),
                    "ci95": [round(float(q), 4) for q in np.percentile(diffs[m][k], [2.5, 97.5])]}
                for k in METRICS} for m in others}
