"""Saved ``getblock`` answers → blocks, whatever the verbosity they were asked with.

People keep what a node answered: ``bitcoin-cli getblock <hash> 0 > block.json``, a script's JSON lines, a
batch. Bitcoin Core's answers come in three shapes, all accepted, as a whole JSON-RPC response, a bare result,
a batch (a JSON array) or JSON lines (one per line):

- verbosity 0: the block's hex;
- verbosity 2: the header's fields, ``height`` and each transaction decoded *with its hex*: the block is
  rebuilt byte for byte (header from its fields, then the transactions) and then parsed and verified like any
  raw block; the height is the answer's;
- verbosity 1: the header's fields, ``height`` and the txids only: no transaction rows can come of it, but
  the header is rebuilt, its hash checked against the answer's and (when verifying) its proof of work and the
  merkle root of the txids, so it gives a verified ``chain_blocks`` row.

Every answer is placed by its line (JSON lines) or JSON path (``[3].result``) in errors.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptoscope.sources.chain.bitcoin.block import (
    ParsedBlocks,
    check_pow,
    header_only,
    merkle_root,
    parse_header,
    sha256d,
)
from cryptoscope.sources.chain.errors import ChainDataError

_HEADER = struct.Struct("<i32s32sIII")


@dataclass(frozen=True)
class Summary:
    """A verbosity-1 answer: the rebuilt 80-byte header, the txids (as shown), the block's size and height."""

    header: bytes
    txids: list[str]
    size: int
    height: int | None
    line: int | None
    path: str


@dataclass
class Answers:
    """The blocks of one file of answers: full blocks (bytes) with their height, if stated, and place."""

    blocks: list[bytes] = field(default_factory=list)
    heights: list[int | None] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)


def read_answers(raw: bytes, label: str) -> Answers:
    """Every ``getblock`` answer in a JSON document, or in JSON lines."""
    out = Answers()
    for line, doc in _documents(raw, label):
        for path, result in _results(doc, label, line, "$" if line is None else ""):
            _add(out, result, label, line, path)
    if not out.blocks and not out.summaries:
        raise ChainDataError("no getblock answers in the file", file=label)
    return out


def _documents(raw: bytes, label: str) -> Iterator[tuple[int | None, Any]]:
    """One JSON document (line None), or one per line when the first line is a whole document by itself."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ChainDataError(f"not UTF-8 text: {exc.reason}", file=label, offset=exc.start) from None
    lines = text.splitlines()
    first = next((i for i, s in enumerate(lines) if s.strip()), 0)
    if sum(1 for s in lines if s.strip()) > 1 and _whole(lines[first]):
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield number, _loads(line, label, number)
        return
    yield None, _loads(text, label, None)


def _whole(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def _loads(text: str, label: str, line: int | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChainDataError(f"malformed JSON: {exc.msg} (column {exc.colno})", file=label,
                             line=line if line is not None else exc.lineno) from None


def _results(doc: Any, label: str, line: int | None, path: str) -> Iterator[tuple[str, Any]]:
    """(JSON path, result) of each answer in a document: responses, bare results, batches of either."""
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from _results(item, label, line, f"{path}[{i}]")
    elif isinstance(doc, dict) and {"result", "error"} & set(doc) and "tx" not in doc:
        if doc.get("error") or doc.get("result") is None:
            raise ChainDataError(f"JSON-RPC answer without a block: {doc.get('error') or 'result is null'}",
                                 file=label, line=line, field=f"{path}.result".lstrip("."))
        yield f"{path}.result".lstrip("."), doc["result"]
    else:
        yield path or "$", doc


def _add(out: Answers, result: Any, label: str, line: int | None, path: str) -> None:
    if isinstance(result, str):
        try:
            out.blocks.append(bytes.fromhex(result))
        except ValueError:
            raise ChainDataError("invalid hex in a getblock (verbosity 0) answer", file=label, line=line,
                                 field=path) from None
        out.heights.append(None)
        out.lines.append(line)
        out.paths.append(path)
        return
    if not isinstance(result, dict) or not isinstance(result.get("tx"), list):
        raise ChainDataError("not a getblock answer (verbosity 0, 1 or 2): expected hex or an object with 'tx'",
                             file=label, line=line, field=path)
    header = _header(result, label, line, path)
    height = _int(result, "height", label, line, path, required=False)
    txs = result["tx"]
    if all(isinstance(t, str) for t in txs):
        size = _int(result, "size", label, line, path, required=False)
        out.summaries.append(Summary(header, txs, size or 0, height, line, path))
        return
    out.blocks.append(header + compact_size(len(txs)) + b"".join(_tx_bytes(t, i, label, line, path)
                                                             for i, t in enumerate(txs)))
    out.heights.append(height)
    out.lines.append(line)
    out.paths.append(path)


def _header(result: dict[str, Any], label: str, line: int | None, path: str) -> bytes:
    """The 80 header bytes from the answer's fields, checked against its ``hash``."""
    def hash_bytes(name: str, required: bool = True) -> bytes:
        value = result.get(name)
        if value is None and not required:
            return b"\x00" * 32  # the genesis block has no previousblockhash
        try:
            raw = bytes.fromhex(value) if isinstance(value, str) else b""
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ChainDataError(f"not a 32-byte hex hash: {str(value)[:80]!r}", file=label, line=line,
                                 field=f"{path}.{name}")
        return raw[::-1]

    bits = result.get("bits")
    try:
        bits_value = int(bits, 16) if isinstance(bits, str) else -1
    except ValueError:
        bits_value = -1
    if not 0 <= bits_value < 2**32:
        raise ChainDataError(f"bits must be 8 hex digits, not {bits!r}", file=label, line=line, field=f"{path}.bits")
    version = _int(result, "version", label, line, path)
    if not -(2**31) <= version < 2**31:
        raise ChainDataError(f"version out of range: {version}", file=label, line=line, field=f"{path}.version")
    header = _HEADER.pack(version, hash_bytes("previousblockhash", required=False), hash_bytes("merkleroot"),
                          _u32(result, "time", label, line, path), bits_value, _u32(result, "nonce", label, line, path))
    stated = hash_bytes("hash")
    if hashlib.sha256(hashlib.sha256(header).digest()).digest() != stated:
        raise ChainDataError(f"the header fields do not hash to the answer's hash {stated[::-1].hex()}",
                             file=label, line=line, field=f"{path}.hash")
    return header


def _tx_bytes(tx: Any, i: int, label: str, line: int | None, path: str) -> bytes:
    value = tx.get("hex") if isinstance(tx, dict) else None
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        raw = None
    if not raw:
        raise ChainDataError("a decoded transaction without its hex: a verbosity-2 answer must keep 'hex' (Bitcoin "
                             "Core's does) to rebuild the block", file=label, line=line, field=f"{path}.tx[{i}].hex")
    return raw


def _int(result: dict[str, Any], name: str, label: str, line: int | None, path: str, *,
         required: bool = True) -> Any:
    value = result.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ChainDataError(f"expected an integer, not {str(value)[:40]!r}", file=label, line=line,
                             field=f"{path}.{name}")
    return value


def _u32(result: dict[str, Any], name: str, label: str, line: int | None, path: str) -> int:
    value = int(_int(result, name, label, line, path))
    if not 0 <= value < 2**32:
        raise ChainDataError(f"out of range for 32 bits: {value}", file=label, line=line, field=f"{path}.{name}")
    return value


def compact_size(n: int) -> bytes:
    """Bitcoin's CompactSize encoding of a count."""
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    return b"\xfe" + n.to_bytes(4, "little")


def summary_blocks(summaries: Sequence[Summary], label: str, verify: bool) -> ParsedBlocks:
    """Verbosity-1 answers as header-only blocks; with ``verify``, their proof of work and the merkle root of
    their txids are checked (the header's hash already was, when the answer was read)."""
    headers = [parse_header(s.header) for s in summaries]
    for s, header in zip(summaries, headers, strict=True):
        if not verify:
            continue
        try:
            check_pow(header, int.from_bytes(sha256d(s.header), "little"))
            leaves = [bytes.fromhex(t)[::-1] for t in s.txids]
        except ChainDataError as err:
            raise ChainDataError(err.reason, file=label, line=s.line, field=f"{s.path}.bits") from None
        except ValueError:
            raise ChainDataError("a txid that is not hex", file=label, line=s.line, field=f"{s.path}.tx") from None
        bad = not leaves or any(len(leaf) != 32 for leaf in leaves)
        if bad or merkle_root(leaves)[::-1].hex() != header.merkle_root:
            raise ChainDataError("the merkle root of the txids is not the header's", file=label, line=s.line,
                                 field=f"{s.path}.tx")
    return header_only(headers, [s.size for s in summaries], [len(s.txids) for s in summaries])
