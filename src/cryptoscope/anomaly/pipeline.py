"""One detection run: graph, behaviour features, detectors, alerts with reasons, cases in the queue.

>>> run = detect("demo-lake", CaseStore(default_url("demo-lake/_abnormal")))    # doctest: +SKIP
>>> run.new_cases, run.alerts                                                   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from cryptoscope.anomaly.detectors import ENSEMBLE, RankEnsemble, percentile_ranks
from cryptoscope.anomaly.features import behaviour_features
from cryptoscope.anomaly.reasons import feature_reasons, graph_reasons, peer_percentiles, top_by
from cryptoscope.anomaly.review import exposure, queue_places
from cryptoscope.cases.grouping import RingAlert, UserAlert, file_alerts
from cryptoscope.cases.labels import LABEL_TYPE
from cryptoscope.cases.store import CaseStore
from cryptoscope.graph.pipeline import GraphResult, build_graph, lake_end
from cryptoscope.lake import Lake, connect

#: Graph features the user-level graph score reads. Raw size and degree are left out on purpose: a busy
#: shared IP (carrier NAT, VPN exit) makes big loose clusters that are unusual in size but not in kind.
GRAPH_SIGNALS = ("ring_density", "ring_shared_kinds", "ring_known_bad", "known_bad_neighbours", "propagation",
                 "shared_kinds")
#: Ring features the ring score reads, per member where a count would only measure size.
RING_SIGNALS = ("density", "strong_kinds", "strong_per_member", "known_bad_share", "fast_signups")


@dataclass(frozen=True)
class DetectionConfig:
    """How a run decides: which detectors, whether the graph counts, how many alerts per run."""

    detectors: tuple[str, ...] = ENSEMBLE
    use_graph: bool = True
    alert_rate: float = 0.005  # share of scored users alerted per run
    ring_rate: float = 0.03  # share of rings (3+ accounts) alerted per run
    min_ring: int = 3
    seed: int = 7

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Scored:
    """Scores of one run: per user (detectors, ensemble, graph, final) and per ring."""

    users: pd.DataFrame
    rings: pd.DataFrame
    features: pd.DataFrame
    graph: GraphResult | None = field(default=None, repr=False)
    #: The behaviour members' weights, and how many analysts' decisions set them (0: equal, unsupervised).
    weights: dict[str, float] = field(default_factory=dict)
    decisions: int = 0
    #: Each user's latest analyst decision before the run (1 / 0 / NaN), in the order of ``users``.
    decided: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RunResult:
    run_key: str
    as_of: dt.datetime
    users: int
    alerts: int
    ring_alerts: int
    new_cases: int
    updated_cases: int
    decisions: int = 0  # analysts' decisions that taught the ensemble (`cryptoscope.anomaly.feedback`)


def score_users(backend: Any, as_of: dt.datetime, config: DetectionConfig, graph: GraphResult | None,
                features: pd.DataFrame | None = None) -> Scored:
    """Behaviour ensemble for every account; with the graph, graph and ring scores too."""
    feats = features if features is not None else behaviour_features(backend, as_of)
    decided = analyst_decisions(backend, as_of, feats.index)
    ens = RankEnsemble(config.detectors, config.seed).fit(feats, feedback=decided)
    users = pd.DataFrame({d: percentile_ranks(ens.scores_[d]) for d in config.detectors}, index=feats.index)
    users["behaviour"] = ens.scores_["ensemble"]
    users["graph"] = 0.0
    rings = pd.DataFrame(columns=["ring_id", "score"])
    if graph is not None:
        gu = graph.features.users.set_index("user_id").reindex(feats.index)
        in_graph = gu["degree"].notna().to_numpy()
        if in_graph.sum() >= 10:
            users.loc[in_graph, "graph"] = directional_score(gu.loc[in_graph, list(GRAPH_SIGNALS)])
        rings = _ring_scores(graph, config)
    users["risk"] = risk_signal(backend, as_of).reindex(users.index).fillna(0.0).to_numpy()
    signals = [percentile_ranks(users["behaviour"].to_numpy())]
    if graph is not None:
        signals.append(percentile_ranks(users["graph"].to_numpy()))
    if users["risk"].gt(0).any():
        signals.append(percentile_ranks(users["risk"].to_numpy()))
    # a user is as suspicious as its strongest signal: behaviour, links, or a supervised model's score
    users["score"] = percentile_ranks(np.max(np.column_stack(signals), axis=1)) if len(signals) > 1 else signals[0]
    used = int(np.isfinite(decided).sum()) if ens.from_feedback_ else 0
    return Scored(users, rings, feats, graph, {d: float(w) for d, w in ens.weights_.items()}, used, decided)


def analyst_decisions(backend: Any, as_of: dt.datetime, users: pd.Index) -> np.ndarray:
    """Each user's latest decision on an abnormal-user case closed before ``as_of``: 1 fraud, 0 legitimate, NaN none.

    These are the labels closed cases write back (`cryptoscope.cases.labels`), read point in time: a
    decision taken after the run's time cannot weight it.
    """
    t = backend.table("labels")
    t = t.filter((t.label_type == LABEL_TYPE) & (t.event_time < as_of) & t.user_id.notnull())
    frame = t.group_by("user_id").aggregate(label=t.label.argmax(t.event_time)).to_pyarrow().to_pandas()
    known = pd.Series(frame["label"].to_numpy(dtype=float), index=frame["user_id"].to_numpy(dtype="int64"))
    return known.reindex(users).to_numpy(dtype=float)


def risk_signal(backend: Any, as_of: dt.datetime, days: int = 30) -> pd.Series:
    """Each user's highest supervised risk score (table risk_scores) in the ``days`` before ``as_of``."""
    start = as_of - dt.timedelta(days=days)
    t = backend.table("risk_scores")
    t = t.filter((t.event_time < as_of) & (t.event_time >= start))
    frame = t.group_by("user_id").aggregate(risk=t.score.max()).to_pyarrow().to_pandas()
    return pd.Series(frame["risk"].to_numpy(dtype=float), index=frame["user_id"].to_numpy(dtype="int64"))


def _ring_scores(graph: GraphResult, config: DetectionConfig) -> pd.DataFrame:
    rings = graph.features.rings
    rings = rings[rings["size"] >= config.min_ring].copy()
    if len(rings) < 10:
        return rings.assign(score=np.ones(len(rings)))
    strong = [f"shared_{k}" for k in ("device", "card", "bank", "address", "document")]
    x = pd.DataFrame({"density": rings["density"], "strong_kinds": (rings[strong] > 0).sum(axis=1),
                      "strong_per_member": rings[strong].sum(axis=1) / rings["size"],
                      "known_bad_share": rings["known_bad"] / rings["size"],
                      "fast_signups": 1.0 / (1.0 + rings["signup_span_days"].fillna(1e4))})[list(RING_SIGNALS)]
    rings["score"] = percentile_ranks(directional_score(x))
    return rings


def directional_score(signals: pd.DataFrame) -> np.ndarray:
    """Mean percentile rank of signals where more is always more suspicious.

    The PyOD detectors are two-sided: on graph signals they rate a loose cluster behind a busy IP
    (unusually *low* density, nothing but IPs shared) as the most abnormal ring. For the graph the
    direction is known, so it is used: a ring is suspicious for being dense, sharing devices, cards,
    addresses and documents, holding known-bad accounts and signing up together.
    """
    ranks = np.column_stack([percentile_ranks(signals[c].to_numpy(dtype=float)) for c in signals.columns])
    return np.asarray(ranks.mean(axis=1))


def alerts_of(scored: Scored, config: DetectionConfig) -> tuple[list[UserAlert], list[RingAlert]]:
    """The top users and rings of a run, each with its reasons."""
    users = scored.users
    pct, median = peer_percentiles(scored.features), scored.features.median()
    g_users = scored.graph.features.users.set_index("user_id") if scored.graph is not None else None
    rings = scored.rings.set_index("ring_id") if len(scored.rings) else None
    out_users = []
    for i in top_by(users["score"].to_numpy(), config.alert_rate):
        uid = int(users.index[i])
        why = feature_reasons(scored.features, pct, median, uid)
        if g_users is not None and uid in g_users.index:
            row = cast(pd.Series, g_users.loc[uid])
            ring = (cast(pd.Series, rings.loc[row["ring_id"]]) if rings is not None and row["ring_id"] in rings.index
                    else None)
            why += graph_reasons(row, ring)
        out_users.append(UserAlert(uid, float(users["score"].iloc[i]), "; ".join(why) or "unusual overall"))
    out_rings = []
    if scored.graph is not None and rings is not None:
        members = scored.graph.features.membership
        r = scored.rings
        for i in top_by(r["score"].to_numpy(), config.ring_rate):
            ring = r.iloc[i]
            ids = tuple(int(u) for u in members.index[members.to_numpy() == ring["ring_id"]])
            why = graph_reasons(pd.Series({"ring_id": ring["ring_id"], "known_bad_neighbours": 0}),
                                ring.drop(labels=["ring_id"]))
            out_rings.append(RingAlert(int(ring["ring_id"]), ids, float(ring["score"]), "; ".join(why)))
    return out_users, out_rings


def detect(lake: Lake | str | os.PathLike[str], store: CaseStore, as_of: dt.datetime | None = None,
           config: DetectionConfig | None = None, *, graph: GraphResult | None = None,
           backend: Any = None, features: pd.DataFrame | None = None) -> tuple[RunResult, Scored]:
    """Score everyone as of ``as_of`` (default: the end of the lake), file the alerts as cases and order the
    open cases for review (`cryptoscope.anomaly.review`)."""
    config = config or DetectionConfig()
    backend = backend if backend is not None else connect(lake)
    at = as_of or lake_end(backend)
    if config.use_graph and graph is None:
        graph = build_graph(lake, at, backend=backend)
    scored = score_users(backend, at, config, graph if config.use_graph else None, features)
    users, rings = alerts_of(scored, config)
    run_key = f"{at.isoformat()}#{config.key()}"
    filed = file_alerts(store, run_key, at, users, rings, len(scored.users))
    decided = scored.decided if scored.decided is not None else np.full(len(scored.users), np.nan)
    store.set_queue(run_key, queue_places(store, scored.users.index, scored.users["score"].to_numpy(), decided,
                                          exposure(scored.features)))
    return RunResult(run_key, at, len(scored.users), len(users), len(rings), filed.new_cases,
                     filed.updated_cases, scored.decisions), scored
