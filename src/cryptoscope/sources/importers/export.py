"""Writing a lake table to CSV: the inverse of the CSV importer.

What this writes, `ingest` reads back to the same rows: DuckDB writes UTC timestamps as
``2024-01-02 03:04:05.123456+00``, nulls as empty fields and empty strings as ``""``, and
doubles in their shortest exact form. The file appears whole or not at all (temp + rename),
so a killed export never leaves half a CSV where a later job would pick it up.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptoscope.errors import LakeError
from cryptoscope.lake import Lake, connect
from cryptoscope.schema import get_table


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def export_csv(lake: Lake | str | os.PathLike[str], table_name: str, out: str | os.PathLike[str]) -> int:
    """Write every committed row of ``table_name`` to ``out`` (ordered by primary key); return the row count."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    table = get_table(table_name)
    if not lake.root.is_dir():
        raise LakeError(f"no lake at {lake.root}")
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    columns = ", ".join(f'"{c}"' for c in table.column_names)
    key = ", ".join(f'"{k}"' for k in table.primary_key)
    con = connect(lake).con
    try:
        query = f'SELECT {columns} FROM "{table.name}" ORDER BY {key}'
        rows = con.execute(f"COPY ({query}) TO {_sql_string(str(tmp))} (FORMAT csv, HEADER true)").fetchall()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        con.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return int(rows[0][0])
