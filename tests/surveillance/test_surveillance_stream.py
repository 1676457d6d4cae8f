"""The streaming pass gives the batch job's alerts, on hand-built books and on a small simulated world."""

from __future__ import annotations

from pathlib import Path

import pytest
from surveillance_books import MAKER, Book, assert_same_alerts
from test_pump import pump, quiet_market
from test_spoofing import spoof

from cryptoscope.features import engines
from cryptoscope.lake import Lake
from cryptoscope.surveillance.batch import account_links, detect
from cryptoscope.surveillance.stream import StreamDetector, events


def batch_and_stream(lake: Lake) -> tuple[object, object, StreamDetector]:
    con = engines.connect(lake, "duckdb")
    links = account_links(con)
    batch = detect(con, links=links)
    stream = StreamDetector(links).run(events(con.table("orders").to_pyarrow(), con.table("trades").to_pyarrow()))
    return batch, stream.alerts(), stream


def every_typology_book() -> Book:
    """A pump, two spoofing bursts and a linked pair washing, on one book."""
    book = Book()
    quiet_market(book)
    pump(book)
    spoof(book, 40_000)
    spoof(book, 90_000, layers=4)
    for i in range(4):  # a linked pair washing on the pumped coin's quiet days
        book.cross(502 if i % 2 else 501, 501 if i % 2 else 502, 3_000 + i * 40, "MOONX-USDT", "buy", 1.0, 800.0)
    book.login(501, 1, "shared-phone", "10.1.1.1")
    book.login(502, 2, "shared-phone", "10.1.1.2")
    book.login(MAKER, 3, "colo-1", "10.9.9.9")
    return book


def test_every_typology_on_one_hand_built_book(tmp_path: Path) -> None:
    batch, stream_alerts, stream = batch_and_stream(every_typology_book().lake(tmp_path / "lake"))
    assert sorted(batch["typology"].to_pylist()) == ["pump_and_dump", "spoofing", "wash_trading"]
    assert_same_alerts(batch, stream_alerts, "hand-built book")
    [(symbol, _, flagged_at)] = stream.burst_flags()
    assert symbol == "MOONX-USDT"
    # the burst is flagged at a trade inside the pump's first bucket, not at the bucket's end
    pump_row = next(r for r in batch.to_pylist() if r["typology"] == "pump_and_dump")
    assert flagged_at < pump_row["detected_at"]


@pytest.mark.slow
def test_stream_equals_batch_on_a_simulated_world(tmp_path_factory: pytest.TempPathFactory) -> None:
    from surveillance_world import tiny_world

    batch, stream_alerts, _ = batch_and_stream(tiny_world(tmp_path_factory))
    assert batch.num_rows > 0
    assert_same_alerts(batch, stream_alerts, "simulated world")


def incremental_matches_full(stream: list[tuple[str, dict[str, object]]], detector: StreamDetector,
                             every: int) -> set[str]:
    """Feed ``stream``, asking `new_alerts` every ``every`` events: each answer is exactly the full `alerts` less
    what was already out (same rows). Returns the ids out at the end."""
    emitted: set[str] = set()
    for i, (kind, row) in enumerate(stream, 1):
        detector.on_event(kind, row)
        if i % every and i != len(stream):
            continue
        full = {r["alert_id"]: r for r in detector.alerts().drop_columns(["scored_at"]).to_pylist()}
        new = {r["alert_id"]: r for r in detector.new_alerts(emitted).drop_columns(["scored_at"]).to_pylist()}
        assert new == {k: v for k, v in full.items() if k not in emitted}, f"after event {i}"
        emitted |= set(new)
    return emitted


def test_new_alerts_are_the_full_alerts_not_yet_out(tmp_path: Path) -> None:
    con = engines.connect(every_typology_book().lake(tmp_path / "lake"), "duckdb")
    stream = list(events(con.table("orders").to_pyarrow(), con.table("trades").to_pyarrow()))
    emitted = incremental_matches_full(stream, StreamDetector(account_links(con)), every=7)
    assert {a.split(":")[0] for a in emitted} == {"pump_and_dump", "spoofing", "wash_trading"}


def test_a_link_learnt_later_brings_out_a_pair_that_no_longer_trades(tmp_path: Path) -> None:
    """The washing pair is linked only once the detector learns the links (a restart): its alert comes out then,
    though the pair trades no more."""
    con = engines.connect(every_typology_book().lake(tmp_path / "lake"), "duckdb")
    links = account_links(con)
    detector = StreamDetector(links.schema.empty_table())
    emitted = incremental_matches_full(list(events(con.table("orders").to_pyarrow(),
                                                   con.table("trades").to_pyarrow())), detector, every=50)
    assert not any(a.startswith("wash_trading") for a in emitted)
    detector.use_links(links)
    assert [a.split(":")[0] for a in detector.new_alerts(emitted)["alert_id"].to_pylist()] == ["wash_trading"]
