"""Long hex results decoded from the answer's bytes: the same answers as plain JSON parsing, or plain parsing."""

from __future__ import annotations

import os
from typing import Any

import orjson
import pytest

from cryptoscope.sources.chain.bitcoin.node import BitcoinNode
from cryptoscope.sources.chain.errors import NodeError
from cryptoscope.sources.chain.replay import ReplayServer
from cryptoscope.sources.chain.rpc import connect, hexbody

BLOCK = os.urandom(3000)
HEX = BLOCK.hex()


def plain(doc: Any) -> Any:
    """What plain parsing gives once a hex result is read as bytes."""
    answers = doc if isinstance(doc, list) else [doc]
    for a in answers:
        if isinstance(a.get("result"), str) and len(a["result"]) >= hexbody.MIN_HEX:
            a["result"] = bytes.fromhex(a["result"])
    return doc


@pytest.mark.parametrize("doc", [
    {"result": HEX, "error": None, "id": 1},
    [{"result": HEX, "error": None, "id": 1}, {"result": HEX.upper(), "error": None, "id": 2},
     {"result": "00ff", "error": None, "id": 3}, {"result": None, "error": {"code": -5, "message": "x"}, "id": 4}],
    {"id": 7, "error": None, "result": HEX},
])
def test_the_same_answers_as_plain_parsing(doc: Any) -> None:
    body = orjson.dumps(doc)
    assert hexbody.loads(body) == plain(orjson.loads(body))
    first = hexbody.loads(body)
    assert isinstance((first if isinstance(first, dict) else first[0])["result"], bytes)


@pytest.mark.parametrize("body", [
    b'{"result":"' + HEX.encode() + b'","error":{"message":"a \\"quote\\""},"id":1}',  # an escape: no shortcut
    b'{"result":{"result":"' + HEX.encode() + b'"},"error":null,"id":1}',  # not at the top of the answer
    b'{"result":"' + HEX.encode() + b'0","error":null,"id":1}',  # odd length: hex no more
    b'{"result":"' + HEX.encode()[:-2] + b'zz","error":null,"id":1}',  # not hex
])
def test_anything_unusual_reads_as_plain_json_would(body: bytes) -> None:
    assert hexbody.loads(body) == orjson.loads(body)


def test_a_body_that_is_no_json_fails_as_plain_parsing_does() -> None:
    with pytest.raises(orjson.JSONDecodeError):
        hexbody.loads(b'{"result":"' + HEX.encode() + b'", nonsense}')


def test_the_client_hands_raw_blocks_as_bytes_and_rejects_bad_hex() -> None:
    answers = {"good": HEX, "bad": HEX[:-2] + "zz"}

    def node(method: str, params: list[Any]) -> Any:
        return answers[params[0]]

    with ReplayServer(node) as server:
        client = connect(server.url(), retries=0)
        assert client.call("getblock", ["good", 0], raw_hex=True) == BLOCK
        assert client.batch([("getblock", ["good", 0])] * 2, raw_hex=True) == [BLOCK, BLOCK]
        assert client.call("getblock", ["good", 0]) == HEX  # without raw_hex, as before
        with pytest.raises(NodeError, match="invalid hex"):
            BitcoinNode(client).raw_block("bad", 5)
