"""Whether two lakes hold the same rows: the check behind "Spark writes what DuckDB writes".

Rows are matched on the table's primary key; every other column must be equal, floats within a tolerance
(two engines may add the same numbers in another order), except the columns that record *when* a row was
computed (``scored_at``, ``computed_at``), which two runs never share. Used by the engine-parity test on a
real cluster and by the scale benchmark; `cryptoscope lake diff` shows it to a user checking a migration.

>>> diff_table(Lake("duck-lake"), Lake("spark-lake"), "risk_scores").same       # doctest: +SKIP
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cryptoscope.lake.store import Lake
from cryptoscope.schema import get_table

#: Columns that say when a row was computed, not what was computed.
COMPUTED_AT = frozenset({"scored_at", "computed_at"})


@dataclass(frozen=True)
class TableDiff:
    """How two lakes' copies of one table differ: keys on one side only, and columns with unequal values."""

    table: str
    rows: tuple[int, int]
    only_left: list[str] = field(default_factory=list)
    only_right: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # column -> first differing key and the two values

    @property
    def same(self) -> bool:
        return not (self.only_left or self.only_right or self.columns)

    def text(self) -> str:
        if self.same:
            return f"{self.table}: the same {self.rows[0]:,} rows"
        parts = [f"{self.table}: {self.rows[0]:,} vs {self.rows[1]:,} rows"]
        if self.only_left or self.only_right:
            parts.append(f"{len(self.only_left)} keys only left (e.g. {self.only_left[:3]}), "
                         f"{len(self.only_right)} only right (e.g. {self.only_right[:3]})")
        parts += [f"{c}: {why}" for c, why in self.columns.items()]
        return "; ".join(parts)


def diff_table(left: Lake, right: Lake, name: str, *, tolerance: float = 1e-6) -> TableDiff:
    """Compare ``name`` in two lakes (floats within ``tolerance``, absolute or relative)."""
    table = get_table(name)
    key = list(table.primary_key)
    a, b = _frame(left, name, key), _frame(right, name, key)
    ka, kb = set(a.index), set(b.index)
    out = TableDiff(name, (len(a), len(b)), sorted(map(str, ka - kb))[:20], sorted(map(str, kb - ka))[:20])
    both = a.index.intersection(b.index)
    a, b = a.loc[both], b.loc[both]
    for column in a.columns:
        if column in COMPUTED_AT:
            continue
        x, y = a[column], b[column]
        if pd.api.types.is_float_dtype(x) and pd.api.types.is_float_dtype(y):
            bad = ~np.isclose(x.to_numpy(), y.to_numpy(), rtol=tolerance, atol=tolerance, equal_nan=True)
        else:
            bad = ~((x == y) | (x.isna() & y.isna())).to_numpy()
        if bad.any():
            at = both[int(np.flatnonzero(bad)[0])]
            out.columns[column] = f"{int(bad.sum())} rows differ, e.g. {at}: {x.loc[at]!r} vs {y.loc[at]!r}"
    return out


def diff_lakes(left: Lake, right: Lake, tables: list[str], *, tolerance: float = 1e-6) -> list[TableDiff]:
    return [diff_table(left, right, name, tolerance=tolerance) for name in tables]


def _frame(lake: Lake, name: str, key: list[str]) -> pd.DataFrame:
    from cryptoscope.lake.engine import connect

    frame = connect(lake).table(name).to_pyarrow().to_pandas()
    frame.index = pd.MultiIndex.from_frame(frame[key]) if len(key) > 1 else pd.Index(frame[key[0]])
    return frame.drop(columns=key).sort_index()


__all__ = ["COMPUTED_AT", "TableDiff", "diff_lakes", "diff_table"]
