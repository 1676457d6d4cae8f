"""Positive-unlabelled forests: a few confirmed rows and everyone undecided teach "abnormal", and no row is
scored by a forest that was told it is normal."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cryptoscope.anomaly.combine import rank_columns
from cryptoscope.anomaly.pu import boosted_pu, knn_pu, part_scores, pu_forest
from cryptoscope.errors import CryptoscopeError


def _hidden_abnormal(rows: int = 800, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """100 abnormal rows share a region of two features; 20 of them are confirmed, 20 normal rows cleared."""
    rng = np.random.default_rng(seed)
    y = np.zeros(rows, dtype=int)
    y[:100] = 1
    x = rng.normal(size=(rows, 6))
    x[:100, :2] += 2.0
    decisions = np.full(rows, np.nan)
    decisions[:20] = 1
    decisions[200:220] = 0
    return x, y, decisions


def _forests_and_ratio(x: np.ndarray, decisions: np.ndarray) -> np.ndarray:
    """The mean rank of the two forests and the nearest-neighbour ratio (the parts without the booster)."""
    parts = part_scores(x, decisions, 7, ("extra", "random", "knn"))
    return np.asarray(rank_columns(np.column_stack(list(parts.values()))).mean(axis=1))


def test_the_forest_finds_the_abnormal_rows_nobody_decided() -> None:
    x, y, decisions = _hidden_abnormal()
    undecided = np.isnan(decisions)
    for score in (pu_forest(x, decisions), _forests_and_ratio(x, decisions)):
        assert roc_auc_score(y[undecided], score[undecided]) > 0.9


def test_hidden_abnormal_rows_are_scored_out_of_bag_not_remembered_as_normal() -> None:
    # a forest scoring its own training rows would put the 80 hidden abnormal rows, taught as normal, low;
    # out of bag they rank with the confirmed ones
    x, y, decisions = _hidden_abnormal()
    score = pu_forest(x, decisions)
    hidden = np.arange(20, 100)
    assert np.median(score[hidden]) > np.quantile(score[y == 0], 0.9)


def test_decided_rows_are_scored_out_of_bag_too() -> None:
    # labels that are pure noise: out of bag the forest can only guess them
    rng = np.random.default_rng(2)
    x = rng.normal(size=(600, 4))
    decisions = np.full(600, np.nan)
    decisions[:200] = rng.random(200) < 0.3
    score = pu_forest(x, decisions)
    assert roc_auc_score(decisions[:200], score[:200]) < 0.7
    assert np.array_equal(score, pu_forest(x, decisions))  # the same seed, the same scores


def test_confirmed_rows_alone_are_enough_and_no_confirmed_row_is_an_error() -> None:
    x, y, decisions = _hidden_abnormal()
    decisions[200:220] = np.nan  # nobody cleared anything
    undecided = np.isnan(decisions)
    assert roc_auc_score(y[undecided], _forests_and_ratio(x, decisions)[undecided]) > 0.9
    with pytest.raises(CryptoscopeError, match="at least one decision that says abnormal"):
        pu_forest(x, np.where(decisions == 1, 0.0, decisions))
    with pytest.raises(CryptoscopeError, match="decisions have 10 rows, the features 800"):
        pu_forest(x, decisions[:10])
    with pytest.raises(CryptoscopeError, match="unknown forest 'boosted'"):
        pu_forest(x, decisions, kind="boosted")


def test_the_nearest_neighbour_ratio_finds_them_and_no_row_is_its_own_neighbour() -> None:
    x, y, decisions = _hidden_abnormal()
    score = knn_pu(x, decisions)
    undecided = np.isnan(decisions)
    assert roc_auc_score(y[undecided], score[undecided]) > 0.9
    # pure-noise decisions: counting a confirmed row as its own nearest confirmed row would put them all on top
    rng = np.random.default_rng(3)
    noise = rng.normal(size=(600, 4))
    random_decisions = np.full(600, np.nan)
    random_decisions[:200] = rng.random(200) < 0.3
    assert roc_auc_score(random_decisions[:200], knn_pu(noise, random_decisions)[:200]) < 0.7
    with pytest.raises(CryptoscopeError, match="two confirmed rows"):
        knn_pu(x, np.where(np.arange(len(x)) == 0, 1.0, np.nan))


def test_the_booster_finds_them_out_of_fold_and_needs_a_confirmed_row_per_fold() -> None:
    pytest.importorskip("catboost")
    x, y, decisions = _hidden_abnormal()
    score = boosted_pu(x, decisions, iterations=50)
    undecided = np.isnan(decisions)
    assert roc_auc_score(y[undecided], score[undecided]) > 0.9
    # out of fold: the hidden abnormal rows, taught as normal in the other folds, still rank high
    assert np.median(score[20:100]) > np.quantile(score[y == 0], 0.9)
    # the confirmed rows themselves are scored by boosters that did not learn them
    assert np.median(score[:20]) > np.quantile(score[y == 0], 0.9)
    too_few = np.where(np.arange(len(y)) < 2, 1.0, np.nan)
    with pytest.raises(CryptoscopeError, match="at least 3 decisions that say abnormal"):
        boosted_pu(x, too_few)


def test_parts_are_computed_by_name_and_an_unknown_one_is_an_error() -> None:
    x, _, decisions = _hidden_abnormal(rows=300)
    parts = part_scores(x, decisions, parts=("extra", "knn"))
    assert list(parts) == ["extra", "knn"] and all(len(p) == 300 for p in parts.values())
    with pytest.raises(CryptoscopeError, match="unknown part 'svm'"):
        part_scores(x, decisions, parts=("svm",))
