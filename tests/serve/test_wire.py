"""Each response in one send: a real uvicorn server with ``OneSendProtocol`` on a loopback socket, read by a raw
socket client; streamed, empty and HEAD responses still arrive whole and in time."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from cryptoscope.serve.wire import HeldHead, OneSendProtocol
from serve.fixtures import uvicorn_thread

SENDS: list[list[bytes]] = []  # what reached the socket, one entry per send call


class Recorder:
    """The real transport, with every send it makes recorded (observed, not replaced)."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        SENDS.append([bytes(data)])
        self._transport.write(data)

    def writelines(self, data: Any) -> None:
        parts = [bytes(d) for d in data]
        SENDS.append(parts)
        self._transport.writelines(parts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class Recorded(OneSendProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(Recorder(transport))  # type: ignore[arg-type]


async def answer(request: Request) -> Response:
    return JSONResponse({"decision": "approve", "n": int(request.query_params.get("n", "0"))})


async def stream(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        yield b"first;"
        await asyncio.sleep(0.5)
        yield b"second"

    return StreamingResponse(parts(), media_type="text/plain")


async def nothing(request: Request) -> Response:
    return Response(status_code=204)


APP = Starlette(routes=[Route("/answer", answer, methods=["GET", "HEAD"]), Route("/stream", stream),
                        Route("/nothing", nothing)])


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with uvicorn_thread(APP, Recorded) as free:
        yield free


def _exchange(port: int, raw: bytes, until: bytes, timeout: float = 5.0) -> tuple[bytes, float]:
    """Send ``raw``; read until ``until`` is seen; the bytes and the seconds the head took to arrive."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        start = time.perf_counter()
        sock.sendall(raw)
        got, head_at = b"", None
        while until not in got:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
            if head_at is None and b"\r\n\r\n" in got:
                head_at = time.perf_counter() - start
    return got, head_at if head_at is not None else float("inf")


def test_each_answer_on_a_kept_alive_connection_leaves_in_one_send(port: int) -> None:
    SENDS.clear()
    requests = b"".join(b"GET /answer?n=%d HTTP/1.1\r\nhost: x\r\n\r\n" % i for i in range(3))
    got, _ = _exchange(port, requests, b'"n":2}')
    assert got.count(b"HTTP/1.1 200 OK") == 3 and b'"n":0' in got and b'"n":1' in got
    assert len(SENDS) == 3  # head and body together, once per response
    assert all(len(parts) == 2 and parts[0].startswith(b"HTTP/1.1 200") for parts in SENDS)


def test_a_streamed_body_gets_its_head_at_once_and_every_part_in_order(port: int) -> None:
    got, head_at = _exchange(port, b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n", b"second")
    assert head_at < 0.4  # not held until the second part, half a second later
    assert got.index(b"first;") < got.index(b"second")


def test_empty_and_head_responses_are_sent_whole(port: int) -> None:
    got, _ = _exchange(port, b"GET /nothing HTTP/1.1\r\nhost: x\r\n\r\n", b"\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 204")
    got, head_at = _exchange(port, b"HEAD /answer HTTP/1.1\r\nhost: x\r\n\r\n", b"\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 200") and head_at < 1.0 and got.endswith(b"\r\n\r\n")


def test_closing_sends_a_held_head_first() -> None:
    class Sink:
        def __init__(self) -> None:
            self.sent: list[bytes] = []
            self.closed = False

        def write(self, data: bytes) -> None:
            self.sent.append(data)

        def is_closing(self) -> bool:
            return self.closed

        def close(self) -> None:
            self.closed = True

    loop = asyncio.new_event_loop()
    try:
        sink = Sink()
        held = HeldHead(sink, loop)  # type: ignore[arg-type]
        held.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        assert sink.sent == []
        held.close()
        assert sink.sent == [b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"] and sink.closed
    finally:
        loop.close()
