"""Simulator throughput and memory at scale: 1,000,000 users x 30 days must fit this 2-core, 24 GB machine.

Writes benchmarks/results/simulate_scale.json. The small run in the same process is the baseline:
``scaling_ratio`` near 1 means events/s holds up as the world grows (memory stays bounded by chunks).

    python benchmarks/simulate_scale.py --users 1000000 --days 30
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from pathlib import Path

from cryptoscope.lake import Lake
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate

HERE = Path(__file__).parent


def run(users: int, days: int, lake_dir: Path) -> dict[str, float]:
    shutil.rmtree(lake_dir, ignore_errors=True)
    started = time.perf_counter()
    summary = simulate(SimConfig(users=users, days=days, seed=7), Lake(lake_dir))
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in lake_dir.rglob("*.parquet"))
    shutil.rmtree(lake_dir, ignore_errors=True)
    return {"users": users, "days": days, "rows": summary.events, "seconds": round(seconds, 2),
            "events_per_s": round(summary.events / seconds), "lake_mb": round(size / 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--baseline-users", type=int, default=20_000)
    args = parser.parse_args()
    scratch = HERE / "scratch"
    baseline = run(args.baseline_users, args.days, scratch / "baseline")
    full = run(args.users, args.days, scratch / "full")
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "command": "python " + " ".join(["benchmarks/simulate_scale.py", *sys.argv[1:]]),
        "machine": "2 cores, 24 GiB",
        "full": full,
        "baseline": baseline,
        "events_per_s": full["events_per_s"],
        "peak_rss_mb": round(peak_rss_mb),
        "scaling_ratio": round(full["events_per_s"] / baseline["events_per_s"], 3),
    }
    out = HERE / "results" / "simulate_scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
