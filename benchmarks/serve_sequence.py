"""Per-request latency and CPU of online withdrawal scoring with a promoted sequence or hybrid model, beside
LightGBM's, in one process (no network, no HTTP): `OnlineScorer.score_batch` on one withdrawal at a time,
which builds the decision row (the feature state, the novelty context and, for a sequence model, the
account's event sequence), scores it, decides and explains it, then feeds the event.

Each model is trained on the lake (``risk.training.train``, ``model=``) into its own registry and made the
champion; the lake's events before the last ``--days`` are replayed into the scorer (`serve.bootstrap.warm`),
then the events after are fed in time order and every withdrawal among them is timed. The serving target is
p99 < 10 ms at 1,000 requests/s: one core at 1,000 requests/s leaves 1 ms of CPU a request, so CPU per
request says whether a model could hold the rate, and p99 of the request alone says what it adds.

    python benchmarks/serve_sequence.py --lake LAKE --days 7            # -> benchmarks/results/serve_sequence.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from cryptoscope.fsio import atomic_write
from cryptoscope.lake import connect
from cryptoscope.lake.replay import time_ordered
from cryptoscope.models import Registry
from cryptoscope.risk.training import train
from cryptoscope.serve.bootstrap import replay_tables, warm
from cryptoscope.serve.online import OnlineScorer

RESULTS = Path(__file__).parent / "results" / "serve_sequence.json"


def timed_requests(lake: Path, registry: Path, since: dt.datetime, limit: int) -> dict[str, Any]:
    """Warm a scorer on the events before ``since``, then time each withdrawal after it (at most ``limit``)."""
    scorer = OnlineScorer(Registry(registry), kinds=("withdrawal",))
    reference = warm(scorer, lake, until=since).reference
    scorer.fit_explainers(reference)
    con = connect(lake)
    tables: dict[str, pa.Table] = {}
    for name in replay_tables():
        t = con.table(name)
        tables[name] = t.filter(t.event_time >= since).to_pyarrow()
    live = scorer.live("withdrawal")
    walls, cpus = [], []
    for table, row in time_ordered(tables):
        if table == live.table and live.is_decision(row) and len(walls) < limit:
            wall, cpu = time.perf_counter(), time.thread_time()
            scorer.score_batch("withdrawal", [row])
            cpus.append(time.thread_time() - cpu)
            walls.append(time.perf_counter() - wall)
        else:
            scorer.feed(table, row)
    ms = np.array(walls) * 1e3
    return {"requests": len(walls), "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3), "max_ms": round(float(ms.max()), 3),
            "cpu_ms_per_request": round(float(np.mean(cpus) * 1e3), 3),
            "fast_path": live.fast_ is not None, "sequence_steps": scorer.sequence_steps.get("withdrawal", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--days", type=float, default=7.0, help="the last days of the lake are the timed requests")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--models", nargs="+", default=["lightgbm", "hybrid", "sequence"])
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    end = connect(args.lake).table("chain_transfers").event_time.max().to_pyarrow().as_py()
    since = end - dt.timedelta(days=args.days)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            registry = Path(tmp) / model
            result = train("withdrawal", args.lake, registry, report_dir=Path(tmp) / "reports", model=model)
            Registry(registry).promote(result.card.name, result.version, force=True)  # timed whether it won or not
            out[model] = timed_requests(args.lake, registry, since, args.requests)
            print(model, out[model], flush=True)
    results = {"benchmark": "online withdrawal scoring, one request at a time, in process", "lake": str(args.lake),
               "timed_from": str(since), "models": out, "target": "p99 < 10 ms at 1,000 requests/s",
               "command": shlex.join(["python", "benchmarks/serve_sequence.py", *sys.argv[1:]]),
               "machine": f"{os.cpu_count()} cores (shared with other jobs), {platform.python_implementation()} "
                          f"{platform.python_version()}; wall times include the load of others, CPU times less so"}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.results, (json.dumps(results, indent=2) + "\n").encode())
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
