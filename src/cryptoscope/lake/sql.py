"""Safe SQL text for lake files: paths become quoted literals, never code."""

from __future__ import annotations

from collections.abc import Sequence


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parquet_source(paths: Sequence[str]) -> str:
    """``read_parquet([...])`` over exactly these files; no hive columns, columns matched by name."""
    files = ", ".join(quote(p) for p in paths)
    return f"read_parquet([{files}], union_by_name = true, hive_partitioning = false)"
