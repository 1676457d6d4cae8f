"""The one error raised for unreadable chain data: it names the file and where in it the problem is."""

from __future__ import annotations

from cryptoscope.errors import CryptoscopeError, located_message


class ChainDataError(CryptoscopeError):
    """Chain data that cannot be read: a truncated block, a wrong magic, a bad varint, bad hex or JSON.

    ``offset`` is the byte offset in the (decompressed) file for binary data, ``line`` the 1-based line
    for text (hex blocks, CSV, JSON lines), so a user can open the file at the spot and see what is wrong.
    ``field`` names what was being read (e.g. ``output value``, ``magic``).
    """

    def __init__(self, message: str, *, file: str | None = None, offset: int | None = None,
                 line: int | None = None, field: str | None = None) -> None:
        self.file, self.offset, self.line, self.field, self.reason = file, offset, line, field, message
        where = []
        if file is not None:
            where.append(f"file {file}")
        if line is not None:
            where.append(f"line {line}")
        if offset is not None:
            where.append(f"byte offset {offset}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(located_message(message, where))

    def located(self, file: str, base_offset: int = 0, line: int | None = None) -> ChainDataError:
        """The same error placed in ``file``: offsets found inside one block become file offsets."""
        offset = None if self.offset is None else self.offset + base_offset
        return ChainDataError(self.reason, file=file, offset=offset, line=line if line is not None else self.line,
                              field=self.field)
