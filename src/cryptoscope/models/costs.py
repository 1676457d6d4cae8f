"""The cost model: what each decision costs when the row turns out good or bad.

Every scored event (a payment, a withdrawal, a KYC file, a credit line) gets one of three decisions.
Its cost, in one currency, depends on the decision and on the truth learnt later::

    decision   bad row (label 1)        good row (label 0)
    approve    missed_fraud             0
    review     review                   review + friction
    block      0                        block_good

* ``missed_fraud``: the loss when fraud goes through, e.g. the amount of the payment (a column).
* ``review``: an analyst's time per case; a review is assumed to stop the fraud it looks at.
* ``friction``: what a good customer's delay costs (drop-off, support tickets), on top of the review.
* ``block_good``: turning away a good customer: lost revenue or margin, e.g. a share of the amount.

A cost is a number, or the name of a column of the scored frame that holds one per row. The cost of
a set of decisions is the sum over rows; ``decisions.py`` picks the thresholds that minimise it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError

APPROVE, REVIEW, BLOCK = "approve", "review", "block"
DECISIONS = (APPROVE, REVIEW, BLOCK)


@dataclass(frozen=True)
class Costs:
    """Costs of each outcome, each a number or the name of a per-row column (see the module doc)."""

    missed_fraud: float | str
    review: float | str = 0.0
    friction: float | str = 0.0
    block_good: float | str = 0.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise CryptoscopeError(f"cost {name} must be a number or a column name, not {value!r}")
            if not isinstance(value, str) and value < 0:
                raise CryptoscopeError(f"cost {name} must not be negative, got {value}")

    @property
    def columns(self) -> tuple[str, ...]:
        """The frame columns this cost model reads."""
        return tuple(v for v in asdict(self).values() if isinstance(v, str))

    def to_dict(self) -> dict[str, float | str]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class CostMatrix:
    """Per-row cost of approving, reviewing and blocking, for good and for bad rows."""

    approve_bad: np.ndarray
    review_bad: np.ndarray
    review_good: np.ndarray
    block_good: np.ndarray

    @classmethod
    def build(cls, costs: Costs, rows: int, frame: pd.DataFrame | None = None) -> CostMatrix:
        def column(value: float | str, name: str) -> np.ndarray:
            if not isinstance(value, str):
                return np.full(rows, float(value))
            if frame is None or value not in frame.columns:
                raise CryptoscopeError(f"cost {name} reads column {value!r}; pass the frame that holds it")
            out = frame[value].to_numpy(dtype=float, na_value=np.nan)
            if out.shape != (rows,) or not np.isfinite(out).all() or (out < 0).any():
                raise CryptoscopeError(f"column {value!r} ({name}) must hold {rows} finite, non-negative costs")
            return out

        review = column(costs.review, "review")
        return cls(approve_bad=column(costs.missed_fraud, "missed_fraud"), review_bad=review,
                   review_good=review + column(costs.friction, "friction"),
                   block_good=column(costs.block_good, "block_good"))

    def per_decision(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cost of approve, review and block for each row, given its label."""
        bad = np.asarray(y) == 1
        approve = np.where(bad, self.approve_bad, 0.0)
        review = np.where(bad, self.review_bad, self.review_good)
        block = np.where(bad, 0.0, self.block_good)
        return approve, review, block


def decision_costs(y: Any, decisions: Any, costs: Costs, frame: pd.DataFrame | None = None) -> np.ndarray:
    """The cost of each row's decision (``approve`` / ``review`` / ``block``) given its label."""
    labels = np.asarray(y).astype(int)
    chosen = check_decisions(decisions, labels.size)
    approve, review, block = CostMatrix.build(costs, labels.size, frame).per_decision(labels)
    return np.select([chosen == APPROVE, chosen == REVIEW], [approve, review], block)


def check_decisions(decisions: Any, rows: int) -> np.ndarray:
    """Decisions as an array of strings, refusing anything but approve / review / block."""
    chosen = np.asarray(decisions).astype(str)
    if chosen.shape != (rows,):
        raise CryptoscopeError(f"{chosen.size} decisions for {rows} rows")
    unknown = sorted({str(d) for d in np.unique(chosen)} - set(DECISIONS))
    if unknown:
        raise CryptoscopeError(f"unknown decisions {unknown}; use {', '.join(DECISIONS)}")
    return chosen
