"""Wash trading on hand-built books: linked pairs, self-trades, and a market maker that is neither."""

from __future__ import annotations

import ibis
import pyarrow as pa
from surveillance_books import MAKER, Book

from cryptoscope.features import engines
from cryptoscope.surveillance.batch import account_links
from cryptoscope.surveillance.links import LINK_SCHEMA
from cryptoscope.surveillance.params import DEFAULT
from cryptoscope.surveillance.wash import wash_alerts

A, B, C = 101, 102, 103


def honest_flow(book: Book, users: list[int], n: int = 20) -> None:
    """These users and 60 others trading both ways against the market maker, who is everyone's counterparty."""
    for i in range(n):
        for u in [*users, *range(1, 61)]:
            book.cross(u, MAKER, 3600 * 10 + i * 60 + u % 7, "BTC-USDT", "buy" if i % 2 else "sell", 60_000.0, 0.01)


def run(book: Book, links: list[tuple[int, int, str]]) -> list[dict[str, object]]:
    link_t = pa.Table.from_pylist([{"u1": a, "u2": b, "link_kinds": k} for a, b, k in links], schema=LINK_SCHEMA)
    expr = wash_alerts(ibis.memtable(book.table("trades")), ibis.memtable(link_t), DEFAULT)
    return sorted(expr.to_pyarrow().to_pylist(), key=lambda r: (r["u1"], r["u2"]))


def test_linked_pair_painting_volume_is_flagged_with_its_trades() -> None:
    book = Book()
    honest_flow(book, [A, B, C])
    wash = [book.cross(B if i % 2 else A, A if i % 2 else B, 100 + i * 30, "MOONX-USDT", "buy", 0.04, 5_000)
            for i in range(6)]
    rows = run(book, [(A, B, "device")])
    assert [(r["u1"], r["u2"], r["symbol"]) for r in rows] == [(A, B, "MOONX-USDT")]
    assert sorted(rows[0]["trade_ids"]) == wash
    assert rows[0]["net_qty"] == 0.0 and rows[0]["u1_buys"] == 3  # round trips, no net position


def test_the_same_trades_between_unlinked_accounts_need_more_of_them() -> None:
    book = Book()
    for i in range(4):  # four round-trip trades: enough for a linked pair, not for strangers
        book.cross(B if i % 2 else A, A if i % 2 else B, 100 + i * 30, "MOONX-USDT", "buy", 0.04, 5_000)
    assert run(book, [(A, B, "ip")]) and not run(book, [])
    book.cross(A, B, 400, "MOONX-USDT", "buy", 0.04, 5_000)
    assert [(r["u1"], r["u2"]) for r in run(book, [])] == [(A, B)]


def test_self_trades_are_flagged_without_any_link() -> None:
    book = Book()
    for i in range(2):
        book.cross(C, C, 100 + i * 10, "ETH-USDT", "buy", 3_000.0, 1.0)
    rows = run(book, [])
    assert [(r["u1"], r["u2"], r["is_self"]) for r in rows] == [(C, C, True)]


def test_market_maker_counterparty_of_everyone_is_not_a_wash_trader() -> None:
    """Heavy two-way trading with the maker is a tiny share of the maker's trades, even for a linked account."""
    book = Book()
    honest_flow(book, [A, B, C])
    assert run(book, []) == []
    assert run(book, [(A, MAKER, "ip")]) == []


def test_links_come_from_shared_devices_in_the_lake(tmp_path: object) -> None:
    book = Book()
    for i in range(4):
        book.cross(B if i % 2 else A, A if i % 2 else B, 100 + i * 30, "MOONX-USDT", "buy", 0.04, 5_000)
        book.cross(C if i % 2 else A, A if i % 2 else C, 200 + i * 30, "MOONX-USDT", "buy", 0.04, 5_000)
    book.login(A, 10, "dev-1", "10.0.0.1")
    book.login(B, 20, "dev-1", "10.0.0.2")
    book.login(B, 40, "dev-2", "10.0.0.1")  # and later on A's IP, the same week
    book.login(C, 30, "dev-9", "10.0.0.3")
    lake = book.lake(tmp_path / "lake")  # type: ignore[operator]
    links = account_links(engines.connect(lake, "duckdb")).to_pylist()
    assert links == [{"u1": A, "u2": B, "link_kinds": "device,ip"}]  # every kind shared, named once, in order
