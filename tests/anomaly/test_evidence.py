"""How sure a lead is: fast metrics equal scikit-learn's, and bootstrap intervals tell signal from noise."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from cryptoscope.anomaly.evidence import Ranked, judge, paired_leads
from cryptoscope.errors import CryptoscopeError


def test_the_fast_measures_are_scikit_learns() -> None:
    rng = np.random.default_rng(1)
    for n, share in ((50, 0.2), (2_000, 0.03)):
        y = (rng.random(n) < share).astype(int)
        y[:2] = [0, 1]
        s = np.round(rng.normal(size=n) + y, 1)  # rounded: many ties, where the definitions differ most
        assert judge(y, s) == pytest.approx({"roc_auc": roc_auc_score(y, s),
                                             "average_precision": average_precision_score(y, s)}, abs=1e-12)


def test_a_resample_is_scored_without_sorting_again() -> None:
    rng = np.random.default_rng(4)
    y = (rng.random(400) < 0.1).astype(int)
    s = np.round(rng.normal(size=400) + y, 1)
    ranked = Ranked(y, s)
    assert ranked.judge(np.ones(400)) == pytest.approx(judge(y, s), abs=1e-12)
    for _ in range(5):
        rows = rng.integers(0, 400, 400)  # with replacement: some rows twice, some not at all
        assert ranked.judge(np.bincount(rows, minlength=400)) == pytest.approx(judge(y[rows], s[rows]), abs=1e-12)


def test_a_real_lead_is_told_from_noise() -> None:
    rng = np.random.default_rng(2)
    y = np.r_[np.zeros(950, dtype=int), np.ones(50, dtype=int)]
    signal = y * 1.5 + rng.normal(size=1_000)
    scores = {"ensemble": signal, "same": signal + rng.normal(0, 0.05, 1_000), "noise": rng.normal(size=1_000)}
    leads = paired_leads(y, scores, resamples=300)
    strong, tied = leads["noise"]["roc_auc"], leads["same"]["roc_auc"]
    assert strong["lead"] > 0.2 and strong["ci95"][0] > 0.1  # far from chance: the interval excludes 0
    assert tied["ci95"][0] < 0 < tied["ci95"][1]  # a nudge of noise: the table cannot tell them apart
    assert set(leads) == {"same", "noise"}


def test_intervals_repeat_with_the_seed_and_need_a_resample() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.1).astype(int)
    scores = {"ensemble": rng.normal(size=300) + y, "other": rng.normal(size=300)}
    assert paired_leads(y, scores, seed=5, resamples=50) == paired_leads(y, scores, seed=5, resamples=50)
    with pytest.raises(CryptoscopeError, match="at least 1 resample"):
        paired_leads(y, scores, resamples=0)
