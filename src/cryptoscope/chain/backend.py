"""Where the chain analytics read from: the lake's tables on an Ibis backend (DuckDB, Spark, ...).

Every reader in `cryptoscope.chain` takes a `Source`: an Ibis backend over the lake (from
`cryptoscope.features.engines.connect`), or the lake itself (a folder or a `Lake`), then read
through its DuckDB backend. Queries are plain Ibis expressions over `lake_table`s, bound to no
engine, so one code path runs on any; what happens after the read (union-find, tracing) works on
Arrow and NumPy in memory.

>>> from cryptoscope.chain.flows import read_flows
>>> from cryptoscope.features.engines import connect
>>> read_flows("demo-lake", "bitcoin")                                        # doctest: +SKIP
>>> read_flows(connect("demo-lake", "spark"), "bitcoin")                      # doctest: +SKIP
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import ibis
import pyarrow as pa

from cryptoscope.lake import Lake, connect
from cryptoscope.schema import TABLES

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

LakeLike: TypeAlias = Lake | str | os.PathLike[str]
Source: TypeAlias = "BaseBackend | LakeLike"


def backend_of(source: Source) -> BaseBackend:
    """The Ibis backend to read ``source`` with: itself, or the lake's DuckDB backend.

    Building a lake's views takes seconds on a big lake and one command asks many questions, so
    the backend is kept per lake folder and catalog version: any commit gives a fresh one.
    """
    if isinstance(source, Lake | str | os.PathLike):
        root = Path(source.root if isinstance(source, Lake) else source).resolve()
        return _lake_backend(str(root), Lake(root).catalog().version)
    return source


@lru_cache(maxsize=4)
def _lake_backend(root: str, version: int) -> BaseBackend:
    return connect(root)


def lake_table(name: str) -> ir.Table:
    """Lake table ``name`` as an unbound Ibis table of its canonical columns (`cryptoscope.schema`).

    Bound to no engine: an expression over it runs on whichever backend executes it (every lake
    backend serves each canonical table under its name with exactly these columns). Nothing asks the
    engine for a schema, which would bind the view and open the footer of every file behind it.
    """
    return ibis.table({f.name: ibis.dtype(f.type) for f in TABLES[name].arrow_schema}, name=name)


def epoch_us(times: pa.ChunkedArray) -> pa.ChunkedArray:
    """Timestamps as integer µs since the epoch (UTC): the tracer's clock, the same on every engine.

    Done on the Arrow result rather than in the query: engines disagree on how to turn an instant
    into a number (DuckDB's ``epoch_us``, Spark's seconds), and the cast here is exact.
    """
    return times.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
