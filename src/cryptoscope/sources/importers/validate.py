"""Checks of an input against its canonical table: the header, then every row.

The lake trusts what it is given (its dedupe keeps the *first* row of a key), so anything that
would make the lake lie is refused here, before a single byte is written: missing or unknown
columns, nulls where the schema forbids them, negative amounts, and a key that appears twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.schema import Table
from cryptoscope.sources.importers.locate import Locator


def check_header(names: Sequence[str], table: Table, where: Locator, *, line: int | None = None) -> None:
    """Refuse duplicate, missing or extra columns; ``line`` is the header's line in a text file.

    Extra columns are refused rather than dropped: a renamed column would otherwise vanish
    silently while its canonical twin is reported missing, or worse, filled with nulls.
    """
    duplicates = [name for name, n in Counter(names).items() if n > 1]
    if duplicates:
        raise where.error("column appears more than once in the header", column=duplicates[0], line=line)
    expected = table.column_names
    missing = [name for name in expected if name not in names]
    if missing:
        raise where.error(f"missing column(s) {', '.join(missing)} for table {table.name}", column=missing[0],
                          line=line)
    extra = [name for name in names if name not in expected]
    if extra:
        raise where.error(f"unexpected column(s) {', '.join(extra)} for table {table.name}; expected exactly "
                          f"{', '.join(expected)}", column=extra[0], line=line)


def check_rows(data: pa.Table, table: Table, where: Locator) -> None:
    """Refuse nulls in non-nullable columns, negatives in ``non_negative`` ones and repeated keys."""
    for column in table.columns:
        if column.nullable or data[column.name].null_count == 0:
            continue
        index = _first_true(pc.is_null(data[column.name]))
        if index is not None:
            raise where.error(f"empty value in a column that may not be null ({column.type})",
                              index=index, column=column.name)
    for name in table.non_negative:
        index = _first_true(pc.less(data[name], pa.scalar(0)))
        if index is not None:
            raise where.error(f"negative value {data[name][index].as_py()!r}; this column may not be negative",
                              index=index, column=name)
    _check_unique_key(data, table, where)


def _first_true(mask: pa.Array | pa.ChunkedArray) -> int | None:
    if not pc.any(mask).as_py():  # cheap; pc.index is the slow part
        return None
    index = pc.index(mask, True).as_py()
    return None if index is None or index < 0 else int(index)


def _check_unique_key(data: pa.Table, table: Table, where: Locator) -> None:
    """Name both rows of the first repeated primary key: the lake would keep one and drop the other."""
    key = list(table.primary_key)
    keys = data.select(key)
    if keys.group_by(key).aggregate([]).num_rows == keys.num_rows:
        return
    cols = ", ".join(f'"{k}"' for k in key)
    con = duckdb.connect()
    try:
        con.register("keys", keys.append_column("_i", pa.array(np.arange(keys.num_rows))))
        query = (f"SELECT _i, _first FROM (SELECT _i, min(_i) OVER (PARTITION BY {cols}) AS _first FROM keys) "
                 f"WHERE _i <> _first ORDER BY _i LIMIT 1")
        second, first = con.sql(query).fetchall()[0]
    finally:
        con.close()
    values = ", ".join(f"{k}={data[k][second].as_py()!r}" for k in key)
    raise where.error(f"duplicate primary key ({values}), already in {where.row_ref(first)}",
                      index=second, column=", ".join(key))
