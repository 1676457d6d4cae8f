"""Login novelty: a device or country the account never used before, just before a decision."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from cryptoscope.lake import Lake, connect
from cryptoscope.risk.novelty import FEATURES, login_novelty
from cryptoscope.schema import get_table

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
DECISION = T0 + dt.timedelta(days=10)

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")


def sessions(rows: list[tuple[int, dt.datetime, str, str]]) -> pa.Table:
    """(user_id, time, device_id, ip_country) as full ``sessions`` rows."""
    n = len(rows)
    return pa.table({
        "session_id": list(range(1, n + 1)), "user_id": [r[0] for r in rows], "event_time": [r[1] for r in rows],
        "device_id": [r[2] for r in rows], "ip": ["10.0.0.1"] * n, "ip_country": [r[3] for r in rows],
        "user_agent": ["ua"] * n, "channel": ["web"] * n, "success": [True] * n, "used_2fa": [True] * n,
    }, schema=get_table("sessions").arrow_schema)


def novelty_at(tmp_path: Path, rows: list[tuple[int, dt.datetime, str, str]]) -> dict[str, object]:
    lake = Lake(tmp_path / "lake")
    with lake.transaction() as tx:
        tx.append("sessions", sessions(rows))
    spine = ibis.memtable({"user_id": [7], "decision_time": [DECISION]})
    return login_novelty(connect(lake), spine).to_pyarrow().to_pylist()[0]


def test_a_new_device_from_a_new_country_three_hours_before(tmp_path: Path) -> None:
    got = novelty_at(tmp_path, [
        (7, T0, "home-phone", "DE"),
        (7, T0 + dt.timedelta(days=5), "home-phone", "DE"),
        (7, DECISION - dt.timedelta(hours=3), "vpn-laptop", "NL"),   # the takeover login
        (7, DECISION, "other", "US"),                                # at the decision: not yet seen
        (8, DECISION - dt.timedelta(hours=1), "x", "FR"),            # another account
    ])
    assert {k: got[k] for k in FEATURES} == {"new_devices_24h": 1, "new_countries_24h": 1,
                                             "since_new_device_7d": 3 * 3600,
                                             "since_new_device_country_7d": 3 * 3600}


def test_the_first_device_of_an_account_is_not_a_novelty(tmp_path: Path) -> None:
    got = novelty_at(tmp_path, [(7, DECISION - dt.timedelta(hours=2), "first", "DE")])
    assert (got["new_devices_24h"], got["since_new_device_7d"]) == (0, None)


def test_a_new_device_in_the_home_country_is_not_a_new_country(tmp_path: Path) -> None:
    got = novelty_at(tmp_path, [
        (7, T0, "home-phone", "DE"),
        (7, DECISION - dt.timedelta(days=2), "new-tablet", "DE"),
    ])
    assert (got["new_devices_24h"], got["since_new_device_7d"]) == (0, 2 * 86_400)
    assert (got["new_countries_24h"], got["since_new_device_country_7d"]) == (0, None)
