"""Analysts' decisions teach the ensemble: the member that tells real cases from false alarms gets the say,
and a forest learns what the frauds they confirmed look like."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from cryptoscope.anomaly.detectors import RankEnsemble
from cryptoscope.anomaly.feedback import decision_forest, learn_from_decisions, member_weights, weighted_zscore
from cryptoscope.errors import CryptoscopeError


def _two_kinds_of_outlier(rows: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two members' scores: both see 60 loud but harmless rows, only the second sees the 30 frauds.

    Returns (scores, fraud labels, the decisions an analyst made on the top 90 of the plain mean).
    """
    rng = np.random.default_rng(seed)
    fraud = np.zeros(rows, dtype=int)
    fraud[:30] = 1
    loud = np.zeros(rows, dtype=bool)
    loud[30:90] = True
    first = rng.normal(size=rows) + 5 * loud
    second = rng.normal(size=rows) + 3 * loud + 4 * fraud
    scores = np.column_stack([first, second])
    queue = np.argsort(-scores.mean(axis=1))[:90]
    decisions = np.full(rows, np.nan)
    decisions[queue] = fraud[queue]
    return scores, fraud, decisions


def test_the_member_that_separates_decided_cases_gets_the_weight() -> None:
    scores, fraud, decisions = _two_kinds_of_outlier()
    weights = member_weights(scores, decisions)
    assert weights is not None and weights.sum() == pytest.approx(1.0)
    # among the reviewed rows the first member ranks the harmless loud rows above the frauds
    assert weights[1] > 0.9
    undecided = np.isnan(decisions)
    plain = scores.mean(axis=1)
    assert roc_auc_score(fraud[undecided], weighted_zscore(scores, weights)[undecided]) > \
        roc_auc_score(fraud[undecided], plain[undecided])


def test_too_few_decisions_of_either_kind_keep_the_weights_equal() -> None:
    scores, _, _ = _two_kinds_of_outlier()
    decisions = np.full(len(scores), np.nan)
    decisions[:2] = 1  # two frauds and many legitimate rows: not enough to judge a member
    decisions[100:200] = 0
    assert member_weights(scores, decisions) is None
    decisions[2] = 1
    assert member_weights(scores, decisions) is not None


def test_bad_feedback_gets_a_clear_error() -> None:
    scores, _, decisions = _two_kinds_of_outlier()
    with pytest.raises(CryptoscopeError, match="feedback has 10 rows, the scores 3000"):
        member_weights(scores, decisions[:10])
    decisions[5] = 2
    with pytest.raises(CryptoscopeError, match="feedback row 5: decision must be 0, 1 or empty"):
        member_weights(scores, decisions)


def test_the_ensemble_uses_feedback_when_it_has_enough() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(600, 4)), columns=list("abcd"))
    frame.loc[:9, "a"] += 8  # ten rows far out on one column: every member sees them
    plain = RankEnsemble(("ecod", "hbos")).fit(frame)
    assert not plain.from_feedback_ and plain.weights_ == {"ecod": 0.5, "hbos": 0.5}
    decisions = np.full(len(frame), np.nan)
    decisions[:5] = 1
    decisions[300:320] = 0
    fed = RankEnsemble(("ecod", "hbos")).fit(frame, feedback=decisions)
    assert fed.from_feedback_ and sum(fed.weights_.values()) == pytest.approx(1.0)
    assert fed.scores_["ensemble"][:10].min() > np.median(fed.scores_["ensemble"])


def test_a_forest_learns_what_confirmed_frauds_share_even_where_no_member_looks() -> None:
    # the frauds use one kind of device (a flag 15 % of all rows carry: no outlier) and are a little loud;
    # the members see loudness only, so the analysts' queue mixes them with harmless loud rows
    rng = np.random.default_rng(1)
    rows = 4000
    fraud = (rng.random(rows) < 0.03).astype(int)
    device = np.where(fraud == 1, 1.0, (rng.random(rows) < 0.15).astype(float))
    loud = rng.normal(size=rows) + 1.5 * fraud
    scores = np.column_stack([loud + rng.normal(scale=0.5, size=rows), loud + rng.normal(scale=0.5, size=rows)])
    features = np.column_stack([device, rng.normal(size=(rows, 3))])
    queue = np.argsort(-scores.mean(axis=1))[:200]
    decisions = np.full(rows, np.nan)
    decisions[queue] = fraud[queue]
    learned = learn_from_decisions(features, scores, decisions)
    assert learned is not None
    combined, weights = learned
    undecided = np.isnan(decisions)
    weighted_only = roc_auc_score(fraud[undecided], weighted_zscore(scores, weights)[undecided])
    assert roc_auc_score(fraud[undecided], combined[undecided]) > weighted_only + 0.05
    assert learn_from_decisions(features, scores, np.full(rows, np.nan)) is None  # nothing decided: no say


def test_a_decision_never_scores_itself() -> None:
    # decisions that are pure noise: a forest scoring its own training rows would "recall" them all,
    # out of fold it can only guess
    rng = np.random.default_rng(2)
    features = rng.normal(size=(600, 4))
    decisions = np.full(600, np.nan)
    decisions[:200] = rng.random(200) < 0.3
    proba = decision_forest(features, decisions)
    assert roc_auc_score(decisions[:200], proba[:200]) < 0.7
    assert np.array_equal(proba, decision_forest(features, decisions))  # the same seed, the same scores
    decisions[:200] = 0
    decisions[0] = 1
    with pytest.raises(CryptoscopeError, match="at least 2 decisions of each kind"):
        decision_forest(features, decisions)
