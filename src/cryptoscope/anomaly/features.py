"""Behaviour features per user at one time, from the shared feature views (no features of our own).

Every user-keyed view (logins, security changes, payments, chain transfers, trading, orders) is
computed at ``as_of`` for every account opened before it, through `cryptoscope.features.offline`,
so the detectors see exactly what the risk models see and nothing from after ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd

from cryptoscope.features.offline import point_in_time
from cryptoscope.features.views import VIEWS

#: Windows the detectors read: a weekly run looks at the last day, week and month.
WINDOWS = ("24h", "7d", "30d")


def user_views() -> list[Any]:
    return [v for v in VIEWS.values() if v.entity == "user"]


def behaviour_features(backend: Any, as_of: dt.datetime) -> pd.DataFrame:
    """One row per account opened before ``as_of`` (index user_id), one column per behaviour feature."""
    views = user_views()
    accounts = backend.table("accounts")
    spine = accounts.filter(accounts.event_time < as_of).select("user_id", signup="event_time").mutate(
        decision_time=ibis.literal(as_of, type="timestamp('UTC')"))
    frame = point_in_time(backend, views, spine).to_pandas()
    keep = [c for c in frame.columns if c not in ("user_id", "signup", "decision_time") and _wanted(c)]
    out = frame.set_index("user_id")[keep].astype(float)
    # nothing happened in the window: counts and shares are 0, "time since" is longer than the window
    since = [c for c in keep if c.startswith("since_")]
    out[since] = out[since].fillna(60 * 86400.0)
    out = out.fillna(0.0)
    # two views may name a feature alike (user_payments and user_chain both have deposit_usd_*): Ibis
    # suffixes the later one with "_right"; name it after the view instead
    later = {c: _owner(c.removesuffix("_right"), views) for c in out.columns if c.endswith("_right")}
    out = out.rename(columns=later)
    age = (pd.Timestamp(as_of) - pd.to_datetime(frame["signup"], utc=True)).dt.total_seconds() / 86400
    out["account_age_days"] = age.to_numpy()
    return out.sort_index()


def _owner(column: str, views: list[Any]) -> str:
    owners = [v.name for v in views if column in v.feature_names()]
    return f"{owners[-1]}.{column}" if owners else f"{column}.2"


def _wanted(column: str) -> bool:
    """Windowed columns of the detection windows, and every derived column."""
    parts = column.removesuffix("_right").rsplit("_", 1)
    return len(parts) < 2 or parts[1] in WINDOWS or not any(parts[1].endswith(u) for u in ("h", "d"))
