"""Compaction: a table's many small files merged into a few, so that reads stop paying for each file.

Day partitions suit the busy tables, but a table with a handful of rows a day ends as thousands of tiny
files: accounts over years of signups, KYC submissions, a run's scores per day, the stream's commits every two
seconds. Every query then opens each of them (DuckDB reads every footer to bind the union by name; Spark
plans a task per file): on the 8,000-user test world, 1,182 files of accounts made the KYC stage three times
slower than the same rows in 39 files. This is the job of Delta's OPTIMIZE and Iceberg's
``rewrite_data_files``: small files of one calendar month are rewritten as one (up to ``TARGET_BYTES``), in
one transaction, so a reader sees the same rows before and after and a killed compaction changes nothing.

>>> compact(Lake("./demo-lake"))                  # doctest: +SKIP
{'accounts': (1182, 39), ...}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby

from cryptoscope.lake.catalog import FileEntry
from cryptoscope.lake.store import Lake

#: files smaller than this are merged with their month's other small files
SMALL_BYTES = 8 << 20
#: a merged file stops taking more files once it reaches this size
TARGET_BYTES = 128 << 20


def plan(entries: Sequence[FileEntry], *, small_bytes: int = SMALL_BYTES,
         target_bytes: int = TARGET_BYTES) -> list[list[FileEntry]]:
    """Groups of small files to merge: the files of one calendar month (by their event times), in time order,
    each group up to ``target_bytes``; a group of one file is left as it is."""
    small = sorted((f for f in entries if f.bytes < small_bytes and f.min_time and f.max_time
                    and f.min_time[:7] == f.max_time[:7]), key=lambda f: (f.min_time or "", f.path))
    groups: list[list[FileEntry]] = []
    for _, month in groupby(small, key=lambda f: (f.min_time or "")[:7]):
        group: list[FileEntry] = []
        for f in month:
            if group and sum(g.bytes for g in group) + f.bytes > target_bytes:
                groups.append(group)
                group = []
            group.append(f)
        groups.append(group)
    return [g for g in groups if len(g) > 1]


def compact(lake: Lake, tables: Iterable[str] | None = None, *, small_bytes: int = SMALL_BYTES,
            target_bytes: int = TARGET_BYTES) -> dict[str, tuple[int, int]]:
    """Merge the small files of ``tables`` (every table when None) in one transaction; for each table that
    changed, its number of files before and after."""
    out: dict[str, tuple[int, int]] = {}
    with lake.transaction() as tx:
        catalog = lake.catalog()
        for name in sorted(catalog.tables) if tables is None else tables:
            entries = catalog.files(name)
            groups = plan(entries, small_bytes=small_bytes, target_bytes=target_bytes)
            for group in groups:
                tx.merge(name, group)
            if groups:
                out[name] = (len(entries), len(entries) - sum(len(g) - 1 for g in groups))
    return out
