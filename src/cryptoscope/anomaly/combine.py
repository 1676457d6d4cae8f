"""Ways to turn several detectors' outlier scores into one: the combination step of an outlier ensemble.

Every function takes a score matrix (rows x detectors, higher = more abnormal, any scale) and returns
one score per row, higher = more abnormal.

- ``rank``: mean percentile rank. Scale-free, but a rank throws away *how far* out a row is, so one
  detector that sees a row as extreme is out-voted by two that see it as merely unusual.
- ``zscore`` / ``robust``: mean of standardized scores (Aggarwal & Sathe, *Outlier Ensembles*, 2017,
  ch. 4; Zimek, Campello & Sander, SIGKDD Explorations 2014). A member sure of a row keeps its say.
  ``robust`` centres on the median and scales by the MAD, so the outliers themselves do not set the scale.
- ``max``: the largest standardized score (maximization; sensitive to the noisiest member).
- ``consensus``: standardized scores weighted by each member's correlation with the consensus of the
  *other* members (leave-it-out), negatives at zero: SELECT's idea (Rayana & Akoglu, ACM TKDD 2016) of
  trusting members that agree with the ensemble, without a member voting for itself.
- ``aom`` / ``moa``: average of maxima / maximum of averages over buckets of members (Aggarwal &
  Sathe 2015), from PyOD's ``pyod.models.combination`` (needs the ``combo`` package).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import rankdata

from cryptoscope.errors import CryptoscopeError

#: The scale of the MAD that estimates a normal standard deviation.
MAD_TO_SD = 1.4826
#: A spread below this share of a column's largest magnitude is float rounding, not an opinion.
ROUNDING = 1e-9


def _clean(scores: np.ndarray) -> np.ndarray:
    """Finite float matrix: a detector's +inf (e.g. LOF on duplicates) becomes its largest finite score."""
    s = np.array(scores, dtype=float)
    s = s.reshape(-1, 1) if s.ndim == 1 else s
    for j in range(s.shape[1]):
        col = s[:, j]
        finite = np.isfinite(col)
        hi = col[finite].max() if finite.any() else 0.0
        lo = col[finite].min() if finite.any() else 0.0
        col[np.isposinf(col)] = hi
        col[np.isneginf(col)] = lo
        col[np.isnan(col)] = lo
    return s


def finite(scores: np.ndarray) -> np.ndarray:
    """One detector's scores with +inf at its largest finite score and -inf/NaN at its smallest."""
    return np.asarray(_clean(np.asarray(scores, dtype=float).reshape(-1, 1))[:, 0])


def rank_columns(scores: np.ndarray) -> np.ndarray:
    """Each column as percentile ranks in (0, 1]; ties share their mean rank, and so do the rows of a column
    that is constant but for float rounding (`standardize`)."""
    s = _clean(scores)
    s[:, _flat(s)] = 0.0
    return np.asarray(rankdata(s, method="average", axis=0) / max(len(s), 1))


def _flat(s: np.ndarray) -> np.ndarray:
    """Columns whose spread is float rounding (below `ROUNDING` of their largest magnitude), not an opinion."""
    if not len(s):
        return np.zeros(s.shape[1], dtype=bool)
    return np.asarray(s.std(axis=0) <= ROUNDING * np.abs(s).max(axis=0))


def standardize(scores: np.ndarray, robust: bool = False) -> np.ndarray:
    """Each column centred and scaled: mean/SD, or median/MAD (IQR, then SD, where the MAD is 0).

    A column constant but for rounding (ECOD on all-categorical rows: 12.48 +- 1e-15) becomes 0, not
    rounding noise blown up to unit variance.
    """
    s = _clean(scores)
    flat = _flat(s)
    if not robust:
        sd = np.where(flat, 0.0, s.std(axis=0))
        return (s - s.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    med = np.median(s, axis=0)
    scale = MAD_TO_SD * np.median(np.abs(s - med), axis=0)
    q75, q25 = np.percentile(s, [75, 25], axis=0)
    scale = np.where(scale > 0, scale, (q75 - q25) / 1.349)  # discrete scores (HBOS, kNN ties)
    scale = np.where(scale > 0, scale, s.std(axis=0))
    return np.where(flat, 0.0, (s - med) / np.where(scale > 0, scale, 1.0))


def consensus_weights(z: np.ndarray) -> np.ndarray:
    """Each member's Pearson correlation with the mean of the *other* members, at least 0, summing to 1.

    A member that disagrees with everyone else (noise on this data) gets weight 0; if no member agrees
    with any other, all weigh the same.
    """
    m = z.shape[1]
    if m == 1:
        return np.ones(1)
    total = z.sum(axis=1)
    w = np.zeros(m)
    for j in range(m):
        rest = (total - z[:, j]) / (m - 1)
        if z[:, j].std() > 0 and rest.std() > 0:
            w[j] = max(0.0, float(np.corrcoef(z[:, j], rest)[0, 1]))
    return w / w.sum() if w.sum() > 0 else np.full(m, 1.0 / m)


def _rank(s: np.ndarray) -> np.ndarray:
    return np.asarray(rank_columns(s).mean(axis=1))


def _zscore(s: np.ndarray) -> np.ndarray:
    return np.asarray(standardize(s).mean(axis=1))


def _robust(s: np.ndarray) -> np.ndarray:
    return np.asarray(standardize(s, robust=True).mean(axis=1))


def _max(s: np.ndarray) -> np.ndarray:
    return np.asarray(standardize(s).max(axis=1))


def _consensus(s: np.ndarray) -> np.ndarray:
    z = standardize(s, robust=True)
    return np.asarray(z @ consensus_weights(z))


def _buckets(kind: str) -> Callable[[np.ndarray], np.ndarray]:
    def combine(s: np.ndarray) -> np.ndarray:
        from pyod.models.combination import aom, moa  # needs the `combo` package

        z = standardize(s)
        if z.shape[1] < 2:
            return np.asarray(z[:, 0])
        fn = aom if kind == "aom" else moa
        m = z.shape[1]
        buckets = next((b for b in (3, 2) if m % b == 0 and m > b), None)
        if buckets is None:  # combo's static buckets must split evenly; its dynamic mode repeats one bucket
            raise CryptoscopeError(f"{kind} needs a member count divisible by 2 or 3, got {m}")
        return np.asarray(fn(z, n_buckets=buckets, method="static", random_state=7))
    return combine


COMBINATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "rank": _rank, "zscore": _zscore, "robust": _robust, "max": _max, "consensus": _consensus,
    "aom": _buckets("aom"), "moa": _buckets("moa"),
}


def combine(scores: np.ndarray, method: str) -> np.ndarray:
    """One score per row from a rows x members score matrix, by the named combination."""
    if method not in COMBINATIONS:
        raise CryptoscopeError(f"unknown combination {method!r}; known: {', '.join(COMBINATIONS)}")
    s = _clean(scores)
    if s.shape[1] == 0:
        raise CryptoscopeError("no detector scores to combine")
    return COMBINATIONS[method](s)
