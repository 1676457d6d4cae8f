"""Approve / review / block thresholds that minimise the cost of ``costs.py`` on validation data.

Two thresholds on calibrated probabilities ``p`` split the rows::

    p < review          -> approve
    review <= p < block -> review
    p >= block          -> block        (an infinite threshold never fires)

``choose_thresholds`` tries every pair of candidate thresholds, the quantiles of the validation
scores (``p`` values themselves, so rows tied on an isotonic step fall on the same side), and keeps
the pair with the lowest total cost on the validation labels. On ties it keeps the higher
thresholds: touching fewer customers for the same money. The thresholds are then applied unchanged
to the later test period, where ``compare_decisions`` prices them next to a rules baseline.

Where what is at stake differs by orders of magnitude from row to row (a $50 loan and a $50,000
one), one pair of thresholds on ``p`` treats them alike. ``ExpectedCost`` decides row by row instead:
with calibrated ``p`` and the row's own costs it takes the decision whose expected cost is lowest,

    approve: p * missed    review: p * review + (1 - p) * (review + friction)    block: (1 - p) * block_good

(ties go to the gentler decision). Nothing is fitted on the validation labels but the calibration.

A ``guardrail`` is a decision per row that the model may raise but never lower: hard rules an
exchange keeps whatever a model says (a document another account already used is blocked).

Example::

    t = choose_thresholds(y_valid, p_valid, Costs(missed_fraud="amount_usd", review=5, friction=2, block_good=20),
                          frame=valid)
    comparison = compare_decisions(y_test, decide(p_test, t), costs, baseline=test["rule"], frame=test)
    comparison.saving
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models.costs import (
    APPROVE,
    BLOCK,
    DECISIONS,
    REVIEW,
    CostMatrix,
    Costs,
    check_decisions,
    decision_costs,
)


@dataclass(frozen=True)
class Thresholds:
    """Review from ``review`` up, block from ``block`` up; ``math.inf`` means never."""

    review: float
    block: float

    def __post_init__(self) -> None:
        if math.isnan(self.review) or math.isnan(self.block) or self.review > self.block:
            raise CryptoscopeError(f"the review threshold ({self.review}) must not be above the block "
                                   f"threshold ({self.block})")

    def to_dict(self) -> dict[str, float | None]:
        """JSON-safe: ``None`` stands for infinity (never)."""
        return {"review": _finite(self.review), "block": _finite(self.block)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Thresholds:
        return cls(*(math.inf if data[k] is None else float(data[k]) for k in ("review", "block")))

    def describe(self) -> str:
        return "; ".join(f"{verb} from p >= {v:.4g}" if not math.isinf(v) else f"never {verb}"
                         for verb, v in (("review", self.review), ("block", self.block)))


@dataclass(frozen=True)
class ExpectedCost:
    """Per row, the decision with the lowest expected cost under its calibrated ``p`` (see the module doc)."""

    costs: Costs

    def to_dict(self) -> dict[str, Any]:
        return {"expected_cost": self.costs.to_dict()}

    def describe(self) -> str:
        return "per row, the decision with the lowest expected cost under the calibrated probability"


Policy = Thresholds | ExpectedCost


def policy_from_dict(data: dict[str, Any]) -> Policy:
    """A policy as ``to_dict`` wrote it (thresholds, or the costs of an expected-cost rule)."""
    if "expected_cost" in data:
        return ExpectedCost(Costs(**data["expected_cost"]))
    return Thresholds.from_dict(data)


@dataclass(frozen=True)
class DecisionOutcome:
    """What a set of decisions did on labelled rows, and what it cost."""

    name: str
    cost: float
    rows: int
    approved: int
    reviewed: int
    blocked: int
    bad_approved: int
    bad_stopped: int
    good_reviewed: int
    good_blocked: int


@dataclass(frozen=True)
class DecisionComparison:
    """The model's decisions next to the rules baseline and the two trivial policies, on the same rows."""

    model: DecisionOutcome
    baseline: DecisionOutcome | None
    approve_all: DecisionOutcome
    block_all: DecisionOutcome

    @property
    def saving(self) -> float | None:
        """Baseline cost minus model cost: positive when the model is cheaper."""
        return None if self.baseline is None else self.baseline.cost - self.model.cost

    @property
    def saving_share(self) -> float | None:
        """The saving as a share of the baseline's cost."""
        if self.baseline is None or self.baseline.cost == 0:
            return None
        return (self.baseline.cost - self.model.cost) / self.baseline.cost

    @property
    def outcomes(self) -> tuple[DecisionOutcome, ...]:
        return tuple(o for o in (self.model, self.baseline, self.approve_all, self.block_all) if o is not None)


def decide(p: Any, policy: Policy, frame: pd.DataFrame | None = None, *, guardrail: Any = None) -> np.ndarray:
    """``approve`` / ``review`` / ``block`` for each probability; ``frame`` holds the rows' cost columns (for
    ``ExpectedCost``); ``guardrail`` decisions, when given, are a floor the result never goes below."""
    probs = np.asarray(p, dtype=float)
    if isinstance(policy, ExpectedCost):
        m = CostMatrix.build(policy.costs, probs.size, frame)
        expected = np.stack([probs * m.approve_bad, probs * m.review_bad + (1 - probs) * m.review_good,
                             (1 - probs) * m.block_good])
        chosen = np.asarray(DECISIONS)[expected.argmin(axis=0)]  # argmin keeps the first, the gentler, on ties
    else:
        chosen = np.where(probs >= policy.block, BLOCK, np.where(probs >= policy.review, REVIEW, APPROVE))
    return chosen if guardrail is None else at_least(chosen, guardrail)


def decide_one(p: float, policy: Policy, row: Mapping[str, Any], *, guardrail: str | None = None) -> str:
    """``decide`` for one row, in Python floats: a served request's decision without building a frame and
    arrays (~0.1 ms). The same operations in the same order on IEEE doubles, so the same decision; ``row``
    holds the cost columns and, when ``guardrail`` names it, the guardrail decision."""
    if isinstance(policy, ExpectedCost):
        review = _cost(policy.costs.review, "review", row)
        expected = (p * _cost(policy.costs.missed_fraud, "missed_fraud", row),
                    p * review + (1 - p) * (review + _cost(policy.costs.friction, "friction", row)),
                    (1 - p) * _cost(policy.costs.block_good, "block_good", row))
        # argmin's rule: the first of the lowest (a NaN counts as the lowest)
        low = next((i for i, e in enumerate(expected) if e != e), None)
        chosen = DECISIONS[low if low is not None else expected.index(min(expected))]
    else:
        chosen = BLOCK if p >= policy.block else REVIEW if p >= policy.review else APPROVE
    if guardrail is None:
        return chosen
    floor = str(row[guardrail])
    if floor not in _SEVERITY:
        raise CryptoscopeError(f"unknown decisions {[floor]}; use {', '.join(DECISIONS)}")
    return chosen if _SEVERITY[chosen] >= _SEVERITY[floor] else floor


_SEVERITY = {APPROVE: 0, REVIEW: 1, BLOCK: 2}


def _cost(value: float | str, name: str, row: Mapping[str, Any]) -> float:
    """One row's cost, as ``CostMatrix.build`` reads it (a number, or a finite non-negative column value)."""
    if not isinstance(value, str):
        return float(value)
    if value not in row:
        raise CryptoscopeError(f"cost {name} reads column {value!r}; pass the frame that holds it")
    raw = row[value]
    out = math.nan if raw is None else float(raw)
    if not math.isfinite(out) or out < 0:
        raise CryptoscopeError(f"column {value!r} ({name}) must hold 1 finite, non-negative costs")
    return out


def at_least(decisions: Any, floor: Any) -> np.ndarray:
    """Each decision, raised to ``floor``'s where that is stricter (approve < review < block)."""
    chosen, lower = check_decisions(decisions, np.size(decisions)), check_decisions(floor, np.size(decisions))

    def severity(d: np.ndarray) -> np.ndarray:
        return np.select([d == BLOCK, d == REVIEW], [2, 1], 0)

    return np.asarray(DECISIONS)[np.maximum(severity(chosen), severity(lower))]


def choose_thresholds(y: Any, p: Any, costs: Costs, *, frame: pd.DataFrame | None = None,
                      candidates: int = 200) -> Thresholds:
    """The (review, block) pair with the lowest total cost on these labelled rows (see the module doc)."""
    labels, probs = np.asarray(y).astype(int).ravel(), np.asarray(p, dtype=float).ravel()
    if labels.shape != probs.shape or labels.size == 0:
        raise CryptoscopeError(f"need one probability per label, got {probs.size} for {labels.size}")
    if candidates < 1:
        raise CryptoscopeError(f"candidates must be at least 1, got {candidates}")
    approve, review, block = CostMatrix.build(costs, labels.size, frame).per_decision(labels)
    order = np.argsort(probs, kind="stable")
    sorted_p = probs[order]
    # cum_x[i]: cost of giving decision x to the i lowest-scored rows
    cum_a, cum_r, cum_b = (np.concatenate([[0.0], np.cumsum(c[order])]) for c in (approve, review, block))
    levels = np.unique(sorted_p)
    if levels.size > candidates:
        levels = np.unique(np.quantile(sorted_p, np.linspace(0.0, 1.0, candidates + 1), method="inverted_cdf"))
    cuts = np.append(levels, math.inf)
    below = np.searchsorted(sorted_p, cuts, side="left")  # rows under each cut
    i_r, i_b = below[:, None], below[None, :]
    total = cum_a[i_r] + (cum_r[i_b] - cum_r[i_r]) + (cum_b[-1] - cum_b[i_b])
    total = np.where(i_r <= i_b, total, np.inf)
    best = np.argwhere(total <= total.min() + 1e-9 * max(1.0, abs(float(total.min()))))
    r, b = max(best.tolist())  # ties: the highest review threshold, then the highest block threshold
    return Thresholds(review=float(cuts[r]), block=float(cuts[b]))


def outcome(name: str, y: Any, decisions: Any, costs: Costs, frame: pd.DataFrame | None = None) -> DecisionOutcome:
    """Counts and total cost of ``decisions`` on labelled rows."""
    labels = np.asarray(y).astype(int).ravel()
    chosen = check_decisions(decisions, labels.size)
    bad = labels == 1
    return DecisionOutcome(
        name=name, cost=float(decision_costs(labels, chosen, costs, frame).sum()), rows=labels.size,
        approved=int((chosen == APPROVE).sum()), reviewed=int((chosen == REVIEW).sum()),
        blocked=int((chosen == BLOCK).sum()), bad_approved=int((bad & (chosen == APPROVE)).sum()),
        bad_stopped=int((bad & (chosen != APPROVE)).sum()), good_reviewed=int((~bad & (chosen == REVIEW)).sum()),
        good_blocked=int((~bad & (chosen == BLOCK)).sum()))


def compare_decisions(y: Any, decisions: Any, costs: Costs, *, baseline: Any = None,
                      frame: pd.DataFrame | None = None) -> DecisionComparison:
    """Price the model's ``decisions``, the ``baseline``'s (rules, same rows) and approve-all / block-all."""
    labels = np.asarray(y).astype(int).ravel()
    n = labels.size
    return DecisionComparison(
        model=outcome("model", labels, decisions, costs, frame),
        baseline=None if baseline is None else outcome("rules baseline", labels, baseline, costs, frame),
        approve_all=outcome("approve all", labels, np.full(n, APPROVE), costs, frame),
        block_all=outcome("block all", labels, np.full(n, BLOCK), costs, frame))


def _finite(value: float) -> float | None:
    return None if math.isinf(value) else value
