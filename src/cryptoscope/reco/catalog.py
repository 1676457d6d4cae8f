"""The product catalogue the recommender ranks: every item with its type, risk level and availability.

Items, their risk levels (1 = capital-safe, 5 = can lose everything fast), the coin each follows and
the countries where it may not be offered are the exchange's own product list, read from the lake's
``product_catalog`` table (`cryptoscope simulate` writes it; `cryptoscope ingest product_catalog FILE`
loads an exchange's export). An item's index is its position in the list (``display_order``).

Whether an item still makes sense once the user has it (``repeatable``) is the recommender's rule, not
data: coins and futures can be traded again (adding to a position is ordinary), an earn product already
subscribed to, or an article already read, is never recommended again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from ibis.backends import BaseBackend

from cryptoscope.errors import CryptoscopeError

#: the verb of a reason sentence, per item type: "users who trade SOL also stake in ..."
VERB = {"coin": "trade", "earn": "subscribe to", "futures": "trade", "article": "read"}
REPEATABLE = {"coin": True, "earn": False, "futures": True, "article": False}
_COLUMNS = ("product_id", "product_type", "risk_level", "underlying", "restricted_countries")


@dataclass(frozen=True)
class Catalog:
    """Parallel arrays over items; an item's index is its column in every interaction matrix."""

    item_id: np.ndarray  # object: "SOL", "earn-usdt-30d", "BTC-PERP", "art-0042"
    item_type: np.ndarray  # object: coin, earn, futures, article
    risk: np.ndarray  # int 1..5
    underlying: np.ndarray  # object: the coin an item's return follows (futures their coin), or ""
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

    @classmethod
    def from_arrow(cls, rows: pa.Table) -> Catalog:
        """The catalogue from ``product_catalog`` rows already in the exchange's order."""
        unknown = set(rows["product_type"].to_pylist()) - set(REPEATABLE)
        if unknown:
            raise CryptoscopeError(f"product_catalog: unknown product_type {sorted(unknown)}; "
                                   f"expected one of {', '.join(REPEATABLE)}")
        unavailable: dict[str, set[int]] = {}
        for i, countries in enumerate(rows["restricted_countries"].to_pylist()):
            for country in (countries or "").split():
                unavailable.setdefault(country, set()).add(i)
        underlying = [coin or "" for coin in rows["underlying"].to_pylist()]
        return cls(np.asarray(rows["product_id"].to_pylist(), dtype=object),
                   np.asarray(rows["product_type"].to_pylist(), dtype=object),
                   np.asarray(rows["risk_level"].to_pylist(), dtype=np.int64),
                   np.asarray(underlying, dtype=object), {c: frozenset(v) for c, v in unavailable.items()})


def read_catalog(con: BaseBackend) -> Catalog:
    """The lake's ``product_catalog`` (an Ibis connection to it); a clear error when it holds none."""
    rows = con.table("product_catalog").order_by("display_order").select(*_COLUMNS).to_pyarrow()
    if rows.num_rows == 0:
        raise CryptoscopeError("the lake has no product_catalog: the recommender ranks the exchange's product "
                               "list; run `cryptoscope simulate` or `cryptoscope ingest product_catalog FILE`")
    return Catalog.from_arrow(rows)
