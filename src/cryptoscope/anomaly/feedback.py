"""Analysts' decisions weight the ensemble's members: the semi-supervised combination.

Closed cases come back into the lake as labels (`cryptoscope.cases.labels`): 1 closed as fraud, 0 closed
as legitimate. Those users are the top of an earlier queue, so among them a member's ROC-AUC says how well
it tells this exchange's real cases from its false alarms, which is the one thing no unsupervised rule can
know. Each member's z-score is weighted by its lead over chance, ``max(0, AUC - 0.5)``; a member that ranks
the decided users no better than a coin gets no say.

Why: on four corpora of public tables, which single detector is best moves with the kind of data and no
fixed combination beats every one of them out of corpus (docs/abnormal.md). With decisions on the top 5 %
of each table's queue, this weighting lifts the unsupervised ensemble on the rows nobody reviewed on all
four corpora, and beats every single detector on two of them and pooled (`benchmarks/anomaly_tables.py`,
``feedback`` in the JSON).

>>> w = member_weights(scores, np.array([np.nan, 1, 0, np.nan, 0]))   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from cryptoscope.anomaly.combine import standardize
from cryptoscope.errors import CryptoscopeError

#: Fewer decided users of either kind than this and the weights stay equal: a handful of decisions is noise.
MIN_EACH = 3


def decided(labels: np.ndarray) -> np.ndarray:
    """Which rows carry an analyst's decision (0 or 1; NaN = never decided)."""
    y = np.asarray(labels, dtype=float)
    bad = ~np.isnan(y) & ~np.isin(y, (0.0, 1.0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise CryptoscopeError(f"feedback row {row}: decision must be 0, 1 or empty, found {y[row]!r}")
    return ~np.isnan(y)


def member_weights(scores: np.ndarray, labels: np.ndarray, min_each: int = MIN_EACH) -> np.ndarray | None:
    """Each member's weight from the decided rows, summing to 1; None if too few decisions of either kind.

    ``scores``: rows x members (higher = more abnormal); ``labels``: 1, 0 or NaN per row. If no member
    beats chance on the decided rows, all weigh the same.
    """
    s = np.asarray(scores, dtype=float)
    s = s.reshape(-1, 1) if s.ndim == 1 else s
    if len(s) != len(labels):
        raise CryptoscopeError(f"feedback has {len(labels)} rows, the scores {len(s)}")
    known = decided(labels)
    y = np.asarray(labels, dtype=float)[known]
    if min(int(y.sum()), int(len(y) - y.sum())) < min_each:
        return None
    auc = np.array([roc_auc_score(y, s[known, j]) for j in range(s.shape[1])])
    lead = np.clip(auc - 0.5, 0.0, None)
    return lead / lead.sum() if lead.sum() > 0 else np.full(s.shape[1], 1.0 / s.shape[1])


def weighted_zscore(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The members' z-scores (`combine.standardize`) weighted by ``weights``: one score per row."""
    return np.asarray(standardize(scores) @ np.asarray(weights, dtype=float))
