"""`cryptoscope run` as the world grows, on DuckDB, Spark local and a two-worker Spark standalone cluster.

For each world (users x days, simulated once into benchmarks/scratch/) and each engine, a fresh copy of the
world gets `cryptoscope run` in a process of its own (as a user starts it); its ``run.json`` gives every
stage's seconds, the driver's peak memory (the driver process and its local JVM) and the most rows one lake
query brought to the driver. The Spark runs are also diffed against the DuckDB run (`lake diff`), so a speed
figure never hides a different answer. Writes benchmarks/results/scale.json.

    python benchmarks/scale.py --users 50000 200000 --days 30
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from cryptoscope.lake import Lake
from cryptoscope.lake.cluster import local_cluster
from cryptoscope.lake.diff import diff_lakes
from cryptoscope.products import LINES
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate

HERE = Path(__file__).parent
CLI = str(Path(sys.executable).with_name("cryptoscope"))
WRITTEN = sorted({table for line in LINES.values() for table in line.writes})
console = Console()


def world(users: int, days: int, scratch: Path) -> Path:
    """The simulated world, built once and kept for the next engine and the next run of the benchmark."""
    lake = scratch / f"world-{users}x{days}" / "lake"
    if not (lake / "_catalog.json").exists():
        shutil.rmtree(lake.parent, ignore_errors=True)
        console.print(f"simulating {users:,} users x {days} days")
        simulate(SimConfig(users=users, days=days, seed=7), Lake(lake))
    return lake


def code_version() -> str:
    """The commit the run's code came from (a run's seconds are only comparable with runs of the same code)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True, cwd=HERE).stdout.strip()
    return head.stdout.strip() + ("+changes" if dirty else "")


def run(lake: Path, engine: str, master: str | None, out: Path) -> dict[str, Any]:
    """`cryptoscope run` on a fresh copy of ``lake``; its run.json, the wall time and the copy's path."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(lake, out / "lake")
    command = [CLI, "run", "--lake", str(out / "lake"), "--engine", engine, "--registry", str(out / "registry"),
               "--report-dir", str(out / "reports")] + (["--master", master] if master else [])
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    report = json.loads((out / "reports" / "run.json").read_text())
    stages = {s["name"]: {k: s[k] for k in ("status", "seconds", "peak_rss_mb", "driver_rows_largest")}
              for s in report["stages"]}
    return {"wall_s": round(wall, 1), "peak_rss_mb": max(s["peak_rss_mb"] for s in stages.values()),
            "driver_rows_largest": max(s["driver_rows_largest"] for s in stages.values()), "stages": stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark-local", "spark-cluster"])
    args = parser.parse_args()
    scratch = HERE / "scratch" / "scale"
    out_path = HERE / "results" / "scale.json"
    # runs of other worlds or engines made by earlier invocations stay; each keeps the command that made it
    result: dict[str, Any] = json.loads(out_path.read_text()) if out_path.exists() else {}
    result |= {"machine": "2 cores, 24 GiB; cluster: 1 master + 2 workers x 1 core x 1 GiB here"}
    result.setdefault("worlds", {})
    command = "python " + " ".join(["benchmarks/scale.py", *sys.argv[1:]])
    for users in args.users:
        lake = world(users, args.days, scratch)
        runs: dict[str, Any] = {}
        for engine in args.engines:
            console.print(f"{users:,} users: run on {engine}")
            target = scratch / f"run-{users}-{engine}"
            if engine == "spark-cluster":
                with local_cluster(workers=2, cores=1, memory="1g") as master:
                    runs[engine] = run(lake, "spark", master, target)
            else:
                runs[engine] = run(lake, "spark" if engine == "spark-local" else engine, None, target)
            if engine != "duckdb" and (scratch / f"run-{users}-duckdb" / "lake").exists():
                diffs = diff_lakes(Lake(scratch / f"run-{users}-duckdb" / "lake"), Lake(target / "lake"), WRITTEN)
                runs[engine]["same_as_duckdb"] = all(d.same for d in diffs)
                runs[engine]["differences"] = [d.text() for d in diffs if not d.same]
            console.print(f"  {runs[engine]['wall_s']:,.0f}s, peak {runs[engine]['peak_rss_mb']:,.0f} MB")
            runs[engine]["command"] = command
            runs[engine]["commit"] = code_version()
            entry = result["worlds"].setdefault(f"{users}x{args.days}", {"users": users, "days": args.days, "runs": {}})
            entry["runs"] |= runs
            out_path.write_text(json.dumps(result, indent=2) + "\n")  # what finished so far survives a cut-off
    console.print_json(json.dumps(result))


if __name__ == "__main__":
    main()
