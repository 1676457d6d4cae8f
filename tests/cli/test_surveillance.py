"""`cryptoscope surveillance run|alerts|evaluate` end to end on a hand-built book."""

from __future__ import annotations

import json
from pathlib import Path

from test_surveillance_stream import every_typology_book
from typer.testing import CliRunner

from cryptoscope.cases import CaseStore, default_url
from cryptoscope.cli import app
from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake.engine import connect


def test_run_writes_alerts_once_files_cases_and_lists_them(tmp_path: Path) -> None:
    lake = every_typology_book().lake(tmp_path / "lake").root
    runner = CliRunner()
    first = runner.invoke(app, ["surveillance", "run", "--lake", str(lake)])
    assert first.exit_code == 0, first.output
    assert "3 alerts" in first.output and "3 new rows" in first.output
    again = runner.invoke(app, ["surveillance", "run", "--lake", str(lake)])
    assert "0 new rows" in again.output and "0 new alerts in the case queue" in again.output
    stored = connect(lake).table("surveillance_alerts").to_pyarrow()
    assert sorted(stored["typology"].to_pylist()) == ["pump_and_dump", "spoofing", "wash_trading"]
    cases = CaseStore(default_url(lake / "_abnormal")).list_cases()
    assert {c.kind for c in cases} == {"ring", "user"}  # pump and wash rings, the spoofer alone
    listed = runner.invoke(app, ["surveillance", "alerts", "--lake", str(lake), "--typology", "spoofing"])
    assert listed.exit_code == 0 and "ETH-USDT" in listed.output


def test_evaluate_writes_the_result_file(tmp_path: Path) -> None:
    lake = every_typology_book().lake(tmp_path / "lake").root
    out = tmp_path / "result.json"
    res = CliRunner().invoke(app, ["surveillance", "evaluate", "--lake", str(lake), "--out", str(out)])
    assert res.exit_code == 0, res.output
    result = json.loads(out.read_text())
    assert set(result["typologies"]) == {"wash_trading", "spoofing", "pump_and_dump"}
    assert {"precision", "recall"} <= set(result["typologies"]["spoofing"])


def test_a_folder_that_is_not_a_lake_is_a_clear_error(tmp_path: Path) -> None:
    """A `CryptoscopeError` naming the folder: the entry point turns it into exit code 2 (tests/cli/test_data.py)."""
    for command in ("run", "alerts", "evaluate"):
        res = CliRunner().invoke(app, ["surveillance", command, "--lake", str(tmp_path / "nothing")])
        assert isinstance(res.exception, CryptoscopeError) and "nothing: not a lake" in str(res.exception)
