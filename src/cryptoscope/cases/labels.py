"""Closed cases flow back into the lake as labels, so the next models and graph runs learn from them.

Each member of a closed case gets one ``labels`` row: ``label`` 1 for closed_fraud, 0 for
closed_legit, ``label_type`` "abnormal_user", ``source`` "investigation", ``decision_time`` the time
the case was detected (the decision it judges) and ``event_time`` when the analyst closed it.
Label ids are derived from content — the user and the data time the case was detected — never from the case
queue's autoincrement id, so two queues filed from the same runs (on DuckDB and on Spark, or rebuilt) write the
same ids; a user is in one case per detection time. The lake de-duplicates on them, so syncing twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pyarrow as pa
from sqlalchemy import select

from cryptoscope.cases.models import CLOSED, AuditEntry, Case, LabelExport
from cryptoscope.cases.store import CaseStore
from cryptoscope.lake import Lake
from cryptoscope.schema import get_table

LABEL_TYPE = "abnormal_user"
#: Ids from the case queue live above every simulator or importer id (those stay below 10^15).
_ID_BASE = 1 << 60


def label_id(user_id: int, detected_at: dt.datetime) -> int:
    """The id of the label of ``user_id`` in the case detected at ``detected_at`` (UTC data time)."""
    key = f"{LABEL_TYPE}:user:{int(user_id)}:detected:{_utc(detected_at).astimezone(dt.UTC).isoformat()}"
    digest = hashlib.sha256(key.encode()).digest()
    return _ID_BASE + int.from_bytes(digest[:7], "big")


def sync_labels(store: CaseStore, lake: Lake | str | os.PathLike[str]) -> int:
    """Write the labels of every closed, not yet exported case into the lake; return rows added."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    rows: list[dict[str, object]] = []
    done: list[tuple[int, int]] = []
    with store.session() as s:
        exported = set(s.scalars(select(LabelExport.case_id)))
        for case in s.scalars(select(Case).where(Case.state.in_(CLOSED))):
            if case.id in exported:
                continue
            closed_at = s.scalar(select(AuditEntry.at).where(AuditEntry.case_id == case.id,
                                                             AuditEntry.to_state == case.state)
                                 .order_by(AuditEntry.id.desc()).limit(1)) or case.updated_at
            for m in case.members:
                rows.append({"label_id": label_id(m.user_id, case.detected_at), "entity_type": "user",
                             "entity_id": str(m.user_id), "user_id": int(m.user_id), "label_type": LABEL_TYPE,
                             "label": 1 if case.state == "closed_fraud" else 0,
                             "decision_time": _utc(case.detected_at), "event_time": _utc(closed_at),
                             "source": "investigation"})
            done.append((case.id, len(case.members)))
    if not done:
        return 0
    added = 0
    if rows:
        table = pa.Table.from_pylist(rows, schema=get_table("labels").arrow_schema)
        with lake.transaction() as tx:
            added = tx.append("labels", table, dedupe=True)
    with store.session() as s:  # after the lake commit: a crash in between only re-sends de-duplicated rows
        for case_id, n in done:
            if s.get(LabelExport, case_id) is None:
                s.add(LabelExport(case_id=case_id, rows=n))
                s.add(AuditEntry(case_id=case_id, actor="system", action="labels", detail=f"{n} labels to the lake"))
    return added


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
