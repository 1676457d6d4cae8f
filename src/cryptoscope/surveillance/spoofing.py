"""Spoofing and layering as Ibis expressions: big orders pulled within seconds, a real one filled opposite.

An episode is one genuine order that traded, with at least ``spoof_min_layers`` orders of the same
account on the other side of the same book, placed within seconds of it, priced away from it (so
they would not trade), several times its size, never filled and cancelled within seconds, and
fewer than half as many such fast-cancelled orders on the genuine order's own side (one-sided). Market
makers cancel most quotes within seconds too, but their quotes are pulled on both sides alike and they do
not stack large orders against a small fill of their own: one-sided layering, not the cancel
rate, is what marks the spoofer. Order-to-
trade and cancel ratios against the account's peers go into the evidence.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cryptoscope.surveillance.params import Params


def _legs(orders: ir.Table, p: Params) -> tuple[ir.Table, ir.Table]:
    o = orders.mutate(notional=orders.price * orders.quantity)
    fast = o.cancel_time <= o.event_time + ibis.interval(seconds=p.spoof_cancel_s)
    big = o.filter((o.status == "cancelled") & (o.filled_quantity == 0) & o.cancel_time.notnull() & fast)
    big = big.select(b_id=big.order_id, user_id=big.user_id, symbol=big.symbol, b_side=big.side,
                     b_time=big.event_time, b_cancel=big.cancel_time, b_price=big.price, b_usd=big.notional)
    real = o.filter(o.filled_quantity > 0)
    real = real.select(r_id=real.order_id, r_user=real.user_id, r_symbol=real.symbol, r_side=real.side,
                       r_time=real.event_time, r_price=real.price, r_usd=real.notional)
    return big, real


def episodes(orders: ir.Table, p: Params) -> ir.Table:
    """(user, symbol, genuine order, spoof order) rows of every episode with enough layers."""
    big, real = _legs(orders, p)
    window = ibis.interval(seconds=p.spoof_window_s)
    away = ibis.ifelse(big.b_side == "buy", big.b_price < real.r_price, big.b_price > real.r_price)
    j = big.join(real, [big.user_id == real.r_user, big.symbol == real.r_symbol, big.b_side != real.r_side,
                        real.r_time >= big.b_time - window, real.r_time <= big.b_time + window,
                        big.b_usd >= p.spoof_size_ratio * real.r_usd, away])
    # one-sided: a market maker refreshing quotes pulls orders on both sides; a spoofer only on the far side
    near = big.join(real, [big.user_id == real.r_user, big.symbol == real.r_symbol, big.b_side == real.r_side,
                           real.r_time >= big.b_time - window, real.r_time <= big.b_time + window])
    near = near.group_by("r_id").aggregate(same_side=near.b_id.nunique())
    layered = j.group_by("r_id").aggregate(layers=j.b_id.nunique())
    layered = layered.left_join(near, "r_id").select(layered.r_id, layered.layers, near.same_side)
    layered = layered.filter((layered.layers >= p.spoof_min_layers)
                             & (layered.same_side.fill_null(0) * 2 < layered.layers)).select("r_id")
    return j.semi_join(layered, "r_id").select("user_id", "symbol", "r_id", "r_time", "r_usd", "b_id", "b_time",
                                                "b_cancel", "b_usd")


def _fills(trades: ir.Table, ep: ir.Table) -> ir.Table:
    """Trades of the genuine orders (either side), one row per (genuine order, trade)."""
    real = ep.select("r_id").distinct()
    buy = real.join(trades, real.r_id == trades.buy_order_id).select("r_id", "trade_id", "event_time")
    sell = real.join(trades, real.r_id == trades.sell_order_id).select("r_id", "trade_id", "event_time")
    return buy.union(sell, distinct=False)


def peer_ratios(orders: ir.Table) -> ir.Table:
    """Order-to-trade and cancel ratios per account, and the cancel ratio's z-score among peers of similar activity."""
    o = orders
    acct = o.group_by("user_id").aggregate(
        orders=o.count(), cancelled=(o.status == "cancelled").sum(), filled=(o.filled_quantity > 0).sum())
    acct = acct.mutate(cancel_ratio=acct.cancelled / acct.orders,
                       order_to_trade=acct.orders / ibis.greatest(acct.filled, 1),
                       band=acct.orders.log10().floor().cast("int64"))
    w = ibis.window(group_by=acct.band)
    mean, std = acct.cancel_ratio.mean().over(w), acct.cancel_ratio.std().over(w)
    z = ibis.ifelse(std > 0, (acct.cancel_ratio - mean) / std, 0.0)
    return acct.mutate(cancel_ratio_peer_z=z.fill_null(0.0)).select("user_id", "cancel_ratio", "order_to_trade",
                                                                     "cancel_ratio_peer_z")


def spoofing_alerts(orders: ir.Table, trades: ir.Table, p: Params) -> ir.Table:
    """One row per (account, symbol) with at least one layered spoofing episode."""
    ep = episodes(orders, p)
    fills = _fills(trades, ep)
    first_fill = fills.group_by("r_id").aggregate(first_fill=fills.event_time.min())
    per_ep = ep.group_by(["user_id", "symbol", "r_id"]).aggregate(last_cancel=ep.b_cancel.max())
    per_ep = per_ep.join(first_fill, "r_id")
    ready = per_ep.group_by(["user_id", "symbol"]).aggregate(
        detected_at=ibis.greatest(per_ep.last_cancel, per_ep.first_fill).min())
    legs = ep.group_by(["user_id", "symbol"]).aggregate(
        episodes=ep.r_id.nunique(), layers=ep.b_id.nunique(), start=ibis.least(ep.b_time, ep.r_time).min(),
        end=ep.b_cancel.max(), spoof_ids=ep.b_id.collect(), real_ids=ep.r_id.collect())
    spoof_usd = ep.select("user_id", "symbol", "b_id", "b_usd").distinct()
    spoof_usd = spoof_usd.group_by(["user_id", "symbol"]).aggregate(spoof_usd=spoof_usd.b_usd.sum())
    real_usd = ep.select("user_id", "symbol", "r_id", "r_usd").distinct()
    real_usd = real_usd.group_by(["user_id", "symbol"]).aggregate(genuine_usd=real_usd.r_usd.sum())
    tr = fills.join(ep.select("user_id", "symbol", "r_id").distinct(), "r_id")
    tr = tr.group_by(["user_id", "symbol"]).aggregate(trade_ids=tr.trade_id.collect())
    keys = ["user_id", "symbol"]
    out = legs.join(ready, keys).join(spoof_usd, keys).join(real_usd, keys).join(tr, keys)
    return out.join(peer_ratios(orders), "user_id")
