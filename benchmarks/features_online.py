"""Online feature state on one core: update throughput and `get` latency on a replayed simulated world.

Simulates a world (default 20,000 users x 30 days), merges every table the shipped views read into
one stream in time order and replays it through one `OnlineFeatureState` pinned to one CPU:

* updates/s, events carrying ``event_time`` as int microseconds (how a message bus would carry it)
  and, in a second replay, as timezone-aware datetimes (as Arrow hands them to Python);
* `get` latency over ``--gets`` calls at live entities picked uniformly over (view, key) pairs, asked
  at the newest event + 1 µs (real-time scoring), plus the same for entities picked in proportion
  to their recent events (busy entities come up more often) and the heaviest entity of each view.

The input rows are loaded before timing and frozen out of the garbage collector's view
(`gc.freeze`): a consumer would not hold a month of events; the state's own objects stay collected
as usual. Wall-clock figures are the headline; CPU-time figures sit next to them because shared
machines make wall time noisy. Read-modify-writes benchmarks/results/features.json (other keys kept).

    python benchmarks/features_online.py --users 20000 --days 30
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.features.online import OnlineFeatureState
from cryptoscope.features.online_window import to_micros
from cryptoscope.features.views import VIEWS
from cryptoscope.lake import Lake, connect
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate
from features_offline import update_results

HERE = Path(__file__).parent


def load_stream(lake: Lake) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table the views read, as (table, dict row), in event-time order."""
    con = connect(lake)
    tables = sorted({src.table for view in VIEWS.values() for src in view.sources})
    rows, times, which = [], [], []
    for i, name in enumerate(tables):
        t = con.table(name).to_pyarrow()
        rows.append(t.to_pylist())
        times.append(pc.cast(t["event_time"], pa.int64()).to_numpy())
        which.append(np.full(len(t), i))
    ti, ri = np.concatenate(which), np.concatenate([np.arange(len(r)) for r in rows])
    order = np.lexsort((ri, ti, np.concatenate(times)))
    return [(tables[i], rows[i][r]) for i, r in zip(ti[order].tolist(), ri[order].tolist(), strict=True)]


def replay(stream: list[tuple[str, dict[str, Any]]]) -> tuple[OnlineFeatureState, dict[str, float]]:
    state = OnlineFeatureState()
    update = state.update
    rss = psutil.Process().memory_info().rss
    wall, cpu = time.perf_counter(), time.process_time()
    for table, row in stream:
        update(table, row)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    grown = (psutil.Process().memory_info().rss - rss) / 1e6
    return state, {"seconds": round(wall, 2), "updates_per_s": round(len(stream) / wall),
                   "updates_per_cpu_s": round(len(stream) / cpu), "rss_growth_mb": round(grown)}


def latencies(state: OnlineFeatureState, picks: list[tuple[str, Any]], at: int) -> dict[str, float]:
    wall, cpu = [], []
    for name, key in picks:
        w, c = time.perf_counter_ns(), time.thread_time_ns()
        state.get(name, key, at)
        cpu.append(time.thread_time_ns() - c)
        wall.append(time.perf_counter_ns() - w)
    ms_wall, ms_cpu = np.array(wall) / 1e6, np.array(cpu) / 1e6

    def q(ms: np.ndarray, p: float) -> float:
        return round(float(np.percentile(ms, p)), 4)

    return {"p50_ms": q(ms_wall, 50), "p99_ms": q(ms_wall, 99), "p999_ms": q(ms_wall, 99.9),
            "max_ms": q(ms_wall, 100), "cpu_p99_ms": q(ms_cpu, 99), "cpu_max_ms": q(ms_cpu, 100)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--gets", type=int, default=20_000)
    parser.add_argument("--keep-lake", action="store_true", help="reuse benchmarks/scratch/online-lake if there")
    args = parser.parse_args()

    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})  # one core, for the simulation too (it is not what we measure)
    lake_dir = HERE / "scratch" / f"online-lake-{args.users}x{args.days}-s{args.seed}"
    if not (args.keep_lake and lake_dir.exists()):
        shutil.rmtree(lake_dir, ignore_errors=True)
        simulate(SimConfig(users=args.users, days=args.days, seed=args.seed), Lake(lake_dir))
    stream = load_stream(Lake(lake_dir))
    if not args.keep_lake:
        shutil.rmtree(lake_dir, ignore_errors=True)
    gc.collect()
    gc.freeze()

    _, as_datetime = replay(stream)  # event_time as Arrow gives it: aware datetimes
    gc.collect()
    for _, row in stream:
        row["event_time"] = to_micros(row["event_time"])
    gc.freeze()
    state, as_micros = replay(stream)

    assert state.clock is not None
    at = to_micros(state.clock) + 1
    rng = random.Random(args.seed)
    live = [(name, key) for name in state.views for key in state.stored_rows(name)]
    uniform = latencies(state, [rng.choice(live) for _ in range(args.gets)], at)
    recent = stream[-len(stream) // 30:]  # about the last day: entities weighted by their activity
    busy: list[tuple[str, Any]] = []
    while len(busy) < args.gets:
        table, row = rng.choice(recent)
        name, view = rng.choice([(n, v) for n, v in VIEWS.items() if any(s.table == table for s in v.sources)])
        src = next(s for s in view.sources if s.table == table)
        spec = src.columns.get(view.key, view.key)
        busy.append((name, row[spec] if isinstance(spec, str) else spec(row)))
    weighted = latencies(state, busy, at)
    heaviest = {}
    for name in state.views:
        rows = state.stored_rows(name)
        key = max(rows, key=rows.__getitem__)
        heaviest[name] = {"rows": rows[key], **latencies(state, [(name, key)] * 50, at)}

    snap = HERE / "scratch" / "online-state.sqlite"
    started = time.perf_counter()
    state.snapshot(snap)
    saved = time.perf_counter() - started
    started = time.perf_counter()
    OnlineFeatureState.restore(snap)
    restored = time.perf_counter() - started
    snapshot = {"save_s": round(saved, 2), "restore_s": round(restored, 2), "mb": round(snap.stat().st_size / 1e6, 1)}
    snap.unlink()

    workload = {"users": args.users, "days": args.days, "seed": args.seed, "events": len(stream),
                "views": len(VIEWS), "live_entities": len(live), "gets": args.gets,
                "tables": dict(sorted(_count_tables(stream).items()))}
    result = {
        "online_updates_per_s": as_micros["updates_per_s"],
        "online_get_p50_ms": uniform["p50_ms"],
        "online_get_p99_ms": uniform["p99_ms"],
        "online_command": "python " + " ".join(["benchmarks/features_online.py", *sys.argv[1:]]),
        "online_workload": workload,
        "online_detail": {
            "machine": f"{psutil.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GiB, "
                       f"pinned to cpu {cpus[-1]}, load average {os.getloadavg()[0]:.1f} at the end",
            "python": platform.python_version(),
            "replay_event_time_int_us": as_micros, "replay_event_time_datetime": as_datetime,
            "get_uniform_over_live_entities": uniform, "get_weighted_by_recent_activity": weighted,
            "get_heaviest_entity_per_view": heaviest,
            "sqlite_snapshot": snapshot,
        },
    }
    update_results(result)
    print(json.dumps(result, indent=2))


def _count_tables(stream: list[tuple[str, dict[str, Any]]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, _ in stream:
        counts[table] = counts.get(table, 0) + 1
    return counts


if __name__ == "__main__":
    main()
