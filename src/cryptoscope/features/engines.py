"""Pick the engine that runs the feature expressions: one code path, DuckDB or Spark underneath.

`cryptoscope.features.offline` builds plain Ibis expressions; which backend executes them is a
deployment choice (``--engine``), never a change to a view.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal, get_args

from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake.store import Lake

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = get_args(Engine)


def connect(lake: Lake | str | os.PathLike[str], engine: Engine | str = "duckdb") -> BaseBackend:
    """The Ibis backend over ``lake`` for ``engine``: DuckDB in process, or Spark (local or a cluster).

    ``engine`` usually comes from the command line as a plain string, hence the check at run time.
    Spark is imported only when asked for: it starts a JVM, which takes seconds.
    """
    if engine_name(engine) == "duckdb":
        from cryptoscope.lake.engine import connect as connect_duckdb

        return connect_duckdb(lake)
    from cryptoscope.lake.spark import connect_spark

    return connect_spark(lake)


def engine_name(text: str) -> Engine:
    """``text`` as an engine name; a clear error naming the known ones otherwise."""
    if text == "duckdb":
        return "duckdb"
    if text == "spark":
        return "spark"
    raise CryptoscopeError(f"unknown engine {text!r}; expected one of: {', '.join(ENGINES)}")


__all__ = ["ENGINES", "Engine", "connect", "engine_name"]
