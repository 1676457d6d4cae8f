"""`cryptoscope run`: every batch stage of every product line, in dependency order, on one engine.

The registry (``cryptoscope.products``) says what the stages are and in which order; this module runs them
on a `RunContext` and keeps what each did: done, not run (the lake cannot support it: a ``CryptoscopeError``
says why, and the others go on) or failed (a bug: it stops the run). For each stage it measures the wall
time, the driver's peak memory (this process and the Spark JVM it started, sampled) and the most rows one lake
query brought to the driver (`cryptoscope.lake.driver`): the three numbers that say whether a stage scales.
A stage that ran ends by compacting the tables it wrote (`cryptoscope.lake.compact`), inside its measured time.

>>> report = run_stages(RunContext(Lake("demo-lake"), engine="spark"), ["chain", "deposit"])  # doctest: +SKIP
>>> [(s.name, s.status) for s in report.stages]                                              # doctest: +SKIP
[('chain', 'done'), ('deposit', 'done')]
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import psutil

from cryptoscope.errors import CryptoscopeError
from cryptoscope.fsio import atomic_write
from cryptoscope.lake.compact import compact
from cryptoscope.lake.driver import tracking
from cryptoscope.productline import RunContext
from cryptoscope.products import ordered

Status = Literal["done", "not run"]


@dataclass(frozen=True)
class StageRun:
    """What one stage did and what it cost."""

    name: str
    status: Status
    summary: str
    seconds: float
    peak_rss_mb: float
    driver_rows_largest: int
    driver_rows_total: int


@dataclass(frozen=True)
class RunReport:
    """Every stage of one run, in the order they ran."""

    engine: str
    lake: str
    stages: list[StageRun]

    @property
    def ran(self) -> list[str]:
        return [s.name for s in self.stages if s.status == "done"]

    def to_json(self) -> str:
        return json.dumps({"engine": self.engine, "lake": self.lake,
                           "stages": [asdict(s) for s in self.stages]}, indent=2) + "\n"


def run_stages(ctx: RunContext, names: Iterable[str] | None = None,
               on_stage: Callable[[StageRun], None] = lambda stage: None) -> RunReport:
    """Run ``names`` (every line when None) in dependency order; a stage that cannot run says why, the rest go on.

    ``on_stage`` sees each stage as it finishes (the CLI prints it). Errors that are not the lake's (a bug)
    propagate: a run that silently skipped a broken stage would report success."""
    stages = []
    for line in ordered(names):
        ctx.progress(line.name)
        start = time.perf_counter()
        with tracking() as rows, peak_rss() as rss:
            try:
                status: Status = "done"
                summary = line.run(ctx).summary
                compact(ctx.lake, line.writes)  # a day's few scores or alerts per run add up to many small files
            except CryptoscopeError as exc:
                status, summary = "not run", str(exc)
        stage = StageRun(line.name, status, summary, round(time.perf_counter() - start, 2), round(rss[0], 1),
                         rows.largest, rows.total)
        on_stage(stage)
        stages.append(stage)
    return RunReport(ctx.engine, str(ctx.lake.root), stages)


def write_report(report: RunReport, path: Path) -> Path:
    """``run.json``: the stages, their status and costs (what the scale benchmark reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, report.to_json().encode())
    return path


@contextmanager
def peak_rss(every: float = 0.2) -> Iterator[list[float]]:
    """The peak resident memory (MB) of this process and its children (a local Spark JVM) while the block runs,
    sampled every ``every`` seconds; read ``[0]`` after the block."""
    me = psutil.Process()
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while True:
            try:
                rss = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
            except psutil.Error:  # a child ended between listing and reading it
                rss = me.memory_info().rss
            peak[0] = max(peak[0], rss / 1e6)
            if done.wait(every):
                return

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


__all__ = ["RunReport", "StageRun", "peak_rss", "run_stages", "write_report"]
