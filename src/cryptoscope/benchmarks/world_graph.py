"""Mules and ring members on the simulated world: a graph network against LightGBM with graph features.

The protocol, the same for every model (`run_period`):

* **Fit**: the snapshot as of ``fit_at`` (graph, tabular features and known-bad labels strictly before it);
  the targets are the users not yet known bad then, and a user is bad when a mule or ring label
  (`TARGET_LABELS`) about it becomes known in ``[fit_at, score_at)``: what the exchange learnt since.
* **Score**: the snapshot as of ``score_at``, every user not known bad then, by the model fitted above.
* **Judge** on the later period: the simulator's truth (a mule or ring member whose behaviour began before
  ``score_at``, found or never found; users whose behaviour begins later are left out, as nothing of it is
  in the snapshot yet), and, beside it, the labels found after ``score_at``.

Metrics: precision at the top 100, ring-level recall (the share of the planted rings with a test member
among the top 100), mule recall at 100, ROC-AUC and average precision. The development period is the same
protocol one horizon earlier, judged on labels known by the test cut-off only: settings are chosen there.

The product runs the same comparison on its own harness (`cryptoscope.anomaly.mule_training`: calibrated,
registered, batch-scored), judged on labels only, with these settings and the targets of `anomaly.mules`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.anomaly.features import behaviour_features
from cryptoscope.anomaly.mules import TARGET_LABELS as TARGET_LABELS  # re-exported: benchmarks/deep_graph.py
from cryptoscope.anomaly.mules import labelled
from cryptoscope.graph.hetero import TABLE_FEATURES, GraphSnapshot, snapshot
from cryptoscope.lake import Lake, connect
from cryptoscope.models.estimator import RiskClassifier
from cryptoscope.models.graph import GraphClassifier
from cryptoscope.models.metrics import pr_auc, precision_at_k, roc_auc

#: Roles (``ground_truth.role``) of the same users in the simulator's truth.
TARGET_ROLES = ("mule", "ring_member")
TOP_K = 100


@dataclass(frozen=True)
class Period:
    """Fit on the snapshot at ``fit_at`` with labels learnt until ``score_at``; score the snapshot at ``score_at``."""

    fit_at: dt.datetime
    score_at: dt.datetime
    judge_until: dt.datetime  # labels found in [score_at, judge_until) are the label-based test positives

    def as_dict(self) -> dict[str, str]:
        return {"fit_at": self.fit_at.isoformat(), "score_at": self.score_at.isoformat(),
                "judge_labels_until": self.judge_until.isoformat()}


@dataclass(frozen=True)
class Fitted:
    """A model's scores of the scoring snapshot's users, with its fit's wall and CPU seconds."""

    scores: np.ndarray
    seconds: float
    cpu_seconds: float


def truth(backend: Any) -> pd.DataFrame:
    """The simulator's mules and ring members: user_id, role, typology, group_id, begin (first row per user)."""
    t = backend.table("ground_truth")
    t = t.filter(t.role.isin(TARGET_ROLES))
    frame = t.select("user_id", "role", "typology", "group_id", begin="event_time").to_pyarrow().to_pandas()
    return frame.sort_values(["user_id", "begin"]).drop_duplicates("user_id").reset_index(drop=True)


def take(lake: Lake, as_of: dt.datetime) -> GraphSnapshot:
    """The snapshot both models read: the graph and the behaviour features of the abnormal-user line."""
    backend = connect(lake)
    return snapshot(lake, as_of, features=behaviour_features(backend, as_of), backend=backend)


def targets(snap: GraphSnapshot, bad: set[int]) -> tuple[np.ndarray, np.ndarray]:
    """(y, weight) per user of ``snap``: bad when in ``bad``; users known bad at the snapshot weigh 0."""
    users = snap.user_ids
    return np.isin(users, list(bad)).astype(float), (~np.isin(users, list(snap.result.known_bad))).astype(float)


def fit_lightgbm(train: GraphSnapshot, test: GraphSnapshot, y: np.ndarray, w: np.ndarray, *, seed: int,
                 columns: list[str], n_estimators: int) -> Fitted:
    """LightGBM on ``columns`` of the table (tabular features, with or without the graph features)."""
    clock, cpu = time.perf_counter(), time.process_time()
    keep = w > 0
    model = RiskClassifier(n_estimators=n_estimators, random_state=seed, min_child_samples=20)
    model.fit(train.table.loc[train.user_ids[keep], columns], y[keep])
    scores = model.predict_proba(test.table.loc[test.user_ids, columns])[:, 1]
    return Fitted(scores, time.perf_counter() - clock, time.process_time() - cpu)


def fit_gnn(train: GraphSnapshot, test: GraphSnapshot, y: np.ndarray, w: np.ndarray, *, seed: int,
            **params: Any) -> Fitted:
    """The heterogeneous GraphSAGE, fitted on the earlier snapshot and scoring the later one."""
    clock, cpu = time.perf_counter(), time.process_time()
    model = GraphClassifier(random_state=seed, **params).fit(train.hetero, y, sample_weight=w)
    scores = model.decision_function(test.hetero)  # the logit ranks; a probability would round the tails to 0 and 1
    return Fitted(scores, time.perf_counter() - clock, time.process_time() - cpu)


def model_runners(lgb_trees: int, gnn_params: dict[str, Any]) -> dict[str, Callable[..., Fitted]]:
    """The compared models by name: each takes (train, test, y, w, seed=...)."""
    def tabular(train: GraphSnapshot, *rest: Any, seed: int) -> Fitted:
        cols = [c for c in train.table.columns if c not in TABLE_FEATURES]
        return fit_lightgbm(train, *rest, seed=seed, columns=cols, n_estimators=lgb_trees)

    def graph_features(train: GraphSnapshot, *rest: Any, seed: int) -> Fitted:
        return fit_lightgbm(train, *rest, seed=seed, columns=list(train.table.columns), n_estimators=lgb_trees)

    def gnn(*args: Any, seed: int) -> Fitted:
        return fit_gnn(*args, seed=seed, **gnn_params)

    return {"lightgbm_graph_features": graph_features, "graph_sage": gnn, "lightgbm_tabular_only": tabular}


def judge(scores: np.ndarray, users: np.ndarray, positive: set[int], keep: np.ndarray,
          groups: pd.Series | None = None) -> dict[str, float]:
    """Precision at `TOP_K`, ROC-AUC and AP over the ``keep`` users; ring recall when ``groups`` (user -> ring)."""
    ids, p = users[keep], scores[keep]
    y = np.isin(ids, list(positive)).astype(float)
    top = set(ids[np.argsort(-p, kind="stable")[:TOP_K]].tolist())
    out = {"users": len(ids), "bad": int(y.sum()), "precision_at_100": precision_at_k(y, p, TOP_K),
           "auc_roc": roc_auc(y, p), "average_precision": pr_auc(y, p)}
    if groups is not None:
        rings = groups[groups.index.isin(ids) & groups.index.isin(list(positive))]
        hit = rings[rings.index.isin(list(top))].unique()
        out["rings"] = int(rings.nunique())
        out["ring_recall_at_100"] = float(len(hit) / rings.nunique()) if rings.nunique() else float("nan")
    return out


def run_period(lake: Lake, period: Period, runners: dict[str, Callable[..., Fitted]], seeds: list[int], *,
               with_truth: bool, snaps: dict[dt.datetime, GraphSnapshot] | None = None) -> dict[str, Any]:
    """Every model and seed on one period: fitted on the same targets, judged on the same users.

    ``with_truth`` judges on the simulator's truth too (the test period); without it, only on the labels
    found later (the development period, where settings are chosen: the truth is never looked at there).
    """
    backend = connect(lake)
    cache = {} if snaps is None else snaps
    for at in (period.fit_at, period.score_at):
        if at not in cache:
            cache[at] = take(lake, at)
    train, test = cache[period.fit_at], cache[period.score_at]
    y, w = targets(train, labelled(backend, period.fit_at, period.score_at))
    users = test.user_ids
    keep = ~np.isin(users, list(test.result.known_bad))
    found = labelled(backend, period.score_at, period.judge_until)
    out: dict[str, Any] = {"period": period.as_dict(), "fit_users": int((w > 0).sum()),
                           "fit_bad": int(y[w > 0].sum()), "models": {}}
    if with_truth:
        tr = truth(backend)
        seen = tr[tr["begin"] < period.score_at]
        keep_truth = keep & ~np.isin(users, tr.loc[tr["begin"] >= period.score_at, "user_id"].to_numpy())
        rings = seen[seen["role"] == "ring_member"].set_index("user_id")["group_id"]
        mules = set(seen.loc[seen["role"] == "mule", "user_id"].tolist())
    for name, runner in runners.items():
        rows = []
        for seed in seeds:
            fitted = runner(train, test, y, w, seed=seed)
            row: dict[str, Any] = {"seed": seed, "seconds": round(fitted.seconds, 2),
                                   "cpu_seconds": round(fitted.cpu_seconds, 2),
                                   "labels_found_later": _rounded(judge(fitted.scores, users, found, keep))}
            if with_truth:
                row["truth"] = _rounded(judge(fitted.scores, users, set(seen["user_id"].tolist()), keep_truth,
                                              rings))
                row["truth"]["mules_in_top_100"] = len(mules & _top(fitted.scores, users, keep_truth))
            rows.append(row)
            print(f"  {name} seed {seed}: {row['labels_found_later']} ({row['cpu_seconds']:.0f} CPU s)", flush=True)
        out["models"][name] = {"seeds": rows, "mean": _mean(rows)}
    return out


def _top(scores: np.ndarray, users: np.ndarray, keep: np.ndarray) -> set[int]:
    ids, p = users[keep], scores[keep]
    return {int(u) for u in ids[np.argsort(-p, kind="stable")[:TOP_K]]}


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()}


def _mean(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure averaged over the seeds (nested the way the rows are)."""
    out: dict[str, Any] = {}
    for key, value in rows[0].items():
        if key == "seed":
            continue
        if isinstance(value, dict):
            out[key] = _mean([{"seed": 0, **r[key]} for r in rows])
        else:
            out[key] = round(float(np.mean([r[key] for r in rows])), 4)
    return out


#: Settings tried on the development period; the best by average precision there is the one tested.
LGB_TREES = (50, 100, 200, 400)
GNN_GRID: tuple[dict[str, Any], ...] = ({"epochs": 100, "layers": 2}, {"epochs": 200, "layers": 2},
                                        {"epochs": 100, "layers": 3})


def periods(start: dt.datetime, days: int, horizon: int) -> tuple[Period, Period]:
    """(development, test): the test fits ``2 * horizon`` days before the end and scores ``horizon`` before it;
    the development period is the same one horizon earlier, judged on labels known by the test cut-off."""
    at = [start + dt.timedelta(days=days - k * horizon) for k in (3, 2, 1, 0)]
    return Period(at[0], at[1], at[2]), Period(at[1], at[2], at[3])


def select(lake: Lake, dev: Period, snaps: dict[dt.datetime, GraphSnapshot], seed: int
           ) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    """The LightGBM tree count and the network settings with the best development average precision."""
    tried: list[dict[str, Any]] = []
    for trees in LGB_TREES:
        run = run_period(lake, dev, {"lgb": model_runners(trees, {})["lightgbm_graph_features"]}, [seed],
                         with_truth=False, snaps=snaps)
        tried.append({"model": "lightgbm_graph_features", "n_estimators": trees,
                      **run["models"]["lgb"]["mean"]["labels_found_later"]})
    for params in GNN_GRID:
        run = run_period(lake, dev, {"gnn": model_runners(0, params)["graph_sage"]}, [seed], with_truth=False,
                         snaps=snaps)
        tried.append({"model": "graph_sage", **params, **run["models"]["gnn"]["mean"]["labels_found_later"]})

    def best(model: str) -> dict[str, Any]:
        mine = [t for t in tried if t["model"] == model]
        return max(mine, key=lambda t: (t["average_precision"], t["precision_at_100"]))

    gnn = {k: best("graph_sage")[k] for k in GNN_GRID[0]}
    return int(best("lightgbm_graph_features")["n_estimators"]), gnn, tried


def compare(lake: Lake, start: dt.datetime, days: int, *, horizon: int = 30, seeds: list[int]) -> dict[str, Any]:
    """Choose settings on the development period, then every model and seed on the test period."""
    dev, test = periods(start, days, horizon)
    snaps: dict[dt.datetime, GraphSnapshot] = {}
    clock, cpu = time.perf_counter(), time.process_time()
    print(f"development period {dev.as_dict()}", flush=True)
    trees, gnn, tried = select(lake, dev, snaps, seeds[0])
    print(f"test period {test.as_dict()}: lightgbm {trees} trees, graph_sage {gnn}", flush=True)
    result = run_period(lake, test, model_runners(trees, gnn), seeds, with_truth=True, snaps=snaps)
    return {"development": {**dev.as_dict(), "judged_on": "labels found in the next horizon, known by the test "
                            "cut-off", "tried": tried, "chosen": {"lightgbm_n_estimators": trees, "graph_sage": gnn}},
            "test": result, "snapshot_users": {str(k.date()): len(v.user_ids) for k, v in snaps.items()},
            "seconds": round(time.perf_counter() - clock, 1), "cpu_seconds": round(time.process_time() - cpu, 1)}
