"""`cryptoscope run` as a user runs it: chosen stages on the small world, its run.json, and clear refusals."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cryptoscope.lake import Lake

CLI = [sys.executable, "-m", "cryptoscope.cli", "run"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600)


def test_chosen_stages_run_in_order_and_report_their_cost(small_world: tuple[Lake, object, object],
                                                           tmp_path: Path) -> None:
    shutil.copytree(small_world[0].root, tmp_path / "lake")
    done = run("--lake", str(tmp_path / "lake"), "--stages", "deposit,chain", "--registry", str(tmp_path / "reg"),
               "--report-dir", str(tmp_path / "reports"))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "reports" / "run.json").read_text())
    assert report["engine"] == "duckdb"
    assert [s["name"] for s in report["stages"]] == ["chain", "deposit"]  # deposit reads what chain writes
    assert all(s["status"] == "done" and s["seconds"] > 0 and s["peak_rss_mb"] > 0 for s in report["stages"])
    chain = report["stages"][0]
    assert 0 < chain["driver_rows_largest"] <= chain["driver_rows_total"]
    assert "2 of 2 stages ran" in done.stdout


@pytest.mark.parametrize(("args", "says"), [
    (("--stages", "nonsense"), "unknown product line 'nonsense'; known: kyc, payment"),
    (("--engine", "flink"), "unknown engine 'flink'"),
])
def test_a_wrong_stage_or_engine_is_refused_before_anything_runs(small_world: tuple[Lake, object, object],
                                                                 tmp_path: Path, args: tuple[str, ...],
                                                                 says: str) -> None:
    done = run("--lake", str(small_world[0].root), "--report-dir", str(tmp_path), *args)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "run.json").exists()


def test_a_missing_lake_is_refused(tmp_path: Path) -> None:
    done = run("--lake", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and "no lake at" in done.stderr and "cryptoscope simulate" in done.stderr
