"""A JSON-RPC node over real HTTP that answers from recorded data, and misbehaves on request.

Why a real server and not a mock: what breaks against real nodes is the wire — a 401 challenge, a keep-alive
connection the node closed, an answer that comes late, a 503 when its work queue is full, a batch. The tests,
the benchmark and anyone trying the commands without a node of their own (``cryptoscope chain replay-node``)
talk to this server over a socket, as they would to Bitcoin Core or an Ethereum client.

It checks HTTP basic auth as Bitcoin Core does (401 with ``WWW-Authenticate: Basic realm="jsonrpc"`` and an
empty body), answers single requests and batches, and applies the `Fault`s queued on it: slow answers, dropped
connections, HTTP 503, RPC errors. The chain's methods come from a handler (`bitcoin.py`, `ethereum.py`).
"""

from __future__ import annotations

import base64
import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import orjson

Methods = Callable[[str, list[Any]], Any]


class RpcFault(Exception):
    """A JSON-RPC error answer (``code``, ``message``) from a handler."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Fault:
    """One misbehaviour, applied to the next ``times`` requests that call ``method`` (any, if None) with ``param``
    as first parameter (any, if None): ``slow`` answers after ``seconds``, ``drop`` closes the connection without
    an answer, ``http503`` answers 503 (Bitcoin Core's "work queue depth exceeded"), ``rpc_error`` answers the
    JSON-RPC error ``code`` (default -28, "still loading")."""

    kind: str
    method: str | None = None
    param: Any = None
    times: int = 1
    seconds: float = 0.0
    code: int = -28
    message: str = "Loading block index..."

    def matches(self, calls: list[tuple[str, list[Any]]]) -> bool:
        return self.times > 0 and any((self.method is None or m == self.method)
                                      and (self.param is None or (p[:1] or [None])[0] == self.param)
                                      for m, p in calls)


class ReplayServer:
    """``methods`` served at ``http://127.0.0.1:<port>/``; with ``user``, only to those who log in as it."""

    def __init__(self, methods: Methods, *, user: str | None = None, password: str | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.methods = methods
        self.faults: list[Fault] = []
        self.calls: list[str] = []  # every method asked, in order
        self.requests = 0  # HTTP requests that reached a method (a batch is one)
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode() if user is not None else None
        self._auth = f"Basic {token}" if token else None
        self._http = ThreadingHTTPServer((host, port), _handler(self))
        self._http.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    def url(self, user: str | None = None, password: str | None = None) -> str:
        login = f"{user}:{password}@" if user is not None else ""
        return f"http://{login}127.0.0.1:{self.port}/"

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="replay-node", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def take_fault(self, calls: list[tuple[str, list[Any]]]) -> Fault | None:
        with self._lock:
            self.calls += [m for m, _ in calls]
            self.requests += 1
            for fault in self.faults:
                if fault.matches(calls):
                    fault.times -= 1
                    return fault
        return None

    def authorized(self, header: str | None) -> bool:
        return self._auth is None or header == self._auth

    def answer(self, request: Any) -> bytes:
        """The JSON answer to a request or a batch."""
        if isinstance(request, list):
            return orjson.dumps([self._one(r) for r in request])
        return orjson.dumps(self._one(request))

    def _one(self, request: Any) -> dict[str, Any]:
        rid = request.get("id") if isinstance(request, dict) else None
        method = request.get("method") if isinstance(request, dict) else None
        params = request.get("params", []) if isinstance(request, dict) else []
        if not isinstance(method, str) or not isinstance(params, list):
            return {"result": None, "error": {"code": -32600, "message": "Invalid Request object"}, "id": rid}
        try:
            return {"result": self.methods(method, params), "error": None, "id": rid}
        except RpcFault as fault:
            return {"result": None, "error": {"code": fault.code, "message": fault.message}, "id": rid}

    def track(self, step: int) -> None:
        with self._lock:
            self.in_flight += step
            self.max_in_flight = max(self.max_in_flight, self.in_flight)


def _handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Bitcoin Core
        # headers and body leave as they are written: else the body waits for the client's delayed ACK of the
        # headers (40 ms on Linux), a stall Bitcoin Core's single write never has
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not server.authorized(self.headers.get("Authorization")):
                self._send(401, b"", {"WWW-Authenticate": 'Basic realm="jsonrpc"'})
                return
            try:
                request = orjson.loads(body)
            except orjson.JSONDecodeError:
                self._send(500, orjson.dumps({"result": None, "error": {"code": -32700, "message": "Parse error"},
                                              "id": None}))
                return
            items = request if isinstance(request, list) else [request]
            calls = [(str(r.get("method")), list(r.get("params") or [])) for r in items if isinstance(r, dict)]
            server.track(+1)
            try:
                self._serve(server.take_fault(calls), request)
            finally:
                server.track(-1)

        def _serve(self, fault: Fault | None, request: Any) -> None:
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.seconds)
            if fault is not None and fault.kind == "drop":
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if fault is not None and fault.kind == "http503":
                self._send(503, b"Work queue depth exceeded", {"Content-Type": "text/plain"})
                return
            if fault is not None and fault.kind == "rpc_error":
                items = request if isinstance(request, list) else [request]
                answers = [{"result": None, "error": {"code": fault.code, "message": fault.message},
                            "id": r.get("id") if isinstance(r, dict) else None} for r in items]
                self._send(200, orjson.dumps(answers if isinstance(request, list) else answers[0]))
                return
            self._send(200, server.answer(request))

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
