"""What lake compaction is worth: `cryptoscope run` on a world of many small files and on the same world compacted.

The world is simulated once without compaction (as every world was before `lake/compact.py`), copied, and the
copy compacted with `cryptoscope.lake.compact` (what `data simulate` now does). Each lake then gets a DuckDB
`cryptoscope run` on a fresh copy, in a process of its own, the two alternating for ``--rounds`` rounds so a
busy machine slows both alike; wall seconds and the run process's CPU seconds are recorded, and the tables the
two runs wrote are diffed, so a speed-up never hides a different answer. Writes
benchmarks/results/compaction.json.

    python benchmarks/compaction.py --users 8000 --days 90 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from cryptoscope.lake import Lake
from cryptoscope.lake.compact import compact
from cryptoscope.lake.diff import diff_lakes
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SIMULATED_TABLES, simulate
from scale import WRITTEN, code_version, run

HERE = Path(__file__).parent
console = Console()


def worlds(users: int, days: int, scratch: Path) -> dict[str, Path]:
    """The world as simulated without compaction, and a compacted copy; both kept for the next invocation."""
    raw, compacted = scratch / f"raw-{users}x{days}", scratch / f"compacted-{users}x{days}"
    if not (raw / "_catalog.json").exists() or not (compacted / "_catalog.json").exists():
        shutil.rmtree(raw, ignore_errors=True)
        shutil.rmtree(compacted, ignore_errors=True)
        console.print(f"simulating {users:,} users x {days} days (not compacted)")
        cfg = SimConfig(users=users, days=days, seed=11, chunk_users=4_000, fraud_scale=3.0)
        simulate(cfg, Lake(raw), compact_after=False)
        shutil.copytree(raw, compacted)
        compact(Lake(compacted), SIMULATED_TABLES)
    return {"many small files": raw, "compacted": compacted}


def file_counts(lake: Path) -> dict[str, int]:
    catalog = Lake(lake).catalog()
    return {name: len(catalog.files(name)) for name in sorted(catalog.tables)}


def timed_run(lake: Path, out: Path) -> dict[str, Any]:
    """`scale.run` on DuckDB, with the CPU seconds its process used (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run(lake, "duckdb", None, out)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": result["wall_s"], "cpu_s": round(cpu, 1),
            "stages_s": {name: s["seconds"] for name, s in result["stages"].items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=8_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    scratch = HERE / "scratch" / "compaction"
    lakes = worlds(args.users, args.days, scratch)
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in lakes}
    for round_ in range(args.rounds):
        for kind, lake in lakes.items():
            console.print(f"round {round_ + 1}/{args.rounds}: run on the {kind} lake")
            runs[kind].append(timed_run(lake, scratch / f"run-{kind.replace(' ', '-')}"))
            console.print(f"  {runs[kind][-1]['wall_s']:,.0f} s wall, {runs[kind][-1]['cpu_s']:,.0f} s CPU")
    diffs = diff_lakes(Lake(scratch / "run-many-small-files" / "lake"), Lake(scratch / "run-compacted" / "lake"),
                       WRITTEN)
    summary = {kind: {"wall_s_median": statistics.median(r["wall_s"] for r in rs),
                      "cpu_s_median": statistics.median(r["cpu_s"] for r in rs)} for kind, rs in runs.items()}
    result = {
        "command": "python " + " ".join(["benchmarks/compaction.py", *sys.argv[1:]]),
        "commit": code_version(),
        "machine": "2 cores, 24 GiB, shared with other work (CPU seconds are the steadier figure)",
        "world": {"users": args.users, "days": args.days, "seed": 11, "fraud_scale": 3.0},
        "files": {kind: file_counts(lake) for kind, lake in lakes.items()},
        "runs": runs,
        "summary": summary,
        "cpu_speedup": round(summary["many small files"]["cpu_s_median"] / summary["compacted"]["cpu_s_median"], 2),
        "same_tables_written": all(d.same for d in diffs),
        "differences": [d.text() for d in diffs if not d.same],
    }
    out = HERE / "results" / "compaction.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    console.print_json(json.dumps(result["summary"] | {"cpu_speedup": result["cpu_speedup"],
                                                        "same": result["same_tables_written"]}))


if __name__ == "__main__":
    main()
