"""The mule product's harness on the graph benchmark's world: the own trees and the graph network, fitted on the same
three snapshots, judged on the same test snapshot with the labels learnt after it; figures into
benchmarks/results/mule_harness.json.

This is what ``cryptoscope anomaly mules train --model graph`` decides on (`cryptoscope.anomaly.mule_training`):
fitted on the snapshot three horizons before the end, calibrated on the next, judged on the last; the network is
promoted only if it beats the trees on precision@100 and ring recall@100 at no higher cost, on the mean of its
seeds (``--seeds``, 3 by default: this records the verdict of one seed alone, of seeds 0-2 and of them all). Unlike
``deep.py --parts graph`` it is judged on labels only (what an exchange has), not the simulator's truth. The world
is the graph benchmark's (simulated into benchmarks/scratch/ the first time):

    python benchmarks/mule_harness.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from cryptoscope.anomaly.mule_training import Draws, MuleFit, Snapshots, fit, refusal
from cryptoscope.anomaly.mules import MulePlan
from cryptoscope.fsio import atomic_write
from deep_graph import add_graph_arguments, world

RESULTS = Path(__file__).parent / "results" / "mule_harness.json"
KEYS = ("test_precision_at_100", "test_ring_recall_at_100", "test_rings", "test_rings_found_at_100",
        "graph_signals_test_precision_at_100", "graph_signals_test_ring_recall_at_100")


def figures(fitted: MuleFit) -> dict[str, Any]:
    m = fitted.card.metrics_test
    assert m is not None
    return {**{k: round(fitted.figures[k], 4) for k in KEYS}, "auc_roc": round(m.roc_auc, 4),
            "average_precision": round(m.pr_auc, 4), "decision_cost": round(fitted.decisions.cost, 2),
            "reviewed": fitted.decisions.reviewed, "bad_stopped": fitted.decisions.bad_stopped,
            "fit_seconds": round(fitted.seconds, 2), "fit_cpu_seconds": round(fitted.cpu_seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_graph_arguments(parser)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = parser.parse_args()
    command = shlex.join(["python", "benchmarks/mule_harness.py", *sys.argv[1:]])
    lake, cfg, simulated = world(args)
    clock = time.perf_counter()
    data = Snapshots.build(lake, MulePlan(horizon_days=args.graph_horizon))
    snap_seconds = time.perf_counter() - clock
    runs, owns, nets = [], [], []
    for seed in args.seeds:
        own, net = fit("lightgbm", data, random_state=seed), fit("graph", data, random_state=seed)
        owns.append(own)
        nets.append(net)
        alone = refusal(Draws("graph", (net,)), Draws("lightgbm", (own,)))
        runs.append({"seed": seed, "lightgbm": figures(own), "graph": figures(net),
                     "graph_promoted": not alone, "graph_refused_because": alone})
        print(json.dumps(runs[-1]), flush=True)
    verdicts = {f"seeds {args.seeds[0]}-{args.seeds[n - 1]}": refusal(Draws("graph", tuple(nets[:n])),
                                                                    Draws("lightgbm", tuple(owns[:n])))
                or "promoted" for n in sorted({min(3, len(nets)), len(nets)})}
    mean = {m: {k: round(float(np.mean([r[m][k] for r in runs])), 4) for k in runs[0][m]}
            for m in ("lightgbm", "graph")}
    result = {"world": {"users": cfg.users, "days": cfg.days, "seed": cfg.seed, "fraud_scale": cfg.fraud_scale,
                        "simulated_by_this_run": simulated > 0},
              "snapshots": {d.cut.name: {"at": d.cut.at.isoformat(), "labels_until": d.cut.until.isoformat(),
                                         "users_judged": d.judged, "labelled_later": d.bad}
                            for d in (data.train, data.valid, data.test)},
              "snapshot_seconds": round(snap_seconds, 1), "runs": runs, "mean": mean,
              "graph_promoted_alone_in": sum(r["graph_promoted"] for r in runs), "gate_on_seed_means": verdicts,
              "command": command,
              "machine": platform.machine(), "measured": dt.date.today().isoformat()}
    atomic_write(RESULTS, (json.dumps(result, indent=2) + "\n").encode())
    print(json.dumps({"mean": mean, "gate_on_seed_means": verdicts}, indent=1))


if __name__ == "__main__":
    main()
