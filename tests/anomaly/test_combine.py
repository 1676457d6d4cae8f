"""Combining detectors: a member that is sure of the outliers must not be drowned by noisy members."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from cryptoscope.anomaly.combine import (
    COMBINATIONS,
    combine,
    consensus_weights,
    finite,
    rank_columns,
    standardize,
)
from cryptoscope.anomaly.detectors import COMBINATION
from cryptoscope.anomaly.refine import refine
from cryptoscope.errors import CryptoscopeError


def _one_strong_two_noisy(rows: int = 2000, outliers: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three members' scores: the first puts the outliers 6 SD out, the other two know nothing."""
    rng = np.random.default_rng(seed)
    y = np.zeros(rows, dtype=int)
    y[:outliers] = 1
    strong = rng.normal(size=rows) + 6 * y
    noise = rng.normal(size=(rows, 2)) * [1.0, 1000.0]  # any scale: a detector's units mean nothing
    return np.column_stack([strong, noise]), y


def test_the_shipped_combination_keeps_a_strong_member_heard() -> None:
    scores, y = _one_strong_two_noisy()
    shipped = combine(scores, COMBINATION)
    ranked = combine(scores, "rank")
    # mean rank: an outlier at the top of one member (rank ~1.0) sits at ~0.67 on average, where
    # plenty of normal rows land by luck of the two noisy members
    assert average_precision_score(y, ranked) < 0.5
    # standardized scores keep *how far* out a row is: 6 SD in one member outweighs two coin flips
    assert average_precision_score(y, shipped) > 0.7
    assert roc_auc_score(y, shipped) > roc_auc_score(y, ranked)


def test_every_combination_orders_rows_and_rejects_unknown_names() -> None:
    scores, y = _one_strong_two_noisy(seed=1)
    scores[0, 0] = np.inf  # LOF gives +inf on duplicated points
    scores[1, 1] = np.nan
    for name in COMBINATIONS:
        if name in ("aom", "moa"):
            out = combine(np.column_stack([scores, scores[:, :1] + 0.1]), name)  # buckets need an even split
        else:
            out = combine(scores, name)
        assert out.shape == (len(y),) and np.isfinite(out).all(), name
        assert roc_auc_score(y, out) > 0.6, name
    with pytest.raises(CryptoscopeError, match="unknown combination 'vote'"):
        combine(scores, "vote")
    with pytest.raises(CryptoscopeError, match="divisible by 2 or 3"):
        combine(np.column_stack([scores, scores[:, :2]]), "aom")


def test_standardizing_and_weights() -> None:
    assert finite(np.array([1.0, np.inf, np.nan, 3.0])).tolist() == [1.0, 3.0, 1.0, 3.0]
    z = standardize(np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [100.0, 5.0]]), robust=True)
    assert z[3, 0] > 10 * abs(z[0, 0]) and np.allclose(z[:, 1], 0.0)  # a constant member says nothing
    rounding = 12.48 + np.array([0.0, 1.8e-15, 0.0, -1.8e-15])  # constant but for float rounding
    for robust in (False, True):
        assert np.allclose(standardize(np.column_stack([rounding, [1.0, 2.0, 3.0, 9.0]]), robust)[:, 0], 0.0)
    assert np.allclose(rank_columns(rounding)[:, 0], 0.625)  # four rows tied: mean rank 2.5 of 4
    rng = np.random.default_rng(2)
    signal = rng.normal(size=500)
    agree = [signal + rng.normal(0, 0.3, 500) for _ in range(3)]
    members = np.column_stack([*agree, -signal])  # the last one contradicts the others' consensus
    w = consensus_weights(standardize(members))
    assert w[3] == 0.0 and np.isclose(w.sum(), 1.0) and w[0] > 0.25


def test_refinement_lifts_outliers_a_member_missed() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1500, 4))
    y = np.zeros(1500, dtype=int)
    y[:60] = 1
    x[:60, 0] += 5  # every outlier is far out on the first feature
    base = x[:, 0].copy()
    base[30:60] = rng.normal(size=30)  # ...but the ensemble only caught half of them
    refined = refine(x, base)
    assert roc_auc_score(y, refined) > roc_auc_score(y, base) + 0.05
    tiny = rng.normal(size=(40, 2))  # too few rows for 4 pseudo-outliers: the base ranks come back
    assert np.argsort(refine(tiny, tiny[:, 0]), kind="stable").tolist() == np.argsort(tiny[:, 0],
                                                                                       kind="stable").tolist()
