"""Positive-unlabelled forests: learn "abnormal" from a few confirmed cases and the rows nobody decided.

Analysts confirm a few dozen abnormal users and clear a few dozen; everyone else is unlabelled, mostly
normal but holding the abnormal users nobody has looked at yet. A classifier that takes the unlabelled
rows as normal (as ADGym trains its boosters) learns the right direction, but if it then scores the very
rows it was told were normal it "remembers" them as normal, the hidden abnormal ones included. So every
row is scored out of bag: the forest is grown in bags, each bag a bootstrap of the decided rows plus a
sample of the unlabelled ones, and a row is scored only by the bags that did not hold it (PU bagging,
Mordelet & Vert, Pattern Recognition Letters 2014; out-of-bag scoring as in Breiman's random forests).

Two kinds of forest: extremely randomized trees (Geurts et al., Machine Learning 2006), whose random splits
do not chase 20 positives, and Breiman's random forest; `pu_scores` averages their ranks. On the development
tables of `benchmarks/anomaly_feedback.py` the pair ranked the unseen rows better than either alone and
better than a boosted forest (LightGBM) trained the same way (docs/abnormal.md).

>>> score = pu_scores(features, np.array([1, np.nan, 0, np.nan, 1]))   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

from cryptoscope.anomaly.combine import rank_columns
from cryptoscope.errors import CryptoscopeError

#: Bags, and trees per bag: 300 trees in all; with a third of the rows left out of each bag, a row is left
#: out of about ten bags, and out of none with odds of about 1e-6.
BAGS = 30
TREES_PER_BAG = 10
#: Each bag holds this share of the unlabelled rows (without replacement) ...
UNLABELLED_SHARE = 0.632
#: ... but at most this many: an 8,000-row table is learnt in seconds, and a few dozen positives are not
#: drowned in a 50,000-user run (the development tables, at most 2,000 rows, never reach it).
MAX_UNLABELLED = 2_000
#: Smallest leaf: 3 keeps one or two confirmed rows from carving out a region of their own.
LEAF = 3
#: Undecided rows scored at least as high as this share of the confirmed rows are held back (`two_step_pu`).
SPY_QUANTILE = 0.25
FORESTS = {"extra": ExtraTreesClassifier, "random": RandomForestClassifier}


def _bag(decided: np.ndarray, unlabelled: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row indices of one bag: a bootstrap of the decided rows plus a sample of the unlabelled ones."""
    take = min(len(unlabelled), MAX_UNLABELLED, max(1, round(UNLABELLED_SHARE * len(unlabelled))))
    parts = [rng.choice(decided, len(decided), replace=True)] if len(decided) else []
    if len(unlabelled):
        parts.append(rng.choice(unlabelled, take, replace=False))
    return np.concatenate(parts)


def pu_forest(features: np.ndarray, decisions: np.ndarray, seed: int = 7,
              held_back: np.ndarray | None = None, kind: str = "extra") -> np.ndarray:
    """Out-of-bag probability of "abnormal" for every row.

    ``decisions``: 1 (confirmed abnormal), 0 (cleared) or NaN (not decided) per row; unlabelled rows are
    trained as normal, except ``held_back`` ones (indices), which are only scored. A row left out of no bag
    (odds about 1e-6) gets the mean of all bags. ``kind``: "extra" (random splits) or "random" (best splits
    among random features: Breiman's forest).
    """
    if kind not in FORESTS:
        raise CryptoscopeError(f"unknown forest {kind!r}; known: {', '.join(FORESTS)}")
    x = np.asarray(features, dtype=float)
    d = np.asarray(decisions, dtype=float)
    if len(x) != len(d):
        raise CryptoscopeError(f"decisions have {len(d)} rows, the features {len(x)}")
    target = np.where(np.isnan(d), 0, d).astype(int)
    if target.sum() == 0:
        raise CryptoscopeError("the forest needs at least one decision that says abnormal")
    decided, unlabelled = np.flatnonzero(~np.isnan(d)), np.flatnonzero(np.isnan(d))
    if held_back is not None:
        unlabelled = np.setdiff1d(unlabelled, held_back)
    rng = np.random.default_rng(seed)
    total, seen = np.zeros(len(x)), np.zeros(len(x))
    everywhere, fitted = np.zeros(len(x)), 0
    for b in range(BAGS):
        rows = _bag(decided, unlabelled, rng)
        if target[rows].min() == target[rows].max():  # a bootstrap that drew one class only: skip it
            continue
        model = FORESTS[kind](n_estimators=TREES_PER_BAG, min_samples_leaf=LEAF, max_features="sqrt",
                              class_weight="balanced_subsample", random_state=seed * 1000 + b, n_jobs=1)
        model.fit(x[rows], target[rows])
        proba = model.predict_proba(x)[:, 1]
        out = np.ones(len(x), dtype=bool)
        out[rows] = False
        total[out] += proba[out]
        seen[out] += 1
        everywhere += proba
        fitted += 1
    if not seen.any():
        raise CryptoscopeError("every bag drew one class only; the forest needs decisions of both kinds or "
                               "unlabelled rows")
    return np.where(seen > 0, total / np.maximum(seen, 1), everywhere / fitted)


def two_step_pu(features: np.ndarray, decisions: np.ndarray, seed: int = 7, kind: str = "extra") -> np.ndarray:
    """`pu_forest` twice: the undecided rows the first pass scores like the confirmed ones are held back from
    the "normal" side of the second (two-step PU learning: Liu et al., ICML 2002).

    "Like the confirmed ones": at or above the `SPY_QUANTILE` quantile of the confirmed rows' own out-of-bag
    scores (the confirmed rows act as the spies of Liu et al.). Held-back rows are still scored.
    """
    first = pu_forest(features, decisions, seed, kind=kind)
    d = np.asarray(decisions, dtype=float)
    threshold = np.quantile(first[d == 1], SPY_QUANTILE)
    held_back = np.flatnonzero(np.isnan(d) & (first >= threshold))
    return pu_forest(features, decisions, seed, held_back=held_back, kind=kind)


def pu_scores(features: np.ndarray, decisions: np.ndarray, seed: int = 7) -> np.ndarray:
    """Mean percentile rank of the two-step extra-trees and random forests (`two_step_pu`)."""
    ranks = rank_columns(np.column_stack([two_step_pu(features, decisions, seed, kind) for kind in FORESTS]))
    return np.asarray(ranks.mean(axis=1))
