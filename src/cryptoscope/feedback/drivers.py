"""What drives satisfaction: effect sizes with confidence intervals, importance vs performance, topic growth.

Effects come from an ordinary least-squares regression of the score (ticket CSAT 1-5, or NPS 0-10) on what
the user went through (see `experience.py`) with controls (channel, language, segment, account age,
deposits), with heteroscedasticity-robust (HC3) intervals, and a second interval from a bootstrap that
resamples users (a user's tickets move together), so one noisy user cannot make an effect. Every effect
gets a verdict in words: "strong" only when both intervals exclude zero and at least 30 scored tickets
had that experience; otherwise it says why the evidence is weak. Effects are associations in observational
data: the controls remove the obvious confounders, not all of them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from cryptoscope.errors import CryptoscopeError
from cryptoscope.feedback.classify import single_blas
from cryptoscope.feedback.experience import EXPERIENCES, describe

BOOTSTRAP = 300
MIN_EXPOSED = 30
ALPHA = 0.05
_SEED = 0
CONTROLS_CAT = ("channel", "language", "segment")
CONTROLS_NUM = ("log_tenure_days", "log_deposits_usd")


@dataclass(frozen=True)
class Effect:
    driver: str
    meaning: str
    effect: float
    ci_low: float
    ci_high: float
    boot_low: float
    boot_high: float
    p_value: float
    exposed: int
    mean_exposed: float | None
    mean_other: float | None
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DriverResult:
    outcome: str
    n: int
    r2: float
    effects: list[Effect]
    controls: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "n": self.n, "r2": self.r2, "controls": self.controls,
                "effects": [e.to_dict() for e in self.effects]}


def _design(frame: pd.DataFrame, drivers: list[str]) -> pd.DataFrame:
    """Drivers, numeric controls and one-hot categorical controls (first level dropped), plus a constant."""
    cats = [c for c in CONTROLS_CAT if c in frame and frame[c].nunique() > 1]
    x = pd.concat([frame[drivers + [c for c in CONTROLS_NUM if c in frame]].astype(float),
                   pd.get_dummies(frame[cats].astype(str), drop_first=True, dtype=float)], axis=1)
    x = x.loc[:, x.std(ddof=0) > 0]
    return sm.add_constant(x, has_constant="add")


def _bootstrap(x: np.ndarray, y: np.ndarray, users: np.ndarray, reps: int) -> np.ndarray:
    """Coefficients over ``reps`` resamples of users (cluster bootstrap): a user drawn k times weighs k."""
    rng = np.random.default_rng(_SEED)
    _, inverse = np.unique(users, return_inverse=True)
    n_users = int(inverse.max()) + 1
    out = np.empty((reps, x.shape[1]))
    for b in range(reps):
        w = np.bincount(rng.integers(0, n_users, n_users), minlength=n_users)[inverse].astype(float)
        xw = x * w[:, None]
        out[b] = np.linalg.lstsq(xw.T @ x, xw.T @ y, rcond=None)[0]
    return out


def _verdict(low: float, high: float, blow: float, bhigh: float, exposed: int) -> str:
    if exposed < MIN_EXPOSED:
        return f"weak: only {exposed} scored answers had it"
    if low > 0 or high < 0:
        if blow > 0 or bhigh < 0:
            return "strong"
        return "weak: the bootstrap interval includes 0"
    return "weak: the interval includes 0 (no clear effect)"


def estimate(frame: pd.DataFrame, outcome: str, drivers: list[str], reps: int = BOOTSTRAP) -> DriverResult:
    """Regress ``outcome`` on ``drivers`` + controls for the rows where the outcome was given."""
    data = frame[frame[outcome].notna()].reset_index(drop=True)
    drivers = [d for d in drivers if d in data and data[d].std(ddof=0) > 0]
    if len(data) < 30 or not drivers:
        raise CryptoscopeError(f"too little data to estimate drivers of {outcome}: {len(data)} scored rows")
    x = _design(data, drivers)
    y = data[outcome].astype(float).to_numpy()
    with single_blas():
        fit = sm.OLS(y, x.to_numpy()).fit(cov_type="HC3")
        boot = _bootstrap(x.to_numpy(), y, data["user_id"].to_numpy(), reps)
    ci = np.asarray(fit.conf_int(ALPHA))
    effects = []
    for name in drivers:
        j = list(x.columns).index(name)
        blow, bhigh = np.quantile(boot[:, j], [ALPHA / 2, 1 - ALPHA / 2])
        binary = set(np.unique(data[name]).tolist()) <= {0, 1}
        exposed = int(data[name].sum()) if binary else len(data)
        mean_in = float(y[data[name] == 1].mean()) if binary and exposed else None
        mean_out = float(y[data[name] == 0].mean()) if binary else None
        effects.append(Effect(name, describe(name), float(fit.params[j]), float(ci[j, 0]), float(ci[j, 1]),
                              float(blow), float(bhigh), float(fit.pvalues[j]), exposed, mean_in, mean_out,
                              _verdict(ci[j, 0], ci[j, 1], blow, bhigh, exposed)))
    effects.sort(key=lambda e: e.effect)
    controls = [c for c in x.columns if c not in drivers and c != "const"]
    return DriverResult(outcome, len(data), float(fit.rsquared), effects, controls)


def csat_drivers(tickets: pd.DataFrame, reps: int = BOOTSTRAP) -> DriverResult:
    """Ticket CSAT on the author's experiences in the week before and on how long resolution took."""
    frame = tickets.copy()
    frame["log_resolution_days"] = np.log1p(frame["resolution_hours"].astype(float) / 24)
    frame = frame[frame["log_resolution_days"].notna()]
    return estimate(frame, "csat", [*EXPERIENCES, "log_resolution_days"], reps)


def nps_drivers(surveys: pd.DataFrame, reps: int = BOOTSTRAP) -> DriverResult:
    """NPS on the answerer's experiences in the 30 days before and on whether they needed support."""
    return estimate(surveys, "nps", [*EXPERIENCES, "ticket_before"], reps)


def importance_performance(tickets: pd.DataFrame, by: str = "category", reps: int = BOOTSTRAP) -> pd.DataFrame:
    """Per group (category or topic): volume, current CSAT (performance), and what it costs the whole inbox
    (importance = share x CSAT gap to the other tickets), with a bootstrap interval on the gap."""
    data = tickets[tickets["csat"].notna()].reset_index(drop=True)
    y = data["csat"].astype(float).to_numpy()
    groups = data[by].astype(str).to_numpy()
    rng = np.random.default_rng(_SEED)
    rows = []
    for g in sorted(set(groups.tolist())):
        inside, outside = y[groups == g], y[groups != g]
        if not len(outside):
            continue
        gaps = [rng.choice(outside, len(outside)).mean() - rng.choice(inside, len(inside)).mean()
                for _ in range(reps)]
        low, high = np.quantile(gaps, [ALPHA / 2, 1 - ALPHA / 2])
        share = (tickets[by].astype(str) == g).mean()
        gap = float(outside.mean() - inside.mean())
        rows.append({by: g, "tickets": int((tickets[by].astype(str) == g).sum()), "share": float(share),
                     "scored": len(inside), "csat": float(inside.mean()), "gap": gap, "gap_low": float(low),
                     "gap_high": float(high), "importance": float(share * gap)})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    median_share = frame["share"].median()
    frame["action"] = np.where(frame["gap_low"] > 0,
                               np.where(frame["share"] >= median_share, "fix first", "fix (smaller volume)"),
                               np.where(frame["gap_high"] < 0, "strength: keep", "no clear difference"))
    return frame.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
