"""Each response in one send: a real uvicorn server with ``OneSendProtocol`` on a loopback socket, read by a raw
socket client; streamed, empty and HEAD responses still arrive whole and in time. Then ``LaneProtocol`` over the
served app: scoring requests answered by the lane straight from the parser, everything else as FastAPI answers it,
pipelined requests in order."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from cryptoscope.serve.app import create_app
from cryptoscope.serve.service import Service
from cryptoscope.serve.wire import HeldHead, LaneProtocol, OneSendProtocol
from serve.fixtures import lane_count, uvicorn_thread, withdrawal

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


def _exchange(port: int, raw: bytes, until: bytes | None, timeout: float = 5.0) -> tuple[bytes, float]:
    """Send ``raw``; read until ``until`` is seen (None: until the server closes the connection, which must then
    happen well before uvicorn's 5 s keep-alive would close it); the bytes and the seconds the head took."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        start = time.perf_counter()
        sock.sendall(raw)
        got, head_at = b"", None
        while until is None or until not in got:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
            if head_at is None and b"\r\n\r\n" in got:
                head_at = time.perf_counter() - start
        took = time.perf_counter() - start
    # a closed connection is no proof of an answer: the keep-alive timer closes an idle one after 5 s
    assert (until is None and took < 2.0) or (until is not None and until in got), (took, got[-200:])
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


# -- LaneProtocol: scoring requests answered from the parser's callbacks, everything else by FastAPI ------------

class RecordedLane(LaneProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(Recorder(transport))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def served(live: tuple[Service, dict[str, str]]) -> Iterator[tuple[int, Service, str]]:
    service, keys = live
    with uvicorn_thread(create_app(service.config, service), RecordedLane) as free:
        yield free, service, keys["service"]


def _score(service: Service, key: str, *, user: int = 1, extra_headers: bytes = b"", target: bytes = b"",
           **fields: Any) -> bytes:
    """A raw HTTP/1.1 scoring request for a fresh withdrawal (``fields`` replace its own)."""
    body = json.dumps(withdrawal(service, user, amount_usd=700.0) | fields)
    return (b"POST " + (target or b"/v1/score/withdrawal") + b" HTTP/1.1\r\nhost: x\r\n"
            b"content-type: application/json\r\nauthorization: Bearer " + key.encode() + b"\r\n" + extra_headers
            + b"content-length: %d\r\n\r\n" % len(body) + body.encode())


def _responses(got: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(status, JSON body) of each response in ``got`` (bodies framed by their content-length)."""
    out = []
    while got:
        head, _, rest = got.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        out.append((int(head.split(b" ")[1]), json.loads(rest[:length])))
        got = rest[length:]
    return out


def test_a_scoring_request_is_answered_by_the_lane_from_the_parser_in_one_send(
        served: tuple[int, Service, str]) -> None:
    port, service, key = served
    first, _ = _exchange(port, _score(service, key), b"replayed")  # the key is verified once, by FastAPI's route
    assert first.startswith(b"HTTP/1.1 200")
    SENDS.clear()
    before, seq = lane_count(service), service.journal.last_seq()
    got, _ = _exchange(port, _score(service, key), b"replayed")
    [(status, answer)] = _responses(got)
    assert status == 200 and answer["model"] == "risk_withdrawal" and answer["replayed"] is False
    assert set(answer) == set(_responses(first)[0][1])
    assert lane_count(service) == before + 1 and service.journal.last_seq() == seq + 1
    assert len(SENDS) == 1 and len(SENDS[0]) == 1  # head and body in one write
    assert b"server: uvicorn" in got and b"date: " in got  # uvicorn's default headers, as on every response


def test_what_the_lane_protocol_does_not_take_gets_the_apps_answer(served: tuple[int, Service, str]) -> None:
    port, service, key = served
    before = lane_count(service)
    cases = {"no key": _score(service, "cs_unknown.secret"), "bad field": _score(service, key, amount_usd="lots"),
             "query string": _score(service, key, target=b"/v1/score/withdrawal?x=1"),
             "bad idempotency key": _score(service, key, extra_headers=b"idempotency-key: a b\r\n")}
    got = {name: _responses(_exchange(port, raw, b"}")[0])[0] for name, raw in cases.items()}
    assert got["no key"][0] == 401
    assert got["bad field"][0] == 422 and got["bad field"][1]["errors"][0]["field"].endswith("amount_usd")
    assert got["query string"][0] == 200 and got["bad idempotency key"][0] == 422
    assert lane_count(service) == before + 1  # the route's, but the query string's: uvicorn's ASGI path to the lane


def test_pipelined_requests_are_answered_in_order(served: tuple[int, Service, str]) -> None:
    port, service, key = served
    raw = (_score(service, key, amount_usd=101.0) + b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"
           + _score(service, key, amount_usd=102.0) + _score(service, "cs_unknown.secret"))
    got, _ = _exchange(port, raw, b"log in to the console")  # the end of the 401's text
    answers = _responses(got)
    assert [status for status, _ in answers] == [200, 200, 200, 401]
    assert "decision" in answers[0][1] and "decision" not in answers[1][1] and "decision" in answers[2][1]


def test_replays_refusals_and_connection_close_in_the_lane(served: tuple[int, Service, str]) -> None:
    port, service, key = served
    raw = _score(service, key, extra_headers=b"idempotency-key: wire-k1\r\n")
    first = _responses(_exchange(port, raw, b"replayed")[0])[0][1]
    again = _responses(_exchange(port, raw, b"replayed")[0])[0][1]
    assert again["replayed"] is True and again["score"] == first["score"]
    late = _score(service, key, event_time="2020-01-01T00:00:00Z")
    status, answer = _responses(_exchange(port, late, b"}")[0])[0]
    assert status == 422 and "too late to score" in answer["detail"]
    closing = _score(service, key, extra_headers=b"connection: close\r\n")
    got, _ = _exchange(port, closing, None)  # reads until the server closes the connection
    assert got.startswith(b"HTTP/1.1 200") and b"connection: close" in got
