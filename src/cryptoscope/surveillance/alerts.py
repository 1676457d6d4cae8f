"""From each detector's raw rows to the canonical `surveillance_alerts` rows: ids, evidence, severity.

Both the batch expressions and the streaming pass hand their raw rows here, so an alert is worded
and scored the same way whichever produced it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from cryptoscope.schema import get_table

TABLE = "surveillance_alerts"
EVIDENCE_CAP = 200  # ids kept per alert: enough for an analyst, bounded for a pump with a big crowd


def level(severity: float) -> str:
    return "high" if severity >= 0.7 else "medium" if severity >= 0.4 else "low"


def _ids(values: Iterable[Any]) -> str:
    return ",".join(str(v) for v in sorted({int(v) for v in values if v is not None})[:EVIDENCE_CAP])


def _utc(t: Any) -> dt.datetime:
    if isinstance(t, dt.datetime):
        return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
    raise TypeError(f"expected a datetime, got {t!r}")


def alert_id(typology: str, symbol: str, accounts: Iterable[Any], start: Any) -> str:
    """An alert's key: what it is about and when it began, so the same finding gets the same id whenever and
    by whichever pass it is found (the stream asks for it before wording an alert it may already have sent)."""
    acct_s = ",".join(map(str, sorted({int(a) for a in accounts})))
    return f"{typology}:{symbol}:{acct_s}:{int(_utc(start).timestamp() * 1e6)}"


def _row(typology: str, symbol: str, accounts: Iterable[Any], start: Any, end: Any, detected: Any,
         orders: Iterable[Any], trades: Iterable[Any], severity: float, evidence: dict[str, Any]) -> dict[str, Any]:
    accts = sorted({int(a) for a in accounts})
    start_t = _utc(start)
    acct_s = ",".join(map(str, accts))
    return {"alert_id": alert_id(typology, symbol, accts, start_t), "typology": typology,
            "symbol": symbol, "accounts": acct_s, "user_id": accts[0], "event_time": start_t, "end_time": _utc(end),
            "detected_at": _utc(detected), "severity": round(float(severity), 6), "level": level(severity),
            "order_ids": _ids(orders), "trade_ids": _ids(trades),
            "evidence": json.dumps({k: _plain(v) for k, v in evidence.items()}, sort_keys=True)}


def _plain(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 6) if math.isfinite(v) else None
    return v


def wash_rows(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in raw:
        flat = 1 - abs(r["net_qty"]) / r["gross_qty"] if r["gross_qty"] else 1.0
        linked = bool(r["is_self"]) or r["link_kinds"] is not None
        sev = 0.4 * linked + 0.3 * min(1.0, r["n"] / 20) + 0.3 * flat
        ev = {"trades": r["n"], "volume_usd": r["volume_usd"], "net_position_share": 1 - flat,
              "round_trip_buys": r["u1_buys"], "pair_share_of_trades": r["pair_share"],
              "symbol_volume_share": r["volume_usd"] / r["symbol_volume_usd"] if r["symbol_volume_usd"] else None,
              "self_trade": bool(r["is_self"]), "links": r["link_kinds"] or ""}
        out.append(_row("wash_trading", r["symbol"], (r["u1"], r["u2"]), r["start"], r["end"], r["detected_at"],
                        [*r["buy_orders"], *r["sell_orders"]], r["trade_ids"], sev, ev))
    return out


def spoofing_rows(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in raw:
        ratio = r["spoof_usd"] / r["genuine_usd"] if r["genuine_usd"] else math.inf
        z = r["cancel_ratio_peer_z"] or 0.0
        sev = 0.4 * min(1.0, r["episodes"] / 5) + 0.3 * min(1.0, ratio / 20) + 0.3 * min(1.0, max(z, 0.0) / 3)
        ev = {"episodes": r["episodes"], "layers": r["layers"], "spoof_usd": r["spoof_usd"],
              "genuine_usd": r["genuine_usd"], "cancel_ratio": r["cancel_ratio"],
              "order_to_trade": r["order_to_trade"], "cancel_ratio_peer_z": z}
        out.append(_row("spoofing", r["symbol"], (r["user_id"],), r["start"], r["end"], r["detected_at"],
                        [*r["spoof_ids"], *r["real_ids"]], r["trade_ids"], sev, ev))
    return out


def pump_rows(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in raw:
        dump = (r["sold_usd"] or 0.0) / r["bought_usd"] if r["bought_usd"] else 1.0
        sev = (0.4 * min(1.0, r["n_accounts"] / 10) + 0.3 * min(1.0, math.log(max(r["burst_jump"], 1.0)) / math.log(2))
               + 0.3 * min(1.0, dump))
        burst = dt.datetime.fromtimestamp(int(r["b_sec"]), dt.UTC)
        run = dt.datetime.fromtimestamp(int(r["run_sec"]), dt.UTC)
        ev = {"burst_start": burst.isoformat(), "run_start": run.isoformat(), "burst_jump": r["burst_jump"],
              "burst_move_z": r["burst_move_z"], "burst_hour_move_z": r["burst_hour_move_z"],
              "burst_trades_z": r["burst_trades_z"],
              "burst_volume_z": r["burst_volume_z"],
              "accounts": r["n_accounts"], "bought_before_usd": r["bought_usd"], "sold_into_usd": r["sold_usd"]}
        out.append(_row("pump_and_dump", r["symbol"], r["accounts"], r["start"], r["end"], r["detected_at"],
                        r["order_ids"], r["trade_ids"], sev, ev))
    return out


def to_table(rows: list[dict[str, Any]], scored_at: dt.datetime) -> pa.Table:
    """Canonical rows, sorted by alert id so two runs over the same data give the same table."""
    schema = get_table(TABLE).arrow_schema
    rows = sorted(rows, key=lambda r: r["alert_id"])
    data = {name: [r.get(name) for r in rows] for name in schema.names if name != "scored_at"}
    data["scored_at"] = [scored_at] * len(rows)
    return pa.table(data, schema=schema)
