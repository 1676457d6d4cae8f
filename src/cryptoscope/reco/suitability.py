"""Hard constraints: what may be shown to whom, decided before any model ranks anything.

Suitability level (1-5; an item may be shown when its risk level <= the user's level), from what
the exchange knows at the as-of day:

- everyone starts at 2 (articles, major coins, flexible and fixed savings);
- an approved KYC and an account at least 30 days old raise it to 3;
- demonstrated experience raises it to the highest risk level the user has already acted on
  (traded or subscribed), but levels 4-5 need an approved KYC;
- a risk flag (a block decision or a score >= 0.5 in ``risk_scores``, or a confirmed bad label)
  caps it at 2, whatever the behaviour: risky accounts get no leverage pushed at them.

An item is *eligible* for a user when its risk fits the level, it is offered in the user's KYC
country (`catalog`), and it is not a non-repeatable item the user already has (an earn product
subscribed to, an article read). Every recommender output goes through `eligible` first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryptoscope.reco.data import LakeData

BASE_LEVEL, VERIFIED_LEVEL, FLAGGED_CAP, KYC_FOR_LEVERAGE = 2, 3, 2, 4
MIN_AGE_DAYS = 30


@dataclass(frozen=True)
class UserState:
    """What the constraints need about every user at one as-of day (row = user index)."""

    as_of: int
    level: np.ndarray  # int 1..5
    kyc: np.ndarray  # bool: an approved KYC before as_of
    flagged: np.ndarray  # bool
    exists: np.ndarray  # bool: signed up before as_of
    consumed: np.ndarray  # (users, items) bool: acted on (earn) or clicked (article) before as_of


def user_state(data: LakeData, as_of: int) -> UserState:
    n, m = len(data.users), data.catalog.n
    exists = data.users["signup_day"].to_numpy() < as_of
    kyc = np.zeros(n, dtype=bool)
    kyc[data.kyc.loc[data.kyc["day"] < as_of, "user"].to_numpy(np.int64)] = True
    flagged = np.zeros(n, dtype=bool)
    flagged[data.flags.loc[data.flags["day"] < as_of, "user"].to_numpy(np.int64)] = True
    past = data.events[data.events["day"] < as_of]
    acted = past[past["acts"] > 0]
    experience = np.zeros(n, dtype=np.int64)
    np.maximum.at(experience, acted["user"].to_numpy(), data.catalog.risk[acted["item"].to_numpy()])
    age_ok = (as_of - data.users["signup_day"].to_numpy()) >= MIN_AGE_DAYS
    level = np.where(kyc & age_ok, VERIFIED_LEVEL, BASE_LEVEL)
    level = np.maximum(level, np.where(kyc, experience, np.minimum(experience, KYC_FOR_LEVERAGE - 1)))
    level = np.where(flagged, np.minimum(level, FLAGGED_CAP), level)
    consumed = np.zeros((n, m), dtype=bool)
    item_type = data.catalog.item_type
    used = past[((past["acts"] > 0) & (item_type[past["item"].to_numpy()] == "earn"))
                | ((past["clicks"] > 0) & (item_type[past["item"].to_numpy()] == "article"))]
    consumed[used["user"].to_numpy(), used["item"].to_numpy()] = True
    return UserState(as_of, level.astype(np.int64), kyc, flagged, exists, consumed)


def eligible(data: LakeData, state: UserState, users: np.ndarray) -> np.ndarray:
    """(len(users), items) bool: may the item be recommended to the user at all? Applied before ranking."""
    countries = data.users["country"].to_numpy()[users]
    fits = data.catalog.risk[None, :] <= state.level[users, None]
    repeat_ok = data.catalog.repeatable()[None, :] | ~state.consumed[users]
    return fits & data.catalog.available_mask(countries) & repeat_ok


def violations(data: LakeData, state: UserState, recs: dict[int, list[int]]) -> dict[str, float]:
    """Share of recommended (user, item) pairs above the user's level, and unavailable in their country.

    Computed from the lists alone, independently of how they were produced: the check that the
    constraints held (both shares must be 0 for the constrained recommender)."""
    pairs = [(u, i) for u, items in recs.items() for i in items]
    if not pairs:
        return {"suitability_violation_share": 0.0, "availability_violation_share": 0.0}
    users = np.array([p[0] for p in pairs], dtype=np.int64)
    items = np.array([p[1] for p in pairs], dtype=np.int64)
    above = data.catalog.risk[items] > state.level[users]
    countries = data.users["country"].to_numpy()[users]
    unavailable = np.array([i in data.catalog.unavailable.get(str(c), frozenset())
                            for c, i in zip(countries, items, strict=True)])
    return {"suitability_violation_share": float(above.mean()),
            "availability_violation_share": float(unavailable.mean())}
