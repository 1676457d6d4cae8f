"""The case queue on SQLite and on a real PostgreSQL server: workflow, clear errors, append-only audit log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cryptoscope.cases import CaseStore, IllegalTransitionError, UnknownCaseError, sync_labels
from cryptoscope.cases.grouping import RingAlert, UserAlert, file_alerts
from cryptoscope.lake import Lake, connect

AT = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> CaseStore:
    if request.param == "sqlite":
        return CaseStore(f"sqlite:///{tmp_path / 'cases.db'}")
    return CaseStore(request.getfixturevalue("postgres_url"))


def _queue(store: CaseStore) -> list[int]:
    """One ring case (users 1-4), then one user case (user 9): ids of the ring's case and the user's."""
    file_alerts(store, "run-1", AT, [UserAlert(9, 0.95, "withdrawals_7d = 6"), UserAlert(2, 0.98, "devices_7d = 5")],
                [RingAlert(7, (1, 2, 3, 4), 0.97, "ring 7: 4 accounts sharing device")], scored=100)
    return [c.id for c in store.list_cases()]


def test_a_growing_ring_leaves_members_of_other_rings_where_they_are(store: CaseStore) -> None:
    file_alerts(store, "run-1", AT, [], [RingAlert(1, (1, 2, 3, 4), 0.9, "ring 1"),
                                         RingAlert(2, (10, 11, 12, 13), 0.9, "ring 2")], scored=100)
    # a week later ring 2 has grown by account 14 and touches account 4 of ring 1
    file_alerts(store, "run-2", AT + dt.timedelta(days=7), [],
                [RingAlert(5, (4, 10, 11, 12, 13, 14), 0.95, "ring 5")], scored=100)
    members = {c.id: set(store.member_ids(c.id)) for c in store.list_cases()}
    assert sorted(map(sorted, members.values())) == [[1, 2, 3, 4], [10, 11, 12, 13, 14]]


def test_workflow_assign_review_close(store: CaseStore) -> None:
    ids = _queue(store)
    assert len(ids) == 2
    case = ids[0]
    store.assign(case, "alice", actor="lead")
    assert store.get(case).summary.state == "in_review"
    assert store.get(case).summary.assignee == "alice"
    store.add_note(case, "same card on all four", actor="alice")
    store.transition(case, "closed_fraud", actor="alice", note="confirmed")
    detail = store.get(case)
    assert detail.summary.state == "closed_fraud"
    assert [a[2] for a in detail.audit] == ["open", "assign", "note", "decide"]
    assert [n[2] for n in detail.notes] == ["same card on all four", "confirmed"]


def test_illegal_transitions_are_refused_with_the_allowed_ones(store: CaseStore) -> None:
    case = _queue(store)[0]
    with pytest.raises(IllegalTransitionError, match=r"case \d+ is open; it cannot move to closed_fraud "
                                                     r"\(allowed next: in_review\)"):
        store.transition(case, "closed_fraud", actor="bob")
    store.transition(case, "in_review", actor="bob")
    store.transition(case, "closed_legit", actor="bob")
    with pytest.raises(IllegalTransitionError, match="none: the case is closed"):
        store.transition(case, "open", actor="bob")
    with pytest.raises(IllegalTransitionError):
        store.assign(case, "carol", actor="bob")
    assert store.get(case).summary.state == "closed_legit"  # nothing changed by the refused requests


def test_unknown_case_and_state_are_clear_errors(store: CaseStore) -> None:
    _queue(store)
    with pytest.raises(UnknownCaseError, match="unknown case 999"):
        store.get(999)
    with pytest.raises(UnknownCaseError):
        store.assign(999, "alice", actor="lead")
    with pytest.raises(Exception, match="unknown state 'closed'"):
        store.transition(1, "closed", actor="lead")


def test_audit_log_is_append_only_in_the_database(store: CaseStore) -> None:
    case = _queue(store)[0]
    store.assign(case, "alice", actor="lead")
    before = store.audit_count()
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(sql))
    if store.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
    assert store.audit_count() == before
    assert {a[1] for a in store.get(case).audit} == {"detector", "lead"}
    with store.engine.begin() as conn:  # appending still works
        conn.execute(text("INSERT INTO audit_log (case_id, at, actor, action, detail) "
                          "VALUES (:c, :at, 'lead', 'note', 'by hand')"), {"c": case, "at": AT})
    assert store.audit_count() == before + 1


def test_reopening_the_store_keeps_the_queue(store: CaseStore) -> None:
    ids = _queue(store)
    again = CaseStore(store.engine.url.render_as_string(hide_password=False))
    assert [c.id for c in again.list_cases()] == ids


def test_closed_cases_become_lake_labels_once(store: CaseStore, tmp_path: Path) -> None:
    ring, user = _queue(store)
    for case, verdict in ((ring, "closed_fraud"), (user, "closed_legit")):
        store.assign(case, "alice", actor="alice")
        store.transition(case, verdict, actor="alice")
    lake = Lake(tmp_path / "lake")
    assert sync_labels(store, lake) == 5
    assert sync_labels(store, lake) == 0
    rows = connect(lake).con.sql("SELECT user_id, label, label_type, source FROM labels ORDER BY user_id").fetchall()
    assert rows == [(1, 1, "abnormal_user", "investigation"), (2, 1, "abnormal_user", "investigation"),
                    (3, 1, "abnormal_user", "investigation"), (4, 1, "abnormal_user", "investigation"),
                    (9, 0, "abnormal_user", "investigation")]
