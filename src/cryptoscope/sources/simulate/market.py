"""The market every chunk trades in: hourly prices from a random walk with volatility regimes.

One market per world (drawn from the seed alone), so all chunks see the same prices, and
pump-and-dump campaigns on illiquid symbols are visible as price spikes. A pump's spike is added at
the exact time of each price, not on the hourly grid: interpolating a spike between hourly marks
would start the rise up to an hour before the group's first order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryptoscope.sources.simulate.config import DAY, HOUR, SimConfig

# symbol, start price (USDT), calm hourly vol, liquid
SYMBOLS: tuple[tuple[str, float, float, bool], ...] = (
    ("BTC", 62_000.0, 0.006, True), ("ETH", 3_100.0, 0.008, True), ("SOL", 140.0, 0.012, True),
    ("XRP", 0.55, 0.010, True), ("DOGE", 0.12, 0.015, True), ("ADA", 0.45, 0.011, True),
    ("LINK", 14.0, 0.012, True), ("TRX", 0.12, 0.008, True),
    ("MOONX", 0.042, 0.025, False), ("ZKP", 0.31, 0.022, False), ("PEPE2", 0.0009, 0.03, False),
)
NAMES = np.array([s[0] for s in SYMBOLS])
MARKETS = np.array([f"{s[0]}-USDT" for s in SYMBOLS])
LIQUID = np.array([s[3] for s in SYMBOLS])
ILLIQUID = np.flatnonzero(~LIQUID)
#: how often retail trades each symbol
POPULARITY = np.array([0.3, 0.2, 0.12, 0.08, 0.08, 0.06, 0.05, 0.04, 0.025, 0.02, 0.015])


@dataclass(frozen=True)
class Pump:
    symbol: int
    start: int  # microseconds: the coordinated buying begins
    peak: int  # the group starts dumping
    gain: float  # peak price / pre-pump price


@dataclass(frozen=True)
class Market:
    grid_start: int
    log_price: np.ndarray  # (symbols, hours), pump spikes included (what `min_ratio` reads)
    turbulent: np.ndarray  # (hours,) bool: high-volatility regime
    pumps: tuple[Pump, ...]
    walk: np.ndarray  # (symbols, hours): the random walk alone; `price` adds the spikes at exact times

    def price(self, symbol: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Mid price of each symbol at each time: the walk linear between hourly marks, plus any pump spike."""
        t = np.asarray(t)
        symbol = np.broadcast_to(np.asarray(symbol), t.shape)
        pos = np.clip((t - self.grid_start) / HOUR, 0, self.walk.shape[1] - 1.001)
        i = pos.astype(np.int64)
        w = pos - i
        lp = self.walk[symbol, i] * (1 - w) + self.walk[symbol, i + 1] * w
        for p in self.pumps:
            on = (symbol == p.symbol) & (t >= p.start)
            if on.any():
                lp = lp + np.where(on, np.log(p.gain) * pump_shape(p, t), 0.0)
        return np.asarray(np.exp(lp))

    def is_turbulent(self, t: np.ndarray) -> np.ndarray:
        i = np.clip((np.asarray(t) - self.grid_start) // HOUR, 0, len(self.turbulent) - 1)
        return np.asarray(self.turbulent[i])

    def min_ratio(self, symbol: np.ndarray, t_from: np.ndarray, t_to: np.ndarray) -> np.ndarray:
        """Lowest price in [t_from, t_to] relative to the price at t_from (for liquidations)."""
        out = np.ones(len(symbol))
        a = np.clip((t_from - self.grid_start) // HOUR, 0, self.log_price.shape[1] - 1)
        b = np.clip((t_to - self.grid_start) // HOUR, 0, self.log_price.shape[1] - 1)
        for k in range(len(symbol)):
            seg = self.log_price[symbol[k], a[k]: b[k] + 1]
            out[k] = float(np.exp(seg.min() - seg[0])) if len(seg) else 1.0
        return out


def pump_shape(p: Pump, t: np.ndarray) -> np.ndarray:
    """Share of a pump's log gain in the price at ``t``: 0 before the start, a straight rise to the peak,
    then a fall to 15 % of the gain with a 6-hour decay."""
    rise = np.clip((t - p.start) / max(p.peak - p.start, 1), 0, 1)
    decay = np.exp(-np.clip(t - p.peak, 0, None) / (6 * HOUR))
    return np.asarray(np.where(t < p.peak, rise, 0.15 + 0.85 * decay) * (t >= p.start))


def build_market(cfg: SimConfig) -> Market:
    rng = np.random.default_rng([cfg.seed, 0xA11CE])
    start = cfg.t0 - 30 * DAY
    hours = (cfg.t1 + 400 * DAY - start) // HOUR
    # two-state Markov regime: calm ~ weeks, turbulent ~ days
    switch = rng.random(hours)
    turbulent = np.zeros(hours, dtype=bool)
    state = False
    for h in range(hours):  # a cheap scalar loop: a few thousand steps
        if (not state and switch[h] < 1 / 500) or (state and switch[h] < 1 / 60):
            state = not state
        turbulent[h] = state
    vol = np.array([s[2] for s in SYMBOLS])[:, None] * np.where(turbulent, 3.0, 1.0)[None, :]
    shocks = rng.standard_t(4, size=(len(SYMBOLS), hours)) / np.sqrt(2.0)
    market_factor = rng.standard_t(4, size=hours) / np.sqrt(2.0)
    returns = vol * (0.6 * market_factor[None, :] + 0.8 * shocks)
    log_price = np.log([s[1] for s in SYMBOLS])[:, None] + np.cumsum(returns, axis=1)
    pumps = _pumps(rng, cfg)
    grid_t = start + np.arange(hours) * HOUR
    walk = log_price.copy()
    for p in pumps:
        log_price[p.symbol] += np.log(p.gain) * pump_shape(p, grid_t)
    return Market(start, log_price, turbulent, tuple(pumps), walk)


def _pumps(rng: np.random.Generator, cfg: SimConfig) -> list[Pump]:
    count = max(2, cfg.days // 10)
    out = []
    for _ in range(count):
        start = cfg.t0 + int(rng.uniform(3, cfg.days - 2) * DAY)
        out.append(Pump(int(rng.choice(ILLIQUID)), start, start + int(rng.uniform(0.5, 1.5) * HOUR),
                        float(rng.uniform(1.6, 4.0))))
    return sorted(out, key=lambda p: p.start)
