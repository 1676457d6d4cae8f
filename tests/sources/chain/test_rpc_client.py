"""The JSON-RPC client against a real local server: logging in, retrying what may pass, failing clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cryptoscope.sources.chain.errors import NodeError
from cryptoscope.sources.chain.replay import Fault, ReplayServer, RpcFault
from cryptoscope.sources.chain.rpc import connect, endpoint


def echo(method: str, params: list[Any]) -> Any:
    """A node whose only call returns its parameters, and whose -8 is Bitcoin Core's "out of range"."""
    if method == "echo":
        return params
    if method == "range":
        raise RpcFault(-8, "Block height out of range")
    raise RpcFault(-32601, "Method not found")


@pytest.fixture
def server() -> Any:
    with ReplayServer(echo, user="u", password="p:w@d") as s:
        yield s


def test_credentials_from_the_url_or_a_cookie_file_and_never_shown(server: ReplayServer, tmp_path: Path) -> None:
    node = endpoint(f"http://u:p%3Aw%40d@127.0.0.1:{server.port}/")
    assert node.authorization is not None and "p%3Aw%40d" not in node.shown and node.shown.count("***") == 1
    assert connect(f"http://u:p%3Aw%40d@127.0.0.1:{server.port}/").call("echo", [1]) == [1]
    cookie = tmp_path / ".cookie"
    cookie.write_text("u:p:w@d\n")  # Bitcoin Core's form: user:password on one line
    assert connect(f"http://127.0.0.1:{server.port}", cookie).batch([("echo", [1]), ("echo", [2])]) == [[1], [2]]
    with pytest.raises(NodeError, match="both in the URL and in a cookie file"):
        endpoint(f"http://u:x@127.0.0.1:{server.port}", cookie)
    with pytest.raises(NodeError, match="not a node URL"):
        endpoint("127.0.0.1:8332")


def test_a_401_challenge_says_what_to_do(server: ReplayServer) -> None:
    with pytest.raises(NodeError, match=r"asks for credentials \(HTTP 401 \(Basic realm=\"jsonrpc\"\)\)") as caught:
        connect(f"http://127.0.0.1:{server.port}/", retries=0).call("echo")
    assert caught.value.code == 401
    with pytest.raises(NodeError, match="refused the credentials") as caught:
        connect(f"http://u:wrong@127.0.0.1:{server.port}/", retries=3).call("echo")
    assert "wrong" not in str(caught.value) and server.calls == []  # not retried, never reached a method


def test_slow_dropped_503_and_rpc_errors_are_retried(server: ReplayServer) -> None:
    client = connect(f"http://u:p%3Aw%40d@127.0.0.1:{server.port}/", timeout=0.3, backoff=0.01)
    for fault in (Fault("slow", seconds=1.0), Fault("drop"), Fault("http503"), Fault("rpc_error")):
        server.add_fault(fault)
    assert client.call("echo", ["x"]) == ["x"]
    assert client.retried == 4


def test_what_cannot_pass_fails_at_once_and_names_the_node_and_height(server: ReplayServer) -> None:
    client = connect(f"http://u:p%3Aw%40d@127.0.0.1:{server.port}/", backoff=0.01)
    with pytest.raises(NodeError, match=r"height 900,000: RPC error -8: Block height out of range") as caught:
        client.call("range", [900_000], height=900_000)
    assert client.retried == 0 and f"127.0.0.1:{server.port}" in str(caught.value) and "p:w@d" not in str(caught.value)
    server.add_fault(Fault("http503", times=10))
    with pytest.raises(NodeError, match="no good answer after 3 attempts; the last: HTTP 503"):
        connect(f"http://u:p%3Aw%40d@127.0.0.1:{server.port}/", retries=2, backoff=0.01).call("echo")
    with pytest.raises(NodeError, match="connection failed"):
        connect("http://127.0.0.1:9/", retries=1, backoff=0.01).call("echo")  # nothing listens on port 9
