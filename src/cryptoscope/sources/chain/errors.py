"""The errors raised for chain data: unreadable data (`ChainDataError`) and a node that fails us (`NodeError`).

Both name where the problem is — the file and the spot in it, or the node's URL (without its password), the
call and the height — so a user can act on one line.
"""

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


class NodeError(CryptoscopeError):
    """A node (Bitcoin Core, an Ethereum client or a provider) that refuses, fails or answers nonsense.

    ``url`` is shown without its password; ``call`` is the JSON-RPC method and ``height`` the block it was
    about, when there is one. ``code`` is the JSON-RPC error code or the HTTP status, when the node sent one.
    """

    def __init__(self, message: str, *, url: str, call: str | None = None, height: int | None = None,
                 code: int | None = None) -> None:
        self.url, self.call, self.height, self.code, self.reason = url, call, height, code, message
        where = [f"node {url}"]
        if call is not None:
            where.append(f"call {call}")
        if height is not None:
            where.append(f"height {height:,}")
        super().__init__(located_message(message, where))
