"""One exception hierarchy: the CLI turns any of these into exit code 2 and one clear line."""

from __future__ import annotations


class CryptoscopeError(Exception):
    """Base class of every error a user can act on."""


def located_message(message: str, where: list[str]) -> str:
    """``message`` after the places that are known (``file x, row 3, column 'y': message``)."""
    return f"{', '.join(where)}: {message}" if where else message


class UnknownTableError(CryptoscopeError):
    """A table name that the canonical schema does not define."""


class LakeError(CryptoscopeError):
    """The lake folder or its catalog is missing or inconsistent."""


class ValidationError(CryptoscopeError):
    """Input that does not match the canonical schema.

    Carries where the problem is so that a user can open the file and fix it: ``row`` is the
    1-based data row, ``line`` the 1-based line of a text file where that row (or header) starts.
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.line = line
        self.reason = message
        where = []
        if file is not None:
            where.append(f"file {file}")
        if row is not None and line is not None:
            where.append(f"row {row} (line {line})")
        elif row is not None:
            where.append(f"row {row}")
        elif line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(located_message(message, where))
