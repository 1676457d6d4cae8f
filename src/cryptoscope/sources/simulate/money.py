"""Fiat payments and on-chain transfers: how money enters and leaves the exchange."""

from __future__ import annotations

import numpy as np

from cryptoscope.sources.simulate import geo
from cryptoscope.sources.simulate.clock import user_events
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.frames import ts
from cryptoscope.sources.simulate.market import NAMES
from cryptoscope.sources.simulate.strings import long_hex, take
from cryptoscope.sources.simulate.wallets import BITCOIN, CHAINS, ETHEREUM, TRON, new_addresses

METHODS = np.array(["card", "bank_transfer", "p2p"], dtype=object)
CARD, BANK, P2P = range(3)
DECLINES = np.array(["insufficient_funds", "do_not_honor", "card_expired", "suspected_fraud", "3ds_failed",
                     "velocity_limit"], dtype=object)

ASSETS = np.array(["BTC", "ETH", "USDT", "USDT", "TRX"], dtype=object)
ASSET_CHAIN = np.array([BITCOIN, ETHEREUM, ETHEREUM, TRON, TRON])
ASSET_SHARE = np.array([0.3, 0.2, 0.25, 0.17, 0.08])
_SYMBOL = {name: i for i, name in enumerate(NAMES)}


def asset_price(chunk: Chunk, asset_idx: np.ndarray, t: np.ndarray) -> np.ndarray:
    price = np.ones(len(asset_idx))
    for a, name in enumerate(ASSETS):
        m = asset_idx == a
        if m.any() and name != "USDT":
            price[m] = chunk.market.price(np.full(int(m.sum()), _SYMBOL[name]), t[m])
    return price


def add_payments(chunk: Chunk, users: np.ndarray, times: np.ndarray, direction: str, method: np.ndarray,
                 instrument: np.ndarray, amount_usd: np.ndarray, status: np.ndarray,
                 decline: np.ndarray | None = None, devices: np.ndarray | None = None,
                 ips: np.ndarray | None = None, instrument_country: np.ndarray | None = None) -> np.ndarray:
    """Write payment rows; ``decline`` indexes DECLINES (-1 = none). Returns payment ids."""
    pop, rng, n = chunk.pop, chunk.rng, len(users)
    ids = chunk.frames.ids("payments", n)
    country = pop.country[users]
    decline = np.full(n, -1) if decline is None else decline
    devices = pop.device_of(rng, users) if devices is None else devices
    ips = pop.home_ip[users] if ips is None else ips
    inst_country = country if instrument_country is None else instrument_country
    chunk.frames.add(
        "payments", payment_id=ids, user_id=pop.user_id[users], event_time=ts(times),
        direction=np.full(n, direction), method=take(METHODS, method), instrument_hash=instrument,
        instrument_country=take(geo.CODES, inst_country), currency=take(geo.CURRENCY, country),
        amount=np.round(amount_usd / geo.USD_RATE[country], 2), amount_usd=np.round(amount_usd, 2), status=status,
        decline_reason=pick_or_null(DECLINES, decline), device_id=take(pop.devices, devices),
        ip=take(pop.ips, ips))
    return ids


def pick_or_null(pool: np.ndarray, index: np.ndarray) -> list[str | None]:
    return [None if i < 0 else pool[i] for i in index.tolist()]


def normal_payments(chunk: Chunk) -> None:
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    users, times = user_events(rng, cfg, pop, 0.05 * np.sqrt(pop.activity + 0.05))
    n = len(users)
    method = rng.choice(3, size=n, p=[0.4, 0.45, 0.15])
    second = rng.random(n) < 0.3
    instrument = np.where(method == CARD, chunk.wallets.cards[users, second.astype(int)], chunk.wallets.bank[users])
    amount = pop.wealth[users] * rng.lognormal(-0.5, 0.9, n)
    declined = (method == CARD) & (rng.random(n) < 0.05)
    decline = np.where(declined, rng.choice(len(DECLINES), n, p=[0.55, 0.25, 0.08, 0.04, 0.06, 0.02]), -1)
    status = np.where(declined, "declined", np.where(rng.random(n) < 0.01, "pending", "completed"))
    add_payments(chunk, users, times, "deposit", method, instrument, amount, status, decline)
    chunk.experiences.add(users[declined], times[declined], "card_declined", 0.3, amount[declined])
    # fiat withdrawals go to the bank account
    users, times = user_events(rng, cfg, pop, 0.015 * np.sqrt(pop.activity + 0.05))
    n = len(users)
    amount = pop.wealth[users] * rng.lognormal(-0.7, 0.9, n)
    status = np.where(rng.random(n) < 0.03, "pending", "completed")
    add_payments(chunk, users, times, "withdrawal", np.full(n, BANK), chunk.wallets.bank[users], amount, status)


def add_transfers(chunk: Chunk, users: np.ndarray, times: np.ndarray, direction: str, asset: np.ndarray,
                  address: np.ndarray, amount_usd: np.ndarray, status: np.ndarray,
                  prev_tx: np.ndarray | None = None) -> np.ndarray:
    """Write chain transfer rows and queue their on-chain mirror (spending ``prev_tx`` where given)."""
    rng, n = chunk.rng, len(users)
    ids = chunk.frames.ids("chain_transfers", n)
    chain = ASSET_CHAIN[asset]
    price = asset_price(chunk, asset, times)
    amount = amount_usd / price
    own = np.empty(n, dtype=object)
    for c in range(3):
        m = chain == c
        own[m] = chunk.wallets.deposit[c][users[m]] if direction == "deposit" else chunk.wallets.hot_wallet[c]
    tx_hash = long_hex(rng, n, 32)
    tx_hash = np.where(chain == BITCOIN, tx_hash, "0x" + tx_hash.astype(str)).astype(object)
    fee = np.where(chain == BITCOIN, 0.00002, np.where(chain == ETHEREUM, 0.0008, 1.0)) * rng.lognormal(0, 0.3, n)
    chunk.frames.add(
        "chain_transfers", transfer_id=ids, user_id=chunk.pop.user_id[users], event_time=ts(times),
        direction=np.full(n, direction), chain=take(CHAINS, chain), asset=take(ASSETS, asset), address=address,
        exchange_address=own, tx_hash=tx_hash, amount=amount, amount_usd=np.round(amount_usd, 2), fee=fee,
        status=status)
    sender, receiver = (address, own) if direction == "deposit" else (own, address)
    chunk.onchain.append({"chain": chain, "asset": asset, "time": times, "sender": sender, "receiver": receiver,
                          "amount": amount, "tx_hash": tx_hash, "ok": status != "rejected",
                          "prev": long_hex(rng, n, 32) if prev_tx is None else prev_tx})
    return ids


def normal_transfers(chunk: Chunk) -> None:
    pop, rng, cfg, w = chunk.pop, chunk.rng, chunk.cfg, chunk.wallets
    for direction, rate in (("deposit", 0.035), ("withdrawal", 0.03)):
        users, times = user_events(rng, cfg, pop, rate * np.sqrt(pop.activity + 0.05))
        n = len(users)
        asset = rng.choice(len(ASSETS), size=n, p=ASSET_SHARE)
        chain = ASSET_CHAIN[asset]
        slot = (rng.random(n) < 0.3).astype(int)
        address = np.empty(n, dtype=object)
        for c in range(3):
            m = chain == c
            address[m] = w.external[c][users[m], slot[m]]
        fresh = rng.random(n) < (0.12 if direction == "withdrawal" else 0.05)  # paying someone new
        for c in range(3):
            m = fresh & (chain == c)
            if m.any():
                address[m] = new_addresses(rng, c, int(m.sum()))
        amount = pop.wealth[users] * rng.lognormal(-0.6, 1.0, n)
        u = rng.random(n)
        slow = (u < 0.03) if direction == "withdrawal" else (u < 0.01)
        status = np.where(slow, np.where(rng.random(n) < 0.5, "pending", "held"), "completed")
        add_transfers(chunk, users, times, direction, asset, address, amount, status)
        topic = "slow_withdrawal" if direction == "withdrawal" else "deposit_missing"
        chunk.experiences.add(users[slow], times[slow], topic, rng.uniform(0.3, 0.9, int(slow.sum())), amount[slow])
