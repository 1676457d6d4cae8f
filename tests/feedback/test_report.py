"""The whole path a support lead sees: score the lake's feedback, write feedback_scores and the HTML report."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cryptoscope.cli import app
from cryptoscope.feedback.embeddings import Embedder
from cryptoscope.feedback.report import write_report
from cryptoscope.lake import Lake
from cryptoscope.lake.sql import parquet_source
from cryptoscope.schema import OUTPUT_TABLES

SAMPLE = 700  # the same fixed sample as the conftest's, so its embeddings come from the cache


@pytest.fixture(scope="module")
def lake(small_world: tuple[Lake, object, object], tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """A copy of the shared world, so writing feedback_scores leaves the other tests' lake alone."""
    copy = Lake(tmp_path_factory.mktemp("feedback") / "lake")
    shutil.copytree(small_world[0].root, copy.root)
    return copy


def _scores(lake: Lake) -> list[tuple[str, int]]:
    src = parquet_source(lake.file_paths("feedback_scores"))
    return duckdb.sql(f"select source, count(*) from {src} group by 1 order by 1").fetchall()


def test_report_and_scores_table(lake: Lake, embedder: Embedder, tmp_path: Path) -> None:
    path = write_report(lake, tmp_path, sample=SAMPLE, embedder=embedder)
    html = path.read_text(encoding="utf-8")
    for heading in ("What drives satisfaction", "Importance vs performance", "Topics with example quotes",
                    "This week against last week", "How good the models are"):
        assert heading in html
    assert html.count("data:image/png;base64,") >= 5
    assert "a crypto withdrawal left pending" in html and "<blockquote>" in html
    assert "feedback_scores" in OUTPUT_TABLES
    first = _scores(lake)
    assert sum(n for _, n in first) == SAMPLE and {s for s, _ in first} == {"survey", "ticket"}
    write_report(lake, tmp_path, sample=SAMPLE, embedder=embedder)
    assert _scores(lake) == first  # a second run replaces, never duplicates


def test_cli_drivers_and_bad_lake(lake: Lake, tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["feedback", "drivers", "--lake", str(lake.root)])
    assert done.exit_code == 0, done.output
    assert "drivers of csat" in done.output and "strong" in done.output
    empty = subprocess.run([sys.executable, "-m", "cryptoscope.cli", "feedback", "drivers", "--lake",
                            str(tmp_path / "nothing")], capture_output=True, text=True, timeout=120)
    assert empty.returncode == 2
    assert "has no tickets" in empty.stderr and "Traceback" not in empty.stderr
