"""Analysts' decisions teach the ensemble: forests learn what the confirmed cases share, the blend keeps the
detectors where they already see it, and decisions that cannot teach say why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from cryptoscope.anomaly.detectors import RankEnsemble
from cryptoscope.anomaly.feedback import (
    DecisionCounts,
    blend_by_decisions,
    decided_auc,
    design_score,
    learn_from_decisions,
    member_weights,
)
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
    scores, _, decisions = _two_kinds_of_outlier()
    weights = member_weights(scores, decisions)
    assert weights is not None and weights.sum() == pytest.approx(1.0)
    # among the reviewed rows the first member ranks the harmless loud rows above the frauds
    assert weights[1] > 0.9


def test_the_blend_follows_the_part_that_ranks_the_decisions() -> None:
    scores, fraud, decisions = _two_kinds_of_outlier()
    blend, weights = blend_by_decisions({"first": scores[:, 0], "second": scores[:, 1]}, decisions)
    assert weights["second"] > 0.99 and sum(weights.values()) == pytest.approx(1.0)
    undecided = np.isnan(decisions)
    assert roc_auc_score(fraud[undecided], blend[undecided]) > roc_auc_score(fraud[undecided], scores[undecided, 0])
    # no part beats a coin on the decisions: every part weighs the same
    _, even = blend_by_decisions({"a": -scores[:, 1], "b": -scores[:, 1]}, decisions)
    assert even == {"a": 0.5, "b": 0.5}


def test_without_cleared_rows_a_score_is_judged_against_every_undecided_row() -> None:
    scores, fraud, _ = _two_kinds_of_outlier()
    confirmed = np.where(fraud == 1, 1.0, np.nan)
    assert decided_auc(scores[:, 1], confirmed) > 0.95 > 0.6 > decided_auc(scores[:, 0], confirmed)


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
    combined, _ = learned
    undecided = np.isnan(decisions)
    members_only = roc_auc_score(fraud[undecided], scores.mean(axis=1)[undecided])
    assert roc_auc_score(fraud[undecided], combined[undecided]) > members_only + 0.05
    assert learn_from_decisions(features, scores, np.full(rows, np.nan)) is None  # nothing decided: no say


@pytest.mark.parametrize(("abnormal", "cleared", "undecided", "usable", "note"), [
    (20, 20, 100, True, None),
    (0, 0, 140, False, "no decisions"),
    (0, 40, 100, False, "only 0 decision(s) say abnormal"),
    (2, 40, 100, False, "only 2 decision(s) say abnormal"),
    (20, 0, 120, True, "no cleared decisions"),
    (20, 120, 0, True, "every row carries a decision"),
])
def test_decisions_that_cannot_teach_say_why(abnormal: int, cleared: int, undecided: int, usable: bool,
                                            note: str | None) -> None:
    labels = np.array([1.0] * abnormal + [0.0] * cleared + [np.nan] * undecided)
    counts = DecisionCounts.of(labels)
    assert (counts.abnormal, counts.cleared, counts.undecided, counts.usable) == (abnormal, cleared, undecided, usable)
    assert counts.note() is None if note is None else note in str(counts.note())


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
    assert fed.scores_["ensemble"][5:10].min() > np.quantile(fed.scores_["ensemble"], 0.9)
    decisions[:5] = 0  # every decision clears: nothing to learn "abnormal" from, the plain ensemble stays
    cleared = RankEnsemble(("ecod", "hbos")).fit(frame, feedback=decisions)
    assert not cleared.from_feedback_ and np.array_equal(cleared.scores_["ensemble"], plain.scores_["ensemble"])


def test_the_design_is_a_weighted_mean_of_the_parts_ranks() -> None:
    a, b = np.array([0.1, 0.2, 0.3, 0.4]), np.array([40.0, 30.0, 20.0, 10.0])
    assert np.allclose(design_score({"a": a, "b": b}, {"a": 1, "b": 1}), 0.625)  # opposite orders cancel
    assert np.array_equal(np.argsort(design_score({"a": a, "b": b}, {"a": 3, "b": 1})), np.arange(4))
    assert np.array_equal(design_score({"a": a, "b": b}, {"a": 1, "b": 0}), design_score({"a": a}, {"a": 1}))
