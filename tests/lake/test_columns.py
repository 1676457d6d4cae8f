"""`lake.columns.read_columns`: a few columns of committed files, filtered file by file, the missing ones null."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cryptoscope.lake.columns import read_columns

SCHEMA = pa.schema([("key", pa.string()), ("n", pa.int64()), ("added_later", pa.string())])


def test_rows_are_filtered_per_file_and_a_missing_column_reads_as_null(tmp_path: Path) -> None:
    old, new = tmp_path / "old.parquet", tmp_path / "new.parquet"
    pq.write_table(pa.table({"key": ["a", "b"], "n": pa.array([1, 2], pa.int32()), "extra": [0, 0]}), old)
    pq.write_table(pa.table({"key": ["c"], "n": [3], "added_later": ["x"]}), new)
    rows = read_columns([str(old), str(new)], SCHEMA, lambda t: pc.greater(t["n"], 1))
    assert rows.schema == SCHEMA
    assert rows.to_pylist() == [{"key": "b", "n": 2, "added_later": None}, {"key": "c", "n": 3, "added_later": "x"}]


def test_no_files_give_an_empty_table_of_the_schema() -> None:
    rows = read_columns([], SCHEMA, lambda t: pc.equal(t["key"], "a"))
    assert rows.num_rows == 0 and rows.schema == SCHEMA
