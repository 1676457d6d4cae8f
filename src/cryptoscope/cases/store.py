"""The case queue: cases, members, alerts, notes and the audit log behind one small API.

SQLite by default (a file beside the lake), PostgreSQL when given a ``postgresql+psycopg://`` URL;
the same SQLAlchemy code runs on both. Every change writes an audit entry in the same database
transaction, so a decision and its audit record are committed together or not at all.

>>> store = CaseStore("sqlite:///cases.db")                       # doctest: +SKIP
>>> store.assign(12, "alice", actor="alice")                      # doctest: +SKIP
>>> store.transition(12, "closed_fraud", actor="alice", note="same card as ring 3")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cryptoscope.cases.audit import install_append_only
from cryptoscope.cases.errors import CaseError, IllegalTransitionError, UnknownCaseError
from cryptoscope.cases.models import (
    CLOSED,
    STATES,
    TRANSITIONS,
    Alert,
    AuditEntry,
    Base,
    Case,
    CaseMember,
    Note,
    QueuePosition,
    Run,
    utcnow,
)


@dataclass(frozen=True)
class CaseSummary:
    """One line of the queue."""

    id: int
    kind: str
    state: str
    title: str
    score: float
    members: int
    assignee: str | None
    detected_at: dt.datetime
    reasons: str


@dataclass(frozen=True)
class CaseDetail:
    """Everything about one case: members with scores, alerts, notes, the audit trail."""

    summary: CaseSummary
    members: tuple[tuple[int, float], ...]
    alerts: tuple[tuple[str, int, float, str], ...]
    notes: tuple[tuple[dt.datetime, str, str], ...]
    audit: tuple[tuple[dt.datetime, str, str, str | None, str | None, str], ...]
    merged_into: int | None


@dataclass(frozen=True)
class QueuePlace:
    """An open case's place in the review queue (see `cryptoscope.anomaly.review`)."""

    case_id: int
    position: int  # 1 = open it first
    rank: int  # its best member's rank among the run's users, 1 = the most abnormal
    users: int  # users the run scored
    probability: float | None  # P(abnormal); None until decisions of both kinds can calibrate it
    exposure_usd: float
    expected_loss_usd: float | None
    explore: bool  # placed for what its decision would teach the detectors, not for its expected loss

    @property
    def top_share(self) -> float:
        """The best member's rank as a share of the run's users (0.0001 = the top 0.01 %)."""
        return self.rank / max(self.users, 1)


def default_url(work_dir: str | os.PathLike[str]) -> str:
    """The SQLite file the queue lives in when no URL is configured."""
    path = Path(work_dir) / "cases.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


class CaseStore:
    """Cases and their audit log in a SQL database (SQLite or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        try:
            self.engine = create_engine(url)
            Base.metadata.create_all(self.engine)
            install_append_only(self.engine)
        except SQLAlchemyError as exc:
            raise CaseError(f"cannot open the case store at {url}: {exc.__class__.__name__}: {exc}") from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One database transaction: committed on success, rolled back on any error."""
        with self._sessions.begin() as s:
            yield s

    # -- reading -------------------------------------------------------------------------------
    def list_cases(self, state: str | None = None, *, include_merged: bool = False, limit: int | None = None
                   ) -> list[CaseSummary]:
        """Cases by descending score (the order an analyst works them)."""
        if state is not None and state not in STATES:
            raise CaseError(f"unknown state {state!r}; states: {', '.join(STATES)}")
        with self.session() as s:
            q = select(Case).order_by(Case.score.desc(), Case.id)
            if state is not None:
                q = q.where(Case.state == state)
            if not include_merged:
                q = q.where(Case.merged_into.is_(None))
            if limit is not None:
                q = q.limit(limit)
            return [_summary(c) for c in s.scalars(q)]

    def queue(self, limit: int | None = None) -> list[tuple[CaseSummary, QueuePlace | None]]:
        """Open cases in review order (the latest run's `QueuePlace`), then in-review ones by score."""
        with self.session() as s:
            places = {p.case_id: _place(p) for p in s.scalars(select(QueuePosition))}
        cases = self.list_cases("open") + self.list_cases("in_review")
        ordered = sorted(cases, key=lambda c: (c.state != "open", c.id not in places,
                                               places[c.id].position if c.id in places else 0, -c.score, c.id))
        return [(c, places.get(c.id)) for c in ordered[:limit]]

    def set_queue(self, run_key: str, places: Sequence[QueuePlace]) -> None:
        """Replace the review queue's order with one run's (one transaction, one audit entry)."""
        with self.session() as s:
            s.execute(delete(QueuePosition))
            s.add_all(QueuePosition(run_key=run_key, **dataclasses.asdict(p)) for p in places)
            explore = sum(p.explore for p in places)
            s.add(AuditEntry(case_id=None, actor="detector", action="queue",
                             detail=f"{run_key}: {len(places)} open cases ordered ({explore} for what they teach)"))

    def get(self, case_id: int) -> CaseDetail:
        with self.session() as s:
            case = _case(s, case_id)
            alerts = s.execute(select(Alert.run_key, Alert.user_id, Alert.score, Alert.reasons)
                               .where(Alert.case_id == case_id).order_by(Alert.id)).all()
            audit = s.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id))
            return CaseDetail(
                _summary(case), tuple((m.user_id, m.score) for m in case.members),
                tuple((r[0], int(r[1]), float(r[2]), r[3]) for r in alerts),
                tuple((n.created_at, n.author, n.text) for n in case.notes),
                tuple((a.at, a.actor, a.action, a.from_state, a.to_state, a.detail) for a in audit),
                case.merged_into)

    def cases_of(self, user_ids: Iterable[int]) -> dict[int, list[int]]:
        """For each given user, the ids of the (not merged) cases that hold it."""
        ids = [int(u) for u in user_ids]
        out: dict[int, list[int]] = {}
        with self.session() as s:
            for chunk in _chunks(ids, 5000):
                q = (select(CaseMember.user_id, CaseMember.case_id).join(Case)
                     .where(CaseMember.user_id.in_(chunk), Case.merged_into.is_(None)))
                for user, case in s.execute(q):
                    out.setdefault(int(user), []).append(int(case))
        return out

    def member_ids(self, case_id: int) -> list[int]:
        with self.session() as s:
            return [int(u) for u in s.scalars(select(CaseMember.user_id).where(CaseMember.case_id == case_id))]

    def audit_count(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)

    # -- analyst actions -----------------------------------------------------------------------
    def assign(self, case_id: int, analyst: str, *, actor: str) -> None:
        """Give the case to an analyst; an open case goes into review."""
        with self.session() as s:
            case = _case(s, case_id)
            if case.state in CLOSED:
                raise IllegalTransitionError(case_id, case.state, "in_review", TRANSITIONS[case.state])
            before = case.state
            case.assignee, case.updated_at = analyst, utcnow()
            if case.state == "open":
                case.state = "in_review"
            s.add(AuditEntry(case_id=case_id, actor=actor, action="assign", from_state=before, to_state=case.state,
                             detail=f"assigned to {analyst}"))

    def transition(self, case_id: int, to_state: str, *, actor: str, note: str | None = None) -> None:
        """Move a case along the workflow; anything else raises `IllegalTransitionError`."""
        if to_state not in STATES:
            raise CaseError(f"unknown state {to_state!r}; states: {', '.join(STATES)}")
        with self.session() as s:
            case = _case(s, case_id)
            if to_state not in TRANSITIONS[case.state]:
                raise IllegalTransitionError(case_id, case.state, to_state, TRANSITIONS[case.state])
            before, case.state, case.updated_at = case.state, to_state, utcnow()
            if note:
                s.add(Note(case_id=case_id, author=actor, text=note))
            s.add(AuditEntry(case_id=case_id, actor=actor, action="decide" if to_state in CLOSED else "state",
                             from_state=before, to_state=to_state, detail=note or ""))

    def add_note(self, case_id: int, text: str, *, actor: str) -> None:
        with self.session() as s:
            case = _case(s, case_id)
            s.add(Note(case_id=case_id, author=actor, text=text))
            s.add(AuditEntry(case_id=case_id, actor=actor, action="note", from_state=case.state,
                             to_state=case.state, detail=text))

    # -- detector side -------------------------------------------------------------------------
    def has_run(self, run_key: str) -> bool:
        with self.session() as s:
            return s.get(Run, run_key) is not None

    def record_run(self, s: Session, run_key: str, as_of: dt.datetime, users: int, alerts: int) -> None:
        if s.get(Run, run_key) is None:
            s.add(Run(run_key=run_key, as_of=as_of, users_scored=users, alerts=alerts))
            s.add(AuditEntry(case_id=None, actor="detector", action="run", detail=f"{run_key}: {alerts} alerts"))


def _case(s: Session, case_id: int) -> Case:
    case = s.get(Case, int(case_id))
    if case is None:
        raise UnknownCaseError(int(case_id))
    return case


def _place(p: QueuePosition) -> QueuePlace:
    return QueuePlace(p.case_id, p.position, p.rank, p.users, p.probability, p.exposure_usd, p.expected_loss_usd,
                      p.explore)


def _summary(c: Case) -> CaseSummary:
    return CaseSummary(c.id, c.kind, c.state, c.title, float(c.score), len(c.members), c.assignee,
                       _utc(c.detected_at), c.reasons)


def _utc(t: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every time we store is UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def _chunks(items: Sequence[int], n: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]
