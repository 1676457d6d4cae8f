"""Which reader a file goes through: chosen by the user, or guessed from the file name.

Real exports come in a few shapes: our own CSV (what `lake export` writes, or any CSV with the
canonical columns), Parquet with castable types, and vendor layouts such as Forta's address
labels that need a mapping first. Every shape ends as the canonical Arrow table, validated.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import pyarrow as pa

from cryptoscope.errors import ValidationError
from cryptoscope.schema import Table
from cryptoscope.sources.importers.locate import Locator
from cryptoscope.sources.importers.mapping import Mapping
from cryptoscope.sources.importers.readers import (
    conform,
    csv_locator,
    read_csv,
    read_csv_text,
    read_parquet,
    read_parquet_columns,
    require_file,
)
from cryptoscope.sources.importers.validate import check_rows

_PARQUET_SUFFIXES = {".parquet", ".pq", ".parq"}
_PARQUET_MAGIC = b"PAR1"


class InputFormat(StrEnum):
    """How to read an input file."""

    AUTO = "auto"  # .parquet/.pq → Parquet, .csv → CSV, else by content
    CSV = "csv"
    PARQUET = "parquet"
    FORTA = "forta"  # Forta labelled-datasets CSV, for the address_labels table


def resolve_format(path: Path, fmt: InputFormat) -> InputFormat:
    """The concrete format of ``path``: the suffix decides, then the Parquet magic bytes."""
    if fmt is not InputFormat.AUTO:
        return fmt
    suffix = path.suffix.lower()
    if suffix in _PARQUET_SUFFIXES:
        return InputFormat.PARQUET
    if suffix == ".csv":
        return InputFormat.CSV
    with open(path, "rb") as fh:
        return InputFormat.PARQUET if fh.read(4) == _PARQUET_MAGIC else InputFormat.CSV


def read_input(path: Path, table: Table, fmt: InputFormat = InputFormat.AUTO, mapping: Mapping | None = None
               ) -> pa.Table:
    """Read and validate one file as rows of ``table``; raises `ValidationError` on the first problem.

    With a ``mapping`` the file's own columns are turned into the table's first (see
    `cryptoscope.sources.importers.mapping`); the same checks then apply.
    """
    require_file(path)
    fmt = resolve_format(path, fmt)
    if mapping is not None:
        return _read_mapped(path, table, fmt, mapping)
    if fmt is InputFormat.PARQUET:
        return read_parquet(path, table)
    if fmt is InputFormat.FORTA:
        if table.name != "address_labels":
            raise ValidationError(f"--format forta loads the address_labels table, not {table.name}",
                                  file=str(path))
        from cryptoscope.sources.importers.address_labels import forta_address_labels

        rows = forta_address_labels(path)
        check_rows(rows, table, Locator(str(path)))
        return rows
    return read_csv(path, table)


def _read_mapped(path: Path, table: Table, fmt: InputFormat, mapping: Mapping) -> pa.Table:
    if mapping.table != table.name:
        raise ValidationError(f"the mapping {mapping.path} is for table {mapping.table}, not {table.name}",
                              file=str(path))
    if fmt is InputFormat.FORTA:
        raise ValidationError("--format forta has its own mapping; give --mapping or --format forta, not both",
                              file=str(path))
    if fmt is InputFormat.PARQUET:
        where = Locator(str(path))
        wanted = mapping.sources()

        def choose(names: list[str]) -> list[str]:
            mapping.check_sources(names, where)
            return wanted or names[:1]  # a mapping of constants still needs the row count

        data = read_parquet_columns(path, choose)
    else:
        where = csv_locator(path)
        data = read_csv_text(path)
    return conform(mapping.apply(data, where), table, where)
