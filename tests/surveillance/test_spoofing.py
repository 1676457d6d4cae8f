"""Spoofing and layering on hand-built books, and the market maker that cancels as fast but is no spoofer."""

from __future__ import annotations

import ibis
from surveillance_books import MAKER, Book

from cryptoscope.surveillance.params import DEFAULT
from cryptoscope.surveillance.spoofing import spoofing_alerts

S = 201
SYM = "ETH-USDT"


def spoof(book: Book, t: float, layers: int = 3, cancel_after: float = 3.0) -> tuple[list[int], int]:
    """Big bids below the touch while a small sell fills, the bids pulled seconds later."""
    bids = [book.order(S, t + i * 0.5, SYM, "buy", 3_000 * (1 - 0.002 * (i + 1)), 10.0, cancel=t + i * 0.5
                       + cancel_after) for i in range(layers)]
    sell = book.order(S, t + 2, SYM, "sell", 3_001.5, 0.2, filled=0.2)
    resting = book.order(MAKER, t - 5, SYM, "buy", 3_001.5, 0.2, filled=0.2)
    book.trade(t + 3, SYM, 3_001.5, 0.2, resting, sell, "buy")
    return bids, sell


def run(book: Book) -> list[dict[str, object]]:
    expr = spoofing_alerts(ibis.memtable(book.table("orders")), ibis.memtable(book.table("trades")), DEFAULT)
    return list(expr.to_pyarrow().to_pylist())


def test_layered_bids_pulled_while_selling_are_one_alert_with_the_evidence() -> None:
    book = Book()
    first, sell1 = spoof(book, 100)
    second, sell2 = spoof(book, 5_000, layers=2)
    [row] = run(book)
    assert (row["user_id"], row["symbol"], row["episodes"], row["layers"]) == (S, SYM, 2, 5)
    assert set(row["spoof_ids"]) == {*first, *second} and set(row["real_ids"]) == {sell1, sell2}
    assert len(set(row["trade_ids"])) == 2
    assert row["spoof_usd"] / row["genuine_usd"] > 40


def test_one_big_order_is_not_layering_and_slow_cancels_are_not_spoofing() -> None:
    book = Book()
    spoof(book, 100, layers=1)
    spoof(book, 5_000, layers=3, cancel_after=60)
    assert run(book) == []


def test_market_maker_pulling_quotes_on_both_sides_is_not_flagged() -> None:
    """Every few seconds the maker replaces a big bid and a big ask; small fills happen in between."""
    book = Book()
    for k in range(200):
        t = k * 4.0
        book.order(MAKER, t, SYM, "buy", 2_999.0, 10.0, cancel=t + 3.5)
        book.order(MAKER, t + 0.1, SYM, "sell", 3_001.0, 10.0, cancel=t + 3.6)
        if k % 5 == 0:
            fill = book.order(MAKER, t + 1, SYM, "sell", 3_000.5, 0.1, filled=0.1)
            taker = book.order(7, t + 1.5, SYM, "buy", 3_000.5, 0.1, filled=0.1, market=True)
            book.trade(t + 1.5, SYM, 3_000.5, 0.1, taker, fill, "buy")
    assert run(book) == []
