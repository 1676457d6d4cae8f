"""Topic trends: weekly volumes, and which topic grew this week compared with the week before.

A topic "grew" when its share of all feedback in the last 7 days is higher than in the 7 days before,
judged by Fisher's exact test on the 2x2 table (this topic vs the rest, this week vs last week), with
Benjamini-Hochberg q-values across topics, because testing a dozen topics every week would otherwise
raise a false alarm most weeks. A change is called significant only at q < 0.05 and with at least
5 items this week; everything else is reported as within noise, with its numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests

Q_LEVEL = 0.05
MIN_THIS_WEEK = 5


@dataclass(frozen=True)
class Growth:
    topic: str
    this_week: int
    last_week: int
    share_this: float
    share_last: float
    ratio: float | None
    p_value: float
    q_value: float
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def weekly_counts(times: pd.Series, topics: pd.Series) -> pd.DataFrame:
    """Items per topic (columns) and week starting Monday (rows, UTC)."""
    t = pd.to_datetime(times, utc=True).dt.tz_localize(None)
    week = t.dt.to_period("W-SUN").dt.start_time
    return pd.crosstab(week, topics.astype(str)).sort_index()


def _verdict(row: dict[str, Any]) -> str:
    if row["this_week"] < MIN_THIS_WEEK:
        return "too few items this week to tell"
    if row["q_value"] < Q_LEVEL:
        return "grew significantly" if row["share_this"] > row["share_last"] else "fell significantly"
    return "change within noise"


def topic_growth(times: pd.Series, topics: pd.Series, end: pd.Timestamp | None = None) -> list[Growth]:
    """Last 7 days up to ``end`` (default: the latest item) against the 7 days before, per topic."""
    t = pd.to_datetime(times, utc=True)
    end = pd.Timestamp(end) if end is not None else t.max()
    if end.tzinfo is None:
        end = end.tz_localize("UTC")
    this = (t > end - pd.Timedelta(days=7)) & (t <= end)
    last = (t > end - pd.Timedelta(days=14)) & (t <= end - pd.Timedelta(days=7))
    n_this, n_last = int(this.sum()), int(last.sum())
    labels = topics.astype(str)
    rows = []
    for topic in sorted(set(labels[this | last].tolist())):
        a, b = int((this & (labels == topic)).sum()), int((last & (labels == topic)).sum())
        p = float(fisher_exact([[a, n_this - a], [b, n_last - b]])[1]) if n_this and n_last else 1.0
        share_a, share_b = a / max(n_this, 1), b / max(n_last, 1)
        rows.append({"topic": topic, "this_week": a, "last_week": b, "share_this": round(share_a, 4),
                     "share_last": round(share_b, 4), "ratio": round(share_a / share_b, 3) if share_b else None,
                     "p_value": p})
    if not rows:
        return []
    q = multipletests([r["p_value"] for r in rows], method="fdr_bh")[1]
    out = [Growth(**r, q_value=float(qv), verdict=_verdict({**r, "q_value": float(qv)}))  # type: ignore[arg-type]
           for r, qv in zip(rows, q, strict=True)]
    return sorted(out, key=lambda g: (g.q_value, -g.this_week))

