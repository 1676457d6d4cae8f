"""The service API: scoring, event feeds, recommendations, chain exposure, metrics, admin."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from cryptoscope.productline import Decision
from cryptoscope.products import online
from cryptoscope.serve.auth import Principal
from cryptoscope.serve.batcher import Answered
from cryptoscope.serve.events import EVENTS, Event, LoginEvent, ScoreResponse
from cryptoscope.serve.security import require
from cryptoscope.serve.service import Service, request_hash, scored_json

router = APIRouter()
Scorer = Annotated[Principal, Depends(require("service", "admin"))]
Reader = Annotated[Principal, Depends(require("service", "analyst", "admin"))]
Admin = Annotated[Principal, Depends(require("admin"))]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$",
                                       description="Retry-safe key: a repeat returns the first answer.")]
FUTURE = dt.timedelta(days=1)
TOO_LATE = dt.timedelta(days=7)


def service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def _check_time(svc: Service, event: Event) -> None:
    now = dt.datetime.now(dt.UTC)
    if event.event_time > now + FUTURE:
        raise HTTPException(422, f"event_time {event.event_time.isoformat()} is in the future")
    clock = svc.scorer.clock
    if clock is not None and event.event_time < clock - TOO_LATE:
        raise HTTPException(422, f"event_time {event.event_time.isoformat()} is over 7 days older than the newest "
                                 f"event seen ({clock.isoformat()}): too late to score")


async def _score(request: Request, kind: str, event: Event, who: Principal, key: str | None) -> Response:
    return JSONResponse(await score_event(service(request), kind, event, who, key))


@dataclass(frozen=True)
class Scoring:
    """A scoring request handed to the batcher: its answer is ``answer(svc, scoring)`` once ``future`` is done."""

    kind: str
    idem: tuple[str, str, str] | None
    start: float
    future: asyncio.Future[Decision]


def begin(svc: Service, kind: str, event: Event, who: Principal, key: str | None) -> dict[str, Any] | Scoring:
    """The synchronous half of scoring: the checks (503, 422, 409 as HTTPException), then a replayed answer, or the
    request queued for the next batch. Not for a key whose first request is still being scored
    (``svc.batcher.inflight``): ``score_event`` waits for that one first."""
    start = time.perf_counter()
    if kind in svc.scorer.missing:
        raise HTTPException(503, f"no model serves {kind}: {svc.scorer.missing[kind]}")
    _check_time(svc, event)
    idem = None
    if key is not None:
        idem = (key, who.name, request_hash(event.model_dump(mode="json")))
        earlier = _earlier(svc, kind, idem)
        if earlier is not None:
            return earlier
    return Scoring(kind, idem, start, svc.batcher.enqueue(kind, event.to_row(), idem))


def answer(svc: Service, scoring: Scoring) -> dict[str, Any]:
    """The answer to a request ``begin`` queued, once its future is done (its batch's error, if any, is raised)."""
    try:
        scored = scoring.future.result()
    except Answered:  # another server process answered this key meanwhile (Service.decide)
        assert scoring.idem is not None
        again = _earlier(svc, scoring.kind, scoring.idem)
        assert again is not None
        return again
    elapsed = time.perf_counter() - scoring.start
    svc.metrics.latency_of(scoring.kind, elapsed)
    return scored_json(scored) | {"latency_ms": round(elapsed * 1000, 3), "replayed": False}


async def score_event(svc: Service, kind: str, event: Event, who: Principal, key: str | None) -> dict[str, Any]:
    """Score one validated event for an authorised caller: the answer, or an HTTPException (503, 422, 409).

    The route's way; the scoring fast lane (``lane.py``) calls ``begin`` and ``answer`` itself, so both answer
    alike."""
    if key is not None:
        first = svc.batcher.inflight.get(key)
        if first is not None:  # the first request with this key is still being scored: its answer is the answer
            await asyncio.wait([first])
    got = begin(svc, kind, event, who, key)
    if isinstance(got, dict):
        return got
    await asyncio.wait([got.future])
    return answer(svc, got)


def _earlier(svc: Service, kind: str, idem: tuple[str, str, str]) -> dict[str, Any] | None:
    """The answer already given under this idempotency key (a replay), None when there is none; 409 when the
    key came with a different request or caller."""
    earlier = svc.journal.remembered(idem[0])
    if earlier is None:
        return None
    principal, was_kind, was_hash, response = earlier
    if (principal, was_kind, was_hash) != (idem[1], kind, idem[2]):
        raise HTTPException(409, "this Idempotency-Key was already used for a different request")
    out: dict[str, Any] = json.loads(response) | {"replayed": True, "latency_ms": 0.0}
    return out


RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid credentials."}, 403: {"description": "Role not allowed."},
    409: {"description": "Idempotency-Key reused for a different request."}, 413: {"description": "Body too large."},
    422: {"description": "Invalid event (the detail names the field)."}, 429: {"description": "Rate limited."},
    503: {"description": "No promoted model for this product."}}


def _scoring_route(kind: str, body: type[Event], doc: str) -> None:
    """``POST /v1/score/<kind>``, its request body validated by ``body``."""

    async def route(request: Request, event: Event, who: Scorer, key: IdemKey = None) -> Response:
        return await _score(request, kind, event, who, key)

    route.__annotations__ = route.__annotations__ | {"event": body}  # the body model FastAPI validates
    route.__doc__ = doc
    router.post(f"/v1/score/{kind}", response_model=ScoreResponse, responses=RESPONSES, tags=["scoring"],
                name=f"score_{kind}")(route)


for _kind, _line in online().items():  # one route per online product of the registry
    if _kind not in EVENTS:
        raise RuntimeError(f"the online product {_kind!r} has no request body in serve/events.py EVENTS")
    _scoring_route(_kind, EVENTS[_kind], _line.purpose)


@router.post("/v1/score/{kind}", include_in_schema=False)
async def score_unknown(kind: str, who: Scorer) -> Response:
    raise HTTPException(404, f"unknown risk product {kind[:40]!r}; known: {', '.join(online())}")


@router.post("/v1/events/login", tags=["scoring"], responses=RESPONSES)
async def feed_login(request: Request, event: LoginEvent, who: Scorer) -> dict[str, Any]:
    """Feed a login attempt to the online features (device, IP, novelty); nothing is scored."""
    svc = service(request)
    _check_time(svc, event)
    await svc.batcher.drain()  # the journal takes events in the order the state does
    seq = svc.feed("sessions", [event.to_row()])
    svc.metrics.events.labels("sessions").inc()
    return {"accepted": True, "seq": seq}


@router.get("/v1/recommendations/{user_id}", tags=["lookups"], responses=RESPONSES)
async def recommendations(request: Request, user_id: int, who: Reader, k: int = 10) -> dict[str, Any]:
    """Top-``k`` product recommendations for a user, with a reason each (needs a trained recommender)."""
    from cryptoscope.serve.lookups import recommend

    if not 1 <= k <= 50:
        raise HTTPException(422, "k must be between 1 and 50")
    return recommend(service(request), user_id, k)


@router.get("/v1/chain/exposure/{address}", tags=["lookups"], responses=RESPONSES)
async def chain_exposure(request: Request, address: str, who: Reader, chain: str | None = None,
                         direction: str = "both") -> dict[str, Any]:
    """Exposure of an address to illicit sources (haircut and poison), with the evidence paths."""
    from cryptoscope.serve.lookups import exposure

    out = exposure(service(request), address, chain, direction)
    out.pop("_objects")  # the console draws these; the API returns the numbers and paths
    return out


@router.get("/metrics", tags=["monitoring"], responses=RESPONSES)
async def metrics(request: Request, who: Annotated[Principal, Depends(require("service", "admin"))]) -> Response:
    """Prometheus metrics (text exposition format)."""
    from cryptoscope.serve.drift import refresh

    svc = service(request)
    refresh(svc)
    return Response(svc.metrics.render(), media_type="text/plain; version=0.0.4")


@router.post("/v1/admin/snapshot", tags=["admin"], responses=RESPONSES)
async def snapshot(request: Request, who: Admin) -> dict[str, Any]:
    """Save the online state now (it is also saved at shutdown)."""
    svc = service(request)
    await svc.batcher.drain()
    return {"journal_seq": svc.snapshot()}


@router.get("/healthz", tags=["monitoring"])
async def healthz(request: Request) -> dict[str, Any]:
    """Liveness for load balancers: no data, no credentials needed."""
    svc = service(request)
    return {"ok": True, "models": sorted(svc.scorer.models), "worker": os.getpid(), "journal_seq": svc.applied,
            "batches": svc.decided}
