"""Money mules: third-party money in, almost no trading, out to fresh addresses; some structure amounts."""

from __future__ import annotations

import numpy as np

from cryptoscope.sources.simulate.clock import after
from cryptoscope.sources.simulate.config import DAY, HOUR, US
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.money import ASSET_CHAIN, BANK, P2P, add_payments, add_transfers
from cryptoscope.sources.simulate.strings import hex_ids
from cryptoscope.sources.simulate.trading import add_orders, fill_against_makers, retail_orders
from cryptoscope.sources.simulate.typologies import PREVALENCE
from cryptoscope.sources.simulate.wallets import new_addresses


def money_mules(chunk: Chunk) -> None:
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    mules = chunk.pick(PREVALENCE["money_mule"])
    for u in mules.tolist():
        begin = max(pop.signup[u], cfg.t0) + int(rng.uniform(0.5, 10) * DAY)
        if begin >= cfg.t1 - 2 * DAY:
            continue
        structuring = rng.random() < 0.4
        n_in = int(rng.integers(3, 15))
        t_in = begin + np.sort((rng.random(n_in) * rng.uniform(2, 20) * DAY).astype(np.int64))
        t_in = np.minimum(t_in, cfg.t1 - HOUR)
        senders = hex_ids(rng, max(2, n_in // 2), 16, "iban_")[rng.integers(0, max(2, n_in // 2), n_in)]
        amount = rng.uniform(9_000, 9_990, n_in) if structuring else rng.lognormal(np.log(1500), 0.8, n_in)
        method = np.where(rng.random(n_in) < 0.6, BANK, P2P)
        users = np.full(n_in, u)
        add_payments(chunk, users, t_in, "deposit", method, senders, amount, np.full(n_in, "completed"))
        # a token trade or two so the account does not look idle
        n_tr = int(rng.integers(0, 3))
        if n_tr:
            tt = t_in[rng.integers(0, n_in, n_tr)] + 30 * 60 * US
            b = retail_orders(chunk, np.full(n_tr, u), tt, rng.integers(0, 3, n_tr), np.zeros(n_tr, dtype=np.int64),
                              amount[:n_tr] * 0.05)
            fill_against_makers(chunk, b, add_orders(chunk, b))
        t_out = np.minimum(after(rng, t_in, HOUR / US, 48 * HOUR / US), cfg.t1 - 1)
        asset = rng.choice([0, 2, 3], n_in, p=[0.3, 0.3, 0.4])
        address = np.empty(n_in, dtype=object)
        for c in range(3):
            m = ASSET_CHAIN[asset] == c
            address[m] = new_addresses(rng, c, int(m.sum()))
        ids = add_transfers(chunk, users, t_out, "withdrawal", asset, address, amount * 0.98,
                            np.full(n_in, "completed"))
        found = rng.random() < 0.6
        known = t_out + (rng.uniform(14, 90, n_in) * DAY).astype(np.int64)
        if found:
            chunk.label("transfer", ids, users, "money_mule", t_out, known, "investigation")
        chunk.truth(np.array([u]), "money_mule_structuring" if structuring else "money_mule", "mule", begin,
                    int(t_out.max()), found)
