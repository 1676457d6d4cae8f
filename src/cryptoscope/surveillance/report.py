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


def burst_delays(con: Any, p: Params = DEFAULT) -> dict[str, Any]:
    """Seconds from each true pump start to the first streaming burst flag on its symbol (within 6 h)."""
    from cryptoscope.surveillance.stream_state import PumpState

    trades = con.table("trades").order_by(["event_time", "trade_id"]).to_pyarrow()
    state = PumpState(p)
    for row in trades.to_pylist():
        state.on_trade(row)
    gt = con.table("ground_truth")
    gt = gt.filter(gt.typology == "pump_and_dump").select("group_id", "event_time").distinct().to_pyarrow()
    starts = sorted({r["event_time"] + evaluate.PUMP_LEAD for r in gt.to_pylist()})
    flags = state.flags()
    delays, missed = [], 0
    for start in starts:
        after = [(t - start).total_seconds() for _, _, t in flags if dt.timedelta(0) <= t - start <= dt.timedelta(
            hours=6)]
        if after:
            delays.append(min(after))
        else:
            missed += 1
    return {"pumps": len(starts), "bursts_flagged": len(flags), "pumps_missed": missed,
            "delay_s_median": statistics.median(delays) if delays else None,
            "delay_s_max": max(delays) if delays else None, "delays_s": [round(d, 1) for d in delays]}


def cong_tests(con: Any) -> dict[str, Any]:
    """Benford and round-size tests per (symbol, week), against the symbol-weeks that hold wash trades.

    ``wash_share`` is the share of a cell's trades that are wash trades: the tests judge a whole
    market's volume, so they can only see wash trading that is a large part of it.
    """
    trades = con.table("trades").select("symbol", "event_time", "quantity", "buyer_user_id", "seller_user_id")
    cells = benford.symbol_tests(trades.to_pyarrow())
    gt = con.table("ground_truth")
    wash_users = gt.filter(gt.typology == "wash_trading").select("user_id").distinct()
    t = con.table("trades")
    washed = t.filter(t.buyer_user_id.isin(wash_users.user_id) & t.seller_user_id.isin(wash_users.user_id))
    weeks: dict[tuple[str, str], int] = {}
    for r in washed.select("symbol", "event_time").to_pyarrow().to_pylist():
        key = (r["symbol"], benford.week_of(r["event_time"]))
        weeks[key] = weeks.get(key, 0) + 1
    for c in cells:
        c["wash_traded"] = (c["symbol"], c["week_start"]) in weeks
        c["wash_share"] = weeks.get((c["symbol"], c["week_start"]), 0) / c["n"] if c["n"] else 0.0
    tested = [c for c in cells if c["p_value"] is not None]
    flagged = [c for c in tested if c["benford_rejected"]]
    washed_cells = [c for c in tested if c["wash_traded"]]
    shares = sorted(c["wash_share"] for c in washed_cells)
    return {"cells_tested": len(tested), "cells_flagged": len(flagged),
            "wash_share_median": statistics.median(shares) if shares else None,
            "wash_share_max": shares[-1] if shares else None,
            "wash_cells": len(washed_cells), "wash_cells_flagged": sum(c["benford_rejected"] for c in washed_cells),
            "clean_cells_flagged": sum(c["benford_rejected"] and not c["wash_traded"] for c in tested),
            "cells": cells}


def evaluate_lake(lake: Lake | str | os.PathLike[str], *, engine: str = "duckdb", p: Params = DEFAULT
                  ) -> dict[str, Any]:
    """Run the batch detectors without writing, then score them against ground truth."""
    from cryptoscope.features import engines
    from cryptoscope.lake.engine import connect
    from cryptoscope.surveillance.batch import detect

    lake = lake if isinstance(lake, Lake) else Lake(lake)
    alerts = detect(engines.connect(lake, engine), lake, p)
    duck = connect(lake)
    result = evaluate.score(alerts, duck)
    result["pump_burst_delay"] = burst_delays(duck, p)
    result["cong_tests"] = cong_tests(duck)
    result["alerts"] = alerts.num_rows
    return result
