"""Recommender figures into benchmarks/results/reco.json: warm latency, lake time split, MovieLens-100k.

- ``serve``: a saved recommender is loaded once (a warm process), then one user's top-10 with reasons
  is asked for ``--requests`` random users; p50 / p99 / max in milliseconds (target: p99 < 5 ms).
- ``lake``: `cryptoscope reco evaluate` on the lake (last 14 days held out).
- ``movielens``: `cryptoscope reco benchmark movielens` (Recommenders' protocol) beside the published table.

    python benchmarks/reco_serve.py --lake benchmarks/scratch/reco-lake --users 50000 --days 120 \\
        --data ../shared/data/movielens-100k

The lake is simulated first (seed 7, the demo world's settings) when the folder holds no accounts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from cryptoscope.benchmarks.movielens import PUBLISHED, benchmark
from cryptoscope.reco.data import load
from cryptoscope.reco.evaluate import evaluate
from cryptoscope.reco.model import Recommender

RESULTS = Path(__file__).parent / "results" / "reco.json"


def latency(warm: Recommender, requests: int) -> dict[str, Any]:
    """One user's top-10 with reasons from an already loaded model, ``requests`` times."""
    rng = np.random.default_rng(0)
    users = rng.choice(warm.user_ids[warm.snap.state.exists], requests)
    for u in users[:100]:
        warm.recommend(int(u))  # warm-up: first calls page in code and data
    gc.freeze()  # what a serving process does after loading: the model's objects leave the collector's scans
    times, cpu = [], []
    for u in users:
        t0, c0 = time.perf_counter(), time.process_time()
        warm.recommend(int(u), 10)
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    ms, cpu_ms = np.array(times), np.array(cpu)
    return {"requests": requests, "k": 10, "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)), "max_ms": float(ms.max()),
            "cpu_p50_ms": float(np.percentile(cpu_ms, 50)), "cpu_p99_ms": float(np.percentile(cpu_ms, 99)),
            "load_average_during": os.getloadavg()[0]}


def serve_latency(data_lake: Path, requests: int, scratch: Path) -> dict[str, Any]:
    data = load(data_lake)
    started = time.perf_counter()
    model = Recommender.fit(data)
    fit_s = time.perf_counter() - started
    path = model.save(scratch / "recommender.pkl")
    warm = Recommender.load(path)  # what a serving process holds
    return {**latency(warm, requests), "fit_seconds": fit_s, "users": len(data.users),
            "model_bytes": path.stat().st_size}


def serve_only(requests: int, scratch: Path) -> None:
    """Latency again from the model the last full run saved; recorded beside the first, never replacing it."""
    result = json.loads(RESULTS.read_text())
    runs = result.setdefault("serve_reruns", [])
    runs.append({**latency(Recommender.load(scratch / "recommender.pkl"), requests),
                 "command": shlex.join(["python", "benchmarks/reco_serve.py", *sys.argv[1:]])})
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(runs[-1], indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake", type=Path, default=Path("benchmarks/scratch/reco-lake"))
    ap.add_argument("--users", type=int, default=50_000)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/movielens-100k"))
    ap.add_argument("--requests", type=int, default=2_000)
    ap.add_argument("--serve-only", action="store_true", help="Only measure latency again (model of the last run).")
    args = ap.parse_args()
    scratch = Path(__file__).parent / "scratch"
    scratch.mkdir(exist_ok=True)
    if args.serve_only:
        serve_only(args.requests, scratch)
        return
    if not (args.lake / "_catalog.json").exists():
        from cryptoscope.lake import Lake
        from cryptoscope.sources.simulate.config import SimConfig
        from cryptoscope.sources.simulate.world import simulate

        simulate(SimConfig(users=args.users, days=args.days, seed=7), Lake(args.lake))
    result: dict[str, Any] = {
        "command": shlex.join(["python", "benchmarks/reco_serve.py", *sys.argv[1:]]),
        "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
                   f"load average {os.getloadavg()[0]:.1f} at start",
        "lake": str(args.lake),
    }
    result["serve"] = serve_latency(args.lake, args.requests, scratch)
    lake_eval = evaluate(load(args.lake))
    result["lake_time_split"] = lake_eval.to_dict()
    result["lake_time_split"]["command"] = f"cryptoscope reco evaluate --lake {args.lake}"
    result["movielens"] = {"command": f"cryptoscope reco benchmark movielens --data {args.data} --out RESULT.json",
                           "protocol": "stratified 75/25 per user, seed 42, top-10, implicit, seen items excluded",
                           "measured": benchmark(args.data), "published": PUBLISHED}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"serve": result["serve"], "movielens": result["movielens"]["measured"]}, indent=2))


if __name__ == "__main__":
    main()
