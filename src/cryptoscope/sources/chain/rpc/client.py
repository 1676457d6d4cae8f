"""A JSON-RPC client over HTTP/1.1 keep-alive that threads can share, and that retries what may pass.

Nodes fail in passing all the time: Bitcoin Core answers HTTP 503 when its work queue is full and RPC error -28
while it loads its block index, providers drop connections and rate-limit, a busy node answers late. So every
request is retried with exponential backoff (and jitter) on timeouts, dropped or refused connections, HTTP 429
and 5xx, and RPC errors that may pass; it fails at once, with one clear line, on what cannot pass: refused
credentials (401), a forbidden client (403), an unknown method or bad parameters.

The standard library's ``http.client`` is enough here (no new dependency): each thread keeps one persistent
connection, so ``workers`` threads keep that many requests in flight.
"""

from __future__ import annotations

import http.client
import itertools
import random
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson

from cryptoscope.sources.chain.errors import NodeError
from cryptoscope.sources.chain.rpc import hexbody
from cryptoscope.sources.chain.rpc.endpoint import Endpoint

T = TypeVar("T")
#: HTTP statuses worth another try: rate limited, or the server (or a proxy before it) failing for now
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
#: JSON-RPC errors that no retry can change: parse error, invalid request, unknown method, invalid params, and
#: Bitcoin Core's invalid parameter (-8: height out of range) and not found (-5)
PERMANENT_CODES = frozenset({-32700, -32600, -32601, -32602, -8, -5})
Call = tuple[str, Sequence[Any]]


class _Transient(Exception):
    """One attempt failed in a way another attempt may not."""


class RpcClient:
    """Calls to one node: `call` for one request, `batch` for a JSON-RPC batch (one HTTP request, many calls).

    ``timeout`` bounds each socket wait (connect, send, each read), ``retries`` is how many times a failed
    request is sent again, after ``backoff`` seconds doubling each time (30 s at most).
    """

    def __init__(self, node: Endpoint, *, timeout: float = 60.0, retries: int = 5, backoff: float = 0.5) -> None:
        self.node, self.timeout, self.retries, self.backoff = node, timeout, retries, backoff
        self.retried = 0  # requests sent again, for the summary
        self.received = 0  # bytes of answers, for the rate shown
        self._local = threading.local()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def call(self, method: str, params: Sequence[Any] = (), *, height: int | None = None,
             raw_hex: bool = False) -> Any:
        """The result of one call (None where the node answers null, as Ethereum does for unknown blocks);
        ``raw_hex``: a long hex result comes back as its bytes (`hexbody`)."""
        rid = next(self._ids)
        payload = orjson.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": list(params)})
        return self._retrying(
            lambda: self._result(self._post(payload, method, height, raw_hex), method, params, height),
            method, height)

    def batch(self, calls: Sequence[Call], *, height: int | None = None,
              heights: Sequence[int] | None = None, raw_hex: bool = False) -> list[Any]:
        """The results of ``calls``, in their order, asked in one JSON-RPC batch (``heights``: each call's, for
        messages; else ``height`` for all; ``raw_hex`` as for `call`)."""
        if not calls:
            return []
        first = next(self._ids)
        ids = range(first, first + len(calls))
        for _ in range(len(calls) - 1):
            next(self._ids)
        payload = orjson.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)}
                                for i, (m, p) in zip(ids, calls, strict=True)])
        what = f"{calls[0][0]} (batch of {len(calls)})"

        def attempt() -> list[Any]:
            doc = self._post(payload, what, height, raw_hex)
            if not isinstance(doc, list):
                raise self._error(f"expected a batch of {len(calls)} answers, got {str(doc)[:120]!r}", what, height)
            by_id = {r.get("id"): r for r in doc if isinstance(r, dict)}
            missing = [i for i in ids if i not in by_id]
            if missing:
                raise _Transient(f"the batch answer lacks {len(missing)} of {len(calls)} results")
            each: Sequence[int | None] = heights if heights is not None else [height] * len(calls)
            return [self._result(by_id[i], m, p, h) for i, (m, p), h in zip(ids, calls, each, strict=True)]

        return self._retrying(attempt, what, height)

    def close(self) -> None:
        """Close this thread's connection (the others close when their threads end)."""
        self._drop()

    # -- one attempt ---------------------------------------------------------------------------------
    def _post(self, payload: bytes, what: str, height: int | None, raw_hex: bool = False) -> Any:
        """Send one request and return its parsed JSON body; `_Transient` for what a retry may mend."""
        try:
            status, challenge, body = self._send(payload)
        except TimeoutError:
            self._drop()
            raise _Transient(f"no answer within {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, dropped, cut short
            self._drop()
            raise _Transient(f"connection failed: {_describe(exc)}") from None
        if status == 401:
            raise self._unauthorized(challenge, what, height)
        if status == 403:
            raise self._error("the node refused this client (HTTP 403): is its address allowed (Bitcoin Core: "
                              "rpcallowip)?", what, height, status)
        try:
            return hexbody.loads(body) if raw_hex else orjson.loads(body)
        except orjson.JSONDecodeError:
            if status in RETRY_STATUS:
                raise _Transient(f"HTTP {status}") from None
            text = body[:120].decode("utf-8", "replace")
            raise self._error(f"HTTP {status}, not a JSON-RPC answer: {text!r}", what, height, status) from None

    def _result(self, response: Any, method: str, params: Sequence[Any], height: int | None) -> Any:
        if not isinstance(response, dict) or not {"result", "error"} & set(response):
            raise self._error(f"not a JSON-RPC answer: {str(response)[:120]!r}", method, height)
        error = response.get("error")
        if not error:
            return response.get("result")
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        if code in PERMANENT_CODES:
            shown = ", ".join(str(p)[:70] for p in params)
            raise self._error(f"RPC error {code}: {message} (asked {method}({shown}))", method, height, code)
        raise _Transient(f"RPC error {code}: {message}")

    def _send(self, payload: bytes) -> tuple[int, str | None, bytes]:
        conn = self._connection()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.node.authorization:
            headers["Authorization"] = self.node.authorization
        conn.request("POST", self.node.path, body=payload, headers=headers)
        response = conn.getresponse()
        body = response.read()
        with self._lock:
            self.received += len(body)
        if response.will_close:
            self._drop()
        return response.status, response.getheader("WWW-Authenticate"), body

    # -- retries and connections -------------------------------------------------------------------
    def _retrying(self, attempt: Callable[[], T], what: str, height: int | None) -> T:
        reason = ""
        for n in range(self.retries + 1):
            if n:
                with self._lock:
                    self.retried += 1
                time.sleep(min(self.backoff * 2 ** (n - 1), 30.0) * random.uniform(0.5, 1.0))
            try:
                return attempt()
            except _Transient as exc:
                reason = str(exc)
        raise self._error(f"no good answer after {self.retries + 1} attempts; the last: {reason}", what, height)

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            kind = http.client.HTTPSConnection if self.node.scheme == "https" else http.client.HTTPConnection
            conn = kind(self.node.host, self.node.port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _unauthorized(self, challenge: str | None, what: str, height: int | None) -> NodeError:
        asked = f" ({challenge})" if challenge else ""
        if self.node.authorization is None:
            return self._error(f"the node asks for credentials (HTTP 401{asked}): put them in the URL "
                               "(http://user:password@host:port) or give its cookie file", what, height, 401)
        return self._error(f"the node refused the credentials (HTTP 401{asked}): check the user and password in "
                           "the URL, or the cookie file", what, height, 401)

    def _error(self, message: str, call: str, height: int | None, code: int | None = None) -> NodeError:
        return NodeError(message, url=self.node.shown, call=call, height=height, code=code)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the node closed the connection without an answer"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
