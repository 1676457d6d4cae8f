"""What `make demo` runs for abnormal users: build the graph, detect, fill the case queue, write a report.

>>> summary = run_abnormal_demo(Path("demo-lake"))      # doctest: +SKIP
>>> print(summary.text())                               # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from cryptoscope.anomaly.pipeline import DetectionConfig, RunResult, detect
from cryptoscope.anomaly.report import write_cases_report
from cryptoscope.cases.store import CaseStore, default_url
from cryptoscope.graph.pipeline import build_graph, save_graph
from cryptoscope.lake import connect


def work_dir_of(lake: Path) -> Path:
    """Where the graph, the SQLite case queue and the report live by default: beside the lake's tables."""
    return Path(lake) / "_abnormal"


@dataclass(frozen=True)
class AbnormalDemo:
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


def run_abnormal_demo(lake: Path, work: Path | None = None, db_url: str | None = None) -> AbnormalDemo:
    """Graph, one detection run as of the end of the lake, cases, and the HTML report of the top cases."""
    start = time.perf_counter()
    work = work or work_dir_of(lake)
    backend = connect(lake)
    graph = build_graph(lake, backend=backend)
    save_graph(graph, work / "graph")
    store = CaseStore(db_url or default_url(work))
    run, _ = detect(lake, store, graph.as_of, DetectionConfig(), graph=graph, backend=backend)
    report = write_cases_report(store, graph, work / "cases.html")
    rings = int((graph.features.rings["size"] >= 3).sum()) if len(graph.features.rings) else 0
    return AbnormalDemo(run, graph.graph.graph.vcount(), graph.graph.graph.ecount(), rings,
                        len(store.list_cases("open")), report, time.perf_counter() - start)
