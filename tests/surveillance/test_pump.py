"""Pump-and-dump on a hand-built illiquid book: the group that bought early and sold into the burst."""

from __future__ import annotations

import ibis
from surveillance_books import MAKER, T0, Book

from cryptoscope.surveillance.params import DEFAULT
from cryptoscope.surveillance.pump import bursts, pump_alerts

SYM = "MOONX-USDT"
DAY = 86_400
BURST = 2 * DAY + 15 * 3600  # the pump starts here (a bucket boundary)
GROUP = [301, 302, 303, 304, 305]
CROWD = [401, 402, 403, 404, 405, 406]


def quiet_market(book: Book) -> None:
    """Two days of a trade every 20 minutes around 1.0, buyers and sellers alternating (the makers' flow)."""
    for i in range(int(BURST / 1200)):
        side = "buy" if i % 2 else "sell"
        book.cross(10 + i % 30, MAKER, i * 1200 + 7, SYM, side, 1.0 + 0.002 * (i % 5), 100.0)


def pump(book: Book, dump: bool = True) -> None:
    for k, u in enumerate(GROUP):  # quiet accumulation the day before
        book.cross(u, MAKER, BURST - DAY + k * 3000, SYM, "buy", 1.0, 2_000.0)
    for k, u in enumerate(GROUP):  # the signal: everyone buys within minutes, the price runs
        book.cross(u, MAKER, BURST + 30 + k * 60, SYM, "buy", 1.1 + 0.06 * k, 3_000.0)
    for k, u in enumerate(CROWD):  # the crowd buys near the top and holds
        book.cross(u, MAKER, BURST + 1200 + k * 120, SYM, "buy", 1.5, 500.0)
    if dump:
        for k, u in enumerate(GROUP):  # the group sells into the crowd
            book.cross(u, MAKER, BURST + 1500 + k * 200, SYM, "sell", 1.45, 4_500.0)


def test_the_group_is_named_and_the_crowd_is_not() -> None:
    book = Book()
    quiet_market(book)
    pump(book)
    trades = ibis.memtable(book.table("trades"))
    [burst] = bursts(trades, DEFAULT).to_pyarrow().to_pylist()
    assert burst["symbol"] == SYM and burst["b_sec"] == int(T0.timestamp()) + BURST
    [row] = pump_alerts(trades, DEFAULT).to_pyarrow().to_pylist()
    assert sorted(set(row["accounts"])) == GROUP and row["n_accounts"] == len(GROUP)
    assert row["sold_usd"] > row["bought_usd"] > 0


def test_a_burst_nobody_dumps_into_is_no_pump_and_quiet_trading_has_no_burst() -> None:
    book = Book()
    quiet_market(book)
    assert bursts(ibis.memtable(book.table("trades")), DEFAULT).to_pyarrow().num_rows == 0
    pump(book, dump=False)
    assert pump_alerts(ibis.memtable(book.table("trades")), DEFAULT).to_pyarrow().num_rows == 0
