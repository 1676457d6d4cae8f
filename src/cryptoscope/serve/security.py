"""Request guards: who is calling (API key or console session), may they, how often, and how big a body.

``require(*roles)`` is a FastAPI dependency: 401 without valid credentials, 403 for a role not
listed, 403 for a cookie-authenticated form post without its CSRF token, 429 over the rate limit
(a moving window per caller, ``MovingWindow``). ``BodyLimit`` is ASGI middleware that refuses a body
over the limit with 413 before it is read into memory, whether or not Content-Length is sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, Request
from limits import parse

from cryptoscope.serve.auth import SESSION_COOKIE, AuthStore, Principal

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class MovingWindow:
    """At most ``amount`` hits per caller in any ``seconds``-long window (a "moving window" limit).

    Why not ``limits``' in-memory storage: it starts a timer thread every 10 ms to expire entries and
    inserts each hit at the front of a list, about a tenth of a millisecond of server CPU per scoring
    request at 1,000 requests/s. Here each caller has a deque of its hit times (oldest first): expired ones
    are dropped from the left as hits arrive, so a hit costs O(1) and nothing runs in between. Callers
    with no hit in the window are forgotten when the table is swept (every ``sweep_every`` new callers)."""

    def __init__(self, amount: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.amount, self.seconds, self.clock = amount, seconds, clock
        self.hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # console pages run on a thread pool; scoring on the event loop
        self._new = 0

    def hit(self, caller: str) -> bool:
        """Count a hit of ``caller`` unless it already had ``amount`` in the window; whether it was allowed."""
        now = self.clock()
        start = now - self.seconds
        with self._lock:
            times = self.hits.get(caller)
            if times is None:
                self._new += 1
                if self._new >= 1024:
                    self._sweep(start)
                times = self.hits[caller] = deque()
            while times and times[0] < start:
                times.popleft()
            if len(times) >= self.amount:
                return False
            times.append(now)
            return True

    def _sweep(self, start: float) -> None:
        self._new = 0
        for caller in [c for c, t in self.hits.items() if not t or t[-1] < start]:
            del self.hits[caller]


class RateLimits:
    """Per-caller limits: one for services, one for people, one for login attempts per client address
    (strings as ``limits.parse`` reads them: ``"5000/second"``, ``"10/minute"``)."""

    def __init__(self, service: str, user: str, login: str) -> None:
        self.service, self.user, self.login = (_window(t) for t in (service, user, login))

    def allow(self, who: Principal) -> bool:
        return (self.service if who.role == "service" else self.user).hit(f"{who.role}/{who.name}")

    def allow_login(self, client: str) -> bool:
        return self.login.hit(client)


def _window(text: str) -> MovingWindow:
    item = parse(text)
    return MovingWindow(item.amount, float(item.get_expiry()))


def caller(request: Request) -> Principal | None:
    """The principal behind the request's API key or session cookie, if any is valid."""
    auth: AuthStore = request.app.state.service.auth
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header[:7].lower() == "bearer " else request.headers.get("x-api-key", "")
    if key:
        return auth.check_key(key)
    cookie = request.cookies.get(SESSION_COOKIE)
    return auth.from_cookie(cookie) if cookie else None


def require(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting only ``roles`` (see the module doc)."""

    async def guard(request: Request) -> Principal:
        who = caller(request)
        if who is None:
            raise HTTPException(401, "authentication required: send 'Authorization: Bearer <API key>' "
                                     "or log in to the console", headers={"WWW-Authenticate": "Bearer"})
        if who.role not in roles:
            raise HTTPException(403, f"role {who.role!r} may not do this (allowed: {', '.join(roles)})")
        if who.via == "session" and request.method in UNSAFE:
            sent = request.headers.get("x-csrf-token", "")
            if not sent and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                sent = str((await request.form()).get("csrf", ""))
            if not who.csrf or sent != who.csrf:
                raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
        if not request.app.state.limits.allow(who):
            raise HTTPException(429, "rate limit exceeded: slow down", headers={"Retry-After": "1"})
        request.state.who = who
        return who

    return guard


class BodyLimit:
    """ASGI middleware: 413 for a request body over ``max_bytes`` (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await _too_large(send, self.max_bytes)
                return
        seen, refused = 0, False

        async def counted() -> dict[str, Any]:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:  # answer now; the app sees a client that went away
                refused = True
                await _too_large(send, self.max_bytes)
                return {"type": "http.disconnect"}
            return message

        async def guarded(message: dict[str, Any]) -> None:
            if not refused:  # after our 413 the app's own answer is dropped
                await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not refused:
                raise


async def _too_large(send: Callable[[dict[str, Any]], Awaitable[None]], limit: int) -> None:
    body = json.dumps({"detail": f"request body over {limit:,} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
