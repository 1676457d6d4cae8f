"""The analyst API: cases, decisions with notes, the append-only audit log, the user 360, monitoring."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from cryptoscope.serve.auth import Principal
from cryptoscope.serve.security import require
from cryptoscope.serve.service import Service

router = APIRouter(tags=["cases"])
Analyst = Annotated[Principal, Depends(require("analyst", "admin"))]


class Decision(BaseModel):
    """An analyst's decision on a case in review."""

    model_config = ConfigDict(extra="forbid")
    state: Literal["closed_fraud", "closed_legit", "open"]
    note: Annotated[str, Field(min_length=1, max_length=4000)]


def cases_of(request: Request) -> Any:
    """The case store beside the lake (503 when the case package or its database is missing)."""
    svc: Service = request.app.state.service
    cache: dict[str, Any] = svc.__dict__.setdefault("lookup_cache", {})
    if "cases" not in cache:
        try:
            from cryptoscope.cases.store import CaseStore, default_url
        except ImportError as exc:
            raise HTTPException(503, f"the case queue is not available in this build ({exc})") from None
        db = svc.config.abnormal_dir / "cases.db"
        if not db.exists():
            raise HTTPException(503, f"no case queue at {db}: run `cryptoscope anomaly run --lake "
                                     f"{svc.config.lake}` to detect and file cases")
        cache["cases"] = CaseStore(default_url(db.parent))
    return cache["cases"]


def _known(store: Any, case_id: int) -> Any:
    from cryptoscope.cases.errors import UnknownCaseError

    try:
        return store.get(case_id)
    except UnknownCaseError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/v1/cases")
async def list_cases(request: Request, who: Analyst, state: str | None = None, limit: int = 100) -> dict[str, Any]:
    """The queue, highest score first."""
    from cryptoscope.cases.errors import CaseError

    if not 1 <= limit <= 1000:
        raise HTTPException(422, "limit must be between 1 and 1000")
    try:
        rows = cases_of(request).list_cases(state, limit=limit)
    except CaseError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"cases": [_jsonable(dataclasses.asdict(c)) for c in rows]}


@router.get("/v1/cases/{case_id}")
async def get_case(request: Request, case_id: int, who: Analyst) -> dict[str, Any]:
    """One case: members, alerts, notes, audit trail."""
    detail = _known(cases_of(request), case_id)
    return _jsonable(dataclasses.asdict(detail))


@router.post("/v1/cases/{case_id}/assign")
async def assign(request: Request, case_id: int, who: Analyst) -> dict[str, Any]:
    """Take the case (it moves to review); written to the audit log."""
    from cryptoscope.cases.errors import CaseError

    store = cases_of(request)
    _known(store, case_id)
    try:
        store.assign(case_id, who.name, actor=who.name)
    except CaseError as exc:
        raise HTTPException(409, str(exc)) from None
    return {"case_id": case_id, "assignee": who.name}


@router.post("/v1/cases/{case_id}/decide")
async def decide(request: Request, case_id: int, decision: Decision, who: Analyst) -> dict[str, Any]:
    """Close (or reopen) a case with a note; the decision and note go to the append-only audit log."""
    return decide_case(request, case_id, decision.state, decision.note, who)


def decide_case(request: Request, case_id: int, state: str, note: str, who: Principal) -> dict[str, Any]:
    from cryptoscope.cases.errors import CaseError

    store = cases_of(request)
    detail = _known(store, case_id)
    try:
        if detail.summary.state == "open":
            store.assign(case_id, who.name, actor=who.name)
        store.transition(case_id, state, actor=who.name, note=note)
    except CaseError as exc:
        raise HTTPException(409, str(exc)) from None
    return {"case_id": case_id, "state": state}


@router.get("/v1/audit")
async def audit(request: Request, who: Analyst, case_id: int | None = None, limit: int = 200) -> dict[str, Any]:
    """Audit entries, newest first (the table rejects updates and deletes in the database itself)."""
    return {"entries": audit_entries(request, case_id, limit)}


def audit_entries(request: Request, case_id: int | None, limit: int) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from cryptoscope.cases.models import AuditEntry

    if not 1 <= limit <= 5000:
        raise HTTPException(422, "limit must be between 1 and 5000")
    store = cases_of(request)
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if case_id is not None:
        q = q.where(AuditEntry.case_id == case_id)
    with store.session() as s:
        return [{"id": a.id, "case_id": a.case_id, "at": a.at.isoformat(), "actor": a.actor, "action": a.action,
                 "from_state": a.from_state, "to_state": a.to_state, "detail": a.detail} for a in s.scalars(q)]


@router.get("/v1/users/{user_id}")
async def user(request: Request, user_id: int, who: Analyst) -> dict[str, Any]:
    """The user 360: account (personal data masked unless the caller may see it), timeline, scores."""
    from cryptoscope.serve.lookups import user_360

    return user_360(request.app.state.service, user_id, who.may_see_pii())


@router.get("/v1/monitoring/drift", tags=["monitoring"])
async def drift(request: Request, who: Analyst) -> dict[str, Any]:
    """PSI per served model and day (scores and features) against the reference, and the drift alerts."""
    from cryptoscope.serve.drift import refresh

    state = refresh(request.app.state.service, force=True)
    return {"models": {m: [dataclasses.asdict(d) for d in days] for m, days in state.days.items()},
            "alerts": [dict(zip(("model", "day", "what", "psi"), a, strict=True)) for a in state.alerts]}


@router.get("/v1/monitoring/performance/{kind}", tags=["monitoring"])
async def performance(request: Request, kind: str, who: Analyst) -> dict[str, Any]:
    """Served decisions per day against the labels known so far."""
    from cryptoscope.serve.drift import performance as perf

    frame = perf(request.app.state.service, kind)
    return {"kind": kind, "days": frame.to_dict(orient="records")}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
