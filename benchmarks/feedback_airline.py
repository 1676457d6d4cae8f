"""Feedback models on real tweets and on a simulated exchange's tickets; figures into results/feedback.json.

1. Airline: ``cryptoscope feedback benchmark airline``'s protocol on Twitter US Airline Sentiment
   (3-class sentiment on a split by ``tweet_created``, latest 20 % as test; negative reasons likewise),
   ours against TF-IDF + logistic regression and VADER, all in the same run.
2. Simulated: a 20,000-user, 90-day world (the demo's config, seed 7) is simulated into
   ``benchmarks/scratch/feedback-world`` (once; reused after), every ticket and comment is embedded, and
   sentiment (ticket CSAT / NPS classes) and ticket categories are judged on the latest 20 % by time;
   the CSAT drivers recovered from the lake are stored beside what the simulator planted.

    python benchmarks/feedback_airline.py --data ../shared/data/airline-feedback/Tweets.csv
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from cryptoscope.benchmarks.airline import run_benchmark
from cryptoscope.feedback.analyze import analyze
from cryptoscope.feedback.drivers import csat_drivers, nps_drivers
from cryptoscope.feedback.embeddings import Embedder
from cryptoscope.feedback.experience import survey_experience, ticket_experience
from cryptoscope.fsio import atomic_write
from cryptoscope.lake import Lake
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate

RESULTS = Path(__file__).parent / "results" / "feedback.json"
SCRATCH = Path(__file__).parent / "scratch" / "feedback-world"
PLANTED = ("ticket CSAT = 4.6 - 1.6 x severity - 0.9 x log1p(resolution hours / 24) + noise; severity 0.3-0.9 for "
           "slow withdrawals and missing deposits, 0.9 frozen accounts, 1.0 takeovers, 0.6/0.9 losses, 0.2-0.8 "
           "KYC rejections, 0.3 card declines, 0-0.4 background topics (src/cryptoscope/sources/simulate/feedback.py)")


def _brief(res: dict[str, Any]) -> dict[str, Any]:
    pick = ("accuracy", "macro_f1")
    return {"split": res["split"], "labels": res.get("labels"), "model": res["model"],
            "embedding_only": {k: res["embedding_only"][k] for k in (*pick, "n")},
            "baselines": res["baselines"],
            "beats_baselines": bool(all(res["model"][m] > b[m] for b in res["baselines"].values() for m in pick))}


def simulated(users: int, days: int, seed: int, lake_dir: Path, embedder: Embedder) -> dict[str, Any]:
    lake = Lake(lake_dir)
    if not lake.file_paths("tickets"):
        simulate(SimConfig(users=users, days=days, seed=seed), lake)
    started = time.perf_counter()
    result = analyze(lake, embedder)
    seconds = time.perf_counter() - started
    csat = csat_drivers(ticket_experience(lake))
    nps = nps_drivers(survey_experience(lake))
    return {
        "world": {"users": users, "days": days, "seed": seed, "texts": len(result.feedback)},
        **{task: _brief(res) for task, res in result.evaluation.items()},
        "topics": [{"id": t.topic_id, "label": t.label, "size": t.size} for t in result.topics.topics],
        "csat_drivers": {"planted": PLANTED, **csat.to_dict()},
        "nps_drivers": nps.to_dict(),
        "seconds_analyze": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lake", type=Path, default=SCRATCH)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    embedder = Embedder()
    airline = run_benchmark(args.data, embedder)
    airline["cli_command"] = shlex.join(["cryptoscope", "feedback", "benchmark", "airline", "--data", str(args.data),
                                         "--out", "RESULT.json"])
    for name, s in [("ours", airline["model"]), ("embeddings only", airline["embedding_only"]),
                    *airline["baselines"].items()]:
        print(f"airline {name:16s} accuracy {s['accuracy']:.3f}  macro-F1 {s['macro_f1']:.3f}", flush=True)
    sim = simulated(args.users, args.days, args.seed, args.lake, embedder)
    results = {
        "benchmark": "feedback: sentiment and categories on real airline tweets and simulated exchange tickets",
        "command": shlex.join(["python", "benchmarks/feedback_airline.py", *sys.argv[1:]]),
        "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
        "airline": airline,
        "simulated": sim,
    }
    atomic_write(args.results, (json.dumps(results, indent=2, default=str) + "\n").encode())
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
