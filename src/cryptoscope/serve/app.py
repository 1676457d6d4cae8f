"""The FastAPI application: API under ``/v1``, console under ``/console``, OpenAPI docs at ``/docs``.

>>> app = create_app(ServeConfig(lake=Path("demo-lake"), registry=Path("models-registry")))  # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=8000)                                           # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from cryptoscope.errors import CryptoscopeError
from cryptoscope.serve.lane import ScoreLane, domain_response, error_response
from cryptoscope.serve.security import BodyLimit, RateLimits
from cryptoscope.serve.service import ServeConfig, Service

log = logging.getLogger("cryptoscope.serve")

DESCRIPTION = """Real-time risk decisions, the analyst console and monitoring for an exchange.

**Auth.** Services send `Authorization: Bearer cs_<id>.<secret>` (API keys, stored as scrypt hashes;
create one with `cryptoscope serve-admin create-key`). People log in at `/console/login` (signed session cookie).
Roles: `service` (scoring, feeds, look-ups), `analyst` (cases, audit, monitoring; personal data masked
unless granted), `admin` (everything). A request without credentials gets 401.

**Scoring.** `POST /v1/score/{withdrawal|payment|kyc|credit}` with the event: the online features are
read (events strictly before it), the promoted model scores, decides and explains, and the event is
added to the state. Send `Idempotency-Key` to make retries safe.
"""


class App(FastAPI):
    """FastAPI with the scoring fast lane (`lane.ScoreLane`) in front of all of it: an ordinary scoring request
    skips Starlette's and FastAPI's middleware layers (error pages, telemetry, body limit: ~7 % of a served
    request's CPU in a profile of the server under load); every other request goes through them as before."""

    lane: ScoreLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.lane is None:
            await super().__call__(scope, receive, send)
        else:
            await self.lane(scope, receive, send)

    async def behind_lane(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app as it would answer without the lane (what the lane hands every other request to)."""
        await super().__call__(scope, receive, send)


def create_app(config: ServeConfig, service: Service | None = None, *, close: bool = False) -> App:
    """The app over ``service`` (built from ``config`` when not given: warms or restores the online state).

    The service is closed (snapshotted) at shutdown when the app built it or ``close`` says so."""
    svc = service or Service(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await svc.batcher.drain()  # every batch taken is journalled before the snapshot
        if service is None or close:  # a snapshot of the online state
            svc.close()

    app = App(title="cryptoscope", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.service = svc
    app.state.limits = RateLimits(config.service_rate, config.user_rate, config.login_rate)
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    app.lane = ScoreLane(app.behind_lane, config.max_body_bytes, svc, app.state.limits)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        svc.metrics.rejected.labels("422").inc()
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", ""),
                   "type": e.get("type", "")} for e in exc.errors()][:20]
        return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 401 and request.url.path.startswith("/console") and request.method == "GET":
            svc.metrics.rejected.labels("401").inc()
            return RedirectResponse(f"/console/login?next={request.url.path}", status_code=303)
        return error_response(svc, exc)

    @app.exception_handler(CryptoscopeError)
    async def domain_error(request: Request, exc: CryptoscopeError) -> Response:
        return domain_response(svc, exc)

    from cryptoscope.serve.routes_cases import router as cases_router
    from cryptoscope.serve.routes_score import router as score_router

    app.include_router(score_router)
    app.include_router(cases_router)
    _console(app)
    return app


def _console(app: FastAPI) -> None:
    from cryptoscope.console.pages import router as console_router

    app.include_router(console_router)

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/console/", status_code=303)


def run(config: ServeConfig, host: str, port: int, service: Service | None = None, **kwargs: Any) -> None:
    """Serve with uvicorn (uvloop, httptools: each response in one send, ``wire.py``), one process: the online
    state is in memory.

    The service (built here when not given) is snapshotted when the server stops."""
    import sys

    import uvicorn

    from cryptoscope.serve.wire import LaneProtocol

    # The optional TreeSHAP worker (batcher.py) hands each batch back to the event loop; by default a thread
    # waits up to 5 ms for the GIL while the loop is busy, which would sit in every such batch's latency.
    if config.explain_thread:
        sys.setswitchinterval(0.0005)
    app = create_app(config, service or Service(config), close=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, http=LaneProtocol, **kwargs)
