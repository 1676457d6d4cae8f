"""Unsupervised detectors from PyOD and the ensemble that combines them.

Each detector sees the same prepared matrix (signed log of every column, constant columns dropped,
missing values at the column median) and scores every row. The default ensemble (ECOD, COPOD,
Isolation Forest, HBOS, kNN) standardizes each member's scores and averages them, then refines:
a random forest learns the ensemble's surest calls (top 5 % vs bottom half) and re-scores every row
out of fold (`cryptoscope.anomaly.refine`). Averaging percentile ranks, the first design, let weak
members drown a strong one; this design was chosen on a development half of ~110 public tables and
judged on a held-out half (`benchmarks/anomaly_tables.py`, docs/abnormal.md).

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
from pyod.models.loda import LODA
from pyod.models.lof import LOF
from pyod.models.pca import PCA
from scipy.stats import rankdata
from sklearn.preprocessing import RobustScaler

from cryptoscope.anomaly.combine import COMBINATIONS, combine, finite
from cryptoscope.anomaly.feedback import learn_from_decisions
from cryptoscope.anomaly.refine import refine
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
    "lof": lambda seed: LOF(n_neighbors=20),
    # components up to 99.9 % of the variance: PyOD divides by each one's variance, and a constant
    # direction (one-hot columns, duplicated features) would make every score infinite
    "pca": lambda seed: PCA(n_components=0.999, svd_solver="full", random_state=seed),
    "loda": lambda seed: LODA(n_bins=10, n_random_cuts=100, random_state=seed),
}
#: Members that measure distances, so they see the robust-scaled matrix (no column dominates by its unit).
SCALED = ("knn", "lof", "loda")
#: The default ensemble: chosen on the development half of ~110 public tables (`benchmarks/anomaly_tables.py`,
#: docs/abnormal.md) among 8 candidate members x 7 combinations, with and without refinement.
ENSEMBLE: tuple[str, ...] = ("ecod", "copod", "iforest", "hbos", "knn")
#: How the default ensemble combines its members (`cryptoscope.anomaly.combine`): mean z-score, so a
#: member that is sure of a row keeps its say (a mean rank let two lukewarm members out-vote it).
COMBINATION = "zscore"
#: Whether an ensemble of 2+ members re-scores with pseudo-label refinement (`cryptoscope.anomaly.refine`).
REFINE = True
#: kNN and LOF cost O(n^2) distance work; above this many rows they score against a random reference sample.
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
    """Fit several PyOD detectors on one matrix and combine their scores into one.

    ``scores_`` holds each detector's raw outlier scores (higher = more abnormal) and, under
    ``"ensemble"``, the combined score (``combination``, see `cryptoscope.anomaly.combine`; higher =
    more abnormal, compare within one fit only). The name is historical: the first version averaged ranks.
    """

    def __init__(self, detectors: tuple[str, ...] = ENSEMBLE, random_state: int = 7,
                 combination: str = COMBINATION, refine: bool = REFINE) -> None:
        self.detectors = detectors
        self.random_state = random_state
        self.combination = combination
        self.refine = refine

    def fit(self, x: np.ndarray | pd.DataFrame, feedback: np.ndarray | None = None) -> RankEnsemble:
        """Score every row; ``feedback`` (1 / 0 / NaN per row: analysts' decisions) teaches the ensemble.

        With enough decisions (`cryptoscope.anomaly.feedback`) positive-unlabelled forests, a
        nearest-neighbour ratio and an out-of-fold booster learn them and score every row, blended with the
        members by how well each ranks the decided rows; refinement is skipped (real labels replace its
        pseudo-labels).
        ``weights_`` holds each member's weight on the decisions (equal when there was no usable feedback).
        """
        matrix = prepare(x) if isinstance(x, pd.DataFrame) else np.asarray(x, dtype=float)
        unknown = [d for d in self.detectors if d not in DETECTORS]
        if unknown:
            raise CryptoscopeError(f"unknown detector {unknown[0]!r}; known: {', '.join(DETECTORS)}")
        if self.combination not in COMBINATIONS:
            raise CryptoscopeError(f"unknown combination {self.combination!r}; known: {', '.join(COMBINATIONS)}")
        self.scores_: dict[str, np.ndarray] = {}
        for name in self.detectors:
            self.scores_[name] = fit_scores(name, matrix, self.random_state)
        stacked = np.column_stack([self.scores_[d] for d in self.detectors])
        combined = combine(stacked, self.combination)
        # decisions replace refinement's pseudo-labels
        learned = learn_from_decisions(scaled(matrix), stacked, feedback, self.random_state) \
            if feedback is not None else None
        if learned is None and self.refine and len(self.detectors) > 1:  # one detector alone stays itself
            combined = refine(scaled(matrix), combined, seed=self.random_state)
        self.weights_ = dict(zip(self.detectors, (learned[1] if learned is not None
                                                  else np.full(len(self.detectors), 1 / len(self.detectors))),
                                 strict=True))
        self.from_feedback_ = learned is not None
        self.scores_["ensemble"] = learned[0] if learned is not None else combined
        return self


def scaled(matrix: np.ndarray) -> np.ndarray:
    """Robust-scaled copy for distance-based members: 5-95 % range as the unit, clipped at +-50."""
    return np.clip(RobustScaler(quantile_range=(5, 95)).fit_transform(matrix), -50, 50)


def fit_scores(name: str, matrix: np.ndarray, seed: int) -> np.ndarray:
    """Outlier scores of every row from one detector fitted on all rows (transductive, as for a queue)."""
    x = scaled(matrix) if name in SCALED else matrix
    if name in ("knn", "lof"):
        return _neighbour_scores(name, x, seed)
    if name == "pca" and x.shape[1] < 2:
        x = np.column_stack([x, np.zeros(len(x))])  # PyOD's PCA needs two columns; a zero column adds nothing
    det = DETECTORS[name](seed).fit(x)
    return finite(det.decision_scores_)


def _neighbour_scores(name: str, x: np.ndarray, seed: int) -> np.ndarray:
    """kNN / LOF scores; above `KNN_MAX_ROWS` rows fitted on a random reference sample and applied to all."""
    k = 10 if name == "knn" else 20
    make = (lambda n: KNN(n_neighbors=n, method="mean")) if name == "knn" else (lambda n: LOF(n_neighbors=n))
    if len(x) > KNN_MAX_ROWS:
        rng = np.random.default_rng(seed)
        ref = x[rng.choice(len(x), KNN_MAX_ROWS, replace=False)]
        return finite(make(k).fit(ref).decision_function(x))
    det = make(min(k, max(1, len(x) - 1))).fit(x)
    return finite(det.decision_scores_)
