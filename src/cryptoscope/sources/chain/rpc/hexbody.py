"""JSON-RPC answers whose results are long hex strings (raw blocks), decoded to bytes straight from the body.

Why: a ``getblock`` verbosity-0 answer is a block in hex, twice its size; parsed as JSON it becomes a Python
string (a copy, and orjson's slowest kind of value), which ``bytes.fromhex`` then reads again. Here each long
``"result":"<hex>"`` of the body is cut out, the rest (a few dozen bytes per answer) is parsed as JSON with a
placeholder in its place, and the hex goes to ``binascii.unhexlify`` from the body's own buffer: a third of the
time for a 2 MB block. Anything unusual falls back to plain JSON parsing, so the answers are the same either way:
a body with an escape in it (a placeholder could then be mistaken for text), a result found anywhere but at the
top of an answer, hex of odd length or with other characters (left a string, for the caller to reject).
"""

from __future__ import annotations

import binascii
from typing import Any

import orjson

KEY = b'"result":"'  # as Bitcoin Core writes it (UniValue: no spaces)
MIN_HEX = 1024  # shorter results are cheap to parse as they are
_MARK = "\x00"  # a placeholder's first character: raw control characters cannot appear in a JSON string


def loads(body: bytes) -> Any:
    """``orjson.loads(body)``, but each top-level ``result`` that is long hex comes back as its bytes."""
    spans = _hex_spans(body)
    if not spans:
        return orjson.loads(body)
    pieces, at = [], 0
    for k, (start, end) in enumerate(spans):
        pieces += [body[at:start], b"\\u0000%d" % k]
        at = end
    pieces.append(body[at:])
    doc = orjson.loads(b"".join(pieces))
    answers = doc if isinstance(doc, list) else [doc]
    view, used = memoryview(body), 0
    for answer in answers:
        result = answer.get("result") if isinstance(answer, dict) else None
        if isinstance(result, str) and result.startswith(_MARK):
            start, end = spans[int(result[1:])]
            answer["result"] = _unhex(view[start:end])
            used += 1
    return doc if used == len(spans) else orjson.loads(body)  # a placeholder went elsewhere: no shortcut


def _hex_spans(body: bytes) -> list[tuple[int, int]]:
    """(start, end) of each long result string's contents, or none when the shortcut would not be exact."""
    if b"\\" in body:
        return []
    spans, at = [], 0
    while (found := body.find(KEY, at)) >= 0:
        start = found + len(KEY)
        end = body.find(b'"', start)
        if end < 0:
            return []
        if end - start >= MIN_HEX:
            spans.append((start, end))
        at = end + 1
    return spans


def _unhex(hex_text: memoryview) -> bytes | str:
    try:
        return binascii.unhexlify(hex_text)
    except binascii.Error:  # not hex after all: the caller sees the text, as without the shortcut
        return bytes(hex_text).decode("ascii", "replace")
