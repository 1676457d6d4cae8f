"""Abnormal users and rings as a product line: entity graph, detectors, case queue, report.

The batch stage first writes every closed case's decision into the lake's labels (so decisions taken in the
console teach the run), builds the entity graph as of the end of the lake, scores every user with the detectors
(taught by the analysts' closed cases), files new cases in the case queue (by default SQLite beside the lake,
``LAKE/_abnormal``, where the graph and the report go too) and copies ``cases.html`` to the reports folder.

>>> print(AbnormalLine().run(RunContext(Lake("demo-lake"))).summary)     # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptoscope.anomaly.pipeline import DetectionConfig, RunResult, detect
from cryptoscope.anomaly.report import write_cases_report
from cryptoscope.cases.labels import sync_labels
from cryptoscope.cases.store import CaseStore, default_url
from cryptoscope.graph.pipeline import build_graph, save_graph
from cryptoscope.lake import connect
from cryptoscope.productline import RunContext, StageResult


def work_dir_of(lake: Path) -> Path:
    """Where the graph, the SQLite case queue and the report live by default: beside the lake's tables."""
    return Path(lake) / "_abnormal"


@dataclass(frozen=True)
class AbnormalRun:
    """What one run of the line did: the detection run, the graph's size, the case queue, the report."""

    run: RunResult
    graph_users: int
    graph_edges: int
    rings: int
    open_cases: int
    report: Path
    seconds: float

    def text(self) -> str:
        return (f"abnormal users: graph of {self.graph_users:,} users / {self.graph_edges:,} ties, {self.rings:,} "
                f"rings of 3+; {self.run.alerts} user and {self.run.ring_alerts} ring alerts -> "
                f"{self.run.new_cases} new cases ({self.open_cases} open); report {self.report} "
                f"({self.seconds:.0f}s)")


def detect_into_cases(lake: Path, work: Path | None = None, db_url: str | None = None, *,
                      connect_to: Callable[[], Any] | None = None) -> AbnormalRun:
    """Every closed case's decision into the lake, then graph, one detection run as of the end of the lake,
    cases, the review order and the HTML report of the top cases.

    ``connect_to`` opens the Ibis backend every lake read goes through (the run's engine,
    `RunContext.connect`); by default DuckDB over ``lake``. It is called after the decisions are written,
    because a backend lists the lake's files when it opens."""
    start = time.perf_counter()
    work = work or work_dir_of(lake)
    store = CaseStore(db_url or default_url(work))
    sync_labels(store, lake)  # decisions taken in the console or the API teach this run too
    backend = connect_to() if connect_to is not None else connect(lake)
    graph = build_graph(lake, backend=backend)
    save_graph(graph, work / "graph")
    run, _ = detect(lake, store, graph.as_of, DetectionConfig(), graph=graph, backend=backend)
    report = write_cases_report(store, graph, work / "cases.html")
    rings = int((graph.features.rings["size"] >= 3).sum()) if len(graph.features.rings) else 0
    return AbnormalRun(run, graph.graph.graph.vcount(), graph.graph.graph.ecount(), rings,
                        len(store.list_cases("open")), report, time.perf_counter() - start)


class AbnormalLine:
    """See the module doc. ``work`` and ``db_url`` move the graph, report and case queue (default: beside the lake)."""

    name = "abnormal"
    purpose = "Abnormal users and rings from behaviour and shared devices, IPs, cards and addresses, into cases."
    reads = ("account_changes", "accounts", "chain_transfers", "kyc_submissions", "labels", "orders", "payments",
             "risk_scores", "sessions", "trades")
    writes = ()  # its output is the case queue; analysts' decisions reach `labels` through `cases decide`
    after = ("kyc", "payment", "withdrawal", "credit", "deposit")  # every writer of the risk_scores it reads
    command = "cryptoscope anomaly run"

    def __init__(self, work: Path | None = None, db_url: str | None = None) -> None:
        self.work = work
        self.db_url = db_url

    def run(self, ctx: RunContext) -> StageResult:
        ctx.progress("abnormal users: graph, detectors, cases")
        result = detect_into_cases(ctx.lake.root, self.work, self.db_url, connect_to=ctx.connect)
        ctx.reports.mkdir(parents=True, exist_ok=True)
        report = ctx.reports / "cases.html"
        shutil.copyfile(result.report, report)  # self-contained: its pictures are inline
        text = result.text().removeprefix("abnormal users: ").replace(str(result.report), str(report))
        return StageResult(text, report)
