"""`cryptoscope ingest` and `cryptoscope lake export` as a user runs them, including being killed midway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fake_rows import csv_text, fake_rows, payment_fields, payments_csv, write_big_csv

from cryptoscope.lake import Lake, connect
from cryptoscope.lake.catalog import CATALOG_FILE
from cryptoscope.sources.importers import ingest_files

CLI = [sys.executable, "-m", "cryptoscope.cli"]
ENV = {**os.environ, "COLUMNS": "250"}  # wide enough that rich does not shorten file names
FORTA = Path(__file__).resolve().parents[4] / "shared" / "data" / "address-labels" / "forta"
BIG_ROWS = 300_000
CONCURRENT_PROCESSES, CONCURRENT_ROUNDS = 8, 6  # four processes per core of a 2-core machine


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=ENV, timeout=120)


def state(lake: Lake) -> tuple[int, int]:
    """What a reader sees: the catalog version and the number of payments."""
    return lake.catalog().version, connect(lake).con.sql("SELECT count(*) FROM payments").fetchall()[0][0]


def leftovers(lake: Lake) -> list[str]:
    """Debris of killed writers: staging, catalog temp files, Parquet files the catalog does not list."""
    listed = lake.catalog().all_paths()
    files = [p.relative_to(lake.root).as_posix() for p in lake.root.rglob("*") if p.is_file()]
    return sorted(f for f in files if f.startswith("_staging/") or f.startswith(f".{CATALOG_FILE}.")
                  or (f.endswith(".parquet") and f not in listed))


def seeded_lake(tmp_path: Path) -> Lake:
    tmp_path.mkdir(parents=True, exist_ok=True)
    lake = Lake(tmp_path / "lake")
    (seed := tmp_path / "seed.csv").write_text(payments_csv(5, start=900_001))
    ingest_files(lake, "payments", [seed])
    return lake


def test_ingest_prints_rows_read_added_and_already_present_per_file(tmp_path: Path) -> None:
    lake = seeded_lake(tmp_path)
    (a := tmp_path / "a.csv").write_text(payments_csv(4, start=900_004))  # 900_004 and 900_005 are in the lake
    result = cli("ingest", "payments", a, "--lake", lake.root)
    assert result.returncode == 0, result.stderr
    assert "rows read" in result.stdout and "already present" in result.stdout
    line = next(x for x in result.stdout.splitlines() if str(a) in x)
    assert [c.strip() for c in line.split("│")[2:5]] == ["4", "2", "2"]
    assert result.stderr == ""


@pytest.mark.parametrize("case", ["wrong type", "missing file", "unknown table", "corrupt parquet"])
def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path: Path, case: str) -> None:
    lake = seeded_lake(tmp_path)
    catalog = (lake.root / CATALOG_FILE).read_bytes()
    table, path = "payments", tmp_path / "in.csv"
    rows = [payment_fields(i) for i in range(1, 6)]
    rows[2]["user_id"] = "abc"
    path.write_text("\n".join([",".join(rows[0]), *(",".join(r.values()) for r in rows)]) + "\n")
    expected = [str(path), "row 3 (line 4)", "'user_id'", "expected an integer, got 'abc'"]
    if case == "missing file":
        path, expected = tmp_path / "nope.csv", [str(tmp_path / "nope.csv"), "no such file"]
    elif case == "unknown table":
        table, expected = "paymnets", ["unknown table 'paymnets'"]
    elif case == "corrupt parquet":
        pq.write_table(fake_rows("payments", 20), path := tmp_path / "in.parquet")
        path.write_bytes(path.read_bytes()[:300])
        expected = [str(path), "not a readable Parquet file"]

    result = cli("ingest", table, path, "--lake", lake.root)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert all(part in result.stderr for part in expected), result.stderr
    assert (lake.root / CATALOG_FILE).read_bytes() == catalog


def test_concurrent_ingests_of_bad_input_all_exit_2_never_abort(tmp_path: Path) -> None:
    """Eight ingests at once on a CSV with an extra column, round after round, as a new user tried it.

    Under load a process could print the right error and then abort (SIGABRT, exit 134): Arrow's threaded
    CSV reader freed a Python file object on a worker thread after the interpreter had begun to exit.
    About one process in 50 did, and only with more processes than cores: hence 48, eight at a time.
    """
    rows = [{**payment_fields(i), "extra": "x"} for i in range(1, 6)]
    (path := tmp_path / "extra.csv").write_text(csv_text(rows))
    command = [*CLI, "ingest", "payments", str(path), "--lake", str(tmp_path / "lake")]
    outcomes = []
    for _ in range(CONCURRENT_ROUNDS):
        procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
                 for _ in range(CONCURRENT_PROCESSES)]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            outcomes.append((proc.returncode, err))
    assert [code for code, _ in outcomes] == [2] * len(outcomes), [err for code, err in outcomes if code != 2]
    expected = f"error: file {path}, line 1, column 'extra': unexpected column(s) extra for table payments"
    assert all(err.startswith(expected) and len(err.strip().splitlines()) == 1 for _, err in outcomes), outcomes


def test_lake_export_then_ingest_into_a_fresh_lake_round_trips(tmp_path: Path) -> None:
    source = Lake(tmp_path / "source")
    with source.transaction() as tx:
        tx.append("payments", fake_rows("payments", 300))
    out = tmp_path / "payments.csv"
    out.write_text("an older export")
    exported = cli("lake", "export", "payments", out, "--lake", source.root)
    assert exported.returncode == 0, exported.stderr
    assert "wrote 300 rows" in exported.stdout
    assert out.read_text().startswith("payment_id,user_id,event_time,")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left

    target = Lake(tmp_path / "target")
    assert cli("ingest", "payments", out, "--lake", target.root).returncode == 0
    query = "SELECT * FROM payments ORDER BY payment_id"
    assert (connect(target).con.sql(query).to_arrow_table().to_pylist()
            == connect(source).con.sql(query).to_arrow_table().to_pylist())

    missing = cli("lake", "export", "payments", tmp_path / "x.csv", "--lake", tmp_path / "no-lake")
    assert (missing.returncode, missing.stderr.strip()) == (2, f"error: no lake at {tmp_path / 'no-lake'}")


@pytest.mark.skipif(not FORTA.is_dir() and "CI" not in os.environ, reason="Forta labels not available")
def test_ingest_forta_format(tmp_path: Path) -> None:
    files = sorted(FORTA.glob("*.csv"))
    first = cli("ingest", "address_labels", *files, "--format", "forta", "--lake", tmp_path / "lake")
    assert first.returncode == 0, first.stderr
    assert "14,183" in first.stdout
    again = cli("ingest", "address_labels", *files, "--format", "forta", "--lake", tmp_path / "lake")
    total = next(x for x in again.stdout.splitlines() if "total" in x)
    assert [c.strip() for c in total.split("│")[2:5]] == ["14,183", "0", "14,183"]


# -- SIGKILL -------------------------------------------------------------------------------------

#: Runs an ingest that stops at one moment of its write and waits to be killed there:
#: "write" after the first staged Parquet file, "rename" after the first file moved into its
#: partition, "catalog" with the new catalog written to its temp file but not yet swapped in.
PAUSING_INGEST = """
import os, sys, time
import pyarrow.parquet as pq
from cryptoscope.sources.importers import ingest_files

lake, csv, marker, pause = sys.argv[1:]
real_write, real_replace = pq.write_table, os.replace

def stop_here():
    open(marker, "w").close()
    time.sleep(120)

def write_table(*args, **kwargs):
    real_write(*args, **kwargs)
    if pause == "write":
        stop_here()

def replace(src, dst):
    if pause == "catalog" and os.path.basename(src).startswith("._catalog.json"):
        stop_here()
    real_replace(src, dst)
    if pause == "rename" and "_staging" in str(src):
        stop_here()

pq.write_table, os.replace = write_table, replace
ingest_files(lake, "payments", [csv])
"""


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "payments.csv"
    write_big_csv(str(path), BIG_ROWS)
    return path


def kill_after(delay: float, args: list[str]) -> None:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not finished, f"the ingest ended within {delay:.2f}s, before it could be killed"


def kill_when_paused(pause: str, lake: Lake, csv: Path, marker: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", PAUSING_INGEST, str(lake.root), str(csv), str(marker), pause])
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, f"ingest never reached {pause!r}"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_sigkill_at_any_moment_leaves_the_lake_as_it_was(tmp_path: Path, big_csv: Path) -> None:
    runs = []
    for n in range(2):  # the faster of two: a busy machine slows the first, and a kill must land before the end
        started = time.monotonic()
        full = cli("ingest", "payments", big_csv, "--lake", tmp_path / f"scratch{n}")
        runs.append(time.monotonic() - started)
        assert full.returncode == 0, full.stderr
    full_run = min(runs)

    lake = seeded_lake(tmp_path)
    before = state(lake)
    committed = (before[0] + 1, before[1] + BIG_ROWS)
    for i, delay in enumerate(sorted({min(d, 0.7 * full_run) for d in (0.2, 0.5, 1.0)})):
        timed = seeded_lake(tmp_path / f"timed{i}")  # a lake of its own: a kill may land after the commit
        kill_after(delay, [*CLI, "ingest", "payments", str(big_csv), "--lake", str(timed.root)])
        # all or nothing: a reader sees the lake as it was, or the whole file, never a part of it
        assert state(timed) in (before, committed), f"killed after {delay:.2f}s"
    for pause in ("write", "rename", "catalog"):
        kill_when_paused(pause, lake, big_csv, tmp_path / f"{pause}.marker")
        assert state(lake) == before, f"killed at {pause!r}"
        assert leftovers(lake), f"killed at {pause!r} yet nothing was left behind: the pause missed the write"

    result = cli("ingest", "payments", big_csv, "--lake", lake.root)
    assert result.returncode == 0, result.stderr
    assert state(lake) == (before[0] + 1, before[1] + BIG_ROWS)
    assert leftovers(lake) == []
    assert not (lake.root / "_staging").exists()
