"""Thresholds that minimise the cost on validation rows, and their price against the rules."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import (
    Costs,
    ExpectedCost,
    Thresholds,
    TrainedModel,
    at_least,
    choose_thresholds,
    compare_decisions,
    decide,
    decide_one,
    decision_costs,
    policy_from_dict,
)

HAND_COSTS = Costs(missed_fraud=100.0, review=5.0, friction=0.0, block_good=50.0)


def hand_case() -> tuple[np.ndarray, np.ndarray]:
    """Three groups of 100 rows, bad 1, 20 and 95 times, scored with their true rate."""
    p = np.repeat([0.01, 0.2, 0.95], 100)
    y = np.zeros(300, dtype=int)
    y[[0, *range(100, 120), *range(200, 295)]] = 1
    return y, p


def test_a_hand_checkable_case() -> None:
    # per group, approve / review / block cost:  0.01: 100 / 500 / 4950;  0.2: 2000 / 500 / 4000;
    # 0.95: 9500 / 500 / 250  ->  approve the first, review the second, block the third: 100 + 500 + 250
    y, p = hand_case()
    t = choose_thresholds(y, p, HAND_COSTS)
    assert t == Thresholds(review=0.2, block=0.95)
    assert decision_costs(y, decide(p, t), HAND_COSTS).sum() == 850.0


def test_the_search_finds_the_cheapest_pair_a_brute_force_finds() -> None:
    rng = np.random.default_rng(5)
    p = np.round(rng.random(120), 2)
    y = (rng.random(120) < p).astype(int)
    costs = Costs(missed_fraud=40.0, review=6.0, friction=1.0, block_good=25.0)
    best = min(decision_costs(y, decide(p, Thresholds(r, b)), costs).sum()
               for r, b in itertools.product([*np.unique(p), math.inf], repeat=2) if r <= b)
    t = choose_thresholds(y, p, costs, candidates=1000)
    assert decision_costs(y, decide(p, t), costs).sum() == pytest.approx(best)


def test_ties_keep_the_higher_thresholds() -> None:
    # blocking costs nothing here, and neither does approving good rows: nothing should be reviewed
    t = choose_thresholds([0, 0, 1], [0.1, 0.2, 0.9], Costs(missed_fraud=10.0, review=1.0, block_good=0.0))
    assert decide([0.1, 0.2, 0.9], t).tolist() == ["approve", "approve", "block"]
    assert t.review == t.block == 0.9


def test_on_later_data_the_model_beats_approve_all_block_all_and_the_rules(trained: TrainedModel) -> None:
    comparison = trained.comparison
    assert comparison is not None and comparison.baseline is not None
    assert comparison.model.cost < comparison.approve_all.cost
    assert comparison.model.cost < comparison.block_all.cost
    assert comparison.model.cost < comparison.baseline.cost
    assert comparison.saving == pytest.approx(comparison.baseline.cost - comparison.model.cost)
    assert comparison.saving_share is not None and 0 < comparison.saving_share < 1
    counts = comparison.model
    assert counts.approved + counts.reviewed + counts.blocked == counts.rows == len(trained.split.test)
    assert counts.bad_approved + counts.bad_stopped == int(trained.split.test["label"].sum())


def test_decide_reads_the_thresholds_as_documented() -> None:
    t = Thresholds(review=0.3, block=0.8)
    assert decide([0.1, 0.3, 0.5, 0.8, 1.0], t).tolist() == ["approve", "review", "review", "block", "block"]
    assert decide([1.0], Thresholds(math.inf, math.inf)).tolist() == ["approve"]
    assert Thresholds.from_dict(Thresholds(0.3, math.inf).to_dict()) == Thresholds(0.3, math.inf)


def test_inconsistent_inputs_are_refused() -> None:
    with pytest.raises(CryptoscopeError, match="must not be above the block"):
        Thresholds(review=0.9, block=0.5)
    with pytest.raises(CryptoscopeError, match="unknown decisions"):
        compare_decisions([0, 1], ["approve", "block"], HAND_COSTS, baseline=["approve", "deny"])


def test_expected_cost_weighs_each_row_by_what_is_at_stake() -> None:
    # the same 10 % risk: a $50 loan is not worth a $25 review, a $50,000 one is; a cheap-to-refuse
    # row with a high risk is blocked rather than reviewed
    frame = pd.DataFrame({"loss": [50.0, 50_000.0, 5_000.0], "refused": [40.0, 40.0, 1.0]})
    policy = ExpectedCost(Costs(missed_fraud="loss", review=25.0, friction=10.0, block_good="refused"))
    assert decide([0.1, 0.1, 0.5], policy, frame).tolist() == ["approve", "review", "block"]
    # at p = 0 nothing is at risk: approved, never reviewed or blocked, whatever the amount
    assert decide([0.0, 0.0, 0.0], policy, frame).tolist() == ["approve"] * 3
    assert policy_from_dict(policy.to_dict()) == policy


def test_expected_cost_needs_the_cost_columns() -> None:
    policy = ExpectedCost(Costs(missed_fraud="loss", review=25.0, friction=10.0, block_good=40.0))
    with pytest.raises(CryptoscopeError, match="loss"):
        decide([0.5], policy)


def test_a_guardrail_raises_decisions_and_never_lowers_them() -> None:
    model = ["approve", "review", "block", "approve", "block"]
    rules = ["block", "approve", "approve", "review", "review"]
    assert at_least(model, rules).tolist() == ["block", "review", "block", "review", "block"]
    assert decide([0.1, 0.9], Thresholds(0.5, math.inf), guardrail=["block", "approve"]).tolist() == [
        "block", "review"]


def test_one_row_decides_as_the_frame_does() -> None:
    """``decide_one`` (a served request's decision, in floats) gives ``decide``'s answer row by row: ties, a cost
    column, a guardrail floor, and both kinds of policy."""
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(size=300), [0.0, 1.0, 0.05, 0.1, 1 / 3]])
    frame = pd.DataFrame({"amount": rng.choice([0.0, 10.0, 50.0, 150.0, 1e6], size=p.size),
                          "floor": rng.choice(["approve", "review", "block"], size=p.size)})
    rows = frame.to_dict("records")
    for policy in (ExpectedCost(Costs(missed_fraud="amount", review=5.0, friction=0.0, block_good=50.0)),
                   ExpectedCost(Costs(missed_fraud=100.0, review=10.0, friction=5.0, block_good="amount")),
                   Thresholds(review=0.1, block=0.5)):
        for guard in (None, "floor"):
            want = decide(p, policy, frame, guardrail=None if guard is None else frame[guard].to_numpy())
            got = [decide_one(float(q), policy, r, guardrail=guard) for q, r in zip(p, rows, strict=True)]
            assert got == want.tolist()
    with pytest.raises(CryptoscopeError, match="finite, non-negative"):
        decide_one(0.5, ExpectedCost(Costs(missed_fraud="amount")), {"amount": -1.0})
    with pytest.raises(CryptoscopeError, match="unknown decisions"):
        decide_one(0.5, Thresholds(review=0.1, block=0.5), {"floor": None}, guardrail="floor")
