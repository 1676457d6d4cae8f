"""Request guards: who is calling (API key or console session), may they, how often, and how big a body.

``require(*roles)`` is a FastAPI dependency: 401 without valid credentials, 403 for a role not
listed, 403 for a cookie-authenticated form post without its CSRF token, 429 over the rate limit
(``limits``' moving-window limiter, per caller). ``BodyLimit`` is ASGI middleware that refuses a body
over the limit with 413 before it is read into memory, whether or not Content-Length is sent.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from cryptoscope.serve.auth import SESSION_COOKIE, AuthStore, Principal

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class RateLimits:
    """Per-caller limits: one for services, one for people, one for login attempts per client address."""

    def __init__(self, service: str, user: str, login: str) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.service, self.user, self.login = parse(service), parse(user), parse(login)

    def allow(self, who: Principal) -> bool:
        item = self.service if who.role == "service" else self.user
        return bool(self.limiter.hit(item, who.role, who.name))

    def allow_login(self, client: str) -> bool:
        return bool(self.limiter.hit(self.login, "login", client))


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
