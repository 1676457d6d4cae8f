"""Analysts' decisions teach the ensemble: the semi-supervised combination.

Closed cases come back into the lake as labels (`cryptoscope.cases.labels`): 1 closed as fraud, 0 closed
as legitimate. Those users are the top of an earlier queue, so they say what this exchange's real cases
look like next to its false alarms, which is the one thing no unsupervised rule can know. They are used
twice (`learn_from_decisions`):

- each member's z-score is weighted by its lead over chance on the decided rows, ``max(0, AUC - 0.5)``:
  a member that ranks them no better than a coin gets no say;
- a random forest learns the decisions from the features and the members' z-scores (the idea of
  XGBOD, Zhao & Hryniewicki, IJCNN 2018: detector scores as features of a supervised model) and scores
  every row; a decided row only by a forest that did not see it (out of fold).

The final score is the mean of both ranks. Why: on five corpora of public tables, which single detector is
best moves with the kind of data and no fixed combination beats every one of them out of corpus
(docs/abnormal.md). With decisions on the top 5 % of each table's queue, weights and forest together beat
every single detector on the rows nobody reviewed, pooled and on most corpora
(`benchmarks/anomaly_tables.py`, ``feedback`` in the JSON).

>>> learned = learn_from_decisions(x, scores, np.array([np.nan, 1, 0, np.nan, 0]))   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from cryptoscope.anomaly.combine import rank_columns, standardize
from cryptoscope.errors import CryptoscopeError

#: Fewer decided users of either kind than this and the weights stay equal: a handful of decisions is noise.
MIN_EACH = 3
#: Trees of the decision forest; at most `MAX_DECIDED` decided rows train it (a random sample above that).
TREES = 200
MAX_DECIDED = 20_000


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


def decision_forest(features: np.ndarray, labels: np.ndarray, seed: int = 7) -> np.ndarray:
    """Probability of "closed as fraud" for every row, from a forest trained on the decided rows.

    Undecided rows are scored by a forest fitted on every decided row; each decided row by one fitted on
    the other folds, so a decision never scores itself. Classes are balanced: frauds are the rare kind.
    """
    known = np.flatnonzero(decided(labels))
    y = np.asarray(labels, dtype=float)[known].astype(int)
    if min(int(y.sum()), int(len(y) - y.sum())) < 2:
        raise CryptoscopeError("the decision forest needs at least 2 decisions of each kind (fraud, legitimate)")
    if len(known) > MAX_DECIDED:
        keep = np.sort(np.random.default_rng(seed).choice(len(known), MAX_DECIDED, replace=False))
        known, y = known[keep], y[keep]

    def forest() -> RandomForestClassifier:
        return RandomForestClassifier(n_estimators=TREES, min_samples_leaf=2, class_weight="balanced",
                                      random_state=seed, n_jobs=1)

    proba = np.zeros(len(features))
    rest = np.ones(len(features), dtype=bool)
    rest[known] = False
    if rest.any():
        proba[rest] = forest().fit(features[known], y).predict_proba(features[rest])[:, 1]
    folds = StratifiedKFold(n_splits=int(min(5, y.sum(), len(y) - y.sum())), shuffle=True, random_state=seed)
    for train, test in folds.split(known, y):
        proba[known[test]] = forest().fit(features[known[train]], y[train]).predict_proba(features[known[test]])[:, 1]
    return proba


def learn_from_decisions(matrix: np.ndarray, scores: np.ndarray, labels: np.ndarray,
                         seed: int = 7) -> tuple[np.ndarray, np.ndarray] | None:
    """(score per row, member weights) from the decisions; None when there are too few to learn from.

    ``matrix``: the detectors' (scaled) feature matrix; ``scores``: rows x members, higher = more abnormal.
    """
    weights = member_weights(scores, labels)
    if weights is None:
        return None
    weighted = weighted_zscore(scores, weights)
    proba = decision_forest(np.column_stack([matrix, standardize(scores)]), labels, seed)
    combined = (rank_columns(weighted)[:, 0] + rank_columns(proba)[:, 0]) / 2
    return np.asarray(combined), weights
