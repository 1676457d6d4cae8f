"""Unsupervised detectors from PyOD and the rank ensemble that combines them.

Each detector sees the same prepared matrix (signed log of every column, constant columns dropped,
missing values at the column median) and scores every row; the ensemble turns each detector's
scores into percentile ranks and averages them. Ranks make detectors with very different score
scales comparable, and averaging several different views of "unusual" is steadier across kinds
of data than any one of them (`benchmarks/abnormal.py` measures this on several data sets).

>>> ens = RankEnsemble().fit(features)          # doctest: +SKIP
>>> ens.scores_["ensemble"][:3]                  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pyod.models.copod import COPOD
from pyod.models.ecod import ECOD
from pyod.models.hbos import HBOS
from pyod.models.iforest import IForest
from pyod.models.knn import KNN
from scipy.stats import rankdata
from sklearn.preprocessing import RobustScaler

from cryptoscope.errors import CryptoscopeError


def _cache_hbos_kernel() -> None:
    """Compile PyOD's HBOS scoring kernel once per machine, not once per process.

    PyOD jit-compiles it with numba without ``cache=True``; the compile costs 5-15 s in every new
    process (every CLI call, every test run). Re-wrapping the same Python function with caching on
    keeps PyOD's code and results and only stores the machine code on disk.
    """
    from numba import njit
    from pyod.models import hbos

    kernel = hbos._calculate_outlier_scores
    if hasattr(kernel, "py_func"):
        hbos._calculate_outlier_scores = njit(cache=True)(kernel.py_func)


_cache_hbos_kernel()

#: The detectors of the ensemble, by name; each factory takes a random seed.
DETECTORS: dict[str, Callable[[int], Any]] = {
    "ecod": lambda seed: ECOD(),
    "copod": lambda seed: COPOD(),
    "iforest": lambda seed: IForest(n_estimators=200, random_state=seed),
    "hbos": lambda seed: HBOS(n_bins=20),
    "knn": lambda seed: KNN(n_neighbors=10, method="mean"),
}
#: The default ensemble. kNN is left out: on the development data sets (docs/abnormal.md) it was the
#: weakest member and the slowest, and it pulled the average rank down; it stays available by name.
ENSEMBLE: tuple[str, ...] = ("ecod", "copod", "iforest", "hbos")
#: kNN costs O(n^2) distance work; above this many rows it scores a random reference sample.
KNN_MAX_ROWS = 20_000


def prepare(frame: pd.DataFrame) -> np.ndarray:
    """Numeric matrix for the detectors: signed log1p, medians for gaps, no constant columns."""
    x = frame.apply(pd.to_numeric, errors="coerce").astype(float).to_numpy(copy=True)
    x[~np.isfinite(x)] = np.nan
    x[:, np.isnan(x).all(axis=0)] = 0.0
    med = np.nanmedian(x, axis=0) if len(x) else np.zeros(x.shape[1])
    rows, cols = np.nonzero(np.isnan(x))
    x[rows, cols] = med[cols]
    x = np.sign(x) * np.log1p(np.abs(x))
    keep = x.std(axis=0) > 0 if len(x) else np.zeros(x.shape[1], dtype=bool)
    return x[:, keep] if keep.any() else np.zeros((len(x), 1))


def percentile_ranks(scores: np.ndarray) -> np.ndarray:
    """Each score's rank as a share of rows in (0, 1]; ties share their mean rank."""
    s = np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    return np.asarray(rankdata(s, method="average") / max(len(s), 1))


class RankEnsemble:
    """Fit several PyOD detectors on one matrix and average their percentile ranks.

    ``scores_`` holds each detector's raw outlier scores (higher = more abnormal) and, under
    ``"ensemble"``, the mean rank in (0, 1].
    """

    def __init__(self, detectors: tuple[str, ...] = ENSEMBLE, random_state: int = 7) -> None:
        self.detectors = detectors
        self.random_state = random_state

    def fit(self, x: np.ndarray | pd.DataFrame) -> RankEnsemble:
        matrix = prepare(x) if isinstance(x, pd.DataFrame) else np.asarray(x, dtype=float)
        unknown = [d for d in self.detectors if d not in DETECTORS]
        if unknown:
            raise CryptoscopeError(f"unknown detector {unknown[0]!r}; known: {', '.join(DETECTORS)}")
        self.scores_: dict[str, np.ndarray] = {}
        for name in self.detectors:
            self.scores_[name] = _fit_scores(name, matrix, self.random_state)
        ranks = np.column_stack([percentile_ranks(self.scores_[d]) for d in self.detectors])
        self.scores_["ensemble"] = ranks.mean(axis=1)
        return self


def _fit_scores(name: str, matrix: np.ndarray, seed: int) -> np.ndarray:
    """Outlier scores of every row from one detector fitted on all rows (transductive, as for a queue)."""
    if name == "knn":
        scaled = RobustScaler(quantile_range=(5, 95)).fit_transform(matrix)
        scaled = np.clip(scaled, -50, 50)
        if len(scaled) > KNN_MAX_ROWS:
            rng = np.random.default_rng(seed)
            ref = scaled[rng.choice(len(scaled), KNN_MAX_ROWS, replace=False)]
            return np.asarray(KNN(n_neighbors=10, method="mean").fit(ref).decision_function(scaled))
        det = KNN(n_neighbors=min(10, max(1, len(scaled) - 1)), method="mean").fit(scaled)
        return np.asarray(det.decision_scores_)
    det = DETECTORS[name](seed).fit(matrix)
    return np.asarray(det.decision_scores_, dtype=float)
