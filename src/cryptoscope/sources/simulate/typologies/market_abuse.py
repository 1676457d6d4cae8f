"""Market abuse: wash trading between linked accounts, spoofing, pump-and-dump groups."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from cryptoscope.sources.simulate.clock import after
from cryptoscope.sources.simulate.config import DAY, HOUR, US
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.frames import ts
from cryptoscope.sources.simulate.market import ILLIQUID, MARKETS
from cryptoscope.sources.simulate.population import MARKET_MAKER
from cryptoscope.sources.simulate.trading import (
    BUY,
    SELL,
    OrderBatch,
    add_orders,
    add_trades,
    fill_against_makers,
    typed_sizes,
)
from cryptoscope.sources.simulate.typologies import PREVALENCE
from cryptoscope.sources.simulate.typologies.rings import Ring, link_accounts

#: side stream (`Chunk.side_rng`) of the wash bots, so adding them left every other draw unchanged
WASH_BOTS = 0xB075
#: a bot campaign trades this many times the chunk's own trades of the symbol over the campaign
BOT_VOLUME = (1.0, 4.0)


def campaign_times(chunk: Chunk, n: int, max_days: float) -> np.ndarray:
    """``n`` sorted times within one campaign of 1..max_days days somewhere in the window."""
    rng, cfg = chunk.rng, chunk.cfg
    length = rng.uniform(1, max_days) * DAY
    begin = cfg.t0 + rng.uniform(0, max(cfg.days * DAY - length, 1))
    return np.sort(begin + rng.random(n) * length).astype(np.int64)


def form_wash_groups(chunk: Chunk) -> list[Ring]:
    """Before accounts are written: pairs or trios of traders controlled by one person."""
    pop, rng = chunk.pop, chunk.rng
    users = chunk.pick(PREVALENCE["wash_trading"], pop.trader & (pop.kind != MARKET_MAKER))
    groups, start = [], 0
    while start + 2 <= len(users):
        size = min(int(rng.integers(2, 4)), len(users) - start)
        members = users[start:start + size]
        start += size
        link_accounts(chunk, members, share_ip=0.5)
        groups.append(Ring(members, chunk.new_group()))
    return groups


def wash_trading(chunk: Chunk, groups: list[Ring]) -> None:
    """Linked accounts trade with each other at the mid, round and round, to paint volume."""
    pop, rng, _cfg = chunk.pop, chunk.rng, chunk.cfg
    for g in groups:
        symbol = int(rng.choice(ILLIQUID)) if rng.random() < 0.7 else int(rng.integers(0, 8))
        n = int(rng.integers(10, 80))
        t = campaign_times(chunk, n, max_days=14)
        a = g.members[rng.integers(0, len(g.members), n)]
        b = g.members[(np.searchsorted(g.members, a) + rng.integers(1, len(g.members), n)) % len(g.members)]
        price = chunk.market.price(np.full(n, symbol), t) * (1 + rng.normal(0, 0.0005, n))
        qty = pop.wealth[a].mean() * rng.uniform(0.2, 1.0, n) / price
        side = rng.integers(0, 2, n)
        none = np.full(n, -1)
        first = add_orders(chunk, OrderBatch(a, t, np.full(n, symbol), side, np.zeros(n, dtype=bool), price, qty,
                                             qty, none))
        t2 = t + (rng.uniform(0.2, 5, n) * US).astype(np.int64)
        second = add_orders(chunk, OrderBatch(b, t2, np.full(n, symbol), 1 - side, np.ones(n, dtype=bool), price,
                                              qty, qty, none))
        buy_first = side == BUY
        add_trades(chunk, t2, np.full(n, symbol), price, qty, np.where(buy_first, a, b), np.where(buy_first, b, a),
                   np.where(buy_first, first, second), np.where(buy_first, second, first), 1 - side)
        if symbol in ILLIQUID:
            wash_bot(chunk, g, symbol, int(t.min()), int(t.max()))
        found = rng.random() < 0.6
        end = int(t.max())
        if found:
            known = np.full(len(g.members), end + int(rng.uniform(3, 30) * DAY))
            chunk.label("user", pop.user_id[g.members], g.members, "wash_trading", np.full(len(g.members), end),
                        known, "surveillance")
        chunk.truth(g.members, "wash_trading", "ring_member", int(t.min()), end, found, g.group)


def chunk_trades(chunk: Chunk, symbol: int, begin: int, end: int) -> int:
    """Trades of ``symbol`` this chunk has written with begin <= time <= end."""
    lo, hi = ts(np.array([begin]))[0], ts(np.array([end]))[0]
    n = 0
    for part in chunk.frames.parts("trades"):
        hit = pc.and_(pc.equal(part["symbol"], str(MARKETS[symbol])),
                      pc.and_(pc.greater_equal(part["event_time"], lo), pc.less_equal(part["event_time"], hi)))
        n += int(pc.sum(hit).as_py() or 0)
    return n


def wash_bot(chunk: Chunk, g: Ring, symbol: int, begin: int, end: int) -> None:
    """The campaign's program: on an illiquid coin, the group's accounts trade with each other over the
    campaign at 1-4x the coin's honest trade count, at random, non-round sizes, so wash trading is
    most of the coin's volume while it lasts (Cong et al. 2021: wash trading is algorithmic and
    concentrated, most of the volume of unregulated exchanges' small coins)."""
    pop, rng = chunk.pop, chunk.side_rng(WASH_BOTS)
    n = int(chunk_trades(chunk, symbol, begin, end) * rng.uniform(*BOT_VOLUME))
    if n < 1:
        return
    t = np.sort(rng.integers(begin, end + 1, n)).astype(np.int64)
    a = g.members[rng.integers(0, len(g.members), n)]
    b = g.members[(np.searchsorted(g.members, a) + rng.integers(1, len(g.members), n)) % len(g.members)]
    price = chunk.market.price(np.full(n, symbol), t) * (1 + rng.normal(0, 0.0005, n))
    qty = pop.wealth[g.members].mean() * rng.uniform(0.2, 1.0, n) / price
    side = rng.integers(0, 2, n)
    none, sym = np.full(n, -1), np.full(n, symbol)
    first = add_orders(chunk, OrderBatch(a, t, sym, side, np.zeros(n, dtype=bool), price, qty, qty, none))
    t2 = t + (rng.uniform(0.2, 5, n) * US).astype(np.int64)
    second = add_orders(chunk, OrderBatch(b, t2, sym, 1 - side, np.ones(n, dtype=bool), price, qty, qty, none))
    buy_first = side == BUY
    add_trades(chunk, t2, sym, price, qty, np.where(buy_first, a, b), np.where(buy_first, b, a),
               np.where(buy_first, first, second), np.where(buy_first, second, first), 1 - side)


def spoofing(chunk: Chunk) -> None:
    """Large orders on one side, cancelled within seconds, while a small order fills on the other."""
    pop, rng, _cfg = chunk.pop, chunk.rng, chunk.cfg
    for u in chunk.pick(PREVALENCE["spoofing"], pop.trader & (pop.kind != MARKET_MAKER)).tolist():
        t = campaign_times(chunk, int(rng.integers(3, 20)), max_days=10)
        t = t[t >= pop.signup[u]]
        if not len(t):
            continue
        symbol = np.full(len(t), int(rng.integers(0, 8)))
        real_side = rng.integers(0, 2, len(t))
        mid = chunk.market.price(symbol, t)
        layers = rng.integers(2, 6, len(t))
        li = np.repeat(np.arange(len(t)), layers)
        spoof_side = 1 - real_side[li]
        price = mid[li] * (1 + np.where(spoof_side == BUY, -1, 1) * rng.uniform(0.001, 0.006, len(li)))
        big = pop.wealth[u] * rng.uniform(2, 8, len(li)) / price
        t_spoof = t[li] + (rng.random(len(li)) * 2 * US).astype(np.int64)
        add_orders(chunk, OrderBatch(np.full(len(li), u), t_spoof, symbol[li], spoof_side, np.zeros(len(li), bool),
                                     price, big, np.zeros(len(li)), after(rng, t_spoof, 0.5, 8)))
        small = pop.wealth[u] * rng.uniform(0.05, 0.3, len(t)) / mid
        real = OrderBatch(np.full(len(t), u), t + 2 * US, symbol, real_side, np.zeros(len(t), bool),
                          mid * (1 + np.where(real_side == SELL, 1, -1) * 0.0005), small, small, np.full(len(t), -1))
        fill_against_makers(chunk, real, add_orders(chunk, real))
        found = rng.random() < 0.5
        if found:
            chunk.label("user", np.array([pop.user_id[u]]), np.array([u]), "spoofing", t[-1:],
                        t[-1:] + int(rng.uniform(2, 20) * DAY), "surveillance")
        chunk.truth(np.array([u]), "spoofing", "fraudster", int(t[0]), int(t[-1]), found)


def pump_and_dump(chunk: Chunk) -> None:
    """A group accumulates an illiquid coin quietly, buys hard at the signal, sells into the crowd."""
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    for i, pump in enumerate(chunk.market.pumps):
        if i % cfg.n_chunks != chunk.frames.chunk_index:  # one chunk's group runs each campaign
            continue
        members = chunk.pick(10 / max(pop.n, 1), pop.trader & (pop.signup < pump.start))[:12]
        if len(members) < 3:
            continue
        k, s = len(members), pump.symbol
        parts = []
        acc = np.repeat(members, 3)
        parts.append((acc, pump.start - (rng.uniform(0.5, 4, len(acc)) * DAY).astype(np.int64), BUY, 0.2))
        parts.append((members, pump.start + (rng.random(k) * 0.3 * (pump.peak - pump.start)).astype(np.int64),
                      BUY, 0.8))
        parts.append((np.repeat(members, 2), pump.peak + (rng.random(2 * k) * 40 * 60 * US).astype(np.int64),
                      1, 1.0))
        for users, t, side, size in parts:
            n = len(users)
            price = chunk.market.price(np.full(n, s), t)
            qty = typed_sizes(chunk, pop.wealth[users] * size * rng.uniform(0.5, 1.5, n) / price)
            b = OrderBatch(users, t, np.full(n, s), np.full(n, side), np.ones(n, bool), price, qty, qty,
                           np.full(n, -1))
            fill_against_makers(chunk, b, add_orders(chunk, b))
        # the crowd the group sells to: retail buying near the top
        crowd = chunk.pick(0.002, pop.trader & (pop.risk_appetite > 0.4))
        if len(crowd):
            t = pump.peak - HOUR // 2 + (rng.random(len(crowd)) * 2 * HOUR).astype(np.int64)
            price = chunk.market.price(np.full(len(crowd), s), t)
            qty = typed_sizes(chunk, pop.wealth[crowd] * 0.3 / price)
            b = OrderBatch(crowd, t, np.full(len(crowd), s), np.full(len(crowd), BUY), np.ones(len(crowd), bool),
                           price, qty, qty, np.full(len(crowd), -1))
            fill_against_makers(chunk, b, add_orders(chunk, b))
            chunk.experiences.add(crowd, t + DAY, "trading_loss", 0.6, pop.wealth[crowd] * 0.2)
        group = chunk.new_group()
        found = rng.random() < 0.7
        if found:
            chunk.label("user", pop.user_id[members], members, "pump_and_dump", np.full(k, pump.peak),
                        np.full(k, pump.peak + int(rng.uniform(2, 20) * DAY)), "surveillance")
        chunk.truth(members, "pump_and_dump", "ring_member", pump.start - 4 * DAY, pump.peak + HOUR, found, group)
