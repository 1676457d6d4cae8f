"""The graph part of benchmarks/deep.py: a graph network against LightGBM with graph features, on the world.

A world is simulated once into ``benchmarks/scratch/`` (same settings, same world; reused when there), then
`cryptoscope.benchmarks.world_graph.compare` chooses settings on the development period and runs every model
and seed on the later test period. Figures, seeds, wall and CPU seconds go into deep.json's ``graph``.
"""

from __future__ import annotations

import argparse
import shlex
import time
from pathlib import Path
from typing import Any

from cryptoscope.benchmarks.world_graph import TARGET_LABELS, TARGET_ROLES, TOP_K, compare
from cryptoscope.lake import Lake
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate

SCRATCH = Path(__file__).parent / "scratch"


def add_graph_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--graph-users", type=int, default=20_000)
    parser.add_argument("--graph-days", type=int, default=120)
    parser.add_argument("--graph-world-seed", type=int, default=7)
    parser.add_argument("--graph-fraud-scale", type=float, default=3.0)
    parser.add_argument("--graph-horizon", type=int, default=30, help="days between the snapshots")
    parser.add_argument("--graph-seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])


def world(args: argparse.Namespace) -> tuple[Lake, SimConfig, float]:
    """The simulated world (simulated here the first time), and the seconds simulating took (0 when reused)."""
    cfg = SimConfig(users=args.graph_users, days=args.graph_days, seed=args.graph_world_seed,
                    fraud_scale=args.graph_fraud_scale)
    root = SCRATCH / f"graph-world-{cfg.users}u-{cfg.days}d-seed{cfg.seed}-fraud{cfg.fraud_scale:g}"
    lake = Lake(root)
    if (root / "_catalog.json").exists():
        return lake, cfg, 0.0
    clock = time.perf_counter()
    simulate(cfg, lake)
    return lake, cfg, time.perf_counter() - clock


def run_graph(args: argparse.Namespace, command: str) -> dict[str, Any]:
    lake, cfg, simulated = world(args)
    result = compare(lake, cfg.start, cfg.days, horizon=args.graph_horizon, seeds=args.graph_seeds)
    mean = result["test"]["models"]
    for name, m in mean.items():
        t = m["mean"]["truth"]
        print(f"graph {name}: P@{TOP_K} {t['precision_at_100']:.3f} ring recall {t['ring_recall_at_100']:.3f} "
              f"AUC {t['auc_roc']:.3f} AP {t['average_precision']:.3f} ({m['mean']['cpu_seconds']:.0f} CPU s)",
              flush=True)
    world_cmd = shlex.join(["cryptoscope", "simulate", "--users", str(cfg.users), "--days", str(cfg.days), "--seed",
                            str(cfg.seed), "--fraud-scale", f"{cfg.fraud_scale:g}", "--lake", "LAKE"])
    return {
        "task": "mules and ring members (" + ", ".join(TARGET_LABELS) + " labels; truth roles "
                + ", ".join(TARGET_ROLES) + ")",
        "world": {"users": cfg.users, "days": cfg.days, "seed": cfg.seed, "fraud_scale": cfg.fraud_scale,
                  "start": cfg.start.date().isoformat(), "command": world_cmd, "simulate_seconds": round(simulated, 1),
                  "simulated_by_this_run": simulated > 0},
        "protocol": "fit on the snapshot (graph, behaviour features, known-bad labels strictly before it) one horizon "
                    "before the test cut-off, on users not yet known bad, bad = a mule or ring label learnt since; "
                    "score every user not known bad at the test cut-off from its snapshot; judge on the "
                    "simulator's truth (mules and ring members whose behaviour began before the cut-off, found or "
                    "not) and on the labels found after it. Settings chosen on the development period (the same, "
                    "one horizon earlier, judged on labels known by the test cut-off).",
        "models": {"graph_sage": "heterogeneous GraphSAGE over users and shared devices, IPs per week, cards, bank "
                                 "instruments, addresses, documents, referrers (PyG, full batch, CPU, 1 thread); user "
                                 "nodes carry the behaviour features and the known-bad flag",
                   "lightgbm_graph_features": "LightGBM on the same behaviour features + degree, strength, component "
                                              "and Leiden community statistics, known-bad neighbours and share, "
                                              "propagation",
                   "lightgbm_tabular_only": "LightGBM on the behaviour features alone (for reference)"},
        "seeds": args.graph_seeds, **result, "command": command,
    }
