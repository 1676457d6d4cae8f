"""The scoring fast lane: ``POST /v1/score/{kind}`` answered without FastAPI's per-request machinery.

Why: once scoring itself costs ~0.3 ms, FastAPI's route (dependency resolution, the body read through
the request object, response-model plumbing, half a dozen middleware layers) is another ~0.1-0.15 ms
per request on the one core the server has: a third of the budget at 1,000 requests/s.

The lane is ASGI middleware in front of the whole app (``app.App``, outside Starlette's own middleware
stack); under ``cryptoscope serve`` its steps (``wanted``, ``take``, ``finish``) are called straight from the
HTTP parser instead (``wire.LaneProtocol``). It answers only the ordinary case, with the same code
the route uses (``routes_score.begin`` and ``answer``) and the same checks:

* a JSON body with a Content-Length within the body limit;
* an API key this process has already verified (``AuthStore.known_key``: the same revocation check,
  no scrypt) whose role may score;
* an ``Idempotency-Key``, when sent, that fits the route's pattern and length;
* an event that validates (the event model on the JSON body: pydantic parses and validates the bytes in
  one pass, the same checks FastAPI's ``json.loads`` then validation make).

Anything else (no or unknown credentials, a cookie, a bad body, a streamed body, an unknown path)
goes to FastAPI unchanged, with the body replayed, so every error keeps the route's exact status and
text. After validation the lane applies the caller's rate limit (429 as the route's guard answers it)
and maps the route's errors (503, 422, 409, a domain error's 400) to the same JSON the app's handlers
give. The route stays in the OpenAPI document: it is the contract; the lane is an implementation.
A success is sent as two raw ASGI messages with an orjson body (the same JSON as the route's
``JSONResponse``, without its per-response object and ``json.dumps``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import HTTPException
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cryptoscope.errors import CryptoscopeError
from cryptoscope.products import online
from cryptoscope.serve.events import EVENTS
from cryptoscope.serve.routes_score import Scoring, answer, begin
from cryptoscope.serve.security import RateLimits
from cryptoscope.serve.service import Service

PATHS = {f"/v1/score/{kind}": kind for kind in online()}
SCORERS = ("service", "admin")  # the roles routes_score.Scorer admits
_IDEM = re.compile(r"^[A-Za-z0-9_.:\-]+$")  # routes_score.IdemKey
_WANTED = {b"content-length", b"content-type", b"authorization", b"x-api-key", b"idempotency-key"}


def error_response(svc: Service, exc: HTTPException) -> JSONResponse:
    """An HTTPException as the app's handler renders it (and counted as a rejection)."""
    svc.metrics.rejected.labels(str(exc.status_code)).inc()
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def domain_response(svc: Service, exc: CryptoscopeError) -> JSONResponse:
    """A domain error (bad input found past validation) as the app's handler renders it: 400."""
    svc.metrics.rejected.labels("400").inc()
    return JSONResponse({"detail": str(exc)}, status_code=400)


@dataclass(frozen=True)
class Reply:
    """A whole HTTP answer: status, headers (lower-case names), body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def json_reply(content: dict[str, Any]) -> Reply:
    """A 200 with ``content`` as JSON: the headers and body ``JSONResponse`` sends, without its per-response object."""
    body = orjson.dumps(content)
    return Reply(200, [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")], body)


def _rendered(response: JSONResponse) -> Reply:
    return Reply(response.status_code, list(response.raw_headers), bytes(response.body))


class ScoreLane:
    """The fast lane for scoring requests; see the module doc. ``__call__`` is the ASGI middleware; ``wanted``,
    ``take`` and ``finish`` are its steps, which ``wire.LaneProtocol`` calls straight from the HTTP parser."""

    def __init__(self, app: ASGIApp, max_bytes: int, service: Service, limits: RateLimits) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.service = service
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = PATHS.get(scope.get("path", "")) if scope["type"] == "http" and scope["method"] == "POST" else None
        headers = self.wanted(scope["headers"]) if kind is not None else None
        if kind is None or headers is None:
            await self.app(scope, receive, send)
            return
        body, more = await _read(receive, self.max_bytes)
        got = self.take(kind, headers, body) if not more else None
        if got is None:
            await self.app(scope, _replay(body, more, receive), send)
            return
        if not isinstance(got, Reply):
            await asyncio.wait([got.future])
            got = self.finish(got)
        await send({"type": "http.response.start", "status": got.status, "headers": got.headers})
        await send({"type": "http.response.body", "body": got.body})

    def wanted(self, headers: Iterable[tuple[bytes, bytes]]) -> dict[bytes, bytes] | None:
        """The headers the lane reads (lower-case names, as ASGI and uvicorn give them), or None when the request is
        not lane material: no Content-Length (a streamed body), one over the body limit, or not JSON."""
        found = {k: v for k, v in headers if k in _WANTED}
        length = found.get(b"content-length", b"")
        media = found.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        if not length.isdigit() or int(length) > self.max_bytes or media != b"application/json":
            return None
        return found

    def take(self, kind: str, headers: dict[bytes, bytes], body: bytes) -> Reply | Scoring | None:
        """The request taken by the lane: its answer now (a replay, or an error the route would give), or its scoring
        in flight (``finish`` it once its future is done); None, with nothing done, when FastAPI should answer."""
        svc = self.service
        auth = headers.get(b"authorization", b"").decode("latin-1")
        key = auth[7:].strip() if auth[:7].lower() == "bearer " else headers.get(b"x-api-key", b"").decode("latin-1")
        who = svc.auth.known_key(key) if key else None
        if who is None or who.role not in SCORERS:
            return None
        idem_raw = headers.get(b"idempotency-key")
        idem = None if idem_raw is None else idem_raw.decode("latin-1")
        if idem is not None and (len(idem) > 128 or not _IDEM.fullmatch(idem) or idem in svc.batcher.inflight):
            return None  # a key whose first request is still being scored: the route waits for that one
        try:
            event = EVENTS[kind].model_validate_json(body)
        except (ValueError, ValidationError):  # invalid JSON is a ValidationError too
            return None
        svc.metrics.fast_lane.inc()
        try:
            if not self.limits.allow(who):
                raise HTTPException(429, "rate limit exceeded: slow down", headers={"Retry-After": "1"})
            got = begin(svc, kind, event, who, idem)
        except HTTPException as exc:
            return _rendered(error_response(svc, exc))
        except CryptoscopeError as exc:
            return _rendered(domain_response(svc, exc))
        return json_reply(got) if isinstance(got, dict) else got

    def finish(self, scoring: Scoring) -> Reply:
        """The reply to a request ``take`` left scoring, once its future is done (an unexpected error is raised)."""
        try:
            return json_reply(answer(self.service, scoring))
        except HTTPException as exc:
            return _rendered(error_response(self.service, exc))
        except CryptoscopeError as exc:
            return _rendered(domain_response(self.service, exc))


async def _read(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body, and whether reading stopped early (over ``limit``, or the client went away)."""
    chunks: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True
        chunk = message.get("body", b"")
        chunks.append(chunk)
        seen += len(chunk)
        if seen > limit:
            return b"".join(chunks), True
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    """A receive that gives the app the body already read, then the rest of the stream."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": more}]

    async def again() -> Message:
        return pending.pop() if pending else await receive()

    return again
