"""Every product line in the registry keeps the contract on the small world: one file over every line, the
way Ibis runs one test file over every backend.

The lines run in the registry's order on a copy of the world, twice. While each runs, every lake table it
opens through an Ibis connection is recorded, and the catalog is compared before and after: a line reads only
what it declares, writes only what it declares, and its second run adds nothing. A line that cannot run on
this lake must say so with a ``CryptoscopeError`` and write nothing. Every online product scores its decisions
one row at a time as it does in batch. And `cryptoscope run --engine spark`, on a real two-worker Spark cluster,
writes the very rows the DuckDB run wrote: same keys, same decisions, numbers within 1e-6.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis.expr.operations as ops
import ibis.expr.types as ir
import pytest
from ibis.backends.sql.compilers.base import SQLGlotCompiler
from sqlalchemy import select

from cryptoscope.anomaly.line import work_dir_of
from cryptoscope.cases.models import Alert
from cryptoscope.cases.store import CaseStore, default_url
from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect
from cryptoscope.lake.diff import diff_table
from cryptoscope.models import Registry
from cryptoscope.productline import OnlineProduct, ProductLine, RunContext, StageResult
from cryptoscope.products import LINES, online, ordered
from cryptoscope.risk.frames import decision_frame
from cryptoscope.risk.scorer import RiskScorer
from cryptoscope.schema import TABLES


@dataclass
class Observed:
    """What one line did on each of its two runs."""

    result: StageResult | None = None
    refused: str = ""
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    added_again: dict[str, int] = field(default_factory=dict)


@contextlib.contextmanager
def recording_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """Every canonical table in an Ibis expression compiled while the block runs (every execution on a SQL
    backend compiles, whether the expression was built on a connection's tables or on unbound ones), and every
    table whose files were listed for a direct read."""
    seen: set[str] = set()
    compile_ = SQLGlotCompiler.to_sqlglot
    file_paths = Lake.file_paths

    def to_sqlglot(self: SQLGlotCompiler, expr: ir.Expr, *args: Any, **kwargs: Any) -> Any:
        seen.update(t.name for t in expr.op().find(ops.PhysicalTable) if t.name in TABLES)
        return compile_(self, expr, *args, **kwargs)

    def listed(self: Lake, table: str) -> list[str]:
        seen.add(table)
        return file_paths(self, table)

    with monkeypatch.context() as patch:
        patch.setattr(SQLGlotCompiler, "to_sqlglot", to_sqlglot)
        patch.setattr(Lake, "file_paths", listed)
        yield seen


def _files(lake: Lake) -> dict[str, tuple[str, ...]]:
    catalog = lake.catalog()
    return {name: tuple(sorted(f.path for f in catalog.files(name))) for name in catalog.tables}


def _rows(lake: Lake) -> dict[str, int]:
    catalog = lake.catalog()
    return {name: sum(f.rows for f in catalog.files(name)) for name in catalog.tables}


def _run(line: ProductLine, ctx: RunContext, seen: Observed) -> None:
    try:
        seen.result = line.run(ctx)
    except CryptoscopeError as exc:
        seen.refused = str(exc)


@pytest.fixture(scope="module")
def cluster_run(small_world: tuple[Lake, object, object], spark_cluster: str,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """`cryptoscope run --engine spark` on the cluster, started on a copy of the world in a driver process of its
    own (as a user would start it) *before* the DuckDB runs, so that the two share the test's minutes: Spark's
    jobs wait on scheduling and JVMs much of the time."""
    root = tmp_path_factory.mktemp("on_cluster")
    shutil.copytree(small_world[0].root, root / "lake")
    command = [str(Path(sys.executable).with_name("cryptoscope")), "run", "--lake", str(root / "lake"),
               "--engine", "spark", "--master", spark_cluster, "--registry", str(root / "registry"),
               "--report-dir", str(root / "reports")]
    with (root / "run.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    yield root, process
    if process.poll() is None:
        process.kill()


@pytest.fixture(scope="module")
def observed(small_world: tuple[Lake, object, object], tmp_path_factory: pytest.TempPathFactory,
             cluster_run: tuple[Path, subprocess.Popen[bytes]]) -> tuple[RunContext, dict[str, Observed]]:
    root = tmp_path_factory.mktemp("conformance")
    shutil.copytree(small_world[0].root, root / "lake")
    lake = Lake(root / "lake")
    ctx = RunContext(lake, root / "registry", root / "reports")
    out = {line.name: Observed() for line in ordered()}
    with pytest.MonkeyPatch.context() as patch:
        for line in ordered():
            seen = out[line.name]
            before = _files(lake)
            with recording_reads(patch) as reads:
                _run(line, ctx, seen)
            seen.reads = set(reads)
            after = _files(lake)
            seen.writes = {t for t in after if after[t] != before.get(t, ())}
    for line in ordered():
        before_rows = _rows(lake)
        _run(line, ctx, Observed())
        after_rows = _rows(lake)
        out[line.name].added_again = {t: n - before_rows.get(t, 0) for t, n in after_rows.items()
                                      if n != before_rows.get(t, 0)}
    return ctx, out


LINE_NAMES = list(LINES)


def test_the_registry_declares_every_line_fully() -> None:
    for line in LINES.values():
        assert isinstance(line, ProductLine), line
        assert line.purpose and line.command.startswith("cryptoscope "), line.name
        assert set(line.reads) <= set(TABLES) and set(line.writes) <= set(TABLES), line.name
        assert set(line.after) <= set(LINES), line.name
    assert [line.name for line in ordered()].index("chain") < [line.name for line in ordered()].index("deposit")


def test_a_line_runs_after_every_line_that_writes_what_it_reads() -> None:
    """Otherwise a second run reads more than the first and decides otherwise (the abnormal line once ran before
    the deposit product's risk scores it reads, and its second run filed an alert the first had not)."""
    order = [line.name for line in ordered()]
    for line in LINES.values():
        for writer in LINES.values():
            shared = set(writer.writes) & set(line.reads)
            if writer is not line and shared:
                assert order.index(writer.name) < order.index(line.name), (line.name, writer.name, shared)


@pytest.mark.slow
@pytest.mark.parametrize("name", LINE_NAMES)
def test_a_line_reads_and_writes_only_what_it_declares(observed: tuple[RunContext, dict[str, Observed]],
                                                       name: str) -> None:
    seen, line = observed[1][name], LINES[name]
    undeclared = seen.reads - set(line.reads) - set(line.writes)  # an append reads what it writes, to dedupe
    assert not undeclared, f"{name} read undeclared tables {sorted(undeclared)}"
    assert seen.writes <= set(line.writes), f"{name} wrote undeclared tables {sorted(seen.writes - set(line.writes))}"
    if seen.refused:
        assert not seen.writes, f"{name} refused ({seen.refused}) but wrote {sorted(seen.writes)}"
    else:
        assert seen.result is not None and seen.result.summary
        assert seen.result.report is None or seen.result.report.is_file()


@pytest.mark.slow
@pytest.mark.parametrize("name", LINE_NAMES)
def test_a_second_run_adds_nothing(observed: tuple[RunContext, dict[str, Observed]], name: str) -> None:
    assert observed[1][name].added_again == {}


@pytest.mark.slow
def test_most_lines_run_on_the_small_world(observed: tuple[RunContext, dict[str, Observed]]) -> None:
    ran = [n for n, seen in observed[1].items() if not seen.refused]
    assert len(ran) >= len(LINES) - 2, {n: s.refused for n, s in observed[1].items() if s.refused}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(online()))
def test_an_online_product_scores_one_row_as_it_scores_the_frame(observed: tuple[RunContext, dict[str, Observed]],
                                                                 name: str) -> None:
    ctx, seen = observed
    line = LINES[name]
    assert isinstance(line, OnlineProduct)
    assert not seen[name].refused, seen[name].refused  # the small world has the bad rows every product needs
    assert _promoted(ctx.registry, name), f"{name} lost to its rules on the small world: nothing online to compare"
    scorer = RiskScorer(name).load(Registry(ctx.registry))
    frame = decision_frame(connect(ctx.lake), scorer.product).tail(300).reset_index(drop=True)
    rows = [dict(r) for r in frame.to_dict("records")]
    scorer.fit_reasons(rows)
    one = [scorer.score_one(r) for r in rows]  # the served path (LightGBM's single-row API where it applies)
    scorer.fast_ = None
    many = scorer.score_many(frame)  # the batch path: a frame, the bundle, the SHAP explainer
    assert [a.score for a in one] == pytest.approx([b.score for b in many], rel=1e-12, abs=1e-15)
    assert [(a.entity_id, a.decision, a.reasons) for a in one] == [(b.entity_id, b.decision, b.reasons) for b in many]


def _promoted(registry: Path, kind: str) -> bool:
    return Registry(registry).promoted(f"risk_{kind}") is not None


@pytest.fixture(scope="module")
def on_cluster(cluster_run: tuple[Path, subprocess.Popen[bytes]]) -> tuple[Lake, dict[str, Any]]:
    """The small world after the Spark run on the cluster, and the run's ``run.json``."""
    root, process = cluster_run
    code = process.wait(timeout=1800)
    log = (root / "run.log").read_text(errors="replace")
    assert code == 0, log[-6000:]
    return Lake(root / "lake"), json.loads((root / "reports" / "run.json").read_text())


WRITTEN = sorted({table for line in LINES.values() for table in line.writes})


@pytest.mark.slow
def test_spark_on_a_cluster_runs_the_lines_duckdb_runs(observed: tuple[RunContext, dict[str, Observed]],
                                                       on_cluster: tuple[Lake, dict[str, Any]]) -> None:
    on_duckdb = {name: "not run" if seen.refused else "done" for name, seen in observed[1].items()}
    assert {s["name"]: s["status"] for s in on_cluster[1]["stages"]} == on_duckdb


@pytest.mark.slow
@pytest.mark.parametrize("table", WRITTEN)
def test_spark_on_a_cluster_writes_what_duckdb_writes(observed: tuple[RunContext, dict[str, Observed]],
                                                      on_cluster: tuple[Lake, dict[str, Any]], table: str) -> None:
    diff = diff_table(observed[0].lake, on_cluster[0], table)
    assert diff.same, diff.text()


@pytest.mark.slow
def test_spark_on_a_cluster_files_the_cases_duckdb_files(observed: tuple[RunContext, dict[str, Observed]],
                                                         on_cluster: tuple[Lake, dict[str, Any]]) -> None:
    """The case queue (abnormal users, rings, market abuse) is the abnormal line's output: the same alerts,
    users, scores and reasons in the same cases."""
    def queue(lake: Lake) -> list[tuple[Any, ...]]:
        store = CaseStore(default_url(work_dir_of(lake.root)))
        with store.session() as s:
            rows = s.execute(select(Alert.run_key, Alert.case_id, Alert.user_id, Alert.score, Alert.reasons)
                             .order_by(Alert.run_key, Alert.user_id)).all()
        return [(*r[:3], round(r[3], 6), r[4]) for r in rows]

    duck = queue(observed[0].lake)
    assert duck and duck == queue(on_cluster[0])
