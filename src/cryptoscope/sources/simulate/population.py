"""The users of one chunk: who they are, how active, how rich, what they like.

Everything downstream draws events from these latent attributes, so normal behaviour is
varied (whales, market makers, idle accounts, travellers, households sharing an IP) and
naive rules have real false positives to trip over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryptoscope.sources.simulate import geo
from cryptoscope.sources.simulate.config import DAY, SimConfig
from cryptoscope.sources.simulate.strings import hex_ids, ipv4

KINDS = ("retail", "whale", "market_maker", "idle", "traveller", "household")
KIND_SHARE = np.array([0.78, 0.01, 0.003, 0.12, 0.05, 0.037])
RETAIL, WHALE, MARKET_MAKER, IDLE, TRAVELLER, HOUSEHOLD = range(len(KINDS))

#: sessions per day, mean by kind (activity is lognormal around it)
_SESSION_RATE = np.array([0.35, 1.2, 6.0, 0.02, 0.5, 0.3])
#: typical deposit size in USD by kind
_WEALTH = np.array([300.0, 60_000.0, 250_000.0, 200.0, 800.0, 250.0])


@dataclass
class Population:
    """Latent attributes of ``n`` users; index i everywhere means the i-th user of the chunk."""

    user_id: np.ndarray
    kind: np.ndarray
    country: np.ndarray
    signup: np.ndarray
    activity: np.ndarray
    wealth: np.ndarray
    risk_appetite: np.ndarray
    preference: np.ndarray  # (n, 4): coin, earn, futures, article
    trader: np.ndarray  # bool: trades spot at all
    device_start: np.ndarray  # first index into devices for user i
    device_count: np.ndarray
    devices: np.ndarray  # device fingerprints of the chunk
    home_ip: np.ndarray  # index into ips
    ips: np.ndarray  # IP pool of the chunk: homes, then carrier NAT, then hosting/VPN
    ip_country: np.ndarray
    nat_start: int
    hosting_start: int
    referrer: np.ndarray  # user_id of the referrer or -1

    @property
    def n(self) -> int:
        return len(self.user_id)

    def device_of(self, rng: np.random.Generator, users: np.ndarray) -> np.ndarray:
        """A device the user owns, for each event of ``users``."""
        return self.device_start[users] + (rng.random(len(users)) * self.device_count[users]).astype(np.int64)

    def new_devices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Fresh devices nobody used before; returns their indices in ``devices``."""
        start = len(self.devices)
        self.devices = np.concatenate([self.devices, hex_ids(rng, n)])
        return np.arange(start, start + n)

    def nat_ip(self, rng: np.random.Generator, countries: np.ndarray) -> np.ndarray:
        """A carrier-NAT IP of each given country (many users share these)."""
        per_country = (self.hosting_start - self.nat_start) // len(geo.CODES)
        return self.nat_start + countries * per_country + rng.integers(0, per_country, len(countries))

    def hosting_ip(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(self.hosting_start, len(self.ips), n)


def build_population(rng: np.random.Generator, cfg: SimConfig, first_user: int, n: int) -> Population:
    user_id = np.arange(first_user, first_user + n, dtype=np.int64) + 1
    kind = rng.choice(len(KINDS), size=n, p=KIND_SHARE / KIND_SHARE.sum())
    country = rng.choice(len(geo.CODES), size=n, p=geo.WEIGHT)
    # 75 % existed before the window (up to 3 years), the rest sign up during it
    old = rng.random(n) < 0.75
    signup = np.where(old, cfg.t0 - (rng.random(n) * 1095 * DAY).astype(np.int64),
                      cfg.t0 + (rng.random(n) * cfg.days * DAY).astype(np.int64))
    activity = _SESSION_RATE[kind] * rng.lognormal(0.0, 0.8, n)
    wealth = _WEALTH[kind] * rng.lognormal(0.0, 1.1, n)
    risk_appetite = rng.beta(2.0, 3.0, n)
    risk_appetite[kind == WHALE] = rng.beta(3.0, 2.0, int((kind == WHALE).sum()))
    alpha = np.stack([np.full(n, 2.0), 1.0 + 2 * (1 - risk_appetite), 0.3 + 3 * risk_appetite, np.full(n, 1.0)], 1)
    preference = np.vstack([rng.dirichlet(a) for a in alpha]) if n else np.zeros((0, 4))
    trader = (rng.random(n) < 0.55) | (kind == WHALE) | (kind == MARKET_MAKER)
    trader &= kind != IDLE

    device_count = 1 + rng.poisson(0.4, n) + 2 * (kind == TRAVELLER) + 3 * (kind == MARKET_MAKER)
    device_start = np.concatenate([[0], np.cumsum(device_count)[:-1]]).astype(np.int64)
    devices = hex_ids(rng, int(device_count.sum()))

    # households: consecutive household users share one home IP (2-4 people)
    home = np.arange(n)
    hh = np.flatnonzero(kind == HOUSEHOLD)
    if len(hh):
        group_start = hh[:: 3]
        home[hh] = group_start[np.searchsorted(group_start, hh, side="right") - 1]
    homes = ipv4(rng, n)
    nat_per_country = max(20, n // 200)
    nat = ipv4(rng, nat_per_country * len(geo.CODES))
    hosting = ipv4(rng, max(50, n // 500))
    ips = np.concatenate([homes, nat, hosting])
    ip_country = np.concatenate([country, np.repeat(np.arange(len(geo.CODES)), nat_per_country),
                                 rng.choice(geo.HOSTING, len(hosting))])
    referred = rng.random(n) < 0.15
    referrer = np.where(referred, user_id[rng.integers(0, n, n)], -1)
    referrer[referrer == user_id] = -1
    return Population(user_id, kind, country, signup, activity, wealth, risk_appetite, preference, trader,
                      device_start, device_count, devices, home, ips, ip_country, n, n + len(nat),
                      referrer)
