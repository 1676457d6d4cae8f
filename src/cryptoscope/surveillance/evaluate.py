"""Judge alerts against the simulated world's ground truth: precision and recall per typology, per account.

An account counts as flagged for a typology when any alert of that typology names it; it is a true
positive when the ground truth has it in that typology. Detection delay is the alert's
``detected_at`` minus when the abuse began (for pump-and-dump: the pump itself, not the weeks of
accumulation before it).
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

import pyarrow as pa

from cryptoscope.surveillance.params import TYPOLOGIES

#: the simulator writes a pump's truth from 4 days before the pump start to 1 hour after the peak
PUMP_LEAD = dt.timedelta(days=4)
#: La Morgia et al., Binance pumps announced on Telegram: F1 0.945 within 25 s of the pump start
LA_MORGIA_DELAY_S = 25.0
LA_MORGIA_F1 = 0.945


def flagged_accounts(alerts: pa.Table) -> dict[str, dict[int, dt.datetime]]:
    """Per typology: every flagged account and when it was first flagged."""
    out: dict[str, dict[int, dt.datetime]] = {t: {} for t in TYPOLOGIES}
    for row in alerts.select(["typology", "accounts", "detected_at"]).to_pylist():
        seen = out.setdefault(row["typology"], {})
        for a in row["accounts"].split(","):
            u = int(a)
            seen[u] = min(seen.get(u, row["detected_at"]), row["detected_at"])
    return out


def truth_accounts(con: Any) -> dict[str, dict[int, dt.datetime]]:
    """Per typology: every abusive account in ``ground_truth`` and when its abuse began."""
    gt = con.table("ground_truth")
    gt = gt.filter(gt.typology.isin(list(TYPOLOGIES))).select("user_id", "typology", "event_time").to_pyarrow()
    out: dict[str, dict[int, dt.datetime]] = {t: {} for t in TYPOLOGIES}
    for row in gt.to_pylist():
        began = row["event_time"] + (PUMP_LEAD if row["typology"] == "pump_and_dump" else dt.timedelta(0))
        seen = out[row["typology"]]
        seen[row["user_id"]] = min(seen.get(row["user_id"], began), began)
    return out


def score(alerts: pa.Table, con: Any) -> dict[str, Any]:
    """``{"typologies": {typology: {precision, recall, f1, flagged, abusive, delay_s_median}}, ...}``."""
    flagged, truth = flagged_accounts(alerts), truth_accounts(con)
    result: dict[str, Any] = {}
    for t in TYPOLOGIES:
        f, g = flagged.get(t, {}), truth[t]
        hit = set(f) & set(g)
        precision = len(hit) / len(f) if f else (1.0 if not g else 0.0)
        recall = len(hit) / len(g) if g else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        delays = [(f[u] - g[u]).total_seconds() for u in hit]
        result[t] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                     "flagged": len(f), "abusive": len(g), "true_positives": len(hit),
                     "delay_s_median": round(statistics.median(delays), 1) if delays else None}
    return {"typologies": result,
            "anchor": {"pump_and_dump": {"paper": "La Morgia et al. 2023, Binance pumps on Telegram",
                                         "f1": LA_MORGIA_F1, "delay_s": LA_MORGIA_DELAY_S}}}
