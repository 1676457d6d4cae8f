"""A serving world for the API and browser tests, over the shared small simulated world (read only).

Built once per test session: the withdrawal model trained on the world into a temporary registry (the
other products stay untrained, so their endpoints must answer 503), the entity graph saved and a few
real alerts filed into a temporary case queue, so every page has real data. Servers built on it
replay only the last ``LOOKBACK_DAYS`` of the lake to start quickly (production replays 366 days).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptoscope.lake import Lake, connect
from cryptoscope.risk.training import train
from cryptoscope.serve.auth import AuthStore
from cryptoscope.serve.service import ServeConfig

TRAINED = "withdrawal"
LOOKBACK_DAYS = 12
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class ServeWorld:
    lake: Path
    registry: Path
    abnormal: Path
    case_users: list[int]
    pii_user: int

    def config(self, work: Path, **overrides: object) -> ServeConfig:
        base: dict[str, object] = {"lake": self.lake, "registry": self.registry, "work": work,
                                   "abnormal": self.abnormal, "lookback_days": LOOKBACK_DAYS}
        return ServeConfig(**(base | overrides))  # type: ignore[arg-type]


def build(lake: Lake, root: Path) -> ServeWorld:
    """Train, save the graph, file the cases (see the module doc)."""
    from cryptoscope.cases.grouping import RingAlert, UserAlert, file_alerts
    from cryptoscope.cases.store import CaseStore, default_url
    from cryptoscope.graph.pipeline import build_graph, save_graph

    registry = root / "registry"
    result = train(TRAINED, lake, registry, report_dir=root / "reports")
    assert result.promoted, "the withdrawal model beats the rules on the small world (tests/risk checks it too)"
    abnormal = root / "abnormal"
    graph = build_graph(lake)
    save_graph(graph, abnormal / "graph")
    con = connect(lake)
    truth = con.table("ground_truth").to_pandas()
    ring = [int(u) for u in truth.loc[truth["group_id"].notna(), "user_id"].head(4)]
    accounts = con.table("accounts").to_pandas()
    named = accounts[accounts["full_name"].notna() & accounts["address"].notna()]
    pii_user = int(named["user_id"].iloc[0])
    store = CaseStore(default_url(abnormal))
    at = dt.datetime(2025, 3, 31, tzinfo=dt.UTC)
    file_alerts(store, "serve-test", at, [UserAlert(pii_user, 0.91, "withdrawals_7d = 6")],
                [RingAlert(1, tuple(ring), 0.97, "ring 1: accounts sharing a device")], scored=len(accounts))
    return ServeWorld(lake.root, registry, abnormal, ring, pii_user)


def add_people(work: Path) -> dict[str, str]:
    """An admin, an analyst with and one without the right to see personal data, and a service key."""
    auth = AuthStore(work)
    auth.add_user("admin", "admin", PASSWORD)
    auth.add_user("senior", "analyst", PASSWORD, pii=True)
    auth.add_user("junior", "analyst", PASSWORD, pii=False)
    return {"service": auth.create_key("checkout", "service"), "admin": auth.create_key("ops", "admin")}
