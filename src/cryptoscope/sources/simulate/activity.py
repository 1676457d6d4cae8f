"""Logins and security changes of ordinary users, travellers and households included."""

from __future__ import annotations

import numpy as np

from cryptoscope.sources.simulate import geo
from cryptoscope.sources.simulate.clock import after, user_events
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.frames import Frames, ts
from cryptoscope.sources.simulate.population import MARKET_MAKER, TRAVELLER, Population
from cryptoscope.sources.simulate.strings import hex_ids, take

USER_AGENTS = np.array([
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "CryptoscopeExchange/5.12.1 (iPhone; iOS 17.4.1)",
    "CryptoscopeExchange/5.12.0 (Android 14; SM-S918B)",
    "CryptoscopeExchange/5.11.3 (Android 13; Redmi Note 12)",
    "python-requests/2.31.0",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/123.0 Mobile Safari/537.36",
], dtype=object)
CHANNELS = np.array(["web", "web", "web", "ios", "android", "android", "api", "web"], dtype=object)


def user_agent_of(device: np.ndarray, api: np.ndarray) -> np.ndarray:
    """A device keeps its user agent; only API clients look like scripts (index 6)."""
    ua = np.asarray(device) % 7
    ua = np.where(ua == 6, 7, ua)
    return np.where(api, 6, ua)


def add_sessions(frames: Frames, rng: np.random.Generator, pop: Population, users: np.ndarray, times: np.ndarray,
                 devices: np.ndarray, ips: np.ndarray, success: np.ndarray, used_2fa: np.ndarray) -> np.ndarray:
    """Write login rows and return their ids (other events refer to them)."""
    ids = frames.ids("sessions", len(users))
    api = pop.kind[users] == MARKET_MAKER
    ua = user_agent_of(devices, api)
    frames.add("sessions", session_id=ids, user_id=pop.user_id[users], event_time=ts(times),
               device_id=take(pop.devices, devices), ip=take(pop.ips, ips),
               ip_country=take(geo.CODES, pop.ip_country[ips]), user_agent=take(USER_AGENTS, ua),
               channel=take(CHANNELS, ua), success=success, used_2fa=used_2fa)
    return ids


def normal_sessions(frames: Frames, rng: np.random.Generator, cfg: SimConfig, pop: Population) -> None:
    users, times = user_events(rng, cfg, pop, pop.activity)
    n = len(users)
    devices = pop.device_of(rng, users)
    where = rng.random(n)
    ips = np.where(where < 0.65, pop.home_ip[users], pop.nat_ip(rng, pop.country[users]))
    # travellers log in from abroad a third of the time, sometimes on a borrowed or new device
    abroad = (pop.kind[users] == TRAVELLER) & (rng.random(n) < 0.33)
    foreign = rng.choice(len(geo.CODES), size=n, p=geo.WEIGHT)
    ips = np.where(abroad, pop.nat_ip(rng, foreign), ips)
    new_dev = abroad & (rng.random(n) < 0.1)
    if new_dev.any():
        devices[new_dev] = pop.new_devices(rng, int(new_dev.sum()))
    has_2fa = rng.random(pop.n) < 0.6
    success = rng.random(n) > 0.03
    add_sessions(frames, rng, pop, users, times, devices, ips, success, has_2fa[users])
    # a failed attempt is usually followed by a success a minute later
    retry = ~success & (rng.random(n) < 0.8)
    add_sessions(frames, rng, pop, users[retry], after(rng, times[retry], 20, 300), devices[retry], ips[retry],
                 np.ones(int(retry.sum()), dtype=bool), has_2fa[users][retry])
    normal_changes(frames, rng, cfg, pop)


_CHANGE_TYPES = np.array(["password", "email", "phone", "2fa_enabled", "2fa_disabled", "api_key_created",
                          "withdrawal_whitelist_added"], dtype=object)
_CHANGE_P = np.array([0.4, 0.08, 0.05, 0.15, 0.03, 0.17, 0.12])


def normal_changes(frames: Frames, rng: np.random.Generator, cfg: SimConfig, pop: Population) -> None:
    """Legitimate security changes: rare, but they happen right before withdrawals too."""
    rate = np.full(pop.n, 0.004) + 0.02 * (pop.kind == MARKET_MAKER)
    users, times = user_events(rng, cfg, pop, rate)
    kinds = rng.choice(len(_CHANGE_TYPES), size=len(users), p=_CHANGE_P)
    add_changes(frames, rng, pop, users, times, kinds, pop.device_of(rng, users), pop.home_ip[users])


def add_changes(frames: Frames, rng: np.random.Generator, pop: Population, users: np.ndarray, times: np.ndarray,
                kinds: np.ndarray, devices: np.ndarray, ips: np.ndarray) -> None:
    n = len(users)
    frames.add("account_changes", change_id=frames.ids("account_changes", n), user_id=pop.user_id[users],
               event_time=ts(times), change_type=take(_CHANGE_TYPES, kinds), device_id=take(pop.devices, devices),
               ip=take(pop.ips, ips), new_value_hash=hex_ids(rng, n, 16))
