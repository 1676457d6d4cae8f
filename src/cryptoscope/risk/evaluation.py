"""The model next to the rules on the same test decisions: ranking, alerting and cost.

The rules give decisions, not scores; for the ranking metrics they are read as a three-level score
(approve 0 < review 1 < block 2). Precision and recall are compared at ``k`` = the number of
decisions the rules flag (review or block): what the model would find with the rules' alert budget.

>>> evaluation = compare(test_frame, p_test, decisions, product)       # doctest: +SKIP
>>> print(evaluation.summary())                                        # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cryptoscope.models import APPROVE, BLOCK, REVIEW, decision_costs, pr_auc, precision_at_k, recall_at_k, roc_auc
from cryptoscope.risk.products import RULE_COLUMN, Product

_LEVEL = {APPROVE: 0.0, REVIEW: 1.0, BLOCK: 2.0}


@dataclass(frozen=True)
class PolicyFigures:
    """One policy (the model or the rules) on the test decisions."""

    name: str
    roc_auc: float
    pr_auc: float
    precision_at_k: float
    recall_at_k: float
    cost: float
    reviewed: int
    blocked: int
    bad_stopped: int


@dataclass(frozen=True)
class Evaluation:
    """ML against rules on one product's test period; ``saving`` > 0 when the model is cheaper."""

    kind: str
    test_start: dt.datetime
    test_end: dt.datetime
    rows: int
    positives: int
    base_rate: float
    k: int
    model: PolicyFigures
    rules: PolicyFigures
    approve_all_cost: float
    block_all_cost: float
    model_version: int | None = None

    @property
    def saving(self) -> float:
        return self.rules.cost - self.model.cost

    @property
    def saving_share(self) -> float:
        return self.saving / self.rules.cost if self.rules.cost else math.nan

    def summary(self) -> str:
        """A few lines for a terminal or a ticket."""
        head = (f"{self.kind}: test {self.test_start:%Y-%m-%d} to {self.test_end:%Y-%m-%d}, {self.rows} decisions, "
                f"{self.positives} bad (base rate {self.base_rate:.2%})")
        lines = [head, f"{'':8}{'ROC-AUC':>9}{'PR-AUC':>9}{f'P@{self.k}':>9}{f'R@{self.k}':>9}{'cost $':>13}"
                       f"{'reviewed':>10}{'blocked':>9}{'bad stopped':>13}"]
        for f in (self.model, self.rules):
            lines.append(f"{f.name:8}{f.roc_auc:9.3f}{f.pr_auc:9.3f}{f.precision_at_k:9.3f}{f.recall_at_k:9.3f}"
                         f"{f.cost:13,.0f}{f.reviewed:10d}{f.blocked:9d}{f.bad_stopped:13d}")
        lines.append(f"saving vs rules: ${self.saving:,.0f} ({self.saving_share:.1%}); "
                     f"approve all ${self.approve_all_cost:,.0f}, block all ${self.block_all_cost:,.0f}")
        return "\n".join(lines)


def compare(test: pd.DataFrame, p: np.ndarray, decisions: np.ndarray, product: Product, *,
            model_version: int | None = None) -> Evaluation:
    """Price and rank the model's ``p`` / ``decisions`` and the rules' on the labelled ``test`` rows."""
    y = test["label"].to_numpy(dtype=int)
    rules = test[RULE_COLUMN].to_numpy(dtype=str)
    flagged = int((rules != APPROVE).sum())
    k = flagged if flagged else max(1, math.ceil(0.01 * len(y)))
    level = np.vectorize(_LEVEL.__getitem__, otypes=[float])(rules)
    times = test["decision_time"]
    return Evaluation(
        kind=product.kind, test_start=times.min().to_pydatetime(), test_end=times.max().to_pydatetime(),
        rows=len(y), positives=int(y.sum()), base_rate=float(y.mean()), k=k,
        model=_figures("model", y, np.asarray(p, dtype=float), np.asarray(decisions, dtype=str), k, test, product),
        rules=_figures("rules", y, level, rules, k, test, product),
        approve_all_cost=_cost(y, np.full(len(y), APPROVE), test, product),
        block_all_cost=_cost(y, np.full(len(y), BLOCK), test, product), model_version=model_version)


def _figures(name: str, y: np.ndarray, score: np.ndarray, decisions: np.ndarray, k: int, test: pd.DataFrame,
             product: Product) -> PolicyFigures:
    return PolicyFigures(name=name, roc_auc=roc_auc(y, score), pr_auc=pr_auc(y, score),
                         precision_at_k=precision_at_k(y, score, k), recall_at_k=recall_at_k(y, score, k),
                         cost=_cost(y, decisions, test, product), reviewed=int((decisions == REVIEW).sum()),
                         blocked=int((decisions == BLOCK).sum()),
                         bad_stopped=int(((decisions != APPROVE) & (y == 1)).sum()))


def _cost(y: np.ndarray, decisions: np.ndarray, test: pd.DataFrame, product: Product) -> float:
    return float(decision_costs(y, decisions, product.costs, test).sum())
