"""Alerts into cases: one case per ring or per user, merged across runs, never duplicated.

A ring alert joins the ring case that already holds most of it (or most of which it holds); open
single-user cases of its members fold into it. A user alert goes to the case that already holds
the user, else it opens a user case. Alerts are unique per (run, user), so repeating a run adds
nothing. Everything happens in one database transaction with its audit entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cryptoscope.cases.models import Alert, AuditEntry, Case, CaseMember, utcnow
from cryptoscope.cases.store import CaseStore


@dataclass(frozen=True)
class UserAlert:
    user_id: int
    score: float
    reasons: str


@dataclass(frozen=True)
class RingAlert:
    ring_id: int
    members: tuple[int, ...]
    score: float
    reasons: str


@dataclass(frozen=True)
class Filed:
    """What filing one run's alerts did to the queue."""

    new_cases: int
    updated_cases: int
    new_alerts: int


def file_alerts(store: CaseStore, run_key: str, as_of: dt.datetime, users: Sequence[UserAlert],
                rings: Sequence[RingAlert], scored: int) -> Filed:
    """Add one run's alerts to the queue (idempotent per run_key)."""
    new, touched, alerts = 0, set(), 0
    with store.session() as s:
        by_user = {u.user_id: u for u in users}
        for ring in rings:
            case, created = _ring_case(s, ring, as_of)
            new += created
            touched.add(case.id)
            for m in ring.members:
                a = by_user.get(m)
                alerts += _alert(s, run_key, _case_of(s, m) or case.id, m, a.score if a else ring.score,
                                 a.reasons if a else ring.reasons, as_of)
        for u in users:
            case_id = _case_of(s, u.user_id)
            if case_id is None:
                case = _new_case(s, "user", f"user {u.user_id}", u.score, u.reasons, as_of, [(u.user_id, u.score)])
                case_id, new = case.id, new + 1
            else:
                _bump(s, case_id, u.score, as_of)
            touched.add(case_id)
            alerts += _alert(s, run_key, case_id, u.user_id, u.score, u.reasons, as_of)
        store.record_run(s, run_key, as_of, scored, len(users))
    return Filed(new, len(touched) - new, alerts)


def _case_of(s: Session, user: int) -> int | None:
    q = (select(Case.id).join(CaseMember).where(CaseMember.user_id == user, Case.merged_into.is_(None))
         .order_by(Case.score.desc()).limit(1))
    return s.scalar(q)


def _ring_case(s: Session, ring: RingAlert, as_of: dt.datetime) -> tuple[Case, bool]:
    """The ring case that shares most members with this ring (majority of the smaller), or a new one."""
    members = set(ring.members)
    rows = s.execute(select(CaseMember.case_id, CaseMember.user_id).join(Case)
                     .where(CaseMember.case_id.in_(select(CaseMember.case_id).where(CaseMember.user_id.in_(members))),
                            Case.merged_into.is_(None))).all()
    held: dict[int, set[int]] = {}
    for case_id, user in rows:
        held.setdefault(int(case_id), set()).add(int(user))
    rings = {c: u for c, u in held.items() if (k := s.get(Case, c)) is not None and k.kind == "ring"}
    best = None
    for case_id, users in sorted(rings.items(), key=lambda kv: -len(kv[1] & members)):
        if 2 * len(users & members) > min(len(users), len(members)):
            best = s.get(Case, case_id)
            break
    if best is None:
        # members already in another ring case stay there: a user is in one ring case at a time
        free = sorted(members - set().union(*rings.values()))
        if not free:
            best = s.get(Case, max(held, key=lambda c: len(held[c] & members)))
            assert best is not None
            _bump(s, best.id, ring.score, as_of)
            return best, False
        best = _new_case(s, "ring", f"ring of {len(free)} accounts", ring.score, ring.reasons, as_of,
                         [(m, ring.score) for m in free])
        created = True
    else:
        created = False
        elsewhere = set().union(*(u for c, u in rings.items() if c != best.id))
        missing = sorted(members - held.get(best.id, set()) - elsewhere)
        for m in missing:
            s.add(CaseMember(case_id=best.id, user_id=m, score=ring.score, added_at=as_of))
        if missing:
            s.add(AuditEntry(case_id=best.id, actor="detector", action="members",
                             detail=f"added {len(missing)} members: {', '.join(map(str, missing[:20]))}"))
        _bump(s, best.id, ring.score, as_of)
    _fold_user_cases(s, best, members, held)
    return best, created


def _fold_user_cases(s: Session, ring_case: Case, members: set[int], held: dict[int, set[int]]) -> None:
    """Open single-user cases of ring members become part of the ring case (kept, marked merged)."""
    for case_id in held:
        case = s.get(Case, case_id)
        if case is None or case.id == ring_case.id or case.kind != "user" or case.state != "open":
            continue
        case.merged_into, case.updated_at = ring_case.id, utcnow()
        s.add(AuditEntry(case_id=case.id, actor="detector", action="merged", from_state=case.state,
                         to_state=case.state, detail=f"merged into ring case {ring_case.id}"))


def _new_case(s: Session, kind: str, title: str, score: float, reasons: str, as_of: dt.datetime,
              members: list[tuple[int, float]]) -> Case:
    case = Case(kind=kind, state="open", title=title, score=score, reasons=reasons, detected_at=as_of,
                last_alert_at=as_of)
    s.add(case)
    s.flush()
    for user, score_m in members:
        s.add(CaseMember(case_id=case.id, user_id=user, score=score_m, added_at=as_of))
    s.add(AuditEntry(case_id=case.id, actor="detector", action="open", to_state="open",
                     detail=f"{title}: {reasons[:500]}"))
    return case


def _bump(s: Session, case_id: int, score: float, as_of: dt.datetime) -> None:
    case = s.get(Case, case_id)
    if case is not None:
        case.score = max(case.score, score)
        case.last_alert_at = max(_utc(case.last_alert_at), as_of)


def _alert(s: Session, run_key: str, case_id: int, user: int, score: float, reasons: str, at: dt.datetime) -> int:
    exists = s.scalar(select(Alert.id).where(Alert.run_key == run_key, Alert.user_id == user))
    if exists is not None:
        return 0
    s.add(Alert(run_key=run_key, case_id=case_id, user_id=user, score=score, reasons=reasons, at=at))
    s.flush()
    return 1


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
