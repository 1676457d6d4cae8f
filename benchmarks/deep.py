"""Deep models against our boosted trees, in one run on the same split; figures into benchmarks/results/deep.json.

The Fraud Detection Handbook's protocol (`cryptoscope.benchmarks.fdh`): for each start date and seed,
LightGBM on the aggregates, the sequence model alone (a GRU over the card's last payments before the
decision, plus the same aggregates) and the hybrid (LightGBM + the sequence model's out-of-fold logit)
are fitted on the same training rows and scored on the same test rows, each with its wall and CPU
seconds. The issue's goal: hybrid average precision above LightGBM's by 0.01 on every date.
Each entry keeps the equivalent ``cryptoscope risk benchmark fdh --model ...`` command.

    python benchmarks/deep.py --data ../shared/data/fdh/transactions.parquet \\
        --train-start 2018-07-25 2018-06-20 2018-08-20 --seeds 7

With ``--validate`` the same runs go on the validation folds instead (training 14 days before each
start date): the settings in `cryptoscope.benchmarks.fdh_deep` were chosen there, never on a test week.

The graph part (``deep_graph.py``): mules and ring members on a simulated world, a heterogeneous GraphSAGE
against LightGBM with graph features, fitted on an earlier snapshot and judged on a later period.
``--parts`` runs one part alone and keeps the other's results:

    python benchmarks/deep.py --parts graph --graph-seeds 0 1 2 3 4

``--parts world-withdrawal --lake LAKE`` runs the world's withdrawal part (`cryptoscope.benchmarks.world_deep`):
the withdrawal (account takeover) product's LightGBM, sequence model and hybrid on one time split, judged on the
later test period with the cost of their decisions, into the ``world_withdrawal`` section; ``--steps`` adds
sequence lengths to choose from on the validation period:

    python benchmarks/deep.py --parts world-withdrawal --lake demo-lake --seeds 7 8 --steps 8 16 32
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
import torch

from cryptoscope.benchmarks.fdh import BOOK_DATES, BOOK_FIGURES, MODELS, Periods, run_models
from cryptoscope.benchmarks.fdh_data import fdh_lake
from cryptoscope.benchmarks.world_deep import compare_models
from cryptoscope.fsio import atomic_write
from deep_graph import add_graph_arguments, run_graph

RESULTS = Path(__file__).parent / "results" / "deep.json"
GOAL = 0.01
#: The handbook's chapter 7 deep models on its dates (test means), AUC / AP / CP@100, beside its best trees.
BOOK_DEEP = {
    "feed_forward_network": (0.876, 0.675, 0.303),
    "lstm_last_5_transactions": (0.876, 0.665, 0.297),
    "lstm_with_attention": (0.874, 0.667, 0.295),
    "cnn": (0.872, 0.599, 0.288),
}

#: How the sequence model and the hybrid were chosen: average precision on two validation folds (training
#: 2018-07-11 and 2018-06-06, i.e. 14 days before 2018-07-25 and 2018-06-20; their test weeks end before
#: those start dates' test weeks begin), never on a test week. LightGBM on the same folds: 0.732 and 0.729.
SELECTION = {
    "folds": ["2018-07-11", "2018-06-06"],
    "lightgbm": [0.7318, 0.7289],
    "sequence, 10 earlier payments": [0.6700, None],
    "hybrid, 10 earlier payments, full sequence model's logit": [0.7227, None],
    "sequence, 10 earlier payments + the decision's own (chosen)": [0.6877, 0.6944],
    "sequence, 20 earlier payments + the decision's own": [0.6780, 0.6946],
    "hybrid, full sequence model's logit (10 + 1 steps)": [0.7286, 0.7180],
    "hybrid, full sequence model's logit (20 + 1 steps)": [None, 0.7157],
    "hybrid, logit of a GRU over the sequence alone (chosen)": [0.7262, 0.7294],
    "GRU over the sequence alone, by itself": [0.2916, 0.2660],
    "rank average 0.85 lightgbm + 0.15 sequence (not a hybrid: for reference)": [0.7288, 0.7302],
}


def cli_command(data: Path, start: dt.date, model: str) -> str:
    return shlex.join(["cryptoscope", "risk", "benchmark", "fdh", "--data", str(data), "--train-start", str(start),
                       "--out", f"fdh-{start}-{model}.json", "--model", model])


def one_run(lake: Any, data: Path, start: dt.date, seed: int) -> dict[str, Any]:
    run = run_models(lake, Periods(start), MODELS, seed=seed)
    models = {name: {**r.scores.rounded(), "card_precision_at_100_per_day": [round(v, 4) for v in r.per_day],
                     "seconds": round(r.seconds, 1), "cpu_seconds": round(r.cpu_seconds, 1),
                     "command": cli_command(data, start, name) + ("" if seed == 7 else "  # at seed 7; this is "
                                                                   f"seed {seed}"),
                     "params": r.params}
              for name, r in run.runs.items()}
    ap = {name: r.scores.average_precision for name, r in run.runs.items()}
    return {"train_start": str(start), "seed": seed, "periods": run.periods.as_dict(), "models": models,
            "baseline_logistic_regression": run.baseline.rounded(),
            "hybrid_minus_lightgbm_average_precision": round(ap["hybrid"] - ap["lightgbm"], 4),
            "sequence_minus_lightgbm_average_precision": round(ap["sequence"] - ap["lightgbm"], 4),
            "rows": {"train": run.rows.train, "train_frauds": run.rows.train_frauds, "test": run.rows.test,
                     "test_frauds": run.rows.test_frauds},
            "seconds": round(run.seconds, 1), "cpu_seconds": round(run.cpu_seconds, 1)}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per date: each model's figures averaged over seeds, and whether the hybrid met the goal there."""
    out: dict[str, Any] = {}
    for start in sorted({r["train_start"] for r in runs}):
        mine = [r for r in runs if r["train_start"] == start]
        row: dict[str, Any] = {"seeds": [r["seed"] for r in mine]}
        for name in MODELS:
            row[name] = {k: round(float(np.mean([r["models"][name][k] for r in mine])), 4)
                         for k in ("auc_roc", "average_precision", "card_precision_at_100", "cpu_seconds")}
        gain = row["hybrid"]["average_precision"] - row["lightgbm"]["average_precision"]
        row["hybrid_minus_lightgbm_average_precision"] = round(gain, 4)
        row["goal_met"] = bool(gain > GOAL)
        out[start] = row
    return out


def fdh_runs(args: argparse.Namespace, command: str) -> list[dict[str, Any]]:
    """The FDH part: each start date and seed, LightGBM, sequence and hybrid in one run."""
    if args.data is None:
        raise SystemExit("--data is needed for the fdh part")
    lake = fdh_lake(args.data)
    new = []
    for start in [] if args.rewrite else args.train_start:
        for seed in args.seeds:
            day = start - dt.timedelta(days=14) if args.validate else start
            entry = one_run(lake, args.data, day, seed)
            entry["run_by"] = command
            new.append(entry)
            m = entry["models"]
            print(f"{day} seed {seed}: " + "  ".join(
                f"{n} AUC {m[n]['auc_roc']:.3f} AP {m[n]['average_precision']:.3f} CP@100 "
                f"{m[n]['card_precision_at_100']:.3f} ({m[n]['cpu_seconds']:.0f} CPU s)" for n in MODELS), flush=True)
    return new


def merge_fdh(args: argparse.Namespace, results: dict[str, Any], new: list[dict[str, Any]]) -> None:
    """The new FDH runs into ``results`` (replacing earlier runs of the same date and seed), with the summaries."""
    key = "validation_runs" if args.validate else "runs"
    done = {(r["train_start"], r["seed"]) for r in new}
    runs = [r for r in results.get(key, []) if (r["train_start"], r["seed"]) not in done] + new
    runs.sort(key=lambda r: (r["train_start"], r["seed"]))
    results[key] = runs
    results[f"{key}_summary"] = summary(runs)
    main_summary = results.get("runs_summary", {})
    results["fdh"] = {
        "protocol": "the Fraud Detection Handbook's: 7 training, 7 delay, 7 test days; known-compromised "
                    "customers removed from each test day; features and sequences only from before each decision",
        "models": {"lightgbm": "LightGBM on the aggregates (benchmarks/results/fdh.json's model)",
                   "sequence": "GRU over the card's last payments strictly before the decision + the "
                               "decision's own payment, beside an MLP over the same aggregates",
                   "hybrid": "LightGBM on the aggregates + the sequence model's logit (out of fold by "
                             "customer on training rows)"},
        "selection": SELECTION,
        "goal": f"hybrid average precision above lightgbm's by {GOAL} on every date",
        "goal_met_on_every_date": bool(main_summary) and all(r["goal_met"] for r in main_summary.values()),
        "book": {"dates": str(BOOK_DATES), "xgboost_model_selection": list(BOOK_FIGURES[
            "xgboost_model_selection"].rounded(3).values()), **{k: list(v) for k, v in BOOK_DEEP.items()},
                 "columns": ["auc_roc", "average_precision", "card_precision_at_100"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", choices=("fdh", "graph", "world-withdrawal"), default=["fdh", "graph"],
                        help="which comparisons to run (each alone or several); the others' results are kept")
    parser.add_argument("--data", type=Path, help="the FDH transactions (the fdh part)")
    parser.add_argument("--lake", type=Path, help="a simulated world's lake (the world-withdrawal part)")
    parser.add_argument("--steps", nargs="+", type=int, default=[0],
                        help="world-withdrawal: sequence lengths to try (0: the product's own)")
    parser.add_argument("--train-start", nargs="+", type=dt.date.fromisoformat,
                        default=[BOOK_DATES, dt.date(2018, 6, 20), dt.date(2018, 8, 20)])
    parser.add_argument("--seeds", nargs="+", type=int, default=[7])
    parser.add_argument("--validate", action="store_true", help="run the validation folds (14 days earlier) instead")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--rewrite", action="store_true", help="run nothing: rewrite the summaries and notes from "
                                                                 "the runs already in the results file")
    add_graph_arguments(parser)
    args = parser.parse_args()
    command = shlex.join(["python", "benchmarks/deep.py", *sys.argv[1:]])
    fdh = fdh_runs(args, command) if "fdh" in args.parts else None
    graph = run_graph(args, command) if "graph" in args.parts and not args.rewrite else None
    world = None
    if "world-withdrawal" in args.parts and not args.rewrite:
        if args.lake is None:
            parser.error("--parts world-withdrawal needs --lake")
        world = world_withdrawal(args.lake, args.seeds, args.steps, command)
    # read-modify-write at the end, so that runs may go side by side; a part run alone keeps the others' results
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    if fdh is not None:
        merge_fdh(args, results, fdh)
    if graph is not None:
        results["graph"] = graph
    if world is not None:
        results["world_withdrawal"] = world
    results.update({
        "benchmark": "deep models against boosted trees, same run, same split",
        "machine": f"{os.cpu_count()} cores (shared with other jobs: wall times are noisy, CPU seconds less so), "
                   f"{platform.python_implementation()} {platform.python_version()}, torch {torch.__version__}",
    })
    if not args.rewrite:
        commands = results.get("commands", [])
        results["commands"] = [*(c for c in commands if c != command), command]
    args.results.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.results, (json.dumps(results, indent=2) + "\n").encode())
    print(f"wrote {args.results}")


def world_withdrawal(lake: Path, seeds: list[int], steps: list[int], command: str) -> dict[str, Any]:
    """The world part: every model x seed (x sequence length) on one frame, figures and the adoption verdict."""
    wall, cpu = time.perf_counter(), time.process_time()
    setup, runs = compare_models(lake, seeds=seeds, steps=[s or None for s in steps])
    rows = [r.to_dict() for r in runs]
    for r in rows:
        print(f"{r['model']} seed {r['seed']} steps {r['steps']}: valid AP {r['valid']['average_precision']} "
              f"cost {r['valid']['cost']}; test AUC {r['test']['roc_auc']} AP {r['test']['average_precision']} "
              f"P@100 {r['test']['precision_at_100']} cost {r['test']['cost']} ({r['cpu_seconds']} CPU s)", flush=True)
    return {"lake": str(lake), "product": "withdrawal (account takeover and money mules)", "setup": setup,
            "protocol": "the product's time plan (risk/plan.py): train, valid, the maturity wait, test from the build "
                        "date judged with every label; thresholds and calibration on valid; same frame for all",
            "runs": rows, "summary": world_summary(rows), "seconds": round(time.perf_counter() - wall, 1),
            "cpu_seconds": round(time.process_time() - cpu, 1), "command": command,
            "cli": "cryptoscope risk train withdrawal --lake LAKE --model lightgbm|sequence|hybrid"}


def world_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per model, test figures averaged over seeds, and each deep model's cost and average precision against
    LightGBM's: it is adopted only if it is cheaper on the test period. A deep model's sequence length is the
    one with the lowest mean validation cost (then the highest validation average precision): chosen on the
    validation period, never on the test one."""
    out: dict[str, Any] = {}
    for name in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == name]
        by_steps = {s: [r for r in mine if r["steps"] == s] for s in dict.fromkeys(r["steps"] for r in mine)}
        steps = min(by_steps, key=lambda s: (np.mean([r["valid"]["cost"] for r in by_steps[s]]),
                                             -np.mean([r["valid"]["average_precision"] for r in by_steps[s]])))
        tests = [r["test"] for r in by_steps[steps]]
        out[name] = {k: round(float(np.mean([t[k] for t in tests])), 4)
                     for k in ("roc_auc", "average_precision", "precision_at_100", "precision_at_k", "cost")}
        out[name] |= {"steps": steps, "seeds": len(tests),
                      "valid_cost": round(float(np.mean([r["valid"]["cost"] for r in by_steps[steps]])), 0)}
    for name in ("sequence", "hybrid"):
        if name in out and "lightgbm" in out:
            out[f"{name}_minus_lightgbm"] = {k: round(out[name][k] - out["lightgbm"][k], 4)
                                             for k in ("average_precision", "cost")}
            out[f"{name}_wins"] = bool(out[name]["cost"] < out["lightgbm"]["cost"])
    return out


if __name__ == "__main__":
    main()
