"""The evaluation a risk team reads: precision/recall per typology, detection delays, Cong et al. tests.

Pump detection delay is measured the way La Morgia et al. measure it: from the pump's start to the
first moment the burst is flagged, here by the streaming pass over the trade stream (the batch
job only knows the 15-minute bucket), and separately to the moment the accounts are named.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
from typing import Any

from cryptoscope.lake.store import Lake
from cryptoscope.surveillance import benford, evaluate
from cryptoscope.surveillance.params import DEFAULT, Params


def pump_starts(con: Any) -> list[tuple[dt.datetime, str | None]]:
    """Each true pump's start and its coin (the symbol its group bought most in the two hours after the start)."""
    gt = con.table("ground_truth")
    gt = gt.filter(gt.typology == "pump_and_dump")
    gt = gt.select("user_id", "group_id", start=gt.event_time + evaluate.PUMP_LEAD)
    t = con.table("trades")
    j = gt.join(t, gt.user_id == t.buyer_user_id)
    j = j.filter((j.event_time >= j.start) & (j.event_time < j.start + dt.timedelta(hours=2)))
    counts = j.group_by(["group_id", "symbol"]).aggregate(n=j.count()).to_pyarrow().to_pylist()
    coin: dict[int, tuple[int, str]] = {}
    for r in counts:
        coin[r["group_id"]] = max(coin.get(r["group_id"], (0, "")), (r["n"], r["symbol"]))
    starts = gt.group_by("group_id").aggregate(start=gt.start.min()).to_pyarrow().to_pylist()
    return sorted((r["start"], coin[r["group_id"]][1] if r["group_id"] in coin else None) for r in starts)


def first_rise(con: Any, symbol: str, start: dt.datetime, rise: float) -> dt.datetime | None:
    """The first trade after ``start`` priced ``rise`` x the last trade before it: the earliest moment any
    rule that needs such a rise can fire, whatever its thresholds."""
    t = con.table("trades")
    t = t.filter((t.symbol == symbol) & (t.event_time >= start - dt.timedelta(days=1))
                 & (t.event_time < start + dt.timedelta(hours=6)))
    rows = t.order_by(["event_time", "trade_id"]).select("event_time", "price").to_pyarrow().to_pylist()
    before = [r["price"] for r in rows if r["event_time"] < start]
    if not before:
        return None
    return next((r["event_time"] for r in rows if r["event_time"] >= start and r["price"] >= rise * before[-1]), None)


def burst_delays(con: Any, p: Params = DEFAULT) -> dict[str, Any]:
    """Seconds from each true pump start to the first streaming burst flag on its coin (within 6 h).

    Beside it, the floor the price path sets: seconds to the first trade ``pump_min_jump`` x above the
    last price before the start (a rule that needs that rise cannot fire earlier).
    """
    from cryptoscope.surveillance.stream_state import PumpState

    trades = con.table("trades").order_by(["event_time", "trade_id"]).to_pyarrow()
    state = PumpState(p)
    for row in trades.to_pylist():
        state.on_trade(row)
    flags = state.flags()
    delays, floors, missed = [], [], 0
    for start, symbol in pump_starts(con):
        after = [(t - start).total_seconds() for s, _, t in flags
                 if s == symbol and dt.timedelta(0) <= t - start <= dt.timedelta(hours=6)]
        if after:
            delays.append(min(after))
        else:
            missed += 1
        rise = first_rise(con, symbol, start, p.pump_min_jump) if symbol else None
        floors.append(round((rise - start).total_seconds(), 1) if rise else None)
    known = [f for f in floors if f is not None]
    return {"pumps": len(floors), "bursts_flagged": len(flags), "pumps_missed": missed,
            "delay_s_median": statistics.median(delays) if delays else None,
            "delay_s_max": max(delays) if delays else None, "delays_s": [round(d, 1) for d in delays],
            "first_rise_s_median": statistics.median(known) if known else None, "first_rise_s": floors}


def _summary(cells: list[dict[str, Any]], min_share: float) -> dict[str, Any]:
    """How many cells each test flags, among the wash-traded ones (by their wash share) and the clean ones."""
    tested = [c for c in cells if c["p_value"] is not None]
    washed = [c for c in tested if c["wash_traded"]]
    heavy = [c for c in washed if c["wash_share"] >= min_share]
    clean = [c for c in tested if not c["wash_traded"]]
    shares = sorted(c["wash_share"] for c in washed)
    return {"cells_tested": len(tested), "cells_flagged": sum(c["flagged"] for c in tested),
            "wash_share_median": statistics.median(shares) if shares else None,
            "wash_share_max": shares[-1] if shares else None,
            "wash_cells": len(washed), "wash_cells_flagged": sum(c["flagged"] for c in washed),
            "heavy_wash_share": min_share, "heavy_wash_cells": len(heavy),
            "heavy_wash_cells_flagged": sum(c["flagged"] for c in heavy),
            "clean_cells": len(clean), "clean_cells_flagged": sum(c["flagged"] for c in clean),
            "flagged_by": {"benford": sum(c["benford_rejected"] for c in tested),
                           "round_sizes": sum(c["round_rejected"] for c in tested),
                           "benford_on_wash_cells": sum(c["benford_rejected"] for c in washed),
                           "round_sizes_on_wash_cells": sum(c["round_rejected"] for c in washed)}}


def _wash_counts(con: Any) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """Wash trades (between two accounts of the ground truth's wash groups) per (symbol, week) and per symbol."""
    gt = con.table("ground_truth")
    wash_users = gt.filter(gt.typology == "wash_trading").select("user_id").distinct()
    t = con.table("trades")
    washed = t.filter(t.buyer_user_id.isin(wash_users.user_id) & t.seller_user_id.isin(wash_users.user_id))
    weeks: dict[tuple[str, str], int] = {}
    symbols: dict[str, int] = {}
    for r in washed.select("symbol", "event_time").to_pyarrow().to_pylist():
        key = (r["symbol"], benford.week_of(r["event_time"]))
        weeks[key] = weeks.get(key, 0) + 1
        symbols[r["symbol"]] = symbols.get(r["symbol"], 0) + 1
    return weeks, symbols


def cong_tests(con: Any, min_share: float = 0.2) -> dict[str, Any]:
    """Benford and round-size tests per (symbol, week) and per symbol, against where the wash trades are.

    ``wash_share`` is the share of a cell's trades that are wash trades: the tests judge a whole
    market's trades, so they can only see wash trading that is a large part of it; ``heavy_*``
    counts the cells where it is at least ``min_share``.
    """
    trades = con.table("trades").select("symbol", "event_time", "quantity").to_pyarrow()
    weeks, per_symbol = _wash_counts(con)
    cells = benford.symbol_tests(trades)
    for c in cells:
        c["wash_traded"] = (c["symbol"], c["week_start"]) in weeks
        c["wash_share"] = weeks.get((c["symbol"], c["week_start"]), 0) / c["n"] if c["n"] else 0.0
    symbols = benford.whole_window_tests(trades)
    for c in symbols:
        c["wash_traded"] = c["symbol"] in per_symbol
        c["wash_share"] = per_symbol.get(c["symbol"], 0) / c["n"] if c["n"] else 0.0
    return {**_summary(cells, min_share), "symbols": _summary(symbols, min_share),
            "per_symbol": [{k: c[k] for k in ("symbol", "n", "wash_share", "p_value", "mad", "benford_rejected",
                                              "round_share", "round_reference", "round_rejected", "flagged")}
                           for c in symbols],
            "cells": cells}


def evaluate_lake(lake: Lake | str | os.PathLike[str], *, engine: str = "duckdb", p: Params = DEFAULT
                  ) -> dict[str, Any]:
    """Run the batch detectors without writing, then score them against ground truth."""
    from cryptoscope.features import engines
    from cryptoscope.lake.engine import connect
    from cryptoscope.surveillance.batch import detect

    lake = lake if isinstance(lake, Lake) else Lake(lake)
    alerts = detect(engines.connect(lake, engine), p)
    duck = connect(lake)
    result = evaluate.score(alerts, duck)
    result["pump_burst_delay"] = burst_delays(duck, p)
    result["cong_tests"] = cong_tests(duck)
    result["alerts"] = alerts.num_rows
    return result
