"""Reading one CSV or Parquet file into an Arrow table of a canonical table's exact schema.

Each reader checks as it goes (header, then types, then rows) and stops at the first problem
with a `ValidationError` that names the file, the data row (1-based) and the column; for a CSV
also the line. Nothing here writes anything, so a reader can refuse a file at no cost.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from cryptoscope.errors import ValidationError
from cryptoscope.schema import Table
from cryptoscope.sources.importers.convert import cast_typed, parse_text
from cryptoscope.sources.importers.locate import Locator, csv_line_of_row, find_bad_utf8, records
from cryptoscope.sources.importers.validate import check_header, check_rows


def require_file(path: Path) -> None:
    """Refuse a path that is not a readable file, before any parsing tries to make sense of it."""
    if not path.exists():
        raise ValidationError("no such file", file=str(path))
    if not path.is_file():
        raise ValidationError("not a regular file", file=str(path))


def csv_locator(path: Path) -> Locator:
    """A locator whose messages also name the CSV line of a row."""
    return Locator(str(path), line_of=lambda index: csv_line_of_row(path, index))


def _header(data: bytes) -> list[str]:
    """The first CSV record of ``data``, BOM removed; decodes only as far as it reads."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="replace", newline="")
    return next(csv.reader(text), [])


def read_csv_text(path: Path) -> pa.Table:
    """Every column of a UTF-8 CSV as text, with the file-level checks done.

    An unquoted empty field is null; a quoted one (``""``) is the empty string, as DuckDB writes them,
    so what `lake export` wrote reads back as it was.
    """
    require_file(path)
    where = csv_locator(path)
    data = path.read_bytes()
    if not data.strip():
        raise where.error("file is empty (0 bytes)" if not data else "file is empty (only whitespace)")
    bad = find_bad_utf8(path, data)
    if bad is not None:
        header = _header(data) if bad.row is not None else []
        column = header[bad.column] if bad.column is not None and bad.column < len(header) else None
        raise ValidationError("bytes that are not UTF-8; re-save the file as UTF-8", file=str(path), row=bad.row,
                              column=column, line=bad.line)
    names = _header(data)
    convert = pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), null_values=[""],
                                  strings_can_be_null=True, quoted_strings_can_be_null=False)
    try:
        # A native file, never a Python one (io.BytesIO): Arrow's threaded reader may drop its last
        # reference to the source on a worker thread after read_csv has returned. Freeing a Python
        # object there needs the interpreter; when an error right after this read has already sent
        # the process into exit, that thread dies inside a C++ destructor and the process aborts
        # ("terminate called without an active exception", exit 134 instead of 2).
        with pa.OSFile(str(path)) as source:
            text = pcsv.read_csv(source, parse_options=pcsv.ParseOptions(newlines_in_values=True),
                                 convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise _parse_error(path, where, len(names), exc) from None
    if text.num_rows == 0:
        raise where.error("file has a header but no data rows")
    return text


def _parse_error(path: Path, where: Locator, width: int, exc: Exception) -> ValidationError:
    """Name the first record whose field count differs from the header's, else pass Arrow's reason on."""
    for row, (line, record) in enumerate(records(path), start=1):
        if len(record) != width:
            return ValidationError(f"expected {width} fields like the header, found {len(record)}",
                                   file=str(path), row=row, line=line)
    return where.error(f"not a readable CSV file: {exc}")


def read_csv(path: Path, table: Table) -> pa.Table:
    """A CSV export of ``table``: its header must name exactly the table's columns, in any order."""
    text = read_csv_text(path)
    where = csv_locator(path)
    check_header(text.column_names, table, where, line=1)
    columns = [parse_text(text[c.name], c, where) for c in table.columns]
    rows = pa.Table.from_arrays(columns, schema=table.arrow_schema)
    check_rows(rows, table, where)
    return rows


def read_parquet(path: Path, table: Table) -> pa.Table:
    """A Parquet file for ``table``: columns may be any type that converts to the canonical one without loss."""
    where = Locator(str(path))
    data = read_parquet_columns(path, lambda names: check_header(names, table, where))
    return conform(data, table, where)


def read_parquet_columns(path: Path, choose: Callable[[list[str]], list[str] | None]) -> pa.Table:
    """The columns ``choose`` picks from the file's column names (all when it returns None), at least one row."""
    require_file(path)
    where = Locator(str(path))
    try:
        parquet = pq.ParquetFile(path)
        wanted = choose(parquet.schema_arrow.names)
        data = parquet.read(columns=wanted)
    except (pa.ArrowException, OSError) as exc:
        raise where.error(f"not a readable Parquet file (truncated or corrupt?): {exc}") from None
    if data.num_rows == 0:
        raise where.error("file has no rows")
    return data


def conform(data: pa.Table, table: Table, where: Locator) -> pa.Table:
    """Columns named as ``table``'s, of any types, converted to the canonical types and checked row by row."""
    check_header(data.column_names, table, where)
    columns = [cast_typed(data[c.name], c, where) for c in table.columns]
    rows = pa.Table.from_arrays(columns, schema=table.arrow_schema)
    check_rows(rows, table, where)
    return rows
