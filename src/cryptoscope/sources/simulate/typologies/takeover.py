"""Account takeover: a stranger logs in from a new device and country, changes security, cashes out."""

from __future__ import annotations

import numpy as np

from cryptoscope.sources.simulate.activity import add_changes, add_sessions
from cryptoscope.sources.simulate.clock import after
from cryptoscope.sources.simulate.config import DAY, HOUR, US
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.money import ASSET_CHAIN, ASSETS, add_transfers
from cryptoscope.sources.simulate.population import IDLE
from cryptoscope.sources.simulate.typologies import PREVALENCE
from cryptoscope.sources.simulate.wallets import new_addresses

_ATO_CHANGES = np.array([0, 1, 4, 6])  # password, email, 2fa_disabled, withdrawal_whitelist_added


def account_takeover(chunk: Chunk) -> None:
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    victims = chunk.pick(PREVALENCE["account_takeover"], (pop.signup < cfg.t0 + 5 * DAY) & (pop.kind != IDLE))
    k = len(victims)
    if not k:
        return
    t = cfg.t0 + (rng.uniform(1, cfg.days - 1, k) * DAY).astype(np.int64)
    devices = pop.new_devices(rng, k)
    # most attackers come through hosting/VPN IPs, a quarter through a residential proxy in the victim's country
    via_proxy = rng.random(k) < 0.25
    ips = np.where(via_proxy, pop.nat_ip(rng, pop.country[victims]), pop.hosting_ip(rng, k))
    fails = rng.poisson(1.5, k)
    fu = np.repeat(np.arange(k), fails)
    add_sessions(chunk.frames, rng, pop, victims[fu], t[fu] - (rng.random(len(fu)) * 600 * US).astype(np.int64),
                 devices[fu], ips[fu], np.zeros(len(fu), dtype=bool), np.zeros(len(fu), dtype=bool))
    add_sessions(chunk.frames, rng, pop, victims, t, devices, ips, np.ones(k, dtype=bool),
                           rng.random(k) < 0.3)
    n_changes = 1 + (rng.random(k) < 0.5)
    cu = np.repeat(np.arange(k), n_changes)
    add_changes(chunk.frames, rng, pop, victims[cu], after(rng, t[cu], 60, 3600),
                _ATO_CHANGES[rng.integers(0, 4, len(cu))], devices[cu], ips[cu])
    # cash out: one to three withdrawals of most of the balance to addresses never seen before
    n_out = rng.integers(1, 4, k)
    wu = np.repeat(np.arange(k), n_out)
    w_time = after(rng, t[wu] + 10 * 60 * US, 60, 6 * HOUR / US)
    asset = rng.choice(len(ASSETS), len(wu), p=[0.3, 0.2, 0.3, 0.15, 0.05])
    address = np.empty(len(wu), dtype=object)
    for c in range(3):
        m = ASSET_CHAIN[asset] == c
        address[m] = new_addresses(rng, c, int(m.sum()))
    amount = pop.wealth[victims[wu]] * rng.uniform(0.5, 1.5, len(wu)) / n_out[wu]
    held = rng.random(len(wu)) < 0.2  # caught by a rule: funds frozen, victim angry anyway
    ids = add_transfers(chunk, victims[wu], w_time, "withdrawal", asset, address, amount,
                        np.where(held, "held", "completed"))
    reported = rng.random(k) < 0.85
    chunk.truth(victims, "account_takeover", "victim", t, t + 12 * HOUR, reported)
    known = w_time + (rng.uniform(0.5, 14, len(wu)) * DAY).astype(np.int64)
    lab = reported[wu]
    chunk.label("transfer", ids[lab], victims[wu][lab], "account_takeover", w_time[lab], known[lab], "user_report")
    chunk.experiences.add(victims[wu][held], w_time[held], "account_frozen", 0.9, amount[held])
    chunk.experiences.add(victims[wu][~held], known[~held], "login_problem", 1.0, amount[~held])
