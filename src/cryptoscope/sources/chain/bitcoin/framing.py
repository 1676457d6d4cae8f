"""Files of blocks → one byte buffer and the span of each block in it.

Accepted, detected from the bytes (not the name): a single raw block (``getblock <hash> 0`` written as
binary), Bitcoin Core's ``blk*.dat`` framing (network magic, little-endian length, block; repeated, with
the zero padding Core preallocates at the end), hex text of either (one block per line, as ``getblock``
prints it), or saved JSON-RPC ``getblock`` answers of any verbosity (`getblock.py`); each optionally bzip2-,
gzip- or xz-compressed.
Core 28+ obfuscates blk files with the key in ``xor.dat`` beside them; that key is applied when present.

Offsets in errors are byte offsets of the decompressed, de-hexed data; for hex files the line is given too.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cryptoscope.sources.chain.bitcoin.getblock import Summary, read_answers
from cryptoscope.sources.chain.errors import ChainDataError

MAINNET_MAGIC = bytes.fromhex("f9beb4d9")
OTHER_MAGIC = {bytes.fromhex("0b110907"): "testnet3", bytes.fromhex("1c163f28"): "testnet4",
               bytes.fromhex("0a03cf40"): "signet", bytes.fromhex("fabfb5da"): "regtest"}
_HEXDIGITS = frozenset(b"0123456789abcdefABCDEF")


@dataclass(frozen=True)
class BlockFile:
    """The blocks of one file: ``data[start:end]`` for each span.

    For text files ``lines`` holds the line of each span (hex, JSON lines); for JSON documents ``paths`` holds
    where in the document each block was (``[2].result``) and ``heights`` the height the answer states (or
    None); ``summaries`` are verbosity-1 answers, which carry a header and txids but no transactions.
    """

    path: Path
    data: bytes
    spans: list[tuple[int, int]]
    lines: list[int | None] | None
    label: str
    heights: list[int | None] | None = None
    paths: list[str] | None = None
    summaries: tuple[Summary, ...] = ()

    def locate(self, err: ChainDataError) -> ChainDataError:
        """Place an error found in ``data`` in this file: the line (or JSON path) of its block, else the offset."""
        i = span_of(self.spans, err.offset)
        if (self.lines is None and self.paths is None) or err.offset is None or i is None:
            return err.located(self.label)
        line = self.lines[i] if self.lines is not None else None
        path = self.paths[i] if self.paths is not None else None
        where = f"{path}: {err.field}" if path and err.field else (path or err.field)
        return ChainDataError(err.reason, file=self.label, offset=err.offset - self.spans[i][0], line=line, field=where)


def span_of(spans: list[tuple[int, int]], offset: int | None) -> int | None:
    """The span an error offset falls in: the one it starts (a header), else the one it ends (a truncation)."""
    if offset is None:
        return None
    inside = next((i for i, (start, end) in enumerate(spans) if start <= offset < end), None)
    return inside if inside is not None else next((i for i, (_, end) in enumerate(spans) if offset == end), None)


def read_block_file(path: str | os.PathLike[str]) -> BlockFile:
    """Read, decompress, de-hex and frame one file of blocks."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ChainDataError(f"cannot read: {exc.strerror or exc}", file=str(path)) from exc
    raw, label = _decompress(raw, path)
    raw = _deobfuscate(raw, path)
    if raw.lstrip()[:1] in (b"{", b"[", b'"'):
        return _answers_file(path, raw, label)
    if _looks_hex(raw):
        return _hex_file(path, raw, label)
    return BlockFile(path, raw, frame(raw, label), None, label)


def _decompress(raw: bytes, path: Path) -> tuple[bytes, str]:
    for magic, opener, name in ((b"BZh", bz2.decompress, "bzip2"), (b"\x1f\x8b", gzip.decompress, "gzip"),
                                (b"\xfd7zXZ\x00", lzma.decompress, "xz")):
        if raw.startswith(magic):
            try:
                return opener(raw), f"{path} ({name}-decompressed)"
            except (OSError, EOFError, ValueError, lzma.LZMAError) as exc:
                raise ChainDataError(f"corrupt {name} data: {exc}", file=str(path)) from exc
    return raw, str(path)


def _deobfuscate(raw: bytes, path: Path) -> bytes:
    key_file = path.parent / "xor.dat"
    if raw[:4] == MAINNET_MAGIC or not key_file.is_file():
        return raw
    key = key_file.read_bytes()
    if len(key) != 8 or not any(key):
        return raw
    buf = np.frombuffer(raw, dtype=np.uint8)
    return (buf ^ np.resize(np.frombuffer(key, dtype=np.uint8), len(buf))).tobytes()


def _looks_hex(raw: bytes) -> bool:
    """Hex text starts with eight hex digits; a binary block starts with its version (bytes 0x00..0x3f in practice)."""
    head = raw.lstrip()[:8]
    return len(head) == 8 and all(c in _HEXDIGITS for c in head)


def frame(raw: bytes, label: str) -> list[tuple[int, int]]:
    """Spans of the blocks in binary data: blk*.dat records when it starts with a magic, else one block."""
    if raw[:4] in OTHER_MAGIC:
        raise ChainDataError(f"{OTHER_MAGIC[raw[:4]]} blocks: only Bitcoin mainnet is supported", file=label,
                             offset=0, field="magic")
    if raw[:4] != MAINNET_MAGIC:
        return [(0, len(raw))]
    spans, pos = [], 0
    while pos < len(raw):
        magic = raw[pos:pos + 4]
        if magic == b"\x00\x00\x00\x00" and not raw[pos:].strip(b"\x00"):
            break  # Core preallocates blk files with zeros
        if magic != MAINNET_MAGIC:
            raise ChainDataError(f"wrong magic {magic.hex()} (expected {MAINNET_MAGIC.hex()})", file=label,
                                 offset=pos, field="magic")
        if pos + 8 > len(raw):
            raise ChainDataError("truncated: the data ends inside a record's length", file=label, offset=pos + 4,
                                 field="block length")
        size = int.from_bytes(raw[pos + 4:pos + 8], "little")
        if size > len(raw) - pos - 8:
            raise ChainDataError(f"truncated: the record says {size} bytes, {len(raw) - pos - 8} are left",
                                 file=label, offset=pos + 4, field="block length")
        spans.append((pos + 8, pos + 8 + size))
        pos += 8 + size
    return spans


def _answers_file(path: Path, raw: bytes, label: str) -> BlockFile:
    """Saved ``getblock`` answers (`getblock.py`): one span per full block, verbosity-1 answers as summaries."""
    answers = read_answers(raw, label)
    spans: list[tuple[int, int]] = []
    size = 0
    for block in answers.blocks:
        spans.append((size, size + len(block)))
        size += len(block)
    lines = answers.lines if any(line is not None for line in answers.lines) else None
    return BlockFile(path, b"".join(answers.blocks), spans, lines, label, heights=answers.heights,
                     paths=answers.paths, summaries=tuple(answers.summaries))


def _hex_file(path: Path, raw: bytes, label: str) -> BlockFile:
    """One block per non-empty line (a line may also hold blk*.dat framing, as hex)."""
    parts: list[bytes] = []
    spans: list[tuple[int, int]] = []
    lines: list[int | None] = []
    size = 0
    for number, line in enumerate(raw.splitlines(), start=1):
        text = line.strip()
        if not text:
            continue
        try:
            block = bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            column = next((i for i, c in enumerate(text) if c not in _HEXDIGITS), len(text))
            raise ChainDataError(f"invalid hex at column {column + 1}" if column < len(text)
                                 else "odd number of hex digits", file=label, line=number, field="hex") from None
        for start, end in frame(block, f"{label} line {number}"):
            spans.append((size + start, size + end))
            lines.append(number)
        parts.append(block)
        size += len(block)
    if not spans:
        raise ChainDataError("no blocks in the file", file=label)
    return BlockFile(path, b"".join(parts), spans, lines, label)
