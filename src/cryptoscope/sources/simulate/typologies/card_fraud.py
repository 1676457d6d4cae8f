"""Card fraud: testing stolen cards with small declined payments, buying crypto, withdrawing fast.

Chargebacks arrive one to eight weeks later; a few honest users file chargebacks too.
"""

from __future__ import annotations

import numpy as np

from cryptoscope.sources.simulate import geo
from cryptoscope.sources.simulate.clock import after
from cryptoscope.sources.simulate.config import DAY, HOUR, US
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.money import ASSET_CHAIN, CARD, add_payments, add_transfers
from cryptoscope.sources.simulate.strings import hex_ids
from cryptoscope.sources.simulate.typologies import PREVALENCE
from cryptoscope.sources.simulate.wallets import new_addresses


def card_fraud(chunk: Chunk, fraudsters: np.ndarray) -> None:
    """``fraudsters`` run card-testing campaigns; most are young accounts."""
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    for u in fraudsters.tolist():
        start = max(pop.signup[u], cfg.t0) + int(rng.uniform(0.1, 5) * DAY)
        if start >= cfg.t1 - DAY:
            continue
        cards = hex_ids(rng, int(rng.integers(3, 13)), 16, "card_")
        card_country = rng.choice(len(geo.CODES), len(cards), p=geo.WEIGHT)
        ip = pop.hosting_ip(rng, 1) if rng.random() < 0.6 else pop.home_ip[[u]]
        device = pop.device_of(rng, np.array([u]))
        # testing: many small payments within an hour, mostly declined
        n_test = int(rng.integers(4, 30))
        tt = start + np.sort((rng.random(n_test) * HOUR).astype(np.int64))
        card_i = rng.integers(0, len(cards), n_test)
        works = rng.random(len(cards)) < 0.35
        ok = works[card_i] & (rng.random(n_test) < 0.8)
        decline = np.where(ok, -1, rng.choice(6, n_test, p=[0.3, 0.4, 0.1, 0.1, 0.05, 0.05]))
        users = np.full(n_test, u)
        add_payments(chunk, users, tt, "deposit", np.full(n_test, CARD), cards[card_i],
                     rng.uniform(1, 25, n_test), np.where(ok, "completed", "declined"), decline,
                     np.repeat(device, n_test), np.repeat(ip, n_test), card_country[card_i])
        good = np.flatnonzero(works) if works.any() else np.array([0])
        n_buy = int(rng.integers(1, 5))
        bt = tt[-1] + np.sort((rng.uniform(5, 180, n_buy) * 60 * US).astype(np.int64))
        amount = rng.lognormal(np.log(600), 0.7, n_buy)
        bc = good[rng.integers(0, len(good), n_buy)]
        ids = add_payments(chunk, np.full(n_buy, u), bt, "deposit", np.full(n_buy, CARD), cards[bc], amount,
                           np.full(n_buy, "completed"), None, np.repeat(device, n_buy), np.repeat(ip, n_buy),
                           card_country[bc])
        wt = after(rng, bt[-1:], 600, 8 * HOUR / US)
        asset = np.array([int(rng.choice([0, 2, 3]))])
        add_transfers(chunk, np.array([u]), wt, "withdrawal", asset,
                      new_addresses(rng, int(ASSET_CHAIN[asset[0]]), 1), np.array([amount.sum() * 0.97]),
                      np.array(["completed"]))
        charged = rng.random(n_buy) < 0.9
        known = bt + (rng.uniform(7, 56, n_buy) * DAY).astype(np.int64)
        chunk.label("payment", ids[charged], np.full(int(charged.sum()), u), "card_fraud", bt[charged],
                    known[charged], "chargeback")
        chunk.truth(np.array([u]), "card_fraud", "fraudster", start, int(wt[0]), bool(charged.any()))


def friendly_fraud(chunk: Chunk) -> None:
    """Honest-looking users who dispute their own purchases: label noise every model must live with."""
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    users = chunk.pick(PREVALENCE["friendly_fraud"], pop.signup < cfg.t1 - 10 * DAY)
    if not len(users):
        return
    t = np.maximum(pop.signup[users], cfg.t0) + (rng.random(len(users)) * 0.8 * cfg.days * DAY).astype(np.int64)
    t = np.minimum(t, cfg.t1 - DAY)
    amount = pop.wealth[users] * rng.lognormal(-0.5, 0.6, len(users))
    ids = add_payments(chunk, users, t, "deposit", np.full(len(users), CARD), chunk.wallets.cards[users, 0], amount,
                       np.full(len(users), "completed"))
    known = t + (rng.uniform(14, 56, len(users)) * DAY).astype(np.int64)
    chunk.label("payment", ids, users, "card_fraud", t, known, "chargeback")
    chunk.truth(users, "friendly_fraud", "fraudster", t, t, True)
