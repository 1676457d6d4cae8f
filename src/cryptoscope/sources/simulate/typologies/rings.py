"""Multi-accounting and bonus-abuse rings: accounts sharing devices, IPs, cards, addresses, referrers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryptoscope.sources.simulate.activity import add_sessions
from cryptoscope.sources.simulate.clock import after
from cryptoscope.sources.simulate.config import DAY, HOUR, US
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.frames import ts
from cryptoscope.sources.simulate.money import ASSET_CHAIN, CARD, add_payments, add_transfers
from cryptoscope.sources.simulate.strings import hex_ids
from cryptoscope.sources.simulate.typologies import PREVALENCE
from cryptoscope.sources.simulate.wallets import new_addresses


@dataclass(frozen=True)
class Ring:
    members: np.ndarray
    group: int


def link_accounts(chunk: Chunk, members: np.ndarray, share_ip: float = 0.7) -> None:
    """Make accounts share devices, an IP and a referrer, as one operator running them would."""
    pop, rng = chunk.pop, chunk.rng
    shared_dev = pop.new_devices(rng, int(rng.integers(1, 4)))
    pick = rng.random(len(members)) < 0.9
    pop.device_start[members[pick]] = shared_dev[rng.integers(0, len(shared_dev), int(pick.sum()))]
    pop.device_count[members[pick]] = 1
    ip = pop.hosting_ip(rng, 1)[0] if rng.random() < 0.5 else pop.home_ip[members[0]]
    pop.home_ip[members[rng.random(len(members)) < share_ip]] = ip
    leader = pop.user_id[members[0]]
    refer = rng.random(len(members)) < 0.7
    pop.referrer[members[1:][refer[1:]]] = leader


def form_rings(chunk: Chunk) -> list[Ring]:
    """Before accounts are written: choose new accounts, cluster their sign-ups, link them."""
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    users = chunk.pick(PREVALENCE["multi_accounting"], (pop.signup >= cfg.t0) & (pop.signup < cfg.t1 - 7 * DAY))
    rings, start = [], 0
    while start + 3 <= len(users):
        size = min(int(rng.integers(4, 16)), len(users) - start)
        members = users[start:start + size]
        start += size
        pop.signup[members] = pop.signup[members[0]] + (rng.random(size) * 3 * DAY).astype(np.int64)
        link_accounts(chunk, members)
        rings.append(Ring(members, chunk.new_group()))
    return rings


def bonus_abuse(chunk: Chunk, rings: list[Ring]) -> None:
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    for ring in rings:
        m, k = ring.members, len(ring.members)
        cards = hex_ids(rng, int(rng.integers(1, 3)), 16, "card_")
        t_dep = np.minimum(after(rng, pop.signup[m], 600, 2 * DAY / US), cfg.t1 - HOUR)
        # the operator logs into each account from the ring's own devices and IP
        add_sessions(chunk.frames, rng, pop, m, t_dep - 120 * US, pop.device_of(rng, m), pop.home_ip[m],
                     np.ones(k, dtype=bool), np.zeros(k, dtype=bool))
        add_payments(chunk, m, t_dep, "deposit", np.full(k, CARD), cards[rng.integers(0, len(cards), k)],
                     rng.uniform(50, 150, k), np.full(k, "completed"))
        t_bonus = t_dep + (rng.uniform(1, 30, k) * 60 * US).astype(np.int64)
        chunk.frames.add("product_events", event_id=chunk.frames.ids("product_events", k), user_id=pop.user_id[m],
                         event_time=ts(t_bonus), product_type=np.full(k, "earn"),
                         product_id=np.full(k, "promo-welcome-bonus"), action=np.full(k, "subscribe"),
                         amount_usd=np.full(k, 50.0), surface=np.full(k, "push"))
        asset = np.full(k, int(rng.choice([2, 3])))
        chain = int(ASSET_CHAIN[asset[0]])
        sinks = new_addresses(rng, chain, int(rng.integers(1, 3)))
        t_out = np.minimum(after(rng, t_bonus, 2 * HOUR / US, 10 * DAY / US), cfg.t1 - 1)
        add_transfers(chunk, m, t_out, "withdrawal", asset, sinks[rng.integers(0, len(sinks), k)],
                      rng.uniform(90, 200, k), np.full(k, "completed"))
        found = rng.random() < 0.5
        known = t_out + (rng.uniform(10, 60, k) * DAY).astype(np.int64)
        if found:
            chunk.label("user", pop.user_id[m], m, "multi_accounting", t_out, known, "investigation")
        chunk.truth(m, "multi_accounting", "ring_member", pop.signup[m], t_out, found, ring.group)
