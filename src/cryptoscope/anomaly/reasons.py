"""Why an alert fired, in words an analyst can check: features against peers, and graph links.

A feature is a reason when the user's value sits in the top ``1 - min_percentile`` of all scored
users (its peers at the same time) and is above their median; the most extreme come first.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd


def peer_percentiles(features: pd.DataFrame) -> pd.DataFrame:
    """Each value's percentile among all rows of its column (ties share the mean rank)."""
    return features.rank(pct=True, method="average")


def feature_reasons(features: pd.DataFrame, pct: pd.DataFrame, median: pd.Series, user: int, *, top: int = 3,
                    min_percentile: float = 0.95) -> list[str]:
    """The user's most extreme features relative to peers, e.g. "withdrawals_7d = 6 (top 0.2 %)"."""
    row = cast(pd.Series, features.loc[user])
    p = cast(pd.Series, pct.loc[user])
    cand = p[(p >= min_percentile) & (row > median) & (row != 0)].sort_values(ascending=False)
    out = []
    for col in cand.index[:top]:
        share = max(1.0 - float(p[col]), 1.0 / len(features))
        out.append(f"{col} = {_fmt(float(row[col]))} (top {100 * share:.2g} % of {len(features):,} users)")
    return out


def graph_reasons(row: pd.Series, ring: pd.Series | None) -> list[str]:
    """Links that make the user stand out: a dense ring sharing instruments, known-bad neighbours."""
    out = []
    if ring is not None and ring["size"] >= 3:
        kinds = [k.removeprefix("shared_") for k in ring.index if k.startswith("shared_") and k not in
                 ("shared_kinds", "shared_entities") and ring[k] > 0]
        out.append(f"ring {int(row['ring_id'])}: {int(ring['size'])} accounts sharing {', '.join(kinds) or 'nothing'} "
                   f"(density {ring['density']:.2f}, {int(ring['known_bad'])} known bad, sign-ups within "
                   f"{ring['signup_span_days']:.0f} days)")
    if row.get("known_bad_neighbours", 0) > 0:
        out.append(f"{int(row['known_bad_neighbours'])} known-bad accounts share an entity with it")
    return out


def _fmt(v: float) -> str:
    if float(v).is_integer():
        return f"{int(v):,}"
    return f"{v:,.2f}" if abs(v) >= 1 else f"{v:.3f}"


def top_by(values: np.ndarray, rate: float) -> np.ndarray:
    """Indices of the top ``rate`` share of values (at least one), highest first."""
    k = max(1, round(rate * len(values)))
    return np.argsort(-values, kind="stable")[:k]
