"""Console pages: login, case queue, case page (user 360, graph, scores, decide), users, models, look-ups.

Every page is rendered on the server with Jinja2 (autoescaping on: a note holding ``<script>`` is shown
as text). Pages need a logged-in analyst or admin; a visitor without a session is sent to the login
page. Form posts carry the session's CSRF token. Personal data is masked for analysts without the
right to see it (``serve/masking.py``), in the HTML as in the API.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cryptoscope.serve.auth import SESSION_COOKIE, SESSION_HOURS, Principal
from cryptoscope.serve.security import require

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
Analyst = Annotated[Principal, Depends(require("analyst", "admin"))]


def page(request: Request, name: str, who: Principal | None, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"who": who, **context}, status_code=status)


def unavailable(request: Request, who: Principal, title: str, exc: HTTPException) -> HTMLResponse:
    return page(request, "message.html", who, status=exc.status_code, title=title, message=str(exc.detail))


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/console/") -> HTMLResponse:
    return page(request, "login.html", None, next=_local(next), error="")


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, username: Annotated[str, Form(max_length=64)],
                password: Annotated[str, Form(max_length=256)], next: Annotated[str, Form(max_length=200)] = "/console/"
                ) -> Response:
    svc = request.app.state.service
    client = request.client.host if request.client else "unknown"
    if not request.app.state.limits.allow_login(f"{client}:{username}"):
        return page(request, "login.html", None, status=429, next=_local(next),
                    error="Too many attempts: wait a minute.")
    who = svc.auth.login(username, password)
    if who is None:
        return page(request, "login.html", None, status=401, next=_local(next), error="Wrong user name or password.")
    if who.role == "service":
        return page(request, "login.html", None, status=403, next=_local(next), error="Service accounts cannot log in.")
    out = RedirectResponse(_local(next), status_code=303)
    out.set_cookie(SESSION_COOKIE, svc.auth.session_cookie(who), max_age=SESSION_HOURS * 3600, httponly=True,
                   samesite="lax", secure=svc.config.secure_cookies)
    return out


@router.get("/logout")
async def logout() -> Response:
    out = RedirectResponse("/console/login", status_code=303)
    out.delete_cookie(SESSION_COOKIE)
    return out


@router.get("/", response_class=HTMLResponse)
async def queue(request: Request, who: Analyst, state: str | None = None) -> HTMLResponse:
    from cryptoscope.serve.drift import refresh
    from cryptoscope.serve.routes_cases import cases_of

    alerts = refresh(request.app.state.service).alerts[:5]
    try:
        store = cases_of(request)
    except HTTPException as exc:
        return page(request, "queue.html", who, rows=[], missing=str(exc.detail), alerts=alerts, state=state)
    # open and in review: the review order of the latest run (expected loss, every 5th case for what it
    # teaches); a closed state: by score
    rows = store.queue(limit=200) if not state else [(c, None) for c in store.list_cases(state, limit=200)]
    request.app.state.service.metrics.open_cases.set(len(store.list_cases("open")))
    return page(request, "queue.html", who, rows=rows, missing="", alerts=alerts, state=state)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: int, who: Analyst) -> HTMLResponse:
    from cryptoscope.serve.lookups import user_360
    from cryptoscope.serve.routes_cases import _known, audit_entries, cases_of

    try:
        detail = _known(cases_of(request), case_id)
    except HTTPException as exc:
        return unavailable(request, who, f"Case {case_id}", exc)
    svc = request.app.state.service
    members = [user_360(svc, user, who.may_see_pii(), limit=25) for user, _ in detail.members[:5]]
    return page(request, "case.html", who, case=detail, members=members, audit=audit_entries(request, case_id, 100))


@router.post("/cases/{case_id}/decide")
async def decide(request: Request, case_id: int, who: Analyst, state: Annotated[str, Form()],
                 note: Annotated[str, Form(max_length=4000)]) -> Response:
    from cryptoscope.serve.routes_cases import decide_case

    if state not in ("closed_fraud", "closed_legit", "open"):
        raise HTTPException(422, "state must be closed_fraud, closed_legit or open")
    if not note.strip():
        raise HTTPException(422, "a decision needs a note")
    decide_case(request, case_id, state, note.strip(), who)
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.get("/cases/{case_id}/graph.png")
async def case_graph(request: Request, case_id: int, who: Analyst) -> Response:
    """The linked-accounts graph around the case's members (the entity graph saved by the abnormal run)."""
    from cryptoscope.console.images import case_graph_png
    from cryptoscope.serve.routes_cases import _known, cases_of

    detail = _known(cases_of(request), case_id)
    png = case_graph_png(request.app.state.service, [u for u, _ in detail.members])
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.get("/users/{user_id}", response_class=HTMLResponse)
async def user_page(request: Request, user_id: int, who: Analyst) -> HTMLResponse:
    from cryptoscope.serve.lookups import user_360

    return page(request, "user.html", who, user=user_360(request.app.state.service, user_id, who.may_see_pii()))


@router.get("/models", response_class=HTMLResponse)
async def models(request: Request, who: Analyst) -> HTMLResponse:
    from cryptoscope.serve.drift import drift_table, performance, refresh

    svc = request.app.state.service
    state = refresh(svc, force=True)
    rows = []
    for kind, live in svc.scorer.models.items():
        card = live.model_.card
        perf = performance(svc, kind)
        rows.append({"kind": kind, "name": live.model_.name, "version": live.model_.version, "card": card,
                     "report": "report" in card.artifacts, "fast": live.fast_ is not None,
                     "drift": drift_table(state.days.get(live.model_.name, [])).to_html(index=False, border=0),
                     "performance": perf.to_html(index=False, border=0) if len(perf) else ""})
    return page(request, "models.html", who, models=rows, missing=svc.scorer.missing, alerts=state.alerts,
                threshold=svc.config.drift_threshold)


@router.get("/models/{kind}/report", response_class=HTMLResponse)
async def model_report(request: Request, kind: str, who: Analyst) -> Response:
    """The evaluation report registered with the served model."""
    live = request.app.state.service.scorer.models.get(kind)
    if live is None or "report" not in live.model_.card.artifacts:
        raise HTTPException(404, f"no evaluation report for {kind[:20]!r}")
    path = (live.model_.path / live.model_.card.artifacts["report"]).resolve()
    if not path.is_relative_to(live.model_.path.resolve()) or not path.is_file():
        raise HTTPException(404, "the report file is missing")
    return HTMLResponse(path.read_text(encoding="utf-8"))


@router.get("/chain", response_class=HTMLResponse)
async def chain(request: Request, who: Analyst, address: str = "", chain: str | None = None) -> HTMLResponse:
    from cryptoscope.serve.lookups import exposure

    if not address:
        return page(request, "chain.html", who, address="", result=None, images=[], error="")
    try:
        result = exposure(request.app.state.service, address.strip(), chain or None, "both")
    except HTTPException as exc:
        return page(request, "chain.html", who, status=exc.status_code, address=address, result=None, images=[],
                    error=str(exc.detail))
    from cryptoscope.chain.report import flow_graph_png

    images = [img for img in (flow_graph_png(e) for e in result["_objects"]) if img]
    return page(request, "chain.html", who, address=address, result=result, images=images, error="")


@router.get("/feedback", response_class=HTMLResponse)
async def feedback(request: Request, who: Analyst) -> Response:
    """The customer-feedback report written by `cryptoscope feedback` (served as is: it escapes its own text)."""
    svc = request.app.state.service
    path = svc.config.feedback_report or Path(svc.config.lake) / "_feedback" / "feedback.html"
    if not Path(path).is_file():
        return page(request, "message.html", who, status=503, title="Feedback report",
                    message=f"no feedback report at {path}: run `cryptoscope feedback report` first")
    return HTMLResponse(Path(path).read_text(encoding="utf-8"))


@router.get("/reco", response_class=HTMLResponse)
async def reco(request: Request, who: Analyst, user: int | None = None) -> HTMLResponse:
    from cryptoscope.serve.lookups import recommend

    if user is None:
        return page(request, "reco.html", who, user=None, items=[], error="")
    try:
        items = recommend(request.app.state.service, user, 10)["items"]
    except HTTPException as exc:
        return page(request, "reco.html", who, status=exc.status_code, user=user, items=[], error=str(exc.detail))
    return page(request, "reco.html", who, user=user, items=items, error="")


def _local(target: str) -> str:
    """Only same-site paths after login (no open redirect)."""
    return target if target.startswith("/console") and "//" not in target else "/console/"


def data_uri(png_b64: str) -> str:
    return "data:image/png;base64," + html.escape(png_b64) if png_b64 else ""


templates.env.filters["b64png"] = data_uri
templates.env.globals["b64"] = lambda b: base64.b64encode(b).decode()
