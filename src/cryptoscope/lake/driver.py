"""How many rows a batch stage brings to the driver: the number that decides whether it scales out.

Every result an Ibis connection of the lake hands back to Python (``execute``, ``to_pyarrow``, on DuckDB and
Spark alike) is counted here; a stage that collects a frame that grows with the number of users cannot run on
a warehouse larger than one machine, whatever engine computed it. `tracking` gives the largest single result
and the total while a block runs (the run command and the scale benchmark report both).

>>> with tracking() as seen:                                  # doctest: +SKIP
...     connect(lake).table("accounts").count().execute()
>>> seen.largest
1
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass
class DriverRows:
    """The largest result (rows) and all rows that reached the driver while tracking."""

    largest: int = 0
    total: int = 0
    results: int = 0


_current: ContextVar[DriverRows | None] = ContextVar("driver_rows", default=None)


@contextmanager
def tracking() -> Iterator[DriverRows]:
    """Count the rows every lake query returns to this process while the block runs (nested blocks each count)."""
    seen = DriverRows()
    token = _current.set(seen)
    try:
        yield seen
    finally:
        _current.reset(token)


def note(result: Any) -> Any:
    """Record ``result`` (a frame, an Arrow table, a column or a scalar) and hand it back unchanged."""
    seen = _current.get()
    if seen is not None:
        rows = result.num_rows if hasattr(result, "num_rows") else len(result) if hasattr(result, "__len__") else 1
        seen.largest = max(seen.largest, int(rows))
        seen.total += int(rows)
        seen.results += 1
    return result


__all__ = ["DriverRows", "note", "tracking"]
