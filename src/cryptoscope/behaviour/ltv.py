"""Expected lifetime value: a Cox survival model of time to dormancy times each user's fee rate.

Value is the exchange's trading fee on the user's volume (``FEE_RATE``). Survival: from a cut-off,
a user "dies" at their last session before a gap of ``GAP_DAYS`` without one; users still active
near the end of the data are censored. The Cox model (statsmodels ``PHReg``; lifelines pins
pandas < 3, which this project has moved past) gives each user a survival curve; the expected
active days over a horizon are the area under it, and value = daily fee rate x those days. A
LightGBM regressor on the same features, predicting the realized fee value directly, is the
baseline; both are judged on a later cut-off's realized value (mean absolute error, by segment).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd
from statsmodels.duration.hazard_regression import PHReg
from threadpoolctl import threadpool_limits

FEE_RATE = 0.001
GAP_DAYS = 14
#: the Cox fit's cost grows with rows x event times; a sample this size gives the same curves to a few %
COX_ROWS = 4_000
COX_FEATURES = ("activity", "countries", "deposit_size", "log_volume", "log_tenure", "log_since_active")


def _covariates(frame: pd.DataFrame) -> pd.DataFrame:
    # not the API share: API market makers never go dormant, so its coefficient runs off to -inf
    out = frame[["activity", "countries", "deposit_size"]].astype(float).copy()
    out["log_volume"] = np.log1p(frame["volume_usd_30d"].astype(float))
    out["log_tenure"] = np.log1p(frame["tenure_days"].astype(float))
    out["log_since_active"] = np.log1p(frame["since_active_90d"].astype(float).fillna(90 * 86_400) / 86_400)
    return out[list(COX_FEATURES)]


def durations(con: Any, cutoffs: list[dt.datetime], end: dt.datetime) -> pd.DataFrame:
    """(user_id, decision_time, duration_days, event) of time to dormancy after each cut-off."""
    s = con.table("sessions")
    s = s.filter(s.success & (s.event_time >= ibis.literal(min(cutoffs)))).select("user_id", "event_time")
    ev = s.to_pyarrow().to_pandas().sort_values(["user_id", "event_time"])
    ev["t"] = ev["event_time"].astype("datetime64[us, UTC]").astype("int64") / 86_400e6
    end_d = pd.Timestamp(end).value / 86_400e9
    parts = []
    for c in cutoffs:
        c_d = pd.Timestamp(c).value / 86_400e9
        after = ev[ev["t"] >= c_d]
        nxt = after.groupby("user_id")["t"].shift(-1).fillna(end_d + GAP_DAYS)
        gap = (nxt - after["t"]) >= GAP_DAYS
        first = after[gap & (after["t"] + GAP_DAYS <= end_d)].groupby("user_id")["t"].min()
        out = pd.DataFrame({"user_id": after["user_id"].unique()})
        out["last"] = out["user_id"].map(first)
        out["event"] = out["last"].notna().astype(int)
        out["duration_days"] = (out["last"].fillna(end_d) - c_d).clip(lower=0.5)
        out["decision_time"] = pd.Timestamp(c)
        parts.append(out.drop(columns="last"))
    return pd.concat(parts, ignore_index=True)


def realized_value(con: Any, start: dt.datetime, end: dt.datetime) -> pd.Series:
    """Fees each user paid on trades (as buyer or seller) in [start, end), by user_id."""
    t = con.table("trades")
    t = t.filter((t.event_time >= ibis.literal(start)) & (t.event_time < ibis.literal(end)))
    sides = t.select(user_id=t.buyer_user_id, usd=t.amount_usd).union(
        t.select(user_id=t.seller_user_id, usd=t.amount_usd), distinct=False)
    got = sides.group_by("user_id").aggregate(usd=sides.usd.sum()).to_pyarrow().to_pandas()
    return got.set_index("user_id")["usd"] * FEE_RATE


@dataclass
class SurvivalValue:
    """A fitted Cox model and its baseline, to turn features into expected active days and value."""

    params: np.ndarray
    mean: np.ndarray
    times: np.ndarray
    base_cumhaz: np.ndarray

    def expected_days(self, frame: pd.DataFrame, horizon_days: float) -> np.ndarray:
        """Area under each user's survival curve up to ``horizon_days``; past the data, a constant hazard."""
        x = _covariates(frame).to_numpy(dtype=float) - self.mean
        risk = np.exp(np.nan_to_num(x) @ self.params)
        grid = np.linspace(0.0, horizon_days, 200)
        last_t = float(self.times[-1]) if len(self.times) else 1.0
        last_h = float(self.base_cumhaz[-1]) if len(self.base_cumhaz) else 0.0
        inside = np.interp(np.minimum(grid, last_t), self.times, self.base_cumhaz, left=0.0)
        cumhaz = np.where(grid <= last_t, inside, last_h + (grid - last_t) * last_h / max(last_t, 1e-9))
        surv = np.exp(-np.outer(risk, cumhaz))
        return np.asarray(np.trapezoid(surv, grid, axis=1))

    def value(self, frame: pd.DataFrame, horizon_days: float) -> np.ndarray:
        return daily_fee(frame) * self.expected_days(frame, horizon_days)


def daily_fee(frame: pd.DataFrame) -> np.ndarray:
    """The user's fee per day over the last 30 days: the value rate while they stay."""
    return np.asarray(frame["volume_usd_30d"].astype(float).fillna(0.0) * FEE_RATE / 30.0)


def fit_survival(frame: pd.DataFrame) -> SurvivalValue:
    """Cox proportional hazards on ``frame`` (with duration_days and event columns)."""
    x = _covariates(frame)
    mean = np.nanmean(x.to_numpy(dtype=float), axis=0)
    xc = np.nan_to_num(x.to_numpy(dtype=float) - mean)
    model = PHReg(frame["duration_days"].to_numpy(float), xc, status=frame["event"].to_numpy(int), ties="efron")
    with threadpool_limits(1):
        result = model.fit(disp=False, maxiter=40)
    times, cumhaz, _ = model.baseline_cumulative_hazard(result.params)[0]
    return SurvivalValue(np.asarray(result.params), mean, np.asarray(times, float), np.asarray(cumhaz, float))


def evaluate_value(con: Any, frame: pd.DataFrame, train_cutoffs: list[dt.datetime], test_cutoff: dt.datetime,
                   end: dt.datetime, seed: int = 0) -> tuple[SurvivalValue, pd.DataFrame, dict[str, Any]]:
    """Fit on the train cut-offs, predict the value over the test cut-off's remaining days, beside LightGBM.

    Returns the survival model, the test rows with ``value_survival``, ``value_gbm`` and ``value_true``,
    and the mean absolute errors overall and by segment name (when the frame has ``segment_name``).
    """
    import lightgbm as lgb

    horizon = (pd.Timestamp(end) - pd.Timestamp(test_cutoff)).days
    dur = durations(con, [*train_cutoffs, test_cutoff], end)
    dur["decision_time"] = pd.to_datetime(dur["decision_time"], utc=True)
    rows = frame.merge(dur, on=["user_id", "decision_time"], how="inner")
    train = rows[rows["decision_time"] < pd.Timestamp(test_cutoff)].copy()
    test = rows[rows["decision_time"] == pd.Timestamp(test_cutoff)].copy()
    # survival times of the train cut-offs are censored at the test cut-off: nothing later is known then
    limit = (pd.Timestamp(test_cutoff) - train["decision_time"]).dt.total_seconds() / 86_400
    train["event"] = np.where(train["duration_days"] > limit, 0, train["event"])
    train["duration_days"] = np.minimum(train["duration_days"], limit)
    survival = fit_survival(train.sample(min(len(train), COX_ROWS), random_state=seed))
    for c in train_cutoffs:
        stop = min(pd.Timestamp(c) + pd.Timedelta(days=horizon), pd.Timestamp(test_cutoff))
        got = realized_value(con, c, stop.to_pydatetime())
        at = train["decision_time"] == pd.Timestamp(c)
        train.loc[at, "value_true"] = train.loc[at, "user_id"].map(got).fillna(0.0).to_numpy()
    test["value_true"] = test["user_id"].map(realized_value(con, test_cutoff, end)).fillna(0.0).to_numpy()
    x_cols = [*_covariates(train).columns, "volume_usd_30d", "trades_30d", "sessions_30d"]
    gbm = lgb.LGBMRegressor(n_estimators=300, learning_rate=0.05, num_leaves=15, min_child_samples=50,
                            random_state=seed, n_jobs=1, verbose=-1)
    gbm.fit(_gbm_x(train, x_cols), train["value_true"].fillna(0.0))
    test["value_survival"] = survival.value(test, horizon)
    test["value_gbm"] = np.maximum(gbm.predict(_gbm_x(test, x_cols)), 0.0)
    return survival, test, value_errors(test)


def _gbm_x(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return pd.concat([_covariates(frame), frame[["volume_usd_30d", "trades_30d", "sessions_30d"]]], axis=1)[cols]


def value_errors(test: pd.DataFrame) -> dict[str, Any]:
    """Mean absolute error of both value models, overall and per segment, with the mean realized value."""
    def mae(part: pd.DataFrame) -> dict[str, float]:
        return {"users": len(part), "mean_value_usd": float(part["value_true"].mean()),
                "mae_survival": float((part["value_survival"] - part["value_true"]).abs().mean()),
                "mae_gbm": float((part["value_gbm"] - part["value_true"]).abs().mean())}
    out: dict[str, Any] = {"all": mae(test)}
    if "segment_name" in test:
        out["by_segment"] = {str(k): mae(g) for k, g in test.groupby("segment_name")}
    return out
