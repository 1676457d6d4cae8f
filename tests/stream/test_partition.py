"""N partitions split the users between them: each user has one owner, exactly one partition writes each raw
row, and every partition's online state counts every event (a device's users are not only one partition's)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.serve.online import SERVED, OnlineScorer
from cryptoscope.stream.partition import Partition
from cryptoscope.stream.work import Work
from cryptoscope.surveillance.links import LINK_SCHEMA
from cryptoscope.surveillance.stream import StreamDetector


def test_every_user_has_exactly_one_owner_and_the_split_is_even() -> None:
    parts = [Partition(i, 3) for i in range(3)]
    owners = [[p.index for p in parts if p.owns_user(u)] for u in range(3_000)]
    assert all(len(o) == 1 for o in owners)
    counts = [sum(o == [i] for o in owners) for i in range(3)]
    assert min(counts) > 900


def test_a_trade_is_written_by_the_buyers_partition_and_the_first_one_surveils() -> None:
    parts = [Partition(i, 2) for i in range(2)]
    buyer = next(u for u in range(100) if parts[0].owns_user(u))
    seller = next(u for u in range(100) if parts[1].owns_user(u))
    assert [p.writes("trades", {"buyer_user_id": buyer, "seller_user_id": seller}) for p in parts] == [True, False]
    assert [p.writes("sessions", {"user_id": seller}) for p in parts] == [False, True]
    assert [p.surveils for p in parts] == [True, False]


def _login(user: int, minute: int) -> dict[str, Any]:
    return {"event_time": dt.datetime(2025, 3, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=minute), "user_id": user,
            "session_id": f"s-{user}-{minute}", "device_id": "shared-phone", "ip": "10.0.0.7", "ip_country": "DE",
            "success": True, "used_2fa": True}


def test_a_partition_counts_the_other_partitions_users_on_a_shared_device() -> None:
    """Two users on one phone, owned by different partitions: each partition's state sees both, as one
    consumer's does (a partition that kept only its users' events would say the phone has one user)."""
    one, half = Partition(), Partition(0, 2)
    mine = next(u for u in range(100) if half.owns_user(u))
    other = next(u for u in range(100) if not half.owns_user(u))
    states = []
    for partition in (one, half):
        scorer = OnlineScorer(None, SERVED)
        work = Work(scorer, StreamDetector(LINK_SCHEMA.empty_table()), partition, tables=frozenset({"sessions"}))
        for minute, user in enumerate([mine, other, other]):
            work.apply("sessions", _login(user, minute))
        work.close()
        states.append(scorer.state.get("device_activity", "shared-phone", _login(mine, 10)["event_time"]))
    assert states[0]["device_users_24h"] == 2 and states[0]["device_logins_24h"] == 3
    assert states[1] == states[0]


@pytest.mark.parametrize("text", ["2", "2/2", "-1/2", "a/b"])
def test_a_wrong_partition_is_refused(text: str) -> None:
    with pytest.raises(CryptoscopeError, match="--partition"):
        Partition.parse(text)
