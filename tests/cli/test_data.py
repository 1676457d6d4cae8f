"""The `cryptoscope` command as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "cryptoscope.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def test_simulate_then_status_shows_every_table(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    done = run("simulate", "--users", "500", "--days", "10", "--seed", "2", "--lake", str(lake))
    assert done.returncode == 0, done.stderr
    assert "rows/s" in done.stdout
    status = run("lake", "status", "--lake", str(lake))
    assert status.returncode == 0
    for table in ("accounts", "sessions", "payments", "trades", "labels", "tickets"):
        assert table in status.stdout


def test_bad_option_is_one_clear_line(tmp_path: Path) -> None:
    done = run("simulate", "--users", "5", "--lake", str(tmp_path / "lake"))
    assert done.returncode == 2
    assert "--users must be at least 100" in done.stderr
    assert "Traceback" not in done.stderr


def test_schema_prints_a_table() -> None:
    done = run("schema", "chain_transfers")
    assert done.returncode == 0
    assert "tx_hash" in done.stdout
