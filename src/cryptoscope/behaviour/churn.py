"""Churn (dormancy) prediction through the models harness, beside a days-since-last-activity baseline.

A user active in the 30 days before a cut-off churns when they have no successful session in the
``horizon`` days after it. Cut-offs are spaced so that every training label is known before the
test cut-off (train and valid labels end by it): the test period is later in time and unseen.
The model is the harness's LightGBM, early-stopped and isotonic-calibrated on the validation
cut-off, with SHAP reasons; the baseline ranks users by how long ago they were last active.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cryptoscope.behaviour.segments import SegmentModel, segment_features
from cryptoscope.behaviour.views import snapshots
from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import ReasonCatalog, SplitSpec, TrainedModel, pr_auc, roc_auc, train_and_evaluate

DAY = dt.timedelta(days=1)
#: snapshot columns that are identifiers or times, never features
_NOT_FEATURES = ("user_id", "decision_time", "signup_time", "churned", "segment")
REASONS = ReasonCatalog({
    "since_active_*": "last active {value_days:.1f} days before the cut-off",
    "active_days_*": "active on {value:.0f} days in the last {window}",
    "sessions_*": "{value:.0f} sessions in the last {window}",
    "activity": "session rate for their history: log {value:.2f} a day",
    "tenure_days": "account {value:.0f} days old",
    "product_events_*": "{value:.0f} product interactions in the last {window}",
})


@dataclass(frozen=True)
class ChurnPlan:
    """Cut-offs: ``train`` (several), one ``valid`` (calibration, early stop), one later ``test``."""

    train: tuple[dt.datetime, ...]
    valid: dt.datetime
    test: dt.datetime
    horizon: dt.timedelta

    @property
    def all(self) -> list[dt.datetime]:
        return [*self.train, self.valid, self.test]


def plan(start: dt.datetime, end: dt.datetime, horizon_days: int = 28, history_days: int = 14) -> ChurnPlan:
    """Test at the last cut-off whose horizon fits; valid one horizon earlier; train a week apart before it."""
    horizon = horizon_days * DAY
    test = end - horizon
    valid = test - horizon
    train = tuple(t for t in (valid - 14 * DAY, valid - 7 * DAY) if t - start >= history_days * DAY)
    if not train:
        raise CryptoscopeError(f"the lake covers {(end - start).days} days: too few for a {horizon_days}-day churn "
                               f"horizon (need about {3 * horizon_days + history_days})")
    return ChurnPlan(train, valid, test, horizon)


def churn_labels(con: Any, cutoffs: list[dt.datetime], horizon: dt.timedelta) -> pd.DataFrame:
    """(user_id, decision_time, active_after): successful sessions in [cut-off, cut-off + horizon)."""
    s = con.table("sessions")
    s = s.filter(s.success).select("user_id", "event_time")
    parts = []
    for c in cutoffs:
        lo, hi = ibis.literal(c), ibis.literal(c + horizon)
        win = s.filter((s.event_time >= lo) & (s.event_time < hi))
        got = win.group_by("user_id").aggregate(active_after=win.count()).to_pyarrow().to_pandas()
        got["decision_time"] = pd.Timestamp(c)
        parts.append(got)
    return pd.concat(parts, ignore_index=True)


def churn_frame(con: Any, churn_plan: ChurnPlan, world_start: dt.datetime,
                segments: SegmentModel | None = None) -> pd.DataFrame:
    """Users active in the month before each cut-off, their features and whether they churned."""
    snap = snapshots(con, churn_plan.all)
    snap = snap[snap["sessions_30d"] > 0].reset_index(drop=True)
    labels = churn_labels(con, churn_plan.all, churn_plan.horizon)
    labels["decision_time"] = pd.to_datetime(labels["decision_time"], utc=True)
    snap = snap.merge(labels, on=["user_id", "decision_time"], how="left")
    snap["churned"] = snap.pop("active_after").isna().astype(int)
    snap["tenure_days"] = (snap["decision_time"] - pd.to_datetime(snap["signup_time"], utc=True)).dt.days
    seg = segment_features(snap, "30d", world_start)
    snap = pd.concat([snap, seg], axis=1)
    if segments is not None:
        snap["segment"] = segments.assign(seg)
    return snap


def feature_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in _NOT_FEATURES and pd.api.types.is_numeric_dtype(frame[c])]


@dataclass(frozen=True, eq=False)
class ChurnResult:
    model: TrainedModel
    frame: pd.DataFrame  # the test cut-off's rows, with p_churn and recency
    metrics: dict[str, float]
    baseline: dict[str, float]


def train_churn(frame: pd.DataFrame, churn_plan: ChurnPlan, seed: int = 0) -> ChurnResult:
    """Fit on the train cut-offs, calibrate on valid, score the test cut-off beside the recency baseline."""
    feats = feature_columns(frame)
    spec = SplitSpec(train_end=churn_plan.valid, valid_end=churn_plan.test)
    trained = train_and_evaluate(frame, feats, "churned", "decision_time", spec, name="behaviour_churn",
                                 random_state=seed, freq="D")
    test = trained.split.test.copy()
    test["p_churn"] = trained.p_test
    y = test["churned"].to_numpy()
    recency = test["since_active_90d"].fillna(test["since_active_90d"].max()).to_numpy(dtype=float)
    metrics = {"roc_auc": roc_auc(y, trained.p_test), "pr_auc": pr_auc(y, trained.p_test),
               "churn_rate": float(np.mean(y)), "rows": float(len(y))}
    baseline = {"roc_auc": roc_auc(y, recency), "pr_auc": pr_auc(y, recency)}
    return ChurnResult(trained, test.reset_index(drop=True), metrics, baseline)


def churn_reasons(result: ChurnResult, rows: pd.DataFrame, top_k: int = 3) -> list[str]:
    """The top reasons for each row's churn score, in words joined by '; '."""
    explainer = result.model.explainer(REASONS, top_k=top_k)
    return ["; ".join(r.text for r in reasons) for reasons in explainer.reasons(rows[list(result.model.card.features)])]
