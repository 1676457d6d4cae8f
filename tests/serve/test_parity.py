"""The online decision rows equal the batch decision frame the model was trained on (same features, same
values), for the withdrawals the server replayed at start-up."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cryptoscope.lake import connect
from cryptoscope.risk.frames import decision_frame, rows_frame
from cryptoscope.risk.products import PRODUCTS
from cryptoscope.serve.service import Service
from serve.world import LOOKBACK_DAYS, ServeWorld


def test_online_withdrawal_rows_match_the_offline_decision_frame(live: tuple[Service, dict[str, str]],
                                                                 serve_world: ServeWorld) -> None:
    service, _ = live
    product = PRODUCTS["withdrawal"]
    online = product.prepare(rows_frame([dict(r) for r in service._background["withdrawal"]]))
    # the server replayed only LOOKBACK_DAYS: windows up to 7 days are complete for the last few days
    end = pd.Timestamp(max(online["decision_time"]))
    since = end - pd.Timedelta(days=LOOKBACK_DAYS - 8)
    online = online[pd.to_datetime(online["decision_time"], utc=True) >= since].set_index("entity_id")
    offline = decision_frame(connect(serve_world.lake), product, since=since.to_pydatetime()).set_index("entity_id")
    shared = online.index.intersection(offline.index)
    assert len(shared) >= 50 and len(shared) == len(online)
    columns = [c for c in product.features if c.endswith(("_1h", "_24h", "_7d")) and not c.startswith(
        ("new_", "since_new"))] + ["amount_usd", "account_age_days"]  # novelty needs all history
    assert len(columns) >= 20
    a = online.loc[shared, columns].astype(float).to_numpy()
    b = offline.loc[shared, columns].astype(float).to_numpy()
    same = np.isclose(a, b, rtol=1e-9, atol=1e-6, equal_nan=True)
    bad = [columns[j] for j in np.where(~same.all(axis=0))[0]]
    assert same.all(), f"online and offline differ on {bad}"
