"""Splitting an Arrow table into daily partitions of its event time."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

_US_PER_DAY = 86_400_000_000
_EPOCH = dt.date(1970, 1, 1)


def split_by_date(table: pa.Table, time_column: str = "event_time") -> Iterator[tuple[dt.date, pa.Table]]:
    """Yield ``(UTC date, rows)`` for each date present; rows keep their order within a date."""
    if table.num_rows == 0:
        return
    micros = table[time_column].cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy()
    days = micros // _US_PER_DAY
    if np.all(days == days[0]):
        yield _EPOCH + dt.timedelta(days=int(days[0])), table
        return
    order = np.argsort(days, kind="stable")
    sorted_days = days[order]
    sorted_rows = table.take(order)
    bounds = [0, *(np.flatnonzero(np.diff(sorted_days)) + 1).tolist(), len(sorted_days)]
    for lo, hi in itertools.pairwise(bounds):
        yield _EPOCH + dt.timedelta(days=int(sorted_days[lo])), sorted_rows.slice(lo, hi - lo)


def split_by_month(table: pa.Table, time_column: str = "event_time") -> Iterator[tuple[str, pa.Table]]:
    """Yield ``("YYYY-MM", rows)`` for each UTC calendar month present; rows keep their order within a month."""
    months: dict[str, list[pa.Table]] = {}
    for day, rows in split_by_date(table, time_column):
        months.setdefault(f"{day:%Y-%m}", []).append(rows)
    for month, parts in months.items():
        yield month, parts[0] if len(parts) == 1 else pa.concat_tables(parts)
