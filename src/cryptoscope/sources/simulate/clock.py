"""When things happen: weekly and daily seasonality in each user's local time."""

from __future__ import annotations

import numpy as np

from cryptoscope.sources.simulate import geo
from cryptoscope.sources.simulate.config import DAY, HOUR, SimConfig
from cryptoscope.sources.simulate.population import Population

# Monday .. Sunday; crypto never closes but people have weekends
_WEEKLY = np.array([1.0, 1.0, 1.02, 1.03, 1.08, 0.9, 0.85])
# local hour 0..23: quiet nights, a lunch bump, an evening peak
_DIURNAL = np.array([0.5, 0.3, 0.2, 0.15, 0.15, 0.2, 0.4, 0.7, 0.9, 1.0, 1.0, 1.05, 1.15, 1.05, 1.0, 1.0,
                     1.05, 1.1, 1.25, 1.4, 1.5, 1.45, 1.2, 0.8])


def sample_times(rng: np.random.Generator, cfg: SimConfig, tz_hours: np.ndarray) -> np.ndarray:
    """One event time per entry, in microseconds, for users in the given UTC offsets."""
    n = len(tz_hours)
    weekday0 = cfg.start.weekday()
    day_w = _WEEKLY[(weekday0 + np.arange(cfg.days)) % 7]
    day = rng.choice(cfg.days, size=n, p=day_w / day_w.sum())
    local_hour = rng.choice(24, size=n, p=_DIURNAL / _DIURNAL.sum())
    utc_hour = (local_hour - tz_hours) % 24
    within = (rng.random(n) * HOUR).astype(np.int64)
    return np.asarray(cfg.t0 + day * DAY + utc_hour * HOUR + within, dtype=np.int64)


def user_events(rng: np.random.Generator, cfg: SimConfig, pop: Population, rate_per_day: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Poisson events per user over the window, none before the user signed up.

    Returns ``(user index, time)`` arrays sorted by time.
    """
    counts = rng.poisson(np.clip(rate_per_day, 0, None) * cfg.days)
    users = np.repeat(np.arange(pop.n), counts)
    times = sample_times(rng, cfg, geo.TZ[pop.country[users]])
    keep = times >= pop.signup[users]
    users, times = users[keep], times[keep]
    order = np.argsort(times, kind="stable")
    return users[order], times[order]


def after(rng: np.random.Generator, t: np.ndarray, lo_s: float, hi_s: float) -> np.ndarray:
    """Times a log-uniform delay of ``lo_s``..``hi_s`` seconds after ``t``."""
    delay = np.exp(rng.uniform(np.log(lo_s), np.log(hi_s), len(t)))
    return np.asarray(t + (delay * 1e6).astype(np.int64), dtype=np.int64)
