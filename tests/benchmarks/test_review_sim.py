"""Simulated analysts: the rows that judge are never offered, each policy decides 100 rows, and a refit on
decisions already learnt is remembered, never replaced by anything but the product's own learner."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cryptoscope.anomaly.detectors import scaled
from cryptoscope.anomaly.feedback import learn_from_decisions
from cryptoscope.benchmarks import review_sim
from cryptoscope.benchmarks.review_sim import CHECKPOINTS, POLICIES, Teacher, _next, review_table, split, summarize


def _table(rows: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features, two members' scores, an unsupervised score and labels: the abnormal rows sit off in column 0."""
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < 0.1).astype(int)
    x = rng.normal(size=(rows, 4))
    x[:, 0] += 2.5 * y
    members = np.column_stack([x[:, 0] + rng.normal(size=rows), np.abs(x[:, 1])])
    return x, members, members.mean(axis=1), y


def _cheap_learner(calls: list[bytes]) -> Any:
    """A stand-in for `learn_from_decisions` that records what it was asked: the confirmed rows' mean distance."""
    def learn(matrix: np.ndarray, members: np.ndarray, decisions: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        calls.append(np.asarray(decisions).tobytes())
        positive = decisions == 1
        if positive.sum() < 3:
            return None
        return -np.abs(matrix - matrix[positive].mean(axis=0)).sum(axis=1), np.ones(members.shape[1])
    return learn


def test_the_rows_that_judge_are_never_offered() -> None:
    y = np.array([0] * 90 + [1] * 10)
    judge = split(y)
    assert judge.sum() == 30 and y[judge].sum() == 3  # 30 % of each class
    decisions = np.full(100, np.nan)
    score = np.arange(100, dtype=float)
    for policy in POLICIES:
        picked = _next(policy, score, score, decisions, ~judge, np.zeros(100), 80)
        assert not judge[picked].any() and len(set(picked.tolist())) == 70  # every open pool row, nothing else


def test_refits_on_the_same_decisions_are_made_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    monkeypatch.setattr(review_sim, "learn_from_decisions", _cheap_learner(calls))
    x, members, unsup, y = _table()
    out = review_table(x, members, unsup, y)
    assert len(calls) == len(set(calls)), "no decisions are learnt twice"
    assert out["learner"]["refits"] <= len(calls) < 17  # 7 + 7 + 3 refits without remembering
    for policy in POLICIES:
        assert 0 <= out[policy]["found_in_100"] <= y.sum()
        assert set(out[policy]["roc_auc_after"]) == {str(c) for c in CHECKPOINTS}


def test_remembering_changes_no_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    monkeypatch.setattr(review_sim, "learn_from_decisions", _cheap_learner(calls))
    x, members, unsup, y = _table(seed=1)
    remembered = review_table(x, members, unsup, y)

    class Forgetful(Teacher):
        def score(self, decisions: np.ndarray) -> np.ndarray | None:
            self._memo.clear()
            return super().score(decisions)

    monkeypatch.setattr(review_sim, "Teacher", Forgetful)
    fresh = review_table(x, members, unsup, y)
    assert {p: fresh[p] for p in POLICIES} == {p: remembered[p] for p in POLICIES}
    assert fresh["learner"]["refits"] > remembered["learner"]["refits"]
    assert summarize({"t": fresh})["greedy"]["found_in_100"] == fresh["greedy"]["found_in_100"]


def test_the_teacher_scores_as_the_product_learns() -> None:
    x, members, _, y = _table(rows=300)
    decisions = np.full(len(y), np.nan)
    decisions[np.flatnonzero(y == 1)[:5]] = 1
    decisions[np.flatnonzero(y == 0)[:10]] = 0
    teacher = Teacher(x, members)
    learned = learn_from_decisions(scaled(x), members, decisions)
    assert learned is not None
    np.testing.assert_array_equal(teacher.score(decisions), learned[0])
    np.testing.assert_array_equal(teacher.score(decisions.copy()), learned[0])
    assert teacher.refits == 1
    decisions[np.flatnonzero(y == 1)[2:5]] = np.nan  # two confirmed rows teach nothing
    assert teacher.score(decisions) is None and teacher.refits == 1
