"""Hard constraints on hand-made users: level from behaviour, KYC and risk flags; country; already consumed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cryptoscope.reco.catalog import Catalog
from cryptoscope.reco.data import LakeData
from cryptoscope.reco.suitability import eligible, user_state, violations
from cryptoscope.sources.simulate.catalog import catalog_table
from cryptoscope.sources.simulate.config import SimConfig

AS_OF = 1_000
CAT = Catalog.from_arrow(catalog_table(SimConfig()))  # the simulated exchange's product list
IDX = CAT.index()


def _data(events: list[tuple[int, str, int, int, int]], kyc: list[int], flags: list[int],
          countries: tuple[str, ...] = ("DE", "DE", "DE", "US", "DE")) -> LakeData:
    """Five users; events are (user, item id, day, clicks, acts)."""
    n = len(countries)
    users = pd.DataFrame({"user_id": np.arange(1, n + 1), "country": list(countries), "segment": ["retail"] * n,
                          "signup_day": [AS_OF - 100] * (n - 1) + [AS_OF - 5]})
    ev = pd.DataFrame([(u, IDX[i], d, 1, c, a, 0.0) for u, i, d, c, a in events],
                      columns=["user", "item", "day", "views", "clicks", "acts", "net_usd"])
    ev = ev.astype({c: np.int64 for c in ("user", "item", "day", "views", "clicks", "acts")})
    frame = pd.DataFrame({"user": kyc, "day": [AS_OF - 50] * len(kyc), "level": [1] * len(kyc)})
    flagged = pd.DataFrame({"user": flags, "day": [AS_OF - 1] * len(flags)})
    empty = pd.DataFrame({"user": [], "day": []})
    return LakeData(CAT, users, ev, frame, flagged, empty.assign(amount_usd=[]), empty.assign(transfers=[]),
                    pd.DataFrame({"coin": [], "day": [], "price": []}), AS_OF + 10)


def test_levels_follow_kyc_age_experience_and_risk_flags() -> None:
    data = _data([(0, "MOONX-PERP", AS_OF - 3, 1, 1), (1, "MOONX-PERP", AS_OF - 3, 1, 1),
                  (2, "earn-defi-vault", AS_OF - 3, 1, 1), (3, "MOONX-PERP", AS_OF + 2, 1, 1)],
                 kyc=[0, 1, 2, 3], flags=[1])
    state = user_state(data, AS_OF)
    # 0: verified, traded 100x futures -> 5; 1: same but a block decision -> capped at 2;
    # 2: verified, DeFi vault (5) -> 5; 3: verified, no experience -> 3; 4: new, unverified -> 2
    assert state.level.tolist() == [5, 2, 5, 3, 2]


def test_experience_without_kyc_never_unlocks_leverage() -> None:
    data = _data([(0, "MOONX-PERP", AS_OF - 3, 1, 1)], kyc=[], flags=[])
    assert user_state(data, AS_OF).level[0] == 3


def test_events_after_the_as_of_day_are_ignored() -> None:
    data = _data([(3, "MOONX-PERP", AS_OF, 1, 1)], kyc=[3], flags=[])
    assert user_state(data, AS_OF).level[3] == 3
    assert user_state(data, AS_OF + 1).level[3] == 5


def test_eligible_applies_level_country_and_consumption() -> None:
    data = _data([(0, "earn-usdt-30d", AS_OF - 3, 1, 1), (0, "art-0001", AS_OF - 2, 1, 0),
                  (0, "BTC", AS_OF - 2, 1, 1), (0, "MOONX-PERP", AS_OF - 3, 1, 1), (3, "MOONX-PERP", AS_OF - 3, 1, 1)],
                 kyc=[0, 3], flags=[])
    state = user_state(data, AS_OF)
    mask = eligible(data, state, np.arange(5))
    assert not mask[0, IDX["earn-usdt-30d"]]  # already subscribed
    assert not mask[0, IDX["art-0001"]] and mask[0, IDX["art-0002"]]  # read / not read
    assert mask[0, IDX["BTC"]] and mask[0, IDX["MOONX-PERP"]]  # trading again makes sense
    assert not mask[3, IDX["BTC-PERP"]]  # user 3 lives in the US: no futures, whatever the level
    assert not mask[4, CAT.risk > 2].any()  # new, unverified user: nothing above risk 2
    assert (CAT.risk[mask[4]] <= 2).all() and mask[4].sum() > 40


def test_violations_are_measured_from_the_lists_alone() -> None:
    data = _data([], kyc=[], flags=[])
    state = user_state(data, AS_OF)
    fine = {4: [IDX["BTC"], IDX["art-0003"]]}
    assert violations(data, state, fine) == {"suitability_violation_share": 0.0,
                                             "availability_violation_share": 0.0}
    bad = {4: [IDX["BTC"], IDX["MOONX-PERP"]], 3: [IDX["BTC-PERP"], IDX["ETH"]]}
    shares = violations(data, state, bad)
    assert shares["suitability_violation_share"] == 0.5  # both perps are above level 2
    assert shares["availability_violation_share"] == 0.25  # BTC-PERP in the US
