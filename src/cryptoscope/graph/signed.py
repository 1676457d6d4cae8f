"""Who-rates-whom trust networks (e.g. Bitcoin OTC): read them, and rank users by risk from the graph alone.

Rankers (higher = riskier), none of which sees a fraud label:

- ``fairness_goodness``: the iterative fairness × goodness of Kumar et al. (ICDM 2016), re-implemented
  from the paper's description: a user's goodness is the fairness-weighted mean rating received, a
  rater's fairness is how close its ratings are to the goodness of those it rates. Risk = -goodness.
- ``node_features`` + the ensemble of detectors (`cryptoscope.anomaly`) over them.
- the baselines: minus the mean rating received, and the share of negative ratings received.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from cryptoscope.errors import ValidationError


def read_signed(path: str | os.PathLike[str]) -> pd.DataFrame:
    """``source,target,rating,time`` lines (SNAP's format, no header) as a frame; bad lines are named."""
    p = Path(path)
    frame = pd.read_csv(p, header=None, names=["source", "target", "rating", "time"], dtype=str)
    for col in ("source", "target", "rating", "time"):
        num = pd.to_numeric(frame[col], errors="coerce")
        bad = num.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValidationError(f"not a number: {frame[col].iloc[row]!r}", file=str(p), row=row + 1,
                                  line=row + 1, column=col)
        frame[col] = num.astype("int64") if col != "rating" else num.astype(float)
    return frame


def read_labels(path: str | os.PathLike[str]) -> pd.Series:
    """REV2 ground truth ``user,label`` (-1 fraudulent, +1 benign) as user -> 1 (fraud) / 0 (benign)."""
    frame = pd.read_csv(path, header=None, names=["user", "label"])
    bad = ~frame["label"].isin([-1, 1])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValidationError("label must be -1 or +1", file=str(path), row=row + 1, line=row + 1, column="label")
    return pd.Series((frame["label"] == -1).astype(int).to_numpy(), index=frame["user"].astype("int64"))


def fairness_goodness(edges: pd.DataFrame, *, scale: float = 10.0, iterations: int = 100, tol: float = 1e-9
                      ) -> pd.Series:
    """Goodness per rated user in [-1, 1] (higher = more trusted)."""
    src, dst = edges["source"].to_numpy(), edges["target"].to_numpy()
    w = edges["rating"].to_numpy() / scale
    users = np.union1d(src, dst)
    si, di = np.searchsorted(users, src), np.searchsorted(users, dst)
    n = len(users)
    fair, good = np.ones(n), np.zeros(n)
    in_count = np.maximum(np.bincount(di, minlength=n), 1)
    out_count = np.maximum(np.bincount(si, minlength=n), 1)
    for _ in range(iterations):
        new_good = np.bincount(di, weights=fair[si] * w, minlength=n) / in_count
        new_fair = 1.0 - np.bincount(si, weights=np.abs(w - new_good[di]), minlength=n) / (2 * out_count)
        delta = np.abs(new_good - good).sum() + np.abs(new_fair - fair).sum()
        good, fair = new_good, new_fair
        if delta < tol:
            break
    return pd.Series(good, index=users, name="goodness")


def node_features(edges: pd.DataFrame) -> pd.DataFrame:
    """Per user: ratings given and received, their means, negative shares, distinct partners, activity span."""
    inc = edges.groupby("target")
    out = edges.groupby("source")
    frame = pd.DataFrame({
        "in_count": inc.size(), "in_mean": inc["rating"].mean(), "in_min": inc["rating"].min(),
        "in_negative_share": inc["rating"].agg(lambda r: float((r < 0).mean())),
        "out_count": out.size(), "out_mean": out["rating"].mean(),
        "out_negative_share": out["rating"].agg(lambda r: float((r < 0).mean())),
    })
    times = pd.concat([edges[["source", "time"]].rename(columns={"source": "user"}),
                       edges[["target", "time"]].rename(columns={"target": "user"})])
    span = times.groupby("user")["time"].agg(lambda t: (t.max() - t.min()) / 86400)
    frame["active_days"] = span.reindex(frame.index)
    return frame.fillna({"in_count": 0, "out_count": 0}).sort_index()
