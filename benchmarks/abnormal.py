"""Abnormal-user recognition, measured: a real trust network, many feature tables, and the simulated world.

1. Bitcoin OTC (REV2 labels): rank users from the rating graph alone (fairness × goodness, the detector
   ensemble on node features) against the baselines (mean rating received, share of negative ratings).
2. `score-table` on several data sets (bundled scikit-learn sets with a rare class, Ethereum fraud,
   Taiwan credit default, Bitcoin OTC node features, the simulated world's users): each detector vs
   the ensemble, ROC-AUC and AP, and the mean over data sets (the ~110-table comparison that chose the
   ensemble's design is `benchmarks/anomaly_tables.py`).
3. The simulated world against its ground truth: weekly detection runs into a case queue for each
   detector alone, the ensemble, and the ensemble + graph; precision at k of cases, ring-level recall,
   days from the first abnormal event to the case, user-level ROC-AUC/AP at the last run. The variant
   "+ decisions" is the production loop: after each run analysts close the top open cases (by the
   simulator's truth) and the next run learns from those labels (graph known-bad, detector weights).

    python benchmarks/abnormal.py                       # ~10 min on 2 cores; writes results/abnormal.json

The world is simulated once into benchmarks/scratch/abnormal-20k (the `make demo` world: 20,000 users,
90 days, seed 7); the HTML report of the top cases goes to benchmarks/scratch/abnormal-cases.html.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.metrics import average_precision_score, roc_auc_score

from cryptoscope.anomaly.detectors import ENSEMBLE, RankEnsemble, percentile_ranks
from cryptoscope.anomaly.features import behaviour_features
from cryptoscope.anomaly.pipeline import DetectionConfig, detect
from cryptoscope.anomaly.report import write_cases_report
from cryptoscope.anomaly.table import score_table
from cryptoscope.cases import CaseStore
from cryptoscope.fsio import atomic_write
from cryptoscope.graph.pipeline import build_graph
from cryptoscope.graph.signed import fairness_goodness, node_features, read_labels, read_signed
from cryptoscope.lake import Lake, connect

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "abnormal.json"
SCRATCH = ROOT / "scratch"
DATA = ROOT.parent.parent / "shared" / "data"
#: Typologies whose accounts behave abnormally; friendly fraud is label noise, defaults are credit risk.
NOT_ABNORMAL = ("loan_default", "friendly_fraud")
RING_TYPOLOGIES = ("multi_accounting", "synthetic_identity", "wash_trading", "pump_and_dump")


def _judge(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    return {"roc_auc": round(float(roc_auc_score(y, s)), 4), "average_precision": round(float(
        average_precision_score(y, s)), 4)}


# -- 1. Bitcoin OTC ----------------------------------------------------------------------------------
def otc() -> dict[str, Any]:
    edges = read_signed(DATA / "bitcoin-otc" / "soc-sign-bitcoinotc.csv")
    y = read_labels(DATA / "bitcoin-otc" / "rev2_otc_gt.csv")
    feats = node_features(edges)
    goodness = fairness_goodness(edges)
    ens = RankEnsemble().fit(feats)
    risk = {
        "baseline: minus mean rating received": -feats["in_mean"],
        "baseline: share of negative ratings received": feats["in_negative_share"],
        "fairness x goodness (minus goodness)": -goodness,
        **{f"detector {d} on node features": pd.Series(ens.scores_[d], index=feats.index) for d in ENSEMBLE},
        "ensemble on node features": pd.Series(ens.scores_["ensemble"], index=feats.index),
    }
    risk["ensemble + fairness x goodness"] = pd.Series(
        (percentile_ranks(ens.scores_["ensemble"]) + (-goodness.reindex(feats.index)).rank(pct=True).to_numpy()) / 2,
        index=feats.index)
    out = {name: _judge(y.to_numpy(), s.reindex(y.index).fillna(s.median()).to_numpy()) for name, s in risk.items()}
    return {"users": int(feats.shape[0]), "ratings": len(edges), "labelled": len(y), "fraudulent": int(y.sum()),
            "rankers": out}


# -- 2. score-table on many data sets ------------------------------------------------------------------
def _rare(x: np.ndarray, target: np.ndarray, positive: int, share: float, seed: int = 0) -> pd.DataFrame:
    """A classification set turned into an outlier set: the positive class sub-sampled to ``share``."""
    rng = np.random.default_rng(seed)
    y = (target == positive).astype(int)
    neg, pos = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    k = min(len(pos), max(5, int(share * len(neg) / (1 - share))))
    idx = np.sort(np.concatenate([neg, rng.choice(pos, k, replace=False)]))
    frame = pd.DataFrame(x[idx], columns=[f"x{i}" for i in range(x.shape[1])])
    frame["label"] = y[idx]
    return frame


def tables(world_users: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """The 8 tables of the score-table comparison (7 without the simulated world's users)."""
    out: dict[str, pd.DataFrame] = {}
    for name, loader, pos, share in (("breast_cancer (malignant 5 %)", datasets.load_breast_cancer, 0, 0.05),
                                     ("wine (class 0, 8 %)", datasets.load_wine, 0, 0.08),
                                     ("digits (zeros, 5 %)", datasets.load_digits, 0, 0.05),
                                     ("iris (setosa, 8 %)", datasets.load_iris, 0, 0.08)):
        d = loader()
        out[name] = _rare(d.data, d.target, pos, share)
    eth = pd.read_csv(DATA / "ethereum-fraud" / "transaction_dataset.csv")
    eth = eth.drop_duplicates("Address").drop(columns=["Unnamed: 0", "Index", "Address"], errors="ignore")
    out["ethereum_fraud (FLAG)"] = eth.rename(columns={"FLAG": "label"})
    credit = pd.read_csv(DATA / "credit" / "taiwan_default_of_credit_card_clients.csv")
    credit = credit.drop(columns=[c for c in credit.columns if c.lower() == "id"]).rename(columns={"fraud": "label"})
    out["taiwan_default (sample of 8,000)"] = credit.sample(8000, random_state=0)
    edges = read_signed(DATA / "bitcoin-otc" / "soc-sign-bitcoinotc.csv")
    y = read_labels(DATA / "bitcoin-otc" / "rev2_otc_gt.csv")
    out["bitcoin_otc node features (REV2 users)"] = node_features(edges).reindex(y.index).assign(label=y.to_numpy())
    if world_users is not None:
        out["simulated world users (ground truth)"] = world_users
    return out


def score_tables(frames: dict[str, pd.DataFrame]) -> dict[str, Any]:
    folder = SCRATCH / "abnormal-tables"
    folder.mkdir(parents=True, exist_ok=True)
    per: dict[str, Any] = {}
    for i, (name, frame) in enumerate(frames.items()):
        path = folder / f"table-{i}.parquet"
        frame.reset_index(drop=True).to_parquet(path)
        _, result = score_table(path, "label")
        result["command"] = shlex.join(["cryptoscope", "anomaly", "score-table", str(path), "--label-column",
                                        "label", "--out", "result.json"])
        result["positives"] = int(frame["label"].sum())
        per[name] = result
        print(f"  {name}: ensemble ROC-AUC {result['ensemble']['roc_auc']:.3f}", flush=True)
    return {"datasets": per, **summarise(per)}


def summarise(per: dict[str, Any]) -> dict[str, Any]:
    """Mean metric, mean rank among the five methods (1 = best) and how often each was the worst."""
    names = (*ENSEMBLE, "ensemble")
    out: dict[str, Any] = {"mean_over_datasets": {}, "mean_rank_over_datasets": {}, "times_worst": {}}
    for m in ("roc_auc", "average_precision"):
        values = np.array([[r["detectors"][d][m] for d in ENSEMBLE] + [r["ensemble"][m]] for r in per.values()])
        ranks = (-values).argsort(axis=1).argsort(axis=1) + 1
        out["mean_over_datasets"][m] = dict(zip(names, values.mean(axis=0).round(4).tolist(), strict=True))
        out["mean_rank_over_datasets"][m] = dict(zip(names, ranks.mean(axis=0).round(2).tolist(), strict=True))
        out["times_worst"][m] = dict(zip(names, (ranks == len(names)).sum(axis=0).tolist(), strict=True))
    out["ensemble_beats_every_detector_on_mean"] = {
        m: all(v["ensemble"] > v[d] for d in ENSEMBLE) for m, v in out["mean_over_datasets"].items()}
    return out


# -- 3. the simulated world ----------------------------------------------------------------------------
VARIANTS: dict[str, DetectionConfig] = {
    **{f"{d} alone": DetectionConfig(detectors=(d,), use_graph=False) for d in ENSEMBLE},
    "ensemble": DetectionConfig(use_graph=False),
    "ensemble + graph": DetectionConfig(use_graph=True),
}


#: The production loop: analysts close this many of the top open cases after each weekly run.
DECIDED = "ensemble + graph + decisions"
DECIDED_PER_RUN = 25


def decide_top(store: CaseStore, lake: Lake, bad: set[int], at: dt.datetime) -> int:
    """Close the top open cases as the analysts would (fraud when most members are abnormal), labels to ``lake``.

    The labels are written as `cases.labels.sync_labels` writes them, but stamped three days after the
    run (simulated time), so the next weekly run, not this one, can read them.
    """
    import pyarrow as pa

    from cryptoscope.cases.labels import LABEL_TYPE, label_id
    from cryptoscope.schema import get_table

    rows = []
    for case in store.list_cases("open", limit=DECIDED_PER_RUN):
        members = store.member_ids(case.id)
        fraud = 2 * len(set(members) & bad) > len(members)
        store.assign(case.id, "analyst", actor="benchmark")
        store.transition(case.id, "closed_fraud" if fraud else "closed_legit", actor="analyst")
        rows += [{"label_id": label_id(u, case.detected_at), "entity_type": "user", "entity_id": str(u), "user_id": u,
                  "label_type": LABEL_TYPE, "label": int(fraud), "decision_time": at,
                  "event_time": at + dt.timedelta(days=3), "source": "investigation"} for u in members]
    if rows:
        with lake.transaction() as tx:
            tx.append("labels", pa.Table.from_pylist(rows, schema=get_table("labels").arrow_schema), dedupe=True)
    return len(rows)


def world_lake(users: int, days: int, seed: int) -> Lake:
    from cryptoscope.sources.simulate.config import SimConfig
    from cryptoscope.sources.simulate.world import simulate

    path = SCRATCH / f"abnormal-{users // 1000}k"
    lake = Lake(path)
    if not (path / "_catalog.json").exists():
        simulate(SimConfig(users=users, days=days, seed=seed), lake)
    return lake


def truth_of(lake: Lake) -> pd.DataFrame:
    return connect(lake).con.sql(
        "SELECT user_id, typology, group_id, event_time FROM ground_truth "
        f"WHERE typology NOT IN {NOT_ABNORMAL}").df()


def world(lake: Lake, start: dt.datetime, days: int, out_html: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    backend = connect(lake)
    truth = truth_of(lake)
    first = truth.groupby("user_id")["event_time"].min()
    work = SCRATCH / "abnormal-queues"
    work.mkdir(parents=True, exist_ok=True)
    stores = {}
    for name in (*VARIANTS, DECIDED):
        db = work / f"{name.replace(' ', '_').replace('+', 'plus')}.db"
        db.unlink(missing_ok=True)
        stores[name] = CaseStore(f"sqlite:///{db}")
    decided = Lake(_fresh_copy(lake.root, SCRATCH / "abnormal-decided"))  # its labels must not reach the others
    bad = set(truth["user_id"])
    runs = [start + dt.timedelta(days=d) for d in range(28, days, 7)] + [start + dt.timedelta(days=days)]
    last_scores: dict[str, pd.Series] = {}
    feats = pd.DataFrame()
    timing: dict[str, float] = {"graph_s": 0.0, "features_s": 0.0, "detect_s": 0.0}
    graph = None
    for at in runs:
        t0 = time.perf_counter()
        graph = build_graph(lake, at, backend=backend)
        t1 = time.perf_counter()
        feats = behaviour_features(backend, at)
        t2 = time.perf_counter()
        for name, cfg in VARIANTS.items():
            _, scored = detect(lake, stores[name], at, cfg, graph=graph if cfg.use_graph else None, backend=backend,
                               features=feats)
            last_scores[name] = scored.users["score"]
        backend_d = connect(decided)  # a new connection sees the labels decided after the last run
        _, scored = detect(decided, stores[DECIDED], at, VARIANTS["ensemble + graph"],
                           graph=build_graph(decided, at, backend=backend_d), backend=backend_d, features=feats)
        last_scores[DECIDED] = scored.users["score"]
        decisions = decide_top(stores[DECIDED], decided, bad, at)
        timing["graph_s"] += t1 - t0
        timing["features_s"] += t2 - t1
        timing["detect_s"] += time.perf_counter() - t2
        print(f"  run as of {at:%Y-%m-%d}: {time.perf_counter() - t0:.0f}s; {scored.decisions} decisions taught "
              f"the detectors, {decisions} labels decided", flush=True)
    table = {name: queue_metrics(stores[name], truth, first, last_scores[name]) for name in (*VARIANTS, DECIDED)}
    # decided users feed their own graph signals (known bad): compare both queues on everyone else too
    known = set(connect(decided).con.sql("SELECT user_id FROM labels WHERE source = 'investigation'").df()["user_id"])
    for name in ("ensemble + graph", DECIDED):
        rest = last_scores[name].drop(list(known), errors="ignore")
        table[name]["users_not_decided"] = {"users": len(rest),
                                            **_judge(rest.index.isin(list(bad)).astype(int), rest.to_numpy())}
    write_cases_report(stores["ensemble + graph"], graph, out_html)
    labels = feats.assign(label=feats.index.isin(set(truth["user_id"])).astype(int))
    return {"runs": [r.isoformat() for r in runs], "variants": table,
            "seconds_per_run": {k: round(v / len(runs), 1) for k, v in timing.items()},
            "abnormal_users": int(truth["user_id"].nunique()), "scored_users_last_run": len(feats)}, labels


def _fresh_copy(source: Path, target: Path) -> Path:
    import shutil

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return target


def queue_metrics(store: CaseStore, truth: pd.DataFrame, first: pd.Series, scores: pd.Series) -> dict[str, Any]:
    bad = set(truth["user_id"])
    cases = store.list_cases()
    members = {c.id: store.member_ids(c.id) for c in cases}
    hit = np.array([2 * len(set(members[c.id]) & bad) > len(members[c.id]) for c in cases])
    p_at = {f"precision@{k}": round(float(hit[:k].mean()), 3) if len(hit) else 0.0 for k in (10, 25, 50, 100)}
    rings = truth[truth["typology"].isin(RING_TYPOLOGIES) & truth["group_id"].notna()]
    found = 0
    groups = rings.groupby("group_id")["user_id"].apply(set)
    for users in groups:
        if any(2 * len(users & set(m)) > len(users) for m in members.values()):
            found += 1
    detected: dict[int, dt.datetime] = {}
    for c in cases:
        for u in members[c.id]:
            if u in bad and (u not in detected or c.detected_at < detected[u]):
                detected[u] = c.detected_at
    delays = [(t - first[u].to_pydatetime()).total_seconds() / 86400 for u, t in detected.items()]
    y = scores.index.isin(list(bad)).astype(int)
    return {"cases": len(cases), **p_at, "rings": len(groups), "rings_found": found,
            "ring_recall": round(found / max(len(groups), 1), 3),
            "abnormal_users_in_cases": len(detected), "user_recall": round(len(detected) / max(len(bad), 1), 3),
            "days_first_event_to_case_median": round(float(np.median(delays)), 1) if delays else None,
            "days_first_event_to_case_p90": round(float(np.percentile(delays, 90)), 1) if delays else None,
            "last_run_users": _judge(y, scores.to_numpy())}


def write(results: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(RESULTS, (json.dumps(results, indent=2) + "\n").encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    command = shlex.join(["python", "benchmarks/abnormal.py", *sys.argv[1:]])
    started = time.perf_counter()
    print("bitcoin-otc", flush=True)
    otc_result = otc()
    print("simulated world", flush=True)
    lake = world_lake(args.users, args.days, args.seed)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    world_result, world_users = world(lake, start, args.days, SCRATCH / "abnormal-cases.html")
    results = {"command": command, "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} "
               f"{platform.python_version()}", "seconds": None,
               "world": {"users": args.users, "days": args.days, "seed": args.seed, **world_result},
               "bitcoin_otc": otc_result, "score_table": None}
    write(results)  # the world part alone takes minutes: keep it even if the rest fails
    print("score-table", flush=True)
    tables_result = score_tables(tables(world_users))
    results.update(score_table=tables_result, seconds=round(time.perf_counter() - started))
    write(results)
    print(json.dumps({"world": {k: {m: v[m] for m in ("precision@10", "ring_recall", "user_recall")}
                                for k, v in world_result["variants"].items()},
                      "score_table_mean": tables_result["mean_over_datasets"]}, indent=1))


if __name__ == "__main__":
    main()
