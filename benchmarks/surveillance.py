"""Surveillance at scale and across seeds; figures into benchmarks/results/surveillance.json.

1. Speed: one day of a busy book, >= 10M orders and their trades, generated with numpy (retail flow,
   market makers quoting and cancelling within seconds, 20 planted wash pairs and 20 layering
   spoofers), written to a lake, then the batch detectors on DuckDB: wall time, peak RSS, what was found.
2. Quality: precision/recall per typology at the account level on simulated worlds of several seeds,
   8,000 users x 90 days with abuse x3, and `make demo`-sized worlds, 50,000 users x 120 days with
   abuse at its normal rate. The pump rule was built looking at seeds 11 (8k), 7 (50k, the demo's
   world) and, after a first benchmark run, 13 (50k); then its signal-window anchor and hourly move
   looking at the misses of 5, 23 (8k) and 29 (50k). Seeds 101, 202, 301, 302 (8k) and 41 (50k) were
   only run, never looked at to change a rule. Per world also: the pump bursts' detection delay
   (streaming pass) and Cong et al.'s tests per symbol-week and per symbol.

    python benchmarks/surveillance.py --orders 10000000 --seeds 11 5 23 101 202 301 302 --big-seeds 7 13 29 41
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute

from cryptoscope.lake import Lake

RESULTS = Path(__file__).parent / "results" / "surveillance.json"
SYMBOLS = np.array([f"S{i:02d}-USDT" for i in range(20)])


def busy_day(n_orders: int, seed: int = 1) -> tuple[pa.Table, pa.Table]:
    """Orders and trades of one day: 60 % of orders fill against a market maker, the rest are cancelled."""
    rng = np.random.default_rng(seed)
    t0 = int(dt.datetime(2025, 3, 3, tzinfo=dt.UTC).timestamp() * 1e6)
    users = rng.integers(1, 200_000, n_orders)
    mm = rng.integers(0, 50, n_orders) + 1_000_000
    is_mm = rng.random(n_orders) < 0.4  # market-maker quotes, cancelled within seconds
    users = np.where(is_mm, mm, users)
    times = np.sort(t0 + rng.integers(0, 86_400_000_000, n_orders))
    sym = rng.integers(0, len(SYMBOLS), n_orders)
    price = 10.0 ** rng.uniform(-2, 4, len(SYMBOLS))[sym] * (1 + rng.normal(0, 0.002, n_orders))
    qty = rng.lognormal(0, 1, n_orders) * 100 / price
    side = rng.integers(0, 2, n_orders)
    filled = ~is_mm & (rng.random(n_orders) < 0.6)
    cancel = np.where(filled, -1, times + (rng.uniform(0.5, 120, n_orders) * 1e6).astype(np.int64))
    ids = np.arange(n_orders, dtype=np.int64)
    ts = pa.timestamp("us", tz="UTC")
    orders = pa.table({
        "order_id": ids, "user_id": users.astype(np.int64), "event_time": pa.array(times, ts),
        "symbol": SYMBOLS[sym], "side": np.where(side == 0, "buy", "sell"), "order_type": np.full(n_orders, "limit"),
        "price": price, "quantity": qty, "filled_quantity": np.where(filled, qty, 0.0),
        "status": np.where(filled, "filled", "cancelled"),
        "cancel_time": pa.array(np.where(cancel < 0, 0, cancel), ts, mask=cancel < 0)})
    f = np.flatnonzero(filled)
    counter = mm[f]
    buyer = np.where(side[f] == 0, users[f], counter)
    seller = np.where(side[f] == 0, counter, users[f])
    trades = pa.table({
        "trade_id": np.arange(len(f), dtype=np.int64), "event_time": pa.array(times[f] + 50_000, ts),
        "symbol": SYMBOLS[sym[f]], "price": price[f], "quantity": qty[f], "amount_usd": price[f] * qty[f],
        "buyer_user_id": buyer.astype(np.int64), "seller_user_id": seller.astype(np.int64),
        "buy_order_id": ids[f], "sell_order_id": ids[f] + n_orders,  # the makers' resting orders are not modelled
        "aggressor_side": np.where(side[f] == 0, "buy", "sell")})
    return orders, trades


def plant(orders: pa.Table, trades: pa.Table, n_wash: int = 20, n_spoof: int = 20) -> tuple[pa.Table, pa.Table]:
    """Add wash-trading pairs (30 round-trip trades each) and layering spoofers (5 episodes each) to the day."""
    t0 = int(dt.datetime(2025, 3, 3, tzinfo=dt.UTC).timestamp() * 1e6)
    rng = np.random.default_rng(7)
    ts = pa.timestamp("us", tz="UTC")
    next_order, next_trade = int(orders.num_rows * 2), trades.num_rows
    o_rows: list[dict[str, Any]] = []
    t_rows: list[dict[str, Any]] = []

    def order(user: int, t: int, side: str, price: float, qty: float, filled: float, cancel: int | None) -> int:
        nonlocal next_order
        next_order += 1
        o_rows.append({"order_id": next_order, "user_id": user, "event_time": t, "symbol": "S19-USDT", "side": side,
                       "order_type": "limit", "price": price, "quantity": qty, "filled_quantity": filled,
                       "status": "filled" if filled else "cancelled", "cancel_time": cancel})
        return next_order

    def trade(t: int, price: float, qty: float, buy: tuple[int, int], sell: tuple[int, int], aggressor: str) -> None:
        nonlocal next_trade
        t_rows.append({"trade_id": next_trade, "event_time": t, "symbol": "S19-USDT", "price": price, "quantity": qty,
                       "amount_usd": price * qty, "buyer_user_id": buy[0], "seller_user_id": sell[0],
                       "buy_order_id": buy[1], "sell_order_id": sell[1], "aggressor_side": aggressor})
        next_trade += 1

    for i in range(n_wash):
        a, b = 5_000_000 + 2 * i, 5_000_001 + 2 * i
        for k, t in enumerate(np.sort(t0 + rng.integers(0, 86_000_000_000, 30))):
            buyer, seller = (a, b) if k % 2 else (b, a)
            trade(int(t), 50.0, 2.0, (buyer, order(buyer, int(t), "buy", 50.0, 2.0, 2.0, None)),
                  (seller, order(seller, int(t), "sell", 50.0, 2.0, 2.0, None)), "buy")
    for i in range(n_spoof):
        u = 6_000_000 + i
        for t in np.sort(t0 + rng.integers(0, 86_000_000_000, 5)):
            for k in range(3):
                order(u, int(t) + k * 500_000, "buy", 49.0 - k * 0.1, 400.0, 0.0, int(t) + 3_000_000 + k * 500_000)
            real = order(u, int(t) + 2_000_000, "sell", 50.1, 2.0, 2.0, None)
            trade(int(t) + 2_500_000, 50.1, 2.0, (1_000_000, next_order * 10), (u, real), "buy")
    extra_o = pa.Table.from_pylist(o_rows, schema=orders.schema.set(2, pa.field("event_time", pa.int64()))
                                   .set(10, pa.field("cancel_time", pa.int64())))
    extra_o = extra_o.set_column(2, "event_time", extra_o["event_time"].cast(ts))
    extra_o = extra_o.set_column(10, "cancel_time", extra_o["cancel_time"].cast(ts))
    extra_t = pa.Table.from_pylist(t_rows, schema=trades.schema.set(1, pa.field("event_time", pa.int64())))
    extra_t = extra_t.set_column(1, "event_time", extra_t["event_time"].cast(ts))
    return pa.concat_tables([orders, extra_o.cast(orders.schema)]), pa.concat_tables([trades, extra_t.cast(
        trades.schema)])


def speed(n_orders: int, root: Path) -> dict[str, Any]:
    from cryptoscope.features import engines
    from cryptoscope.surveillance.batch import detect

    t = time.perf_counter()
    orders, trades = plant(*busy_day(n_orders))
    n_orders, n_trades = orders.num_rows, trades.num_rows
    lake = Lake(root / "busy")
    with lake.transaction() as tx:
        tx.append("orders", orders, dedupe=False)
        tx.append("trades", trades, dedupe=False)
    written = time.perf_counter() - t
    del orders, trades
    t = time.perf_counter()
    alerts = detect(engines.connect(lake, "duckdb"))
    took = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    found = {t: alerts.filter(pa.compute.equal(alerts["typology"], t)).num_rows for t in ("wash_trading", "spoofing")}
    return {"orders": n_orders, "trades": n_trades, "generate_and_write_s": round(written, 1),
            "detect_s": round(took, 1), "alerts": alerts.num_rows, "planted": {"wash_trading": 20, "spoofing": 20},
            "found": found, "peak_rss_gib": round(rss / 2 ** 30, 2), "engine": "duckdb"}


#: the seeds the thresholds were chosen on; every other seed was first run after that
# worlds a pump rule was changed after looking at; 5, 23 and 29 since the run-start anchor and hourly move
DEVELOPMENT = {(8_000, 11), (8_000, 5), (8_000, 23), (50_000, 7), (50_000, 13), (50_000, 29)}


def quality(seed: int, root: Path, users: int, days: int, with_stream: bool = False, fraud_scale: float = 3.0,
            chunk_users: int = 4_000) -> dict[str, Any]:
    from cryptoscope.sources.simulate.config import SimConfig
    from cryptoscope.sources.simulate.world import simulate
    from cryptoscope.surveillance.report import evaluate_lake

    lake = Lake(root / f"world-{users}-{seed}")
    t = time.perf_counter()
    simulate(SimConfig(users=users, days=days, seed=seed, chunk_users=chunk_users, fraud_scale=fraud_scale), lake)
    simulated = time.perf_counter() - t
    t = time.perf_counter()
    result = evaluate_lake(lake)
    result["cong_tests"].pop("cells")
    out = {"seed": seed, "users": users, "days": days, "fraud_scale": fraud_scale,
           "held_out": (users, seed) not in DEVELOPMENT, "simulate_s": round(simulated, 1),
           "evaluate_s": round(time.perf_counter() - t, 1), **result}
    if with_stream:
        out["stream"] = stream_check(lake)
    # each world as it finishes: a run cut short still leaves the worlds it measured
    print(json.dumps({k: out[k] for k in ("users", "seed", "typologies", "evaluate_s")}), file=sys.stderr, flush=True)
    return out


def stream_check(lake: Lake) -> dict[str, Any]:
    """The streaming pass over the world's whole order stream: speed, and whether it gives the batch's alerts."""
    from cryptoscope.features import engines
    from cryptoscope.surveillance.batch import account_links, detect
    from cryptoscope.surveillance.stream import StreamDetector, events

    con = engines.connect(lake, "duckdb")
    links = account_links(con)
    batch = detect(con, links=links)
    orders, trades = con.table("orders").to_pyarrow(), con.table("trades").to_pyarrow()
    t = time.perf_counter()
    stream = StreamDetector(links).run(events(orders, trades)).alerts()
    took = time.perf_counter() - t
    n_events = orders.num_rows + trades.num_rows + (orders.num_rows - orders["cancel_time"].null_count)
    same = sorted(batch["alert_id"].to_pylist()) == sorted(stream["alert_id"].to_pylist())
    return {"events": n_events, "stream_s": round(took, 1), "events_per_s": round(n_events / took),
            "same_alert_ids_as_batch": same, "alerts": stream.num_rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--seeds", type=int, nargs="*", default=[11, 5, 23])
    ap.add_argument("--users", type=int, default=8_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--big-seeds", type=int, nargs="*", default=[7, 13, 29],
                    help="seeds of `make demo`-sized worlds: 50,000 users x 120 days, abuse x1")
    args = ap.parse_args()
    out: dict[str, Any] = {"command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
                           "machine": f"{platform.machine()}, {platform.system()}",
                           "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory() as tmp:
        if args.orders:  # first: its peak RSS is the process's so far
            out["speed"] = speed(args.orders, Path(tmp))
        out["per_seed"] = [quality(s, Path(tmp), args.users, args.days, with_stream=i == 0)
                           for i, s in enumerate(args.seeds)]
        out["demo_size"] = [quality(s, Path(tmp), 50_000, 120, fraud_scale=1.0, chunk_users=25_000)
                            for s in args.big_seeds]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
