"""N partitions split the users between them: each user has one owner, a trade reaches both of its owners,
and exactly one partition writes each raw row."""

from __future__ import annotations

import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.stream.partition import Partition


def test_every_user_has_exactly_one_owner_and_the_split_is_even() -> None:
    parts = [Partition(i, 3) for i in range(3)]
    owners = [[p.index for p in parts if p.owns_user(u)] for u in range(3_000)]
    assert all(len(o) == 1 for o in owners)
    counts = [sum(o == [i] for o in owners) for i in range(3)]
    assert min(counts) > 900


def test_a_trade_reaches_the_buyers_and_the_sellers_partition_and_one_writes_it() -> None:
    parts = [Partition(i, 2) for i in range(2)]
    buyer = next(u for u in range(100) if parts[0].owns_user(u))
    seller = next(u for u in range(100) if parts[1].owns_user(u))
    trade = {"buyer_user_id": buyer, "seller_user_id": seller}
    assert [p.wants("trades", trade) for p in parts] == [True, True]
    assert [p.writes("trades", trade) for p in parts] == [True, False]
    login = {"user_id": seller}
    assert [p.wants("sessions", login) for p in parts] == [False, True]
    assert [p.surveils for p in parts] == [True, False]


@pytest.mark.parametrize("text", ["2", "2/2", "-1/2", "a/b"])
def test_a_wrong_partition_is_refused(text: str) -> None:
    with pytest.raises(CryptoscopeError, match="--partition"):
        Partition.parse(text)
