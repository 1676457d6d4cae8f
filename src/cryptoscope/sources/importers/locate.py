"""Pointing at the bad spot: which row failed, and on which line of the CSV it sits.

Bulk conversions in Arrow say *that* something failed, not *where*. A user fixing an export
needs the row and, for a CSV, the line to open in an editor; these helpers recover both
only once something has gone wrong, so the happy path pays nothing for them.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from cryptoscope.errors import ValidationError


def first_failing(values: pa.ChunkedArray, convert: Callable[[pa.ChunkedArray], object]) -> int:
    """Index of the first element on which ``convert`` raises, given that it raises on all of ``values``.

    Bisects on ranges rather than prefixes, so the total work is about twice one conversion.
    """
    lo, hi = 0, len(values)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            convert(values.slice(lo, mid - lo))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            hi = mid
        else:
            lo = mid
    return lo


def records(path: Path, errors: str = "strict") -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first line, fields)`` of each non-blank CSV record after the header.

    Blank lines are skipped, as Arrow's reader skips them, so the n-th record yielded is data row n.
    """
    csv.field_size_limit(sys.maxsize)  # Arrow read the file without a field limit; so must we, to agree on rows
    with open(path, encoding="utf-8-sig", errors=errors, newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        previous_end = reader.line_num
        for record in reader:
            if record:
                yield previous_end + 1, record
            previous_end = reader.line_num


def csv_line_of_row(path: Path, index: int) -> int | None:
    """1-based line where data row ``index`` (0-based) of a CSV starts; None if the file is shorter."""
    for i, (line, _) in enumerate(records(path, errors="replace")):
        if i == index:
            return line
    return None


@dataclass(frozen=True)
class BadBytes:
    """Where the first invalid UTF-8 byte of a CSV sits."""

    line: int
    row: int | None  # 1-based data row; None when it is in the header
    column: int | None  # 0-based field index within that record, when it could be found


def find_bad_utf8(path: Path, data: bytes) -> BadBytes | None:
    """The first invalid UTF-8 sequence in ``data`` (the bytes of ``path``), or None if it is all valid."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
    else:
        return None
    if line == 1:
        return BadBytes(line, None, None)
    for row, (start, record) in enumerate(records(path, errors="replace"), start=1):
        end = start + sum(field.count("\n") for field in record)
        if start <= line <= end:
            column = next((i for i, field in enumerate(record) if "\ufffd" in field), None)
            return BadBytes(line, row, column)
    return BadBytes(line, None, None)


@dataclass(frozen=True)
class Locator:
    """Turns a 0-based row index into the `ValidationError` a user can act on.

    ``line_of`` is set for CSV files, where the message also names the line to open.
    """

    file: str
    line_of: Callable[[int], int | None] | None = None

    def error(self, reason: str, *, index: int | None = None, column: str | None = None,
              line: int | None = None) -> ValidationError:
        """A `ValidationError` for ``reason`` at data row ``index`` (0-based) and ``column``.

        ``line`` is only needed where there is no row, e.g. 1 for a CSV header.
        """
        if index is not None and line is None:
            line = self.line(index)
        return ValidationError(reason, file=self.file, row=None if index is None else index + 1, column=column,
                               line=line)

    def line(self, index: int) -> int | None:
        """The CSV line where data row ``index`` (0-based) starts; None for other files."""
        return None if self.line_of is None else self.line_of(index)

    def row_ref(self, index: int) -> str:
        """How another row is named inside a message, e.g. ``row 2 (line 3)``."""
        line = self.line(index)
        return f"row {index + 1}" + ("" if line is None else f" (line {line})")
