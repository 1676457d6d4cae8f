"""Loading files into the lake: all or nothing, and idempotent.

Every file is read and validated before the lake is touched, then all of them are appended in
one transaction with ``dedupe=True``. So a bad third file leaves the lake as it was, a killed
ingest leaves it as it was, and running the same ingest twice adds nothing the second time.

A key repeated *within* one file is an error (which row is right?); a key repeated *across* files
is an overlap between exports, as when daily exports overlap, and counts as already present.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa

from cryptoscope.errors import UnknownTableError, ValidationError
from cryptoscope.lake import Lake
from cryptoscope.schema import get_table
from cryptoscope.sources.importers.formats import InputFormat, read_input
from cryptoscope.sources.importers.mapping import Mapping

Stage = Literal["read", "write", "commit"]


@dataclass(frozen=True)
class ProgressEvent:
    """One step of an ingest, for a progress bar: ``done`` of ``total`` files finished ``stage``."""

    stage: Stage
    done: int
    total: int
    path: Path | None


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class FileResult:
    """What one input file brought: rows read from it and rows new to the lake."""

    path: Path
    rows_read: int
    rows_added: int

    @property
    def already_present(self) -> int:
        """Rows whose key was already in the lake (or in an earlier file of the same ingest)."""
        return self.rows_read - self.rows_added


@dataclass(frozen=True)
class IngestResult:
    """The outcome of `ingest_files`, per file in the order given."""

    table: str
    files: tuple[FileResult, ...]
    catalog_version: int

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_added(self) -> int:
        return sum(f.rows_added for f in self.files)

    @property
    def already_present(self) -> int:
        return sum(f.already_present for f in self.files)


def ingest_files(lake: Lake | str | os.PathLike[str], table_name: str, paths: Sequence[str | os.PathLike[str]],
                 progress: ProgressCallback | None = None, *,
                 fmt: InputFormat | str = InputFormat.AUTO,
                 mapping: Mapping | str | os.PathLike[str] | None = None) -> IngestResult:
    """Validate every file of ``paths`` as rows of ``table_name``, then append them all in one transaction.

    Raises `ValidationError` (naming file, row and column) before anything is written when any
    file is unreadable or does not match the schema; rows already in the lake are skipped.
    ``mapping`` (a `Mapping` or the path of a mapping file) turns each file's columns into the table's
    before those checks.
    """
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    try:
        table = get_table(table_name)
    except UnknownTableError as exc:
        raise ValidationError(str(exc)) from None
    if not paths:
        raise ValidationError("no input files given")
    files = [Path(p) for p in paths]
    fmt = InputFormat(fmt)
    if mapping is not None and not isinstance(mapping, Mapping):
        mapping = Mapping.load(mapping)
    notify = progress or (lambda event: None)
    loaded: list[tuple[Path, pa.Table]] = []
    for i, path in enumerate(files):
        loaded.append((path, read_input(path, table, fmt, mapping)))
        notify(ProgressEvent("read", i + 1, len(files), path))
    results = []
    with lake.transaction() as tx:
        for i, (path, rows) in enumerate(loaded):
            added = tx.append(table.name, rows, dedupe=True)
            results.append(FileResult(path, rows.num_rows, added))
            notify(ProgressEvent("write", i + 1, len(files), path))
        notify(ProgressEvent("commit", len(files), len(files), None))
    return IngestResult(table.name, tuple(results), lake.catalog().version)
