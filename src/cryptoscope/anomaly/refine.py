"""Pseudo-label refinement: teach a classifier the ensemble's surest calls, then let it re-score every row.

The ensemble's top 5 % of rows are taken as abnormal and its bottom half as normal; a random forest on
the features learns what separates them and scores all rows out of fold (a row is never scored by a
model that saw its own pseudo-label). The final score averages the ensemble's rank and the
classifier's rank. This is the self-training step of semi-supervised outlier ensembles (Rayana &
Akoglu, ACM TKDD 2016; Zhao & Hryniewicki, XGBOD, IJCNN 2018): rows that look like the confident
outliers in *feature space* move up even where some members missed them. A forest, not a linear
model: on the development tables (docs/abnormal.md) a logistic regression in its place lost mean
ROC-AUC against the unrefined ensemble, the forest gained.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold

from cryptoscope.anomaly.combine import rank_columns

#: Trees per forest (two forests per refinement, one per fold).
TREES = 100
#: At most this many pseudo-labelled rows train the forests (a random sample above it): keeps a
#: 50,000-row run to seconds; tables under ~18,000 rows use all their pseudo-labels.
MAX_TRAIN = 10_000


def refine(x: np.ndarray, base: np.ndarray, top: float = 0.05, bottom: float = 0.5, seed: int = 7) -> np.ndarray:
    """Mean of the base score's rank and the out-of-fold rank of a classifier fitted on its pseudo-labels.

    ``x``: the detectors' matrix; ``base``: any ensemble score, higher = more abnormal. With fewer than
    4 pseudo-positives (tables under 80 rows) the base ranks are returned unchanged.
    """
    r = rank_columns(base)[:, 0]
    pos, neg = r > 1 - top, r <= bottom
    if pos.sum() < 4 or neg.sum() < 4:
        return r
    idx = np.flatnonzero(pos | neg)
    if len(idx) > MAX_TRAIN:
        idx = np.sort(np.random.default_rng(seed).choice(idx, MAX_TRAIN, replace=False))
    y = pos[idx].astype(int)
    if y.sum() < 4:
        return r
    proba = np.zeros(len(x))
    unlabelled = np.ones(len(x), dtype=bool)
    unlabelled[idx] = False  # rows without a (sampled) pseudo-label get the mean of both forests
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=seed)
    for train, test in folds.split(idx, y):
        model = RandomForestClassifier(n_estimators=TREES, min_samples_leaf=3, random_state=seed, n_jobs=1)
        model.fit(x[idx[train]], y[train])
        proba[idx[test]] = model.predict_proba(x[idx[test]])[:, 1]
        if unlabelled.any():
            proba[unlabelled] += model.predict_proba(x[unlabelled])[:, 1] / 2
    return np.asarray((r + rank_columns(proba)[:, 0]) / 2)
