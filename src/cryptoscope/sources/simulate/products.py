"""Product interactions driven by latent taste and risk appetite: what recommendations learn from."""

from __future__ import annotations

import numpy as np

from cryptoscope.sources.simulate.catalog import CATALOG_ID, CATALOG_RISK, CATALOG_TYPE, TYPES
from cryptoscope.sources.simulate.clock import after, user_events
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.frames import ts
from cryptoscope.sources.simulate.strings import take

SURFACES = np.array(["home", "search", "markets", "recommendation", "push"], dtype=object)


def product_events(chunk: Chunk) -> None:
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    quality = np.random.default_rng([cfg.seed, 0xBEEF]).lognormal(0, 0.6, len(CATALOG_ID))  # the same world-wide
    users, times = user_events(rng, cfg, pop, pop.activity * 1.2)
    n = len(users)
    if not n:
        return
    suit = 1.0 - np.abs(CATALOG_RISK[None, :] / 5.0 - pop.risk_appetite[users, None])  # (n, items)
    taste = pop.preference[users][:, CATALOG_TYPE] * quality[None, :] * suit**2
    cum = np.cumsum(taste / taste.sum(1, keepdims=True), axis=1)
    item = np.minimum((rng.random(n)[:, None] > cum).sum(1), len(CATALOG_ID) - 1)
    fit = suit[np.arange(n), item]
    p_click = 0.15 + 0.5 * fit
    clicked = rng.random(n) < p_click
    acted = clicked & (rng.random(n) < 0.05 + 0.4 * fit**3) & (CATALOG_TYPE[item] != 3)
    surface = rng.choice(len(SURFACES), n, p=[0.4, 0.15, 0.3, 0.1, 0.05])
    rows = [(np.arange(n), times, "view"), (np.flatnonzero(clicked), None, "click"),
            (np.flatnonzero(acted), None, "act")]
    for idx, t, action in rows:
        k = len(idx)
        if not k:
            continue
        when = t if t is not None else after(rng, times[idx], 2, 600)
        if action == "act":
            act = np.where(CATALOG_TYPE[item[idx]] == 1, "subscribe", "trade")
            amount = pop.wealth[users[idx]] * rng.lognormal(-1.5, 0.8, k)
        else:
            act, amount = np.full(k, action), None
        chunk.frames.add("product_events", event_id=chunk.frames.ids("product_events", k),
                         user_id=pop.user_id[users[idx]], event_time=ts(when),
                         product_type=take(TYPES, CATALOG_TYPE[item[idx]]), product_id=take(CATALOG_ID, item[idx]),
                         action=act, amount_usd=amount, surface=take(SURFACES, surface[idx]))
