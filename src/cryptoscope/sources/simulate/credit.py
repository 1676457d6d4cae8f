"""Margin and crypto-backed loans whose outcome depends on leverage, volatility and behaviour."""

from __future__ import annotations

import numpy as np

from cryptoscope.sources.simulate.clock import user_events
from cryptoscope.sources.simulate.config import DAY
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.frames import ts
from cryptoscope.sources.simulate.market import NAMES

_COLLATERAL = np.array([0, 1, 2, 4])  # BTC, ETH, SOL, DOGE
LIQUIDATION_LTV = 0.85


def loans(chunk: Chunk) -> None:
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    rate = 0.01 * pop.risk_appetite**2 * pop.trader
    users, t = user_events(rng, cfg, pop, rate)
    n = len(users)
    if not n:
        return
    margin = rng.random(n) < 0.6
    coll = _COLLATERAL[rng.choice(4, n, p=[0.45, 0.3, 0.15, 0.1])]
    leverage = np.where(margin, rng.choice([2.0, 3.0, 5.0, 10.0], n, p=[0.4, 0.3, 0.2, 0.1]), 1.0)
    ltv = np.clip(rng.beta(4, 4, n) * 0.8 * np.where(margin, 1.1, 1.0), 0.1, 0.8)
    principal = pop.wealth[users] * rng.lognormal(-0.3, 0.7, n)
    term = np.where(margin, rng.choice([7, 14, 30], n), rng.choice([30, 90, 180], n))
    end = t + term * DAY
    drop = chunk.market.min_ratio(coll, t, np.minimum(end, cfg.t1))
    # price moves per unit of leverage: a 10x position feels a 5% move as 50%
    stressed_ltv = ltv / np.maximum(1 - (1 - drop) * leverage, 0.02)
    liquidated = stressed_ltv > LIQUIDATION_LTV
    turbulent = chunk.market.is_turbulent(t)
    age_days = (t - pop.signup[users]) / DAY
    logit = (-4.2 + 1.6 * liquidated + 0.9 * turbulent + 0.12 * leverage + 2.0 * ltv
             + 1.2 * (age_days < 30) + 1.5 * (pop.risk_appetite[users] > 0.7) - 0.6 * np.log1p(pop.wealth[users] / 1e4))
    default = rng.random(n) < 1 / (1 + np.exp(-logit))
    outcome_t = np.where(liquidated, t + (rng.uniform(0.1, 1, n) * term * DAY).astype(np.int64), end)
    outcome_t = np.where(default, outcome_t + (rng.uniform(3, 30, n) * DAY).astype(np.int64), outcome_t)
    closed = outcome_t < cfg.t1
    outcome = np.where(~closed, "open", np.where(default, "defaulted", np.where(liquidated, "liquidated", "repaid")))
    ids = chunk.frames.ids("loans", n)
    chunk.frames.add("loans", loan_id=ids, user_id=pop.user_id[users], event_time=ts(t),
                     product=np.where(margin, "margin", "crypto_loan"), collateral_asset=NAMES[coll],
                     principal_usd=principal, collateral_usd=principal / ltv, ltv=ltv, leverage=leverage,
                     term_days=term, interest_rate=np.where(margin, 0.12, 0.08) * rng.uniform(0.8, 1.3, n),
                     outcome=outcome, outcome_time=ts(np.where(closed, outcome_t, 0), ~closed))
    chunk.label("loan", ids[closed], users[closed], "loan_default", t[closed], outcome_t[closed], "loan_servicing",
                label=default[closed].astype(np.int64))
    bad = default | liquidated
    chunk.truth(users[default], "loan_default", "borrower", t[default], outcome_t[default], closed[default])
    chunk.experiences.add(users[bad], np.minimum(outcome_t[bad], cfg.t1 - 1), "trading_loss",
                          np.where(default[bad], 0.9, 0.6), principal[bad])
