"""The exchange's product list: what it offers, how risky each product is, and where it may not be sold.

The simulated users interact with these products (`products.py`), and `simulate` writes the list to
the lake as ``product_catalog``, so the recommender reads it from there like any exchange's export.
Risk levels run from 1 (capital-safe) to 5 (can lose everything fast). Where a product may not be
offered is the exchange's compliance data, as its legal team would maintain it (a stand-in for real
licences, not legal advice):

- futures (derivatives) are not offered to retail customers in US, GB, CA and JP;
- launchpool, dual-investment and DeFi-vault earn products are not offered in US and CA;
- the illiquid small caps (MOONX, ZKP, PEPE2) are not listed in JP and KR.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cryptoscope.schema import get_table
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.frames import ts
from cryptoscope.sources.simulate.market import ILLIQUID, NAMES

#: earn products: (id, risk level, the coin it pays in, or None for pools of many)
EARN = (("earn-usdt-flex", 1, "USDT"), ("earn-usdt-30d", 1, "USDT"), ("earn-btc-flex", 2, "BTC"),
        ("earn-eth-staking", 2, "ETH"), ("earn-sol-staking", 3, "SOL"), ("earn-launchpool", 3, None),
        ("earn-dual-btc", 4, "BTC"), ("earn-defi-vault", 5, None))
FUTURES = (("BTC-PERP", 4), ("ETH-PERP", 4), ("SOL-PERP", 5), ("DOGE-PERP", 5), ("MOONX-PERP", 5))
N_ARTICLES = 40

#: the catalogue as parallel arrays: type index (into TYPES), id, risk level 1-5
TYPES = np.array(["coin", "earn", "futures", "article"], dtype=object)
CATALOG_TYPE = np.array([0] * len(NAMES) + [1] * len(EARN) + [2] * len(FUTURES) + [3] * N_ARTICLES)
CATALOG_ID = np.array([*NAMES, *(e[0] for e in EARN), *(f[0] for f in FUTURES),
                       *(f"art-{i:04d}" for i in range(N_ARTICLES))], dtype=object)
CATALOG_RISK = np.array([2] * 8 + [5] * 3 + [e[1] for e in EARN] + [f[1] for f in FUTURES] + [1] * N_ARTICLES)
UNDERLYING = [*NAMES, *(e[2] for e in EARN), *(f[0].split("-")[0] for f in FUTURES), *([None] * N_ARTICLES)]

_RESTRICTED = {"futures": "US GB CA JP", "earn-launchpool": "US CA", "earn-dual-btc": "US CA",
               "earn-defi-vault": "US CA", **{str(NAMES[i]): "JP KR" for i in ILLIQUID}}


def catalog_table(cfg: SimConfig) -> pa.Table:
    """``product_catalog`` rows: every product, listed when the world starts, in the exchange's order."""
    n = len(CATALOG_ID)
    types = TYPES[CATALOG_TYPE]
    restricted = [_RESTRICTED.get(str(t), _RESTRICTED.get(str(i))) for i, t in zip(CATALOG_ID, types, strict=True)]
    spec = get_table("product_catalog")
    columns = {"product_id": CATALOG_ID.tolist(), "event_time": ts(np.full(n, cfg.t0)),
               "product_type": types.tolist(), "risk_level": CATALOG_RISK.tolist(), "underlying": UNDERLYING,
               "display_order": list(range(n)), "restricted_countries": restricted}
    return pa.Table.from_pydict(columns, schema=spec.arrow_schema)
