"""A reason in words on every recommendation, from the evidence that most supports it.

In order of preference: the user's own habit when they already act on the item ("you trade
SOL regularly"), an item the user already uses that people also use with this one ("users who
trade SOL also subscribe to earn-sol-staking"), a trend ("trending: interest up 40 % this
week"), what the user's segment uses ("popular with users in DE"), and for a new product, its
kind. Each ends with the suitability check that let it through ("risk 3/5, within your level 4").
"""

from __future__ import annotations

import numpy as np

from cryptoscope.reco.candidates import COLD_ITEM_USERS
from cryptoscope.reco.catalog import VERB, Catalog
from cryptoscope.reco.history import History

MIN_SIMILARITY = 0.2
HABIT_WEIGHT = 8.0  # one act (or several clicks) on the item itself: the user's own habit explains it best
TREND_RATIO = 1.3


def anchors(similarity: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each user row and item: the user's used item most similar to it, and that similarity (-1: none)."""
    used = weights > 0
    sim = np.where(used[:, :, None], similarity[None, :, :].astype(np.float32), np.float32(-1.0))
    return sim.argmax(1), sim.max(1)


def reason(catalog: Catalog, history: History, item: int, level: int, country: str, own_weight: float,
           anchor: int, anchor_similarity: float) -> str:
    """One sentence for recommending ``item``; ``anchor`` is the most similar item the user already uses."""
    kind, name = str(catalog.item_type[item]), str(catalog.item_id[item])
    suffix = f" (risk {int(catalog.risk[item])}/5, within your level {level})"
    if history.item_users[item] < COLD_ITEM_USERS:
        return f"new {kind} product that suits your profile{suffix}"
    if own_weight >= HABIT_WEIGHT:
        return f"you {VERB[kind]} {name} regularly{suffix}"
    if anchor_similarity >= MIN_SIMILARITY and anchor != item:
        anchor_kind = str(catalog.item_type[anchor])
        return f"users who {VERB[anchor_kind]} {catalog.item_id[anchor]} also {VERB[kind]} {name}{suffix}"
    if own_weight > 0:
        return f"you {VERB[kind]} {name} regularly{suffix}"
    if history.trend[item] >= TREND_RATIO:
        up = 100 * (history.trend[item] - 1)
        return f"trending: interest in {name} up {up:.0f} % this week{suffix}"
    return f"popular with users in {country}{suffix}"
