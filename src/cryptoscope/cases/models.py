"""The case-queue tables, one SQLAlchemy model each, identical on SQLite and PostgreSQL.

A case groups alerts about one user or one ring; members say who is in it; alerts say which
detection run flagged whom and why; notes are the analysts' words; the audit log records every
change and is append-only (see `cryptoscope.cases.audit`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: The workflow: which state may follow which. Closed states are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("in_review",),
    "in_review": ("open", "closed_fraud", "closed_legit"),
    "closed_fraud": (),
    "closed_legit": (),
}
STATES: tuple[str, ...] = tuple(TRANSITIONS)
CLOSED: tuple[str, ...] = ("closed_fraud", "closed_legit")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # ring or user
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    title: Mapped[str] = mapped_column(String(200))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text, default="")
    assignee: Mapped[str | None] = mapped_column(String(100), nullable=True)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    detected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # data time of the first alert
    last_alert_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    members: Mapped[list[CaseMember]] = relationship(back_populates="case", order_by="CaseMember.user_id")
    notes: Mapped[list[Note]] = relationship(order_by="Note.id")


class CaseMember(Base):
    __tablename__ = "case_members"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    score: Mapped[float] = mapped_column(Float)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # data time
    case: Mapped[Case] = relationship(back_populates="members")


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("run_key", "user_id"), Index("ix_alerts_case", "case_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_key: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Run(Base):
    __tablename__ = "runs"

    run_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    as_of: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    users_scored: Mapped[int] = mapped_column(Integer)
    alerts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class LabelExport(Base):
    """Which closed cases' labels went into the lake, so a second sync writes nothing new."""

    __tablename__ = "label_exports"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QueuePosition(Base):
    """Where the latest detection run put an open case in the review queue, and why (`anomaly.review`).

    Derived data, replaced whole by every run: the queue's order, its best member's rank among the run's
    users (the percentile score of the top cases all round to 1.000), P(abnormal) calibrated on the
    decisions so far and the expected loss.
    """

    __tablename__ = "queue_positions"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    run_key: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    users: Mapped[int] = mapped_column(Integer)
    probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    exposure_usd: Mapped[float] = mapped_column(Float)
    expected_loss_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    explore: Mapped[bool] = mapped_column(Boolean)
