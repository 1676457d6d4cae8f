"""Behaviour analysis figures: segment ARI and churn against recency on several seeds, and a 1M-user run.

``--seeds``: for each seed an 8,000-user x 90-day world (fraud x3, as the tests use) is simulated
into benchmarks/scratch/behaviour-SEED (reused when present) and ``behaviour evaluate`` runs on it:
ARI of the segments against the world's latent user kinds, churn ROC-AUC / PR-AUC on the later
cut-off beside the days-since-last-activity baseline, lifetime-value error (survival vs LightGBM).

``--scale``: the whole analysis but the sequence patterns on the 1,000,000-user x 30-day world of
benchmarks/scratch/world-1m (see features_offline.py ``ensure_world``), with a 7-day churn horizon
(the world is 30 days long), wall time per stage and peak RSS. Run it on its own, so the peak is its own.

    python benchmarks/behaviour.py --seeds 11 5 23
    python benchmarks/behaviour.py --scale
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from cryptoscope.behaviour.evaluate import evaluate
from cryptoscope.lake import Lake
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "behaviour.json"


def rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def world(seed: int, users: int, days: int) -> Path:
    path = HERE / "scratch" / f"behaviour-{seed}-{users}-{days}"
    lake = Lake(path)
    if not any(s.name == "accounts" and s.rows for s in lake.status()):
        simulate(SimConfig(users=users, days=days, seed=seed, chunk_users=4_000, fraud_scale=3.0), lake)
    return path


def seeds_run(seeds: list[int], users: int, days: int) -> dict[str, Any]:
    runs = {}
    for seed in seeds:
        started = time.perf_counter()
        figures = evaluate(world(seed, users, days))
        figures["seconds"] = round(time.perf_counter() - started, 1)
        runs[str(seed)] = figures
        print(seed, json.dumps({k: figures[k] for k in ("segments_ari", "churn", "baselines")}), flush=True)
    keys = ("segments_ari",)
    mean = {k: sum(r[k] for r in runs.values()) / len(runs) for k in keys}
    mean["churn_roc_auc"] = sum(r["churn"]["roc_auc"] for r in runs.values()) / len(runs)
    mean["churn_pr_auc"] = sum(r["churn"]["pr_auc"] for r in runs.values()) / len(runs)
    mean["recency_roc_auc"] = sum(r["baselines"]["recency"]["roc_auc"] for r in runs.values()) / len(runs)
    mean["recency_pr_auc"] = sum(r["baselines"]["recency"]["pr_auc"] for r in runs.values()) / len(runs)
    return {"world": {"users": users, "days": days, "fraud_scale": 3.0, "chunk_users": 4_000}, "mean": mean,
            "runs": runs}


def scale_run(path: Path) -> dict[str, Any]:
    from cryptoscope.behaviour import analysis

    if not (path / "_catalog.json").exists():
        raise SystemExit(f"{path} holds no world: run benchmarks/features_offline.py (ensure_world) first")
    started = time.perf_counter()
    result = analysis.run(path, horizon_days=7, history_days=7, with_patterns=False)
    churn = result.extras["churn"]
    return {"lake": str(path), "users": int(result.profiles["users"].sum()),
            "days": (result.end - result.start).days, "seconds": round(time.perf_counter() - started, 1),
            "stage_seconds": result.extras["seconds"], "peak_rss_mb": rss_mb(),
            "churn": churn.metrics, "baselines": {"recency": churn.baseline}, "horizon_days": 7,
            "left_out": "sequence patterns (PrefixSpan is pure Python: see docs/behaviour.md)"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="*", default=[])
    ap.add_argument("--users", type=int, default=8_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--scale", action="store_true")
    ap.add_argument("--world", type=Path, default=HERE / "scratch" / "world-1m")
    args = ap.parse_args()
    out = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    machine = {"machine": f"{os.cpu_count()} cores, {platform.python_version()}",
               "command": "python benchmarks/behaviour.py " + shlex.join(sys.argv[1:])}
    if args.seeds:
        out["seeds"] = {**seeds_run(args.seeds, args.users, args.days), **machine}
    if args.scale:
        out["scale"] = {**scale_run(args.world), **machine}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, default=float))


if __name__ == "__main__":
    main()
