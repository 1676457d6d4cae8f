"""Bad input ends every command the same way: exit code 2 and one line that names the problem, no traceback.

`tests/sources/importers/test_ingest_cli.py` runs the ingest cases, also many processes at once; these are the
other command groups, each with input a new user gets wrong.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "cryptoscope.cli"]
ENV = {**os.environ, "COLUMNS": "250"}  # wide enough that rich keeps the line whole

# command (``{tmp}`` is the test's folder; its ``lake`` does not exist) -> what the one line must say
CASES = {
    "schema of an unknown table": ("schema paymnets", "unknown table 'paymnets'"),
    "export of an unknown table": ("lake export paymnets {tmp}/out.csv --lake {tmp}/lake", "unknown table 'paymnets'"),
    "cut-off that is no date": ("features build --label card_fraud --cutoff soon --out {tmp}/x.parquet "
                                "--lake {tmp}/lake", "--cutoff must look like 2025-03-01"),
    "truncated bitcoin block": ("chain ingest bitcoin {tmp}/blk.dat --lake {tmp}/lake",
                                "blk.dat, byte offset 3, field 'header': truncated"),
    "compaction of a folder that is no lake": ("lake compact --lake {tmp}/lake", "lake: not a lake (no _catalog.json)"),
    "behaviour on a lake without sessions": ("behaviour segments --lake {tmp}/lake", "the lake has no sessions"),
    "a decision that is not 0, 1 or empty": ("anomaly score-table {tmp}/maybe.csv --label-column y --feedback-column "
                                             "decision --out {tmp}/r.json",
                                             "maybe.csv, row 3, column 'decision': decisions must be 0, 1 or empty"),
    "a decision on every row": ("anomaly score-table {tmp}/all.csv --label-column y --feedback-column decision "
                                "--out {tmp}/r.json", "column 'decision': every row carries a decision"),
    "an unknown mule model": ("anomaly mules train --model gcn --lake {tmp}/lake --registry {tmp}/registry",
                              "unknown mule model 'gcn'; known: lightgbm, graph"),
}


def _decision_tables(folder: Path) -> None:
    """Two small feature tables whose decision column is wrong: a 'maybe' on row 3, and a decision on every row."""
    rows = [f"{i},{i % 7},{int(i % 10 == 0)}" for i in range(40)]
    header = "x1,x2,y,decision"
    maybe = [f"{r},{'maybe' if i == 2 else ''}" for i, r in enumerate(rows)]
    (folder / "maybe.csv").write_text("\n".join([header, *maybe]) + "\n")
    (folder / "all.csv").write_text("\n".join([header, *(f"{r},{r[-1]}" for r in rows)]) + "\n")


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, case: str) -> None:
    command, expected = CASES[case]
    (tmp_path / "blk.dat").write_bytes(b"\x01\x02\x03")
    _decision_tables(tmp_path)
    result = subprocess.run([*CLI, *command.format(tmp=tmp_path).split()], capture_output=True, text=True, env=ENV,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: "), result.stderr
    assert expected in result.stderr
