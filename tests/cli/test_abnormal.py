"""`cryptoscope graph|anomaly|cases` end to end on a simulated world, and errors as one line with exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cryptoscope.anomaly.line import detect_into_cases
from cryptoscope.cli import app
from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary


def test_demo_then_graph_show_and_cases(small_world: tuple[Lake, SimConfig, SimSummary], tmp_path: Path) -> None:
    lake, _, _ = small_world
    work = tmp_path / "work"
    demo = detect_into_cases(lake.root, work)
    assert demo.run.alerts > 0 and demo.open_cases > 0 and demo.rings > 0
    assert "<img alt=\"graph of case" in demo.report.read_text()
    cli = CliRunner()
    common = ["--lake", str(lake.root), "--work", str(work)]
    listed = cli.invoke(app, ["cases", "list", *common, "--limit", "3"])
    assert listed.exit_code == 0 and "score" in listed.output
    user = int(demo_user(work))
    shown = cli.invoke(app, ["graph", "show", str(user), *common])
    assert shown.exit_code == 0, shown.output
    assert f"users {user}:" in shown.output and (work / f"user-{user}.png").exists()
    assert f"{user} [ring " in shown.output, "ring ids are printed, not eaten as markup"


def demo_user(work: Path) -> int:
    """A member of the highest-scoring case."""
    from cryptoscope.cases import CaseStore, default_url

    store = CaseStore(default_url(work))
    return store.member_ids(store.list_cases(limit=1)[0].id)[0]


def test_errors_are_one_line_and_exit_code_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cases.db'}"
    for args, message in ((["cases", "show", "42", "--db", db], "unknown case 42"),
                          (["cases", "decide", "42", "closed_fraud", "--db", db], "unknown case 42"),
                          (["cases", "list", "--db", db, "--state", "done"], "unknown state 'done'"),
                          (["graph", "show", "7", "--work", str(tmp_path)], "no graph at"),
                          (["anomaly", "score-table", str(tmp_path / "none.parquet"), "--out", "x.json"],
                           "does not exist")):
        res = CliRunner().invoke(app, args)
        assert isinstance(res.exception, CryptoscopeError) and message in str(res.exception), (args, res.output)
    # the entry point turns them into one line on stderr and exit code 2 (one real process is enough)
    res = subprocess.run([sys.executable, "-m", "cryptoscope.cli", "cases", "show", "42", "--db", db],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert res.returncode == 2 and "unknown case 42" in res.stderr and "Traceback" not in res.stderr
