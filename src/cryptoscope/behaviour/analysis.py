"""One run of the whole behaviour analysis on a lake, on DuckDB or Spark: what every output reads.

Segments are fitted on the last snapshot's 90-day profile and label every monthly snapshot (30-day
features); churn and value use the cut-offs of `churn.plan`; the funnel and patterns read the
event tables. The result feeds the lake tables (`store.py`), the report and ``evaluate``.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.behaviour import churn as churn_mod
from cryptoscope.behaviour import funnel, ltv, patterns
from cryptoscope.behaviour.profiles import profiles
from cryptoscope.behaviour.segments import SegmentModel, fit_segments, refit_agreement, segment_features, transitions
from cryptoscope.behaviour.views import month_ends, snapshots, world_bounds
from cryptoscope.features import engines

#: share of a churned user's value a retention action is assumed to save (a campaign input, not measured)
SAVE_RATE = 0.2
VALUE_HORIZON_DAYS = 365


@dataclass
class Analysis:
    start: dt.datetime
    end: dt.datetime
    model: SegmentModel
    membership: pd.DataFrame  # user_id, decision_time, segment, segment_name, probability
    profiles: pd.DataFrame
    moves: pd.DataFrame
    stability: list[float]
    extras: dict[str, Any] = field(default_factory=dict)


def segment_run(con: Any, seed: int = 0) -> Analysis:
    """Fit segments on the latest snapshot and label every monthly snapshot."""
    start, end = world_bounds(con)
    times = month_ends(start, end) or [end]
    snap = snapshots(con, times)
    last = snap[snap["decision_time"] == snap["decision_time"].max()].reset_index(drop=True)
    profile = segment_features(last, "90d", start)
    model = fit_segments(profile, seed=seed)
    monthly = segment_features(snap, "30d", start)
    probs = model.probabilities(monthly)
    membership = snap[["user_id", "decision_time"]].copy()
    membership["segment"] = probs.argmax(axis=1)
    membership["probability"] = probs.max(axis=1)
    membership["segment_name"] = [model.names[i] for i in membership["segment"]]
    last_labels = pd.Series(model.assign(profile), index=last["user_id"].to_numpy())
    last = last.assign(home_ip_accounts=np.exp(profile["shared_home"]))  # as the model sees it: NAT is no home
    return Analysis(start, end, model, membership, profiles(last, last_labels.to_numpy(), model.names),
                    transitions(membership, model.names), refit_agreement(profile, model),
                    {"profile_labels": last_labels})


def run(lake: Any, engine: str = "duckdb", *, seed: int = 0, horizon_days: int = 28, history_days: int = 14,
        with_patterns: bool = True) -> Analysis:
    """Segments, funnel, patterns, churn, value and retention targeting on one engine.

    ``extras["seconds"]`` holds the wall time of every stage, for the benchmark.
    """
    con = engines.connect(lake, engine)
    clock = _Clock()
    result = segment_run(con, seed)
    clock.lap("segments")
    seg_of = result.extras["profile_labels"].map(lambda i: result.model.names[i])
    users = funnel.funnel_users(con, result.start, result.end)
    result.extras["funnel"] = funnel.funnel_table(users, seg_of)
    clock.lap("funnel")
    plan = churn_mod.plan(result.start, result.end, horizon_days, history_days)
    frame = churn_mod.churn_frame(con, plan, result.start, result.model)
    frame["segment_name"] = [result.model.names[i] for i in frame["segment"]]
    churned = churn_mod.train_churn(frame, plan, seed)
    clock.lap("churn")
    survival, values, errors = ltv.evaluate_value(con, frame, [*plan.train, plan.valid], plan.test, result.end, seed)
    clock.lap("value")
    scored = churned.frame.merge(values[["user_id", "value_true", "value_survival", "value_gbm"]], on="user_id",
                                 how="left")
    scored["expected_value_usd"] = survival.value(scored, VALUE_HORIZON_DAYS)
    scored["value_at_risk_usd"] = scored["p_churn"] * scored["expected_value_usd"]
    scored = scored.sort_values("value_at_risk_usd", ascending=False, kind="stable").reset_index(drop=True)
    scored["retention_rank"] = np.arange(1, len(scored) + 1)
    result.extras.update(plan=plan, churn=churned, scored=scored, value_errors=errors, targeting=targeting(scored))
    if with_patterns:
        result.extras.update(_patterns(con, result, scored, plan))
        clock.lap("patterns")
    result.extras["seconds"] = clock.laps
    return result


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._t, 2)
        self._t = now


def targeting(scored: pd.DataFrame, top: float = 0.05) -> dict[str, float]:
    """Value saved by acting on the top ``top`` share: ranked by value at risk against by churn probability."""
    k = max(1, int(len(scored) * top))
    truth = scored["churned"] * scored["expected_value_usd"] * SAVE_RATE
    by_value = float(truth.iloc[:k].sum())
    by_prob = float(truth.loc[scored["p_churn"].sort_values(ascending=False, kind="stable").index[:k]].sum())
    return {"users_targeted": float(k), "saved_ranked_by_value_usd": by_value, "saved_ranked_by_p_churn_usd": by_prob}


def _patterns(con: Any, result: Analysis, scored: pd.DataFrame, plan: churn_mod.ChurnPlan) -> dict[str, Any]:
    tokens = patterns.event_tokens(con, result.start, result.end)
    seqs = patterns.sequences(tokens)
    before = patterns.sequences(tokens[(tokens["event_time"] < pd.Timestamp(plan.test))
                                      & (tokens["event_time"] >= pd.Timestamp(plan.test) - pd.Timedelta(days=30))])
    seg = scored.set_index("user_id")["segment_name"]
    churners = seg[scored.set_index("user_id")["churned"] == 1]
    normals = patterns.matched_normals(churners, seg.drop(churners.index))
    labels = con.table("labels").filter(lambda t: (t.label == 1) & (t.label_type != "loan_default"))
    labels = labels.select("user_id").distinct().to_pandas()
    abusers = result.extras["profile_labels"].reindex(labels["user_id"].dropna().astype("int64")).dropna()
    others = result.extras["profile_labels"].drop(abusers.index, errors="ignore")
    abuse_normals = patterns.matched_normals(abusers.astype(int), others)
    return {"top_patterns": patterns.frequent_patterns(seqs),
            "churn_patterns": patterns.contrast(before.reindex(churners.index).dropna(),
                                                before.reindex(normals).dropna()),
            "abuse_patterns": patterns.contrast(seqs.reindex(abusers.index).dropna(),
                                                seqs.reindex(abuse_normals).dropna())}
