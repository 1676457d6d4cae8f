"""Spot orders and trades: retail flow, market makers quoting and taking the other side."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryptoscope.sources.simulate.clock import after, user_events
from cryptoscope.sources.simulate.config import US
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.frames import ts
from cryptoscope.sources.simulate.market import LIQUID, MARKETS, POPULARITY
from cryptoscope.sources.simulate.population import MARKET_MAKER
from cryptoscope.sources.simulate.strings import take

SIDES = np.array(["buy", "sell"], dtype=object)
BUY, SELL = 0, 1
#: side stream (`Chunk.side_rng`) of the round order sizes people type
ROUND_SIZES = 0x5125
#: Cong et al. (2021): human-traded books cluster at round sizes; shares truncated to 1 and 2 significant digits
ROUND_1, ROUND_2 = 0.30, 0.20


@dataclass
class OrderBatch:
    """Orders to write; ``filled`` is the traded quantity, ``cancel`` the cancel time or -1."""

    users: np.ndarray
    times: np.ndarray
    symbol: np.ndarray
    side: np.ndarray
    market: np.ndarray  # bool: market order
    price: np.ndarray
    qty: np.ndarray
    filled: np.ndarray
    cancel: np.ndarray


def add_orders(chunk: Chunk, b: OrderBatch) -> np.ndarray:
    n = len(b.users)
    ids = chunk.frames.ids("orders", n)
    status = np.where(b.filled >= b.qty * 0.999, "filled",
                      np.where(b.cancel >= 0, "cancelled", np.where(b.filled > 0, "partially_filled", "open")))
    chunk.frames.add("orders", order_id=ids, user_id=chunk.pop.user_id[b.users], event_time=ts(b.times),
                     symbol=take(MARKETS, b.symbol), side=take(SIDES, b.side),
                     order_type=np.where(b.market, "market", "limit"), price=b.price, quantity=b.qty,
                     filled_quantity=b.filled, status=status, cancel_time=ts(np.maximum(b.cancel, 0), b.cancel < 0))
    return ids


def add_trades(chunk: Chunk, times: np.ndarray, symbol: np.ndarray, price: np.ndarray, qty: np.ndarray,
               buyer: np.ndarray, seller: np.ndarray, buy_order: np.ndarray, sell_order: np.ndarray,
               aggressor: np.ndarray) -> np.ndarray:
    n = len(times)
    ids = chunk.frames.ids("trades", n)
    uid = chunk.pop.user_id
    chunk.frames.add("trades", trade_id=ids, event_time=ts(times), symbol=take(MARKETS, symbol), price=price,
                     quantity=qty, amount_usd=price * qty, buyer_user_id=uid[buyer], seller_user_id=uid[seller],
                     buy_order_id=buy_order, sell_order_id=sell_order, aggressor_side=take(SIDES, aggressor))
    return ids


def makers(chunk: Chunk) -> np.ndarray:
    mm = np.flatnonzero(chunk.pop.kind == MARKET_MAKER)
    return mm if len(mm) else np.array([0])


def fill_against_makers(chunk: Chunk, b: OrderBatch, order_ids: np.ndarray) -> None:
    """Every filled quantity trades against a market maker's resting order on the other side."""
    f = b.filled > 0
    if not f.any():
        return
    rng = chunk.rng
    mm = makers(chunk)[rng.integers(0, len(makers(chunk)), int(f.sum()))]
    t_fill = np.where(b.market[f], b.times[f] + 50_000, after(rng, b.times[f], 1, 3600))
    t_fill = np.minimum(t_fill, np.where(b.cancel[f] >= 0, b.cancel[f] - 1, t_fill))
    counter = OrderBatch(mm, b.times[f] - (rng.random(int(f.sum())) * 30 * US).astype(np.int64), b.symbol[f],
                         1 - b.side[f], np.zeros(int(f.sum()), dtype=bool), b.price[f], b.filled[f], b.filled[f],
                         np.full(int(f.sum()), -1))
    mm_ids = add_orders(chunk, counter)
    user_buys = b.side[f] == BUY
    aggressor = np.where(b.market[f], b.side[f], 1 - b.side[f])
    add_trades(chunk, t_fill, b.symbol[f], b.price[f], b.filled[f],
               np.where(user_buys, b.users[f], mm), np.where(user_buys, mm, b.users[f]),
               np.where(user_buys, order_ids[f], mm_ids), np.where(user_buys, mm_ids, order_ids[f]), aggressor)


def round_down(x: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """``x`` truncated to ``digits`` significant digits (0 = unchanged): 0.0374 -> 0.03 (1) or 0.037 (2).

    Truncating, not rounding to nearest, keeps the first digit, so sizes still follow Benford's law
    as people's intended amounts do (Cong et al. find both in regulated exchanges' books)."""
    x = np.asarray(x, dtype=float)
    out = x.copy()
    ok = (digits > 0) & np.isfinite(x) & (x > 0)
    scale = 10.0 ** (np.floor(np.log10(x[ok])) - digits[ok] + 1)
    out[ok] = np.floor(x[ok] / scale * (1 + 1e-12)) * scale
    return out


def typed_sizes(chunk: Chunk, qty: np.ndarray) -> np.ndarray:
    """Order quantities as people type them: half at a round size (1 or 2 significant digits), drawn
    from a side stream so the rest of the world is unchanged."""
    u = chunk.side_rng(ROUND_SIZES).random(len(qty))
    digits = np.where(u < ROUND_1, 1, np.where(u < ROUND_1 + ROUND_2, 2, 0))
    return round_down(qty, digits)


def retail_orders(chunk: Chunk, users: np.ndarray, times: np.ndarray, symbol: np.ndarray, side: np.ndarray,
                  notional: np.ndarray) -> OrderBatch:
    """Orders as people place them: market or limit near the mid, some cancelled, some left open."""
    rng, n = chunk.rng, len(users)
    is_market = rng.random(n) < 0.4
    mid = chunk.market.price(symbol, times)
    offset = rng.exponential(0.004, n) * np.where(side == BUY, -1, 1)
    price = np.where(is_market, mid, mid * (1 + offset))
    qty = typed_sizes(chunk, notional / price)
    u = rng.random(n)
    fill_share = np.where(is_market | (u < 0.55), 1.0, np.where(u < 0.65, rng.uniform(0.1, 0.9, n), 0.0))
    cancelled = ~is_market & (u >= 0.55) & (u < 0.95)
    cancel = np.where(cancelled, after(rng, times, 30, 86_400), -1)
    return OrderBatch(users, times, symbol, side, is_market, price, qty, qty * fill_share, cancel)


def normal_trading(chunk: Chunk) -> None:
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    rate = np.where(pop.trader & (pop.kind != MARKET_MAKER), pop.activity * 1.3, 0.0)
    users, times = user_events(rng, cfg, pop, rate)
    n = len(users)
    risky = pop.risk_appetite[users]
    weights = POPULARITY[None, :] * np.where(LIQUID, 1.0, 0.3 + 4 * risky[:, None] ** 2)
    cum = np.cumsum(weights / weights.sum(1, keepdims=True), axis=1)
    symbol = (rng.random(n)[:, None] > cum).sum(1)
    side = (rng.random(n) < 0.48).astype(np.int64)
    notional = pop.wealth[users] * 0.25 * rng.lognormal(0, 1.0, n)
    batch = retail_orders(chunk, users, times, np.minimum(symbol, len(MARKETS) - 1), side, notional)
    fill_against_makers(chunk, batch, add_orders(chunk, batch))
    maker_quotes(chunk)


def maker_quotes(chunk: Chunk) -> None:
    """Market makers quote both sides and cancel most quotes within seconds: a naive spoofing
    rule fires on them, which is the point."""
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    rate = np.where(pop.kind == MARKET_MAKER, 40.0, 0.0)
    users, times = user_events(rng, cfg, pop, rate)
    n = len(users)
    symbol = rng.choice(len(MARKETS), n, p=POPULARITY / POPULARITY.sum())
    side = rng.integers(0, 2, n)
    mid = chunk.market.price(symbol, times)
    price = mid * (1 + np.where(side == BUY, -1, 1) * rng.uniform(0.0005, 0.003, n))
    qty = pop.wealth[users] * 0.01 * rng.lognormal(0, 0.5, n) / price
    cancel = after(rng, times, 0.5, 120)
    add_orders(chunk, OrderBatch(users, times, symbol, side, np.zeros(n, dtype=bool), price, qty,
                                 np.zeros(n), cancel))
