"""How a fraud model is judged: ranking quality per transaction, and precision on the cards an analyst can check.

`card_precision_at_k` follows the Fraud Detection Handbook: each day investigators look at the ``k``
cards the model finds riskiest (a card's risk is its highest transaction score that day), and a card
counts as found when any of its transactions that day was a fraud. The share found, over ``k``, is
averaged over the days. Cards found on an earlier day are blocked then, so they are not counted again.

>>> import numpy as np
>>> card_precision_at_k(np.array([0.9, 0.1, 0.8]), np.array(["a", "b", "c"]), np.array([0, 0, 0]),
...                     np.array([1, 0, 0]), k=2).mean
0.5
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score


@dataclass(frozen=True)
class CardPrecision:
    """Card precision@k of each day (in day order) and their mean."""

    k: int
    per_day: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.per_day)) if self.per_day else float("nan")


@dataclass(frozen=True)
class Scores:
    """The handbook's three test figures."""

    auc_roc: float
    average_precision: float
    card_precision_at_100: float

    def rounded(self, digits: int = 4) -> dict[str, float]:
        return {k: round(v, digits) for k, v in vars(self).items()}


def card_precision_at_k(scores: np.ndarray, cards: np.ndarray, days: np.ndarray, frauds: np.ndarray, *,
                        k: int = 100, remove_found: bool = True) -> CardPrecision:
    """Per day, the share of truly compromised cards among the ``k`` cards with the highest max score.

    ``days`` are any sortable day ids; with ``remove_found`` a card found (in the top ``k`` and
    compromised) on one day is left out of the later days, as a blocked card would be.
    """
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    frame = pd.DataFrame({"score": scores, "card": cards, "day": days, "fraud": frauds})
    found: set[object] = set()
    per_day = []
    for _, day in frame.groupby("day", sort=True):
        day = day[~day.card.isin(found)]
        by_card = day.groupby("card").agg(score=("score", "max"), fraud=("fraud", "max"))
        # ties broken by card id, so the same scores always give the same figure
        top = by_card.reset_index().sort_values(["score", "card"], ascending=[False, True], kind="stable").head(k)
        hits = top[top.fraud > 0].card
        per_day.append(len(hits) / k)
        if remove_found:
            found.update(hits)
    return CardPrecision(k, tuple(per_day))


def fraud_scores(scores: np.ndarray, frauds: np.ndarray, cards: np.ndarray, days: np.ndarray) -> Scores:
    """AUC-ROC and average precision over all transactions, and card precision@100 over the days."""
    return Scores(float(roc_auc_score(frauds, scores)), float(average_precision_score(frauds, scores)),
                  card_precision_at_k(scores, cards, days, frauds, k=100).mean)
