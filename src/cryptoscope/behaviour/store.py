"""Write segment membership and churn scores to the lake, atomically and idempotently."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa

from cryptoscope.behaviour.analysis import Analysis
from cryptoscope.lake import Lake


def _day(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts, utc=True).dt.strftime("%Y-%m-%d")


def write_outputs(lake: Lake, result: Analysis, *, seed: int = 0) -> dict[str, int]:
    """Append behaviour_segments and churn_scores in one transaction; returns the new rows per table."""
    now = pd.Timestamp(dt.datetime.now(dt.UTC))
    version = f"gmm{len(result.model.names)}-seed{seed}-{result.end:%Y%m%d}"
    m = result.membership
    seg = pd.DataFrame({
        "membership_id": m["user_id"].astype(str) + ":" + _day(m["decision_time"]), "user_id": m["user_id"],
        "event_time": pd.to_datetime(m["decision_time"], utc=True), "segment_id": m["segment"].astype("int64"),
        "segment_name": m["segment_name"], "probability": m["probability"].astype(float),
        "model_version": version, "computed_at": now})
    written = {"behaviour_segments": 0, "churn_scores": 0}
    with lake.transaction() as tx:
        written["behaviour_segments"] = tx.append("behaviour_segments", pa.Table.from_pandas(seg, preserve_index=False))
        if "scored" in result.extras:
            s = result.extras["scored"]
            plan = result.extras["plan"]
            scores = pd.DataFrame({
                "score_id": s["user_id"].astype(str) + ":" + _day(s["decision_time"]), "user_id": s["user_id"],
                "event_time": pd.to_datetime(s["decision_time"], utc=True), "p_churn": s["p_churn"].astype(float),
                "horizon_days": int(plan.horizon.days), "segment_name": s["segment_name"],
                "expected_value_usd": s["expected_value_usd"].astype(float).clip(lower=0),
                "value_at_risk_usd": s["value_at_risk_usd"].astype(float).clip(lower=0),
                "retention_rank": s["retention_rank"].astype("int64"), "reasons": s.get("reasons", ""),
                "model_version": f"churn-seed{seed}-{result.end:%Y%m%d}", "scored_at": now})
            written["churn_scores"] = tx.append("churn_scores", pa.Table.from_pandas(scores, preserve_index=False))
    return written
