"""Pump-and-dump as Ibis expressions: price bursts in short buckets, and who bought before and sold into them.

Per symbol and 15-minute bucket: trades, aggressive buy volume, the high and the VWAP. A bucket is
a burst when its move, the log of its high over the previous bucket's VWAP, is an outlier against
the same move in the symbol's trailing day (a z-score: a coin's own volatility is the yardstick, so
a 10 % hour is news in BTC and noise in a small coin in a turbulent week), and its high stands well
above the trailing day's mean price. How many trades the bucket holds is evidence, not a condition:
a trade-count z-score depends on how busy the market is, and a pump by three accounts in a coin
that thousands of users trade does not make one. The accounts of a pump are those that bought the
coin in the days before the burst and sold it aggressively into the burst, a real part of what they
bought (a market maker's passing fills are not an unwind), that bought at the signal too (within an
hour of the burst's start: a holder who happens to sell into the run did not), and that trading is a
large part of all their trading in those days (it is not for a market maker or a busy day trader): the crowd that
buys at the top and holds is not among them, nor the market makers on the passive side. Only
trades with the market count: a wash ring's bot, buying and selling among its own accounts while
the coin runs, looks like a group that bought before and sold into the burst until its trades with
each other are set aside.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from cryptoscope.surveillance.params import Params


def with_seconds(trades: ir.Table) -> ir.Table:
    # truncate first: DuckDB's EPOCH is fractional and a cast would round half a second up
    return trades.mutate(sec=trades.event_time.truncate("s").epoch_seconds().cast("int64"))


def buckets(trades: ir.Table, p: Params) -> ir.Table:
    """Per (symbol, bucket): trades, buy volume, high, the move and its z-score, against the trailing day.

    ``move`` = ln(high / VWAP of the previous bucket with trades); ``move_z`` is it against the mean
    and standard deviation of the moves of the trailing day's buckets, earlier outliers (an earlier
    pump) left out (`_clipped_z`); ``hour_move_z`` likewise. The trade-count z-score is
    against the mean and standard deviation of the trailing day's counts per bucket, empty buckets
    included (not a Poisson rate: a busy coin's counts swing with the hour of the day, and a Poisson
    z-score calls every rush hour a burst); the buy-volume z-score uses the trailing non-empty buckets.
    Both engines compute the trailing sums with the same range window, the current bucket subtracted out.
    """
    t = with_seconds(trades)
    t = t.mutate(bucket=(t.sec // p.pump_bucket_s).cast("int64"),
                 buy_usd=ibis.ifelse(t.aggressor_side == "buy", t.amount_usd, 0.0))
    b = t.group_by(["symbol", "bucket"]).aggregate(n=t.count(), buy_usd=t.buy_usd.sum(), high=t.price.max(),
                                                    usd=t.amount_usd.sum(), qty=t.quantity.sum())
    b = b.mutate(vwap=b.usd / b.qty)
    b = b.mutate(prev_vwap=b.vwap.lag().over(ibis.window(group_by=b.symbol, order_by=b.bucket)))
    b = b.mutate(move=(b.high / b.prev_vwap).ln())
    # the hour's move: its high over the VWAP before the hour (a slow pump never makes one bucket's move)
    hour = ibis.range_window(preceding=p.pump_hour_buckets - 1, following=0, group_by=b.symbol, order_by=b.bucket)
    b = b.mutate(hour_move=(b.high.max().over(hour) / b.prev_vwap.first().over(hour)).ln())
    b = b.mutate(has_move=b.move.notnull().cast("int64"), m0=b.move.fill_null(0.0),
                 has_hm=b.hour_move.notnull().cast("int64"), h0=b.hour_move.fill_null(0.0))
    w = ibis.range_window(preceding=p.pump_baseline_buckets, following=0, group_by=b.symbol, order_by=b.bucket)
    b = b.mutate(k_hm=b.has_hm.sum().over(w) - b.has_hm, s_h=b.h0.sum().over(w) - b.h0,
                 s_h2=(b.h0 * b.h0).sum().over(w) - b.h0 * b.h0)
    b = b.mutate(k=b.n.count().over(w) - 1, s_n=b.n.sum().over(w), s_n2=(b.n * b.n).sum().over(w),
                 s_buy=b.buy_usd.sum().over(w),
                 s_buy2=(b.buy_usd * b.buy_usd).sum().over(w), s_vwap=b.vwap.sum().over(w),
                 k_move=b.has_move.sum().over(w) - b.has_move, s_m=b.m0.sum().over(w) - b.m0,
                 s_m2=(b.m0 * b.m0).sum().over(w) - b.m0 * b.m0)
    kk = ibis.greatest(b.k, 1)
    mean = (b.s_buy - b.buy_usd) / kk
    var = (b.s_buy2 - b.buy_usd * b.buy_usd) / kk - mean * mean
    rate = (b.s_n - b.n) / p.pump_baseline_buckets
    n_sd = ibis.greatest((b.s_n2 - b.n * b.n) / p.pump_baseline_buckets - rate * rate, 0.25).sqrt()
    b = b.mutate(volume_z=(b.buy_usd - mean) / ibis.greatest(var, 1e-9).sqrt(), trades_z=(b.n - rate) / n_sd,
                 jump=b.high / ((b.s_vwap - b.vwap).nullif(0.0) / kk))
    b = _clipped_z(b, w, p, "move", "has_move", "k_move", "s_m", "s_m2")
    b = _clipped_z(b, w, p, "hour_move", "has_hm", "k_hm", "s_h", "s_h2")
    return b.select("symbol", "bucket", "n", "buy_usd", "high", "k", "k_move", "trades_z", "volume_z", "jump",
                    "move", "move_z", "k_hm", "hour_move", "hour_move_z")


def _mean_sd(k: ir.IntegerValue, s: ir.FloatingValue, s2: ir.FloatingValue,
             p: Params) -> tuple[ir.FloatingValue, ir.FloatingValue]:
    kk = ibis.greatest(k, 1)
    mean = s / kk
    return mean, ibis.greatest(s2 / kk - mean * mean, p.pump_min_move_sd ** 2).sqrt()


def _clipped_z(b: ir.Table, w: Any, p: Params, col: str, has: str, k: str, s: str, s2: str) -> ir.Table:
    """Adds ``{col}_z``: the move against the trailing day's moves, earlier outliers left out.

    A robust yardstick (one pass of sigma clipping): a trailing move more than ``pump_clip_z``
    standard deviations from its own trailing day's mean is an earlier pump or crash, not the coin's
    usual move, and is left out of the mean and spread the bucket is judged by. Otherwise a second
    pump hours after the first scores a few standard deviations only, the first one's buckets
    inflating the spread. Only outliers more than ``pump_merge_buckets`` back are left out: the
    buckets just before belong to the same run (a burst merges them), and a market rally that builds
    over an hour must keep its own build-up in its yardstick, or its later buckets would look like a
    pump. Whether a bucket is an outlier depends on its own plain statistics only (never on another
    bucket's clipping), so the batch and the stream compute it alike."""
    mean, sd = _mean_sd(b[k], b[s], b[s2], p)
    out = (b[has] == 1) & (b[k] >= p.pump_min_baseline) & ((b[col] - mean).abs() > p.pump_clip_z * sd)
    dk, dv = f"{col}_dk", f"{col}_dv"
    b = b.mutate(**{dk: ibis.ifelse(out, 1, 0).cast("int64"), dv: ibis.ifelse(out, b[col], 0.0)})
    recent = ibis.range_window(preceding=p.pump_merge_buckets, following=0, group_by=b.symbol, order_by=b.bucket)
    # the outliers' count, sum and sum of squares in [bucket - baseline, bucket - merge - 1]
    older = {name: x.sum().over(w) - x.sum().over(recent)
             for name, x in ((dk, b[dk]), (dv, b[dv]), (f"{dv}2", b[dv] * b[dv]))}
    mean_c, sd_c = _mean_sd(b[k] - older[dk], b[s] - older[dv], b[s2] - older[f"{dv}2"], p)
    return b.mutate(**{f"{col}_z": (b[col] - mean_c) / sd_c})


def run_start(b: ir.Table, p: Params) -> ir.Table:
    """Adds ``run_bucket``: where the price run that reaches this bucket began.

    A burst is often flagged a bucket or more after a pump begins (the move builds over the buckets,
    or the count does); the group bought at its start. Walking back from the bucket, the run began
    after the last bucket whose high was still at the coin's pre-run level (below ``pump_run_level``
    x the trailing day's mean price), at most ``pump_run_max_buckets`` back."""
    calm = ibis.ifelse(b.jump < p.pump_run_level, b.bucket, ibis.null("int64"))
    w = ibis.range_window(preceding=p.pump_run_max_buckets, following=0, group_by=b.symbol, order_by=b.bucket)
    return b.mutate(run_bucket=(calm.max().over(w) + 1).fill_null(b.bucket - p.pump_run_max_buckets))


def bursts(trades: ir.Table, p: Params) -> ir.Table:
    """The first flagged bucket of every burst (flagged buckets within a few hours merge into one).

    A bucket is flagged when its high is well above the trailing day's mean price and either its move
    is an outlier for the coin or it holds an outlying number of trades: in a thinly traded coin a
    slow pump shows in the trades before it shows in any one bucket's move."""
    b = run_start(buckets(trades, p), p)
    moved = (b.k_move >= p.pump_min_baseline) & (b.move_z >= p.pump_min_move_z)
    hourly = (b.k_hm >= p.pump_min_baseline) & (b.hour_move_z >= p.pump_min_hour_move_z)
    crowded = (b.n >= p.pump_min_trades) & (b.trades_z >= p.pump_min_trades_z)
    flagged = b.filter((b.k >= p.pump_min_baseline) & (b.jump >= p.pump_min_jump) & (moved | hourly | crowded))
    prev = flagged.bucket.lag().over(ibis.window(group_by=flagged.symbol, order_by=flagged.bucket))
    flagged = flagged.mutate(prev=prev)
    first = flagged.filter(flagged.prev.isnull() | (flagged.bucket - flagged.prev > p.pump_merge_buckets))
    return first.mutate(b_sec=first.bucket * p.pump_bucket_s, run_sec=first.run_bucket * p.pump_bucket_s).select(
        "symbol", "b_sec", "run_sec", burst_jump=first.jump, burst_move_z=first.move_z,
        burst_hour_move_z=first.hour_move_z, burst_trades_z=first.trades_z, burst_volume_z=first.volume_z)


def _legs(trades: ir.Table, burst: ir.Table, p: Params) -> tuple[ir.Table, ir.Table]:
    t = with_seconds(trades)
    buys = t.select(symbol=t.symbol, user=t.buyer_user_id, sec=t.sec, event_time=t.event_time,
                    trade_id=t.trade_id, order_id=t.buy_order_id, usd=t.amount_usd, qty=t.quantity,
                    other=t.seller_user_id)
    sells = t.filter(t.aggressor_side == "sell")
    sells = sells.select(symbol=sells.symbol, user=sells.seller_user_id, sec=sells.sec, event_time=sells.event_time,
                         trade_id=sells.trade_id, order_id=sells.sell_order_id, usd=sells.amount_usd,
                         qty=sells.quantity, other=sells.buyer_user_id)
    before = burst.join(buys, [burst.symbol == buys.symbol, buys.sec >= burst.b_sec - p.pump_lookback_s,
                               buys.sec < burst.b_sec]).mutate(leg=ibis.literal("buy"))
    into = burst.join(sells, [burst.symbol == sells.symbol, sells.sec >= burst.b_sec,
                              sells.sec < burst.b_sec + p.pump_dump_s]).mutate(leg=ibis.literal("sell"))
    return before, into


def _at_signal(trades: ir.Table, burst: ir.Table, p: Params) -> ir.Table:
    """(symbol, b_sec, user) of every account that bought the coin at the signal.

    That is within ``pump_signal_s`` before the start of the price run (not of the flagged bucket: a
    burst flagged late would otherwise miss the members' buys at the start) to as long after the burst."""
    t = with_seconds(trades)
    j = burst.join(t, [burst.symbol == t.symbol, t.sec >= burst.run_sec - p.pump_signal_s,
                       t.sec < burst.b_sec + p.pump_signal_s])
    return j.select(symbol=j.symbol, b_sec=j.b_sec, user=j.buyer_user_id).distinct()


def _activity(trades: ir.Table, who: ir.Table, p: Params) -> ir.Table:
    """Each candidate's traded volume in every symbol, both sides, over the burst's look-back and dump windows."""
    t = with_seconds(trades)
    both = t.select(user=t.buyer_user_id, sec=t.sec, usd=t.amount_usd).union(
        t.select(user=t.seller_user_id, sec=t.sec, usd=t.amount_usd), distinct=False)
    cand = who.select("symbol", "b_sec", "user")
    j = cand.join(both, [cand.user == both.user, both.sec >= cand.b_sec - p.pump_lookback_s,
                         both.sec < cand.b_sec + p.pump_dump_s])
    return j.group_by(["symbol", "b_sec", "user"]).aggregate(active_usd=j.usd.sum())


def pump_alerts(trades: ir.Table, p: Params) -> ir.Table:
    """One row per burst with at least ``pump_min_accounts`` accounts that bought before and sold into it."""
    burst = bursts(trades, p)
    before, into = _legs(trades, burst, p)
    keys = ["symbol", "b_sec", "user"]
    first_sell = into.group_by(keys).aggregate(first_sell=into.event_time.min(), sold=into.usd.sum())
    bought = before.group_by(keys).aggregate(bought=before.usd.sum())
    who = bought.join(first_sell, keys)
    # an unwind, not a market maker's passing fill: what it sells into the burst is a real part of what it bought
    who = who.filter(who.sold >= p.pump_min_unwind * who.bought)
    # and the account's business in those days, not a sliver of a market maker's or a day trader's book
    who = who.join(_activity(trades, who, p), keys)
    who = who.filter(who.bought + who.sold >= p.pump_min_focus * who.active_usd).select(*keys)
    # coordinated: it bought at the signal too, as a group does and a holder who sells into a run does not
    who = who.semi_join(_at_signal(trades, burst, p), keys)
    # with the market: a pump's accounts buy from and sell to others; a wash ring's bot trades among its own
    legs = before.union(into, distinct=False).semi_join(who, keys)
    legs = legs.anti_join(who.select("symbol", "b_sec", other=who.user), ["symbol", "b_sec", "other"])
    buy, sell = legs.leg == "buy", legs.leg == "sell"
    who = legs.group_by(keys).aggregate(bought=legs.usd.sum(where=buy), sold=legs.usd.sum(where=sell),
                                        bought_qty=legs.qty.sum(where=buy), sold_qty=legs.qty.sum(where=sell),
                                        first_sell=legs.event_time.min(where=sell))
    # and at a price a pump pays for: well above what it paid, which a day's random walk rarely gives
    gain = (who.sold / who.sold_qty) / (who.bought / who.bought_qty)
    who = who.filter(who.bought.notnull() & who.sold.notnull() & (who.sold >= p.pump_min_unwind * who.bought)
                     & (gain >= p.pump_min_gain))
    rank = ibis.row_number().over(group_by=[who.symbol, who.b_sec], order_by=[who.first_sell, who.user])
    who = who.mutate(rank=rank + 1)
    ready = who.group_by(["symbol", "b_sec"]).aggregate(
        n_accounts=who.count(), detected_at=who.first_sell.min(where=who.rank == p.pump_min_accounts))
    ready = ready.filter(ready.n_accounts >= p.pump_min_accounts)
    legs = legs.semi_join(who, keys)
    burst_cols = ["symbol", "b_sec", "run_sec", "burst_jump", "burst_move_z", "burst_hour_move_z", "burst_trades_z",
                  "burst_volume_z"]
    out = legs.group_by(burst_cols).aggregate(
        accounts=legs.user.collect(), trade_ids=legs.trade_id.collect(), order_ids=legs.order_id.collect(),
        start=legs.event_time.min(), end=legs.event_time.max(),
        bought_usd=legs.usd.sum(where=legs.leg == "buy"), sold_usd=legs.usd.sum(where=legs.leg == "sell"))
    return out.join(ready, ["symbol", "b_sec"])
