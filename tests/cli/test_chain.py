"""`cryptoscope chain cluster|cluster-of|exposure|...` as a user runs them (on the scored simulated world)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cryptoscope.lake import Lake, connect

CLI = [sys.executable, "-m", "cryptoscope.cli", "chain"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def test_cluster_then_cluster_of(scored_world: tuple[Lake, Path]) -> None:
    lake, _ = scored_world
    done = run("cluster", "--lake", str(lake.root), "--chain", "tron")
    assert done.returncode == 0, done.stderr
    assert "tron" in done.stdout and "address clusters" in done.stdout
    member = connect(lake).con.sql("SELECT address FROM address_clusters WHERE chain = 'tron' AND cluster_size > 2 "
                                   "ORDER BY address LIMIT 1").fetchall()[0][0]
    shown = run("cluster-of", member, "--lake", str(lake.root))
    assert shown.returncode == 0, shown.stderr
    assert "cluster" in shown.stdout and member in shown.stdout
    missing = run("cluster-of", "Tnowhere", "--lake", str(lake.root))
    assert missing.returncode == 2 and "chain cluster" in missing.stderr and "Traceback" not in missing.stderr


def test_exposure_prints_the_paths_and_writes_the_report(scored_world: tuple[Lake, Path], tmp_path: Path) -> None:
    lake, _ = scored_world
    address, chain = connect(lake).con.sql(
        "SELECT address, chain FROM chain_exposure WHERE mode = 'retrospective' AND direction = 'deposit' "
        "AND hops = 2 ORDER BY transfer_id LIMIT 1").fetchall()[0]
    report = tmp_path / "exposure.html"
    done = run("exposure", address, "--lake", str(lake.root), "--chain", chain, "--direction", "upstream",
               "--report", str(report))
    assert done.returncode == 0, done.stderr
    assert "fewest hops 2" in done.stdout and "path 1" in done.stdout
    assert report.exists() and "data:image/png;base64," in report.read_text()
    bad = run("exposure", address, "--lake", str(lake.root), "--direction", "sideways")
    assert bad.returncode == 2 and "--direction" in bad.stderr


def test_learning_commands_fail_cleanly_on_bad_input(scored_world: tuple[Lake, Path], tmp_path: Path) -> None:
    lake, _ = scored_world
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    done = run("classify", "--data", str(bad))
    assert done.returncode == 2 and "Address" in done.stderr
    done = run("backtest", "--lake", str(lake.root), "--symbol", "NOPE-USDT")
    assert done.returncode == 2 and "NOPE-USDT" in done.stderr
