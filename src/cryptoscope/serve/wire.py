"""One send per HTTP response: uvicorn's httptools protocol with the response head held until its body follows.

Why: uvicorn writes a response's head when the app sends ``http.response.start`` and its body when the app
sends ``http.response.body``, two ``write`` calls on the socket, so every scoring answer left as two TCP
segments (strace of the server at 1,000 requests/s: two ``write`` calls per request). Each send on a socket
costs a system call and, on loopback, the whole delivery to the client in kernel time, on the core the
server scores on. Holding the head for the body makes it one ``writev``: the same bytes, one segment.

A head is held only until the next write on that connection or the loop's next turn (a streamed response
whose body comes later gets its head at once), and any other use of the transport (close, abort,
``writelines``, ``write_eof``) sends what is held first, so nothing is reordered or lost.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from cryptoscope.serve.lane import PATHS, Reply, ScoreLane
from cryptoscope.serve.routes_score import Scoring

_HEAD_START, _HEAD_END = b"HTTP/1.1 ", b"\r\n\r\n"
_PATHS = {path.encode(): kind for path, kind in PATHS.items()}  # the lane's request targets, as the parser gives them


class HeldHead:
    """A transport wrapper that holds a response head (``HTTP/1.1 ...\\r\\n\\r\\n``) until the next write."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is not None:  # the body (or whatever follows the head): both in one send
            self._held = None
            self._transport.writelines((held, data))
        elif isinstance(data, bytes) and data.startswith(_HEAD_START) and data.endswith(_HEAD_END):
            self._held = data
            self._loop.call_soon(self.flush)  # a body that does not follow this turn: the head goes alone
        else:
            self._transport.write(data)

    def flush(self) -> None:
        """Send the held head, if any."""
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def writelines(self, data: Any) -> None:
        self.flush()
        self._transport.writelines(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:  # everything else is the transport's own
        return getattr(self._transport, name)


class OneSendProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over ``HeldHead``: pass as ``uvicorn.run(..., http=OneSendProtocol)``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(HeldHead(transport, self.loop))  # type: ignore[arg-type]


class _FastCycle:
    """What uvicorn's protocol keeps of a request the lane answers (in ``self.cycle``): enough for its pipelining,
    keep-alive and shutdown code (``response_complete``, ``keep_alive``, ``disconnected``, ``message_event``)."""

    class _NoEvent:
        def set(self) -> None:
            """Nothing waits on a lane request's body."""

    message_event = _NoEvent()

    def __init__(self, kind: str, headers: dict[bytes, bytes], keep_alive: bool, previous: Any) -> None:
        self.kind = kind
        self.headers = headers
        self.keep_alive = keep_alive
        self.previous = previous  # the cycle before it (complete): restored when FastAPI takes the request after all
        self.body = bytearray()
        self.response_complete = False
        self.disconnected = False


class LaneProtocol(OneSendProtocol):
    """``OneSendProtocol`` that hands an ordinary scoring request to the app's fast lane (``lane.ScoreLane``) straight
    from the HTTP parser's callbacks: no ASGI scope, request-response cycle, task or send/receive coroutines, and
    the answer leaves in one ``write`` from the batch's callback.

    Why: at 1,000 requests/s on one core, uvicorn's per-request ASGI machinery and the lane's coroutines were a
    large share of what is not scoring (``docs/serve.md``). Everything else is uvicorn's own path, unchanged: a
    request the lane does not take (see ``ScoreLane.take``), one that sends ``Expect: 100-continue``, one with a
    query string, or one that arrives pipelined behind another still being answered. A request the lane turns
    down after reading its body is replayed into uvicorn's callbacks, so FastAPI answers it exactly as before.
    Without an app that has a lane (``app.App``), this is ``OneSendProtocol``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._lane = lane_of(self.app)
        self._fast: _FastCycle | None = None  # the lane request whose body is being read

    def on_headers_complete(self) -> None:
        lane, previous = self._lane, self.cycle
        kind = None if lane is None else _PATHS.get(self.url)
        if (kind is not None and lane is not None and not self.expect_100_continue
                and (previous is None or previous.response_complete) and self.parser.get_method() == b"POST"):
            headers = lane.wanted(self.headers)
            if headers is not None:
                keep = self.parser.get_http_version() == "1.1" and self.parser.should_keep_alive()
                self._fast = self.cycle = _FastCycle(kind, headers, keep, previous)  # type: ignore[assignment]
                return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._fast is None:
            super().on_body(body)
        else:
            self._fast.body += body

    def on_message_complete(self) -> None:
        fast, self._fast = self._fast, None
        if fast is None:
            super().on_message_complete()
            return
        assert self._lane is not None
        body = bytes(fast.body)
        got = self._lane.take(fast.kind, fast.headers, body)
        if got is None:  # FastAPI's: the callbacks uvicorn would have had, in order
            self.cycle = fast.previous
            super().on_headers_complete()
            if body:
                super().on_body(body)
            super().on_message_complete()
        elif isinstance(got, Reply):
            self._reply(fast, got)
        else:
            got.future.add_done_callback(lambda _: self._finished(fast, got))

    def _finished(self, fast: _FastCycle, scoring: Scoring) -> None:
        assert self._lane is not None
        try:
            reply = self._lane.finish(scoring)
        except Exception:  # what uvicorn does when an app fails before its response: log, 500, close
            self.logger.exception("Exception in the scoring fast lane")
            fast.keep_alive = False
            text = b"Internal Server Error"
            reply = Reply(500, [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(text)).encode())], text)
        self._reply(fast, reply)

    def _reply(self, fast: _FastCycle, reply: Reply) -> None:
        """The whole response in one write, then uvicorn's own end of a response (keep-alive timer, pipelining)."""
        fast.response_complete = True
        if self.transport.is_closing():  # the client went away: the decision is journalled, nobody to tell
            return
        head = [STATUS_LINE[reply.status]]
        for name, value in (*self.server_state.default_headers, *reply.headers):
            head += [name, b": ", value, b"\r\n"]
        if not fast.keep_alive:
            head.append(b"connection: close\r\n")
        head += [b"\r\n", reply.body]
        self.transport.write(b"".join(head))
        if not fast.keep_alive:
            self.transport.close()
        self.on_response_complete()


def lane_of(app: Any) -> ScoreLane | None:
    """The scoring lane of ``app`` (an ``app.App``), looking through the middleware uvicorn wraps it in."""
    for _ in range(4):
        lane = getattr(app, "lane", None)
        if lane is not None:
            return cast("ScoreLane", lane)
        app = getattr(app, "app", None)
    return None
