"""An in-process Ibis backend for tables already in memory, opened for one job and closed after it.

Product code keeps its queries engine-free: it builds Ibis expressions over ``ibis.memtable``
tables (Arrow it has just read, or built) and runs them here. The engine is named in this one
place beside the lake's own backends; closing it frees the registered tables, which Ibis' shared
default backend would keep until the process exits.

>>> import ibis
>>> with scratch() as backend:
...     backend.to_pyarrow(ibis.memtable({"x": [1, 2, 2]}).x.nunique())
<pyarrow.Int64Scalar: 2>
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import ibis

if TYPE_CHECKING:
    from ibis.backends import BaseBackend


@contextmanager
def scratch() -> Iterator[BaseBackend]:
    """A private in-memory DuckDB through Ibis, disconnected when the block ends."""
    backend = ibis.duckdb.connect()
    try:
        yield backend
    finally:
        backend.disconnect()


__all__ = ["scratch"]
