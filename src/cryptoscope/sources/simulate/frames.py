"""Collecting one chunk's rows per table, with ids unique across the whole world."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa

from cryptoscope.schema import get_table

#: Ids of chunk k start at (k + 1) * ID_STRIDE, so chunks never collide and ids stay readable.
ID_STRIDE = 10**10


def ts(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Microsecond UTC timestamps from int64, ``mask`` True where the value is null."""
    return pa.array(np.asarray(values, dtype=np.int64), type=pa.timestamp("us", tz="UTC"), mask=mask)


class Frames:
    """Rows of one chunk, table by table, built from column arrays."""

    def __init__(self, chunk_index: int) -> None:
        self.chunk_index = chunk_index
        self._next: dict[str, int] = defaultdict(int)
        self._parts: dict[str, list[pa.Table]] = defaultdict(list)

    def ids(self, table: str, n: int) -> np.ndarray:
        start = (self.chunk_index + 1) * ID_STRIDE + self._next[table]
        self._next[table] += n
        return np.arange(start, start + n, dtype=np.int64)

    def add(self, table: str, **columns: Any) -> None:
        """Add rows; columns missing here must be nullable and become null."""
        spec = get_table(table)
        lengths = {len(v) for v in columns.values() if v is not None}
        if len(lengths) != 1:
            raise ValueError(f"{table}: columns of different lengths {lengths}")
        n = lengths.pop()
        if n == 0:
            return
        arrays = []
        for c in spec.columns:
            value = columns.get(c.name)
            if value is None:
                if not c.nullable:
                    raise ValueError(f"{table}: column {c.name} is required")
                arrays.append(pa.nulls(n, c.type))
            elif isinstance(value, pa.Array | pa.ChunkedArray):
                arrays.append(value.cast(c.type))
            else:
                arrays.append(pa.array(value, type=c.type))
        unknown = set(columns) - set(spec.column_names)
        if unknown:
            raise ValueError(f"{table}: unknown columns {sorted(unknown)}")
        self._parts[table].append(pa.Table.from_arrays(arrays, schema=spec.arrow_schema))

    def parts(self, table: str) -> list[pa.Table]:
        """The rows added to ``table`` so far (for a generator that sizes itself to the chunk's market)."""
        return list(self._parts.get(table, []))

    def tables(self) -> dict[str, pa.Table]:
        return {name: pa.concat_tables(parts) for name, parts in self._parts.items()}
