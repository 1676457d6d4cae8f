"""Mules and ring members as a supervised product of the abnormal-user line: who, among the users not yet known
bad, will a mule or ring label name next?

The unit is a user at a snapshot: the entity graph and the behaviour features as of a cut-off (links, labels and
events strictly before it, `cryptoscope.graph.hetero.snapshot`), and a user is bad when a mule or ring label
(`TARGET_LABELS`) about it becomes known within the horizon after the cut-off. Users already known bad at the
cut-off are inputs (their neighbours' known-bad counts, the network's ``known_bad`` flag), never targets.

The time split is three snapshots one horizon apart, ending at the end of the lake (`MulePlan.cuts`): the model
is fitted on the first, calibrated and its thresholds chosen on the second, and judged on the third with the
labels learnt since, which nothing before saw. The figures it is judged by (`ranking_figures`) are precision at
the top 100 (an analyst team's weekly case budget) and ring recall: the share of the graph's rings (Leiden
communities of 3+ accounts) holding a user labelled later that have such a user in the top 100.

>>> cuts = MulePlan(horizon_days=30).cuts(connect(lake))            # doctest: +SKIP
>>> test = labelled_snapshot(lake, connect(lake), cuts[-1])         # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.anomaly.features import behaviour_features
from cryptoscope.errors import CryptoscopeError
from cryptoscope.graph.hetero import GraphSnapshot, snapshot
from cryptoscope.graph.pipeline import lake_end
from cryptoscope.lake import Lake
from cryptoscope.models import Costs, precision_at_k

#: ``risk_scores.kind`` of the product's scores, the registry name of its model, what a score is about.
KIND, MODEL_NAME, ENTITY_TYPE = "mule", "abnormal_mule", "user"
#: Label types (``labels.label_type``) that say a user was a mule or a ring member.
TARGET_LABELS = ("money_mule", "multi_accounting", "wash_trading", "pump_and_dump")
#: The case budget the ranking is judged at: the users an analyst team opens from one snapshot.
TOP_K = 100
#: Smallest community the ring recall counts as a ring (as the abnormal line's ring alerts do).
MIN_RING = 3
#: What a decision costs. A mule or ring account left alone goes on cashing out and abusing bonuses until found:
#: $1,000 is a round figure for that; a review is an analyst's $50 hour over the account and its graph; closing a
#: good customer's account loses its custom ($5,000), so only a near-certain score blocks.
COSTS = Costs(missed_fraud=1_000.0, review=50.0, friction=0.0, block_good=5_000.0)


@dataclass(frozen=True)
class Cut:
    """One snapshot of the split: the graph as of ``at``, judged on labels learnt in ``[at, until)``."""

    name: str
    at: dt.datetime
    until: dt.datetime


@dataclass(frozen=True)
class MulePlan:
    """Three snapshots ``horizon_days`` apart, the last one ``horizon_days`` before ``end`` (default: the end of
    the lake, rounded up to midnight UTC)."""

    horizon_days: int = 30
    end: dt.datetime | None = None

    def cuts(self, backend: Any) -> tuple[Cut, Cut, Cut]:
        """(train, valid, test)."""
        if self.horizon_days < 1:
            raise CryptoscopeError(f"the horizon must be at least one day, got {self.horizon_days}")
        end = self.end or default_end(backend)
        step = dt.timedelta(days=self.horizon_days)
        at = [end - k * step for k in (3, 2, 1, 0)]
        names = ("train", "valid", "test")
        return tuple(Cut(n, a, b) for n, a, b in zip(names, at, at[1:], strict=False))  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class Labelled:
    """One snapshot with its targets: ``y`` (1 = a mule or ring label learnt in the cut's window), ``keep`` (not
    known bad at the snapshot: the users scored and judged) and ``rings`` (the Leiden ring of each user of
    `MIN_RING` or more accounts, -1 for none), all in ``snap.user_ids`` order."""

    cut: Cut
    snap: GraphSnapshot
    y: np.ndarray
    keep: np.ndarray
    rings: np.ndarray

    @property
    def judged(self) -> int:
        return int(self.keep.sum())

    @property
    def bad(self) -> int:
        return int(self.y[self.keep].sum())


def labelled(backend: Any, start: dt.datetime, end: dt.datetime) -> set[int]:
    """Users with a mule or ring label (label 1) that became known in ``[start, end)``."""
    t = backend.table("labels")
    t = t.filter((t.label == 1) & t.label_type.isin(TARGET_LABELS) & t.user_id.notnull()
                 & (t.event_time >= start) & (t.event_time < end))
    return {int(u) for u in t.select("user_id").distinct().to_pyarrow()["user_id"].to_pylist()}


def take(lake: Lake, backend: Any, at: dt.datetime) -> GraphSnapshot:
    """The snapshot every model reads: the entity graph and the behaviour features of the line, as of ``at``."""
    return snapshot(lake, at, features=behaviour_features(backend, at), backend=backend)


def labelled_snapshot(lake: Lake, backend: Any, cut: Cut, snap: GraphSnapshot | None = None) -> Labelled:
    """``cut``'s snapshot (taken now unless given) with its targets, judged users and rings."""
    snap = snap if snap is not None else take(lake, backend, cut.at)
    users = snap.user_ids
    bad = labelled(backend, cut.at, cut.until)
    members = snap.result.features.users.set_index("user_id").reindex(users)
    ring = np.where(members["ring_size"].fillna(1).to_numpy() >= MIN_RING,
                    members["ring_id"].fillna(-1).to_numpy(), -1).astype(np.int64)
    return Labelled(cut, snap, np.isin(users, list(bad)).astype(float),
                    ~np.isin(users, list(snap.result.known_bad)), ring)


def ranking_figures(p: np.ndarray, data: Labelled, k: int = TOP_K) -> dict[str, float]:
    """Precision and ring recall at the top ``k`` of ``p`` (one score per user of ``data``) over the judged users:
    the rings counted are those holding a judged user labelled in the window, found when one such user is in the
    top ``k`` (a ring is found through a member the labels confirm, as in `cryptoscope.benchmarks.world_graph`)."""
    keep = data.keep
    y, score, ring = data.y[keep], np.asarray(p, dtype=float)[keep], data.rings[keep]
    if not len(y):
        raise CryptoscopeError(f"no user to judge in the {data.cut.name} snapshot of {data.cut.at:%Y-%m-%d}")
    k = min(k, len(y))
    top = np.zeros(len(y), dtype=bool)
    top[np.argsort(-score, kind="stable")[:k]] = True
    bad_rings = set(ring[(y == 1) & (ring >= 0)].tolist())
    found = set(ring[(y == 1) & (ring >= 0) & top].tolist())
    return {"precision_at_100": precision_at_k(y, score, k), "rings": float(len(bad_rings)),
            "rings_found_at_100": float(len(found)),
            "ring_recall_at_100": len(found) / len(bad_rings) if bad_rings else math.nan,
            "bad_in_top_100": float(y[top].sum())}


def default_end(backend: Any) -> dt.datetime:
    """The end of the lake rounded up to midnight UTC: the last split's end and batch scoring's snapshot."""
    day = pd.Timestamp(lake_end(backend)).tz_convert("UTC").ceil("D")
    return day.to_pydatetime()
