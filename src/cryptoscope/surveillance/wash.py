"""Wash trading as one Ibis expression: trades between an account and itself or a linked account.

A wash trade changes nobody's beneficial position: the same person is on both sides. The signals
are self-matching, trades between accounts that share a device, IP or referrer, round trips
(the pair trades in both directions) and how much of both accounts' trading the pair makes up.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cryptoscope.surveillance.params import Params


def pair_trades(trades: ir.Table) -> ir.Table:
    """Every trade keyed by its unordered account pair (u1 <= u2)."""
    b, s = trades.buyer_user_id, trades.seller_user_id
    return trades.mutate(u1=ibis.least(b, s), u2=ibis.greatest(b, s))


def candidate_pairs(trades: ir.Table, p: Params) -> ir.Table:
    """Distinct pairs of different accounts with enough trades to matter: the only ones whose links we look up."""
    t = pair_trades(trades)
    t = t.filter(t.u1 != t.u2)
    return (t.group_by(["u1", "u2"]).aggregate(n=t.count()).filter(ibis._.n >= min(p.wash_min_linked,
                                                                                   p.wash_min_unlinked))
            .select("u1", "u2"))


def _account_trades(trades: ir.Table) -> ir.Table:
    """Trades per account, both sides counted (a self-trade counts twice)."""
    both = trades.select(user=trades.buyer_user_id).union(trades.select(user=trades.seller_user_id), distinct=False)
    return both.group_by("user").aggregate(user_trades=both.count())


def wash_alerts(trades: ir.Table, links: ir.Table, p: Params) -> ir.Table:
    """One row per (pair, symbol) that trades like a wash: raw evidence, finished in `alerts`."""
    t = pair_trades(trades)
    t = t.mutate(signed=ibis.ifelse(t.buyer_user_id == t.u1, t.quantity, -t.quantity),
                 u1_buys=ibis.ifelse(t.buyer_user_id == t.u1, 1, 0))
    rank = ibis.row_number().over(group_by=[t.u1, t.u2, t.symbol], order_by=[t.event_time, t.trade_id])
    t = t.mutate(rn=rank + 1)
    g = t.group_by(["u1", "u2", "symbol"]).aggregate(
        n=t.count(), u1_buys=t.u1_buys.sum(), volume_usd=t.amount_usd.sum(), net_qty=t.signed.sum(),
        gross_qty=t.quantity.sum(), start=t.event_time.min(), end=t.event_time.max(),
        t_self=t.event_time.min(where=t.rn == p.wash_min_self),
        t_linked=t.event_time.min(where=t.rn == p.wash_min_linked),
        t_unlinked=t.event_time.min(where=t.rn == p.wash_min_unlinked),
        trade_ids=t.trade_id.collect(), buy_orders=t.buy_order_id.collect(), sell_orders=t.sell_order_id.collect())
    acct = _account_trades(trades)
    a1 = acct.select(u1=acct.user, n1=acct.user_trades)
    a2 = acct.select(u2=acct.user, n2=acct.user_trades)
    g = g.join(a1, "u1").join(a2, "u2").left_join(links, ["u1", "u2"]).drop("u1_right", "u2_right")
    share = ibis.least(g.n / g.n1, g.n / g.n2)
    round_trip = (g.u1_buys > 0) & (g.u1_buys < g.n)
    is_self = g.u1 == g.u2
    linked = g.link_kinds.notnull()
    hit = ((is_self & (g.n >= p.wash_min_self))
           | (linked & round_trip & (g.n >= p.wash_min_linked) & (share >= p.wash_min_linked_share))
           | (~linked & ~is_self & round_trip & (g.n >= p.wash_min_unlinked) & (share >= p.wash_min_share)))
    detected = ibis.cases((is_self, g.t_self), (linked, g.t_linked), else_=g.t_unlinked)
    sym = trades.group_by("symbol").aggregate(symbol_volume_usd=trades.amount_usd.sum())
    out = g.filter(hit).mutate(pair_share=share, detected_at=detected, is_self=is_self)
    return out.join(sym, "symbol").drop("t_self", "t_linked", "t_unlinked")
