"""Offline features of all 12 views over a 1,000,000-user x 30-day world, on DuckDB, on this machine.

For each view a spine of decision points is built from the view's own source events, then
`view_features` is written to Parquet (so DuckDB computes every feature of every point), and the
wall time, rows and peak RSS are recorded. Writes the ``offline_*`` keys of
benchmarks/results/features.json (other keys in that file are kept).

Decision points ("spines"):

* entity views: a deterministic sample of the view's source events, a decision at the event itself
  (as a scoring service makes one at each login, payment or order; the features only see events
  strictly before it): the events whose ``event_time`` microsecond field is divisible by
  ``k = rows // --points-per-view`` (every event when the table is smaller);
* market-wide views (``symbol_activity``: 11 symbols, 6.8M trades): one point per symbol at the
  top of every hour that symbol traded in, since a sample of trades would score the same symbol
  tens of thousands of times an hour.

With ``--chunk-days N`` each view's spine is cut into N-day slices of decision time and each slice
is one query writing one Parquet file (less memory, same rows).

    python benchmarks/features_offline.py --users 1000000 --days 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq

from cryptoscope.features.offline import events, view_features
from cryptoscope.features.spec import FeatureView
from cryptoscope.features.views import VIEWS
from cryptoscope.lake import Lake, connect
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "features.json"
GRID_VIEWS = {"symbol_activity": 1}  # view -> hours between grid points


def rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def ensure_world(path: Path, users: int, days: int, seed: int) -> dict[str, Any]:
    """Reuse the lake at ``path`` when it holds a world; simulate one otherwise."""
    lake = Lake(path)
    status = {s.name: s.rows for s in lake.status()} if path.exists() else {}
    if status.get("accounts"):
        return {"path": str(path), "reused": True, "accounts": status["accounts"], "rows": sum(status.values())}
    started = time.perf_counter()
    summary = simulate(SimConfig(users=users, days=days, seed=seed), lake)
    return {"path": str(path), "reused": False, "accounts": users, "rows": summary.events,
            "simulate_seconds": round(time.perf_counter() - started, 1)}


def spine(con: Any, view: FeatureView, per_view: int) -> tuple[Any, str]:
    """The view's decision points (key, decision_time) and a description of how they were chosen."""
    ev = events(con, view)
    if view.name in GRID_VIEWS:
        hours = GRID_VIEWS[view.name]
        top = ev.event_time.truncate("h") + ibis.interval(hours=1)
        pts = ev.select(view.key, decision_time=top).distinct()
        if hours > 1:
            pts = pts.filter(pts.decision_time.hour() % hours == 0)
        return pts, f"one point per {view.key} at the top of every {hours}h it had events (the next full hour)"
    rows = int(ev.count().to_pyarrow().as_py())
    k = max(1, rows // per_view)
    pts = ev.filter(ev.event_time.microsecond() % k == 0).select(view.key, decision_time=ev.event_time).distinct()
    return pts, f"source events with event_time microsecond % {k} == 0 ({rows:,} events), decision at the event"


def run_view(con: Any, view: FeatureView, per_view: int, chunk_days: int, out_dir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    pts_expr, how = spine(con, view, per_view)
    name = f"pts_{view.name}"
    con.create_table(name, pts_expr, temp=True, overwrite=True)
    pts = con.table(name)
    stats = pts.aggregate(n=pts.count(), lo=pts.decision_time.min(), hi=pts.decision_time.max()).to_pyarrow()
    n, lo, hi = (stats[c][0].as_py() for c in ("n", "lo", "hi"))
    spine_seconds = time.perf_counter() - started

    view_dir = out_dir / view.name
    shutil.rmtree(view_dir, ignore_errors=True)
    view_dir.mkdir(parents=True)
    slices: list[tuple[dt.datetime, dt.datetime]] = [(lo, hi + dt.timedelta(microseconds=1))]
    if chunk_days > 0:
        day0 = lo.replace(hour=0, minute=0, second=0, microsecond=0)
        steps = (hi - day0).days // chunk_days + 1
        slices = [(day0 + dt.timedelta(days=i * chunk_days), day0 + dt.timedelta(days=(i + 1) * chunk_days))
                  for i in range(steps)]
    started = time.perf_counter()
    for i, (a, b) in enumerate(slices):
        part = pts.filter(pts.decision_time >= a, pts.decision_time < b)
        con.to_parquet(view_features(con, view, part), view_dir / f"part-{i:03d}.parquet")
    seconds = time.perf_counter() - started
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in view_dir.glob("*.parquet"))
    if rows != n:
        raise SystemExit(f"{view.name}: {rows} feature rows for {n} distinct points")
    con.raw_sql(f'DROP TABLE "{name}"')
    result = {"points": n, "rows": rows, "features": len(view.feature_names()),
              "windows": list(view.windows), "seconds": round(seconds, 2), "points_per_s": round(n / seconds),
              "spine_seconds": round(spine_seconds, 2), "queries": len(slices), "spine": how,
              "peak_rss_mb_so_far": rss_mb()}
    print(view.name, json.dumps(result), flush=True)
    return result


def update_results(keys: dict[str, Any]) -> None:
    """Read-modify-write benchmarks/results/features.json under a lock, keeping other benchmarks' keys."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        fh.seek(0)
        text = fh.read()
        data = json.loads(text) if text.strip() else {}
        data.update(keys)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(data, indent=2) + "\n")


def add_world_args(parser: argparse.ArgumentParser) -> None:
    """The simulated world the feature benchmarks share (built once, then reused)."""
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lake", type=Path, default=HERE / "scratch" / "world-1m",
                        help="reused when it already holds a world")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_world_args(parser)
    parser.add_argument("--points-per-view", type=int, default=100_000)
    parser.add_argument("--chunk-days", type=int, default=0, help="slice each spine by N days of decision time")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--memory-limit", default="12GB", help="DuckDB memory_limit")
    parser.add_argument("--views", nargs="*", default=list(VIEWS), choices=list(VIEWS))
    parser.add_argument("--dry-run", action="store_true", help="print, do not write features.json")
    args = parser.parse_args()

    load = os.getloadavg()
    ram_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    world = ensure_world(args.lake, args.users, args.days, args.seed)
    out_dir = HERE / "scratch" / "features-offline"
    tmp_dir = HERE / "scratch" / "duckdb-tmp"
    con = connect(args.lake, threads=args.threads)
    con.raw_sql(f"SET memory_limit = '{args.memory_limit}'")
    con.raw_sql(f"SET temp_directory = '{tmp_dir}'")

    started = time.perf_counter()
    per_view = {name: run_view(con, VIEWS[name], args.points_per_view, args.chunk_days, out_dir)
                for name in args.views}
    total = time.perf_counter() - started
    features_seconds = sum(v["seconds"] for v in per_view.values())
    points = sum(v["points"] for v in per_view.values())
    result = {
        "offline_all_views_seconds": round(features_seconds, 1),
        "offline_wall_seconds": round(total, 1),
        "offline_peak_rss_mb": rss_mb(),
        "offline_points": points,
        "offline_points_per_s": round(points / features_seconds),
        "offline_per_view": per_view,
        "offline_command": "python " + " ".join(["benchmarks/features_offline.py", *sys.argv[1:]]),
        "offline_setup": {
            "machine": f"{os.cpu_count()} cores, {ram_gib} GiB", "load_average_at_start": [round(x, 2) for x in load],
            "duckdb": {"threads": args.threads, "memory_limit": args.memory_limit, "chunk_days": args.chunk_days},
            "world": world, "output": "one Parquet file per view (per slice) under benchmarks/scratch/features-offline",
            "timing": "offline_all_views_seconds sums the view_features queries (spines built beforehand, timed "
                      "apart as spine_seconds); offline_wall_seconds includes the spines",
        },
    }
    if not args.dry_run:
        update_results(result)
    print(json.dumps({k: v for k, v in result.items() if k != "offline_per_view"}, indent=2))


if __name__ == "__main__":
    main()
