"""Run surveillance over a lake: detect, write `surveillance_alerts` atomically, file alerts as cases."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from cryptoscope.lake.store import Lake
from cryptoscope.surveillance.alerts import TABLE
from cryptoscope.surveillance.params import DEFAULT, Params


@dataclass(frozen=True)
class SurveillanceResult:
    """What one run found and where it went."""

    alerts: pa.Table
    written: int  # new rows in the lake table (0 when the same alerts were already there)
    cases: int | None  # new alerts filed in the case queue; None when the queue is not installed


def run_surveillance(lake: Lake | str | os.PathLike[str], *, engine: str = "duckdb", params: Params = DEFAULT,
                     write: bool = True, cases_url: str | None = None, backend: Any = None) -> SurveillanceResult:
    """Detect on ``engine`` (or on ``backend``, an open Ibis connection over ``lake``); append new alerts to the
    lake (idempotent) and, given ``cases_url``, to the case queue."""
    from cryptoscope.features import engines
    from cryptoscope.surveillance.batch import detect

    lake = lake if isinstance(lake, Lake) else Lake(lake)
    con = backend if backend is not None else engines.connect(lake, engine)
    table = detect(con, params)
    written = 0
    if write and table.num_rows:
        with lake.transaction() as tx:
            written = tx.append(TABLE, table)
    filed = file_cases(table, cases_url) if cases_url else None
    return SurveillanceResult(table, written, filed)


def file_cases(table: pa.Table, url: str) -> int:
    """Each alert as a ring (several accounts) or user alert in the case queue (``cases.grouping``, the same
    grouping the abnormal-user line files through); returns the number of new alerts filed."""
    from cryptoscope.cases import CaseStore
    from cryptoscope.cases.grouping import RingAlert, UserAlert, file_alerts

    store = CaseStore(url)
    filed = 0
    for row in table.to_pylist():
        accounts = tuple(int(a) for a in row["accounts"].split(","))
        reasons = f"{row['typology']} on {row['symbol']} ({row['level']}): {row['evidence']}"
        # one run key per alert (the queue's keys are short): the same alert filed twice adds nothing
        run_key = "surveillance:" + hashlib.sha1(row["alert_id"].encode()).hexdigest()
        as_of = row["detected_at"]
        if len(accounts) > 1:
            done = file_alerts(store, run_key, as_of, [], [RingAlert(-1, accounts, row["severity"], reasons)],
                               scored=len(accounts))
        else:
            done = file_alerts(store, run_key, as_of, [UserAlert(accounts[0], row["severity"], reasons)], [], scored=1)
        filed += done.new_alerts
    return filed


def default_cases_url(lake: str | os.PathLike[str]) -> str:
    """The SQLite case queue the anomaly detectors use beside the lake."""
    from pathlib import Path

    from cryptoscope.cases import default_url

    return default_url(Path(lake) / "_abnormal")
