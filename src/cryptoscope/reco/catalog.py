"""The product catalogue the recommender ranks: every item with its type, risk level and availability.

Items and their risk levels (1 = capital-safe, 5 = can lose everything fast) are the exchange's own
product list, the same the simulated world is drawn from (`sources.simulate.products`). Where a product
may be offered is compliance data the event tables do not carry, so it is declared here, as an
exchange's legal team would maintain it (a stand-in for real licences, not legal advice):

- futures (derivatives) are not offered to retail customers in US, GB, CA and JP;
- launchpool, dual-investment and DeFi-vault earn products are not offered in US and CA;
- the illiquid small caps (MOONX, ZKP, PEPE2) are not listed in JP and KR.

Whether an item still makes sense once the user has it (``repeatable``): coins and futures can be
traded again (adding to a position is ordinary), an earn product already subscribed to, or an article
already read, is never recommended again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryptoscope.sources.simulate.products import CATALOG_ID, CATALOG_RISK, CATALOG_TYPE, TYPES

ILLIQUID_COINS = ("MOONX", "ZKP", "PEPE2")
_UNAVAILABLE: dict[str, tuple[str, ...]] = {
    "futures": ("US", "GB", "CA", "JP"),
    "earn-launchpool": ("US", "CA"),
    "earn-dual-btc": ("US", "CA"),
    "earn-defi-vault": ("US", "CA"),
    **{coin: ("JP", "KR") for coin in ILLIQUID_COINS},
}
#: the verb of a reason sentence, per item type: "users who trade SOL also stake in ..."
VERB = {"coin": "trade", "earn": "subscribe to", "futures": "trade", "article": "read"}
REPEATABLE = {"coin": True, "earn": False, "futures": True, "article": False}


@dataclass(frozen=True)
class Catalog:
    """Parallel arrays over items; an item's index is its column in every interaction matrix."""

    item_id: np.ndarray  # object: "SOL", "earn-usdt-30d", "BTC-PERP", "art-0042"
    item_type: np.ndarray  # object: coin, earn, futures, article
    risk: np.ndarray  # int 1..5
    unavailable: dict[str, frozenset[int]]  # country -> item indices not offered there

    @property
    def n(self) -> int:
        return len(self.item_id)

    def index(self) -> dict[str, int]:
        return {str(item): i for i, item in enumerate(self.item_id)}

    def available_mask(self, countries: np.ndarray) -> np.ndarray:
        """(len(countries), n) bool: may the item be offered in each user's country?"""
        mask = np.ones((len(countries), self.n), dtype=bool)
        for country, items in self.unavailable.items():
            rows = np.flatnonzero(np.asarray(countries) == country)
            if len(rows) and items:
                mask[np.ix_(rows, np.fromiter(items, dtype=np.int64))] = False
        return mask

    def repeatable(self) -> np.ndarray:
        return np.array([REPEATABLE[str(t)] for t in self.item_type], dtype=bool)

    def underlying(self) -> np.ndarray:
        """The coin an item's return follows (futures track their coin, earn products theirs), or ''."""
        out = []
        for item, kind in zip(self.item_id, self.item_type, strict=True):
            name = str(item)
            if kind == "coin":
                out.append(name)
            elif kind == "futures":
                out.append(name.split("-")[0])
            elif kind == "earn":
                parts = name.split("-")
                out.append(parts[-1].upper() if parts[-1] in ("btc",) else parts[1].upper())
            else:
                out.append("")
        return np.array(out, dtype=object)


def default_catalog() -> Catalog:
    item_id = np.asarray(CATALOG_ID, dtype=object)
    item_type = np.asarray(TYPES[CATALOG_TYPE], dtype=object)
    index = {str(item): i for i, item in enumerate(item_id)}
    unavailable: dict[str, set[int]] = {}
    for key, countries in _UNAVAILABLE.items():
        items = [i for i, t in enumerate(item_type) if t == key] if key in VERB else [index[key]]
        for country in countries:
            unavailable.setdefault(country, set()).update(items)
    return Catalog(item_id, item_type, np.asarray(CATALOG_RISK, dtype=np.int64),
                   {c: frozenset(v) for c, v in unavailable.items()})
