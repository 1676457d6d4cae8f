"""Warm an `OnlineScorer` from the lake: replay every table the features read, in time order.

Only the last ``lookback`` of events matter (the longest feature window is 365 days); accounts are
all read. While replaying, the decisions of each product in the last ``reference_days`` are turned
into decision rows before their own event is added, exactly as live requests will be: up to
``reference_rows`` of them per product become the *reference* that drift is measured against, and
the background the reason explainers are fitted on.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.lake import Lake, connect
from cryptoscope.lake.replay import time_ordered
from cryptoscope.serve.online import OnlineScorer, product_views

Progress = Callable[[int, int], None]


@dataclass
class Warmup:
    """What the replay did, and the reference decision rows per product."""

    events: int = 0
    end: dt.datetime | None = None
    reference: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def replay_tables() -> list[str]:
    tables = {src.table for view in product_views() for src in view.sources}
    return sorted(tables | {"accounts", "loans", "kyc_submissions", "sessions"})


def warm(scorer: OnlineScorer, lake: Lake | str | os.PathLike[str], *, lookback: dt.timedelta = dt.timedelta(days=366),
         reference_days: int = 14, reference_rows: int = 2_000, progress: Progress | None = None,
         until: dt.datetime | None = None) -> Warmup:
    """Replay the lake into ``scorer`` (see the module doc); returns the reference rows. With ``until`` only the
    events before it are replayed (an event stream brings the rest)."""
    con = connect(lake)
    present = set(Lake(lake).catalog().tables) if not isinstance(lake, Lake) else set(lake.catalog().tables)
    names = [t for t in replay_tables() if t in present]
    tables = {}
    for name in names:
        t = con.table(name)
        tables[name] = (t if until is None else t.filter(t.event_time < until)).to_pyarrow()
    ends = [pc.max(t["event_time"]).as_py() for t in tables.values() if t.num_rows]
    out = Warmup()
    if not ends:
        return out
    end = max(ends)
    out.end = end
    start = end - lookback
    for name, t in tables.items():
        if name != "accounts":
            since = pa.scalar(start, t.schema.field("event_time").type)
            tables[name] = t.filter(pc.greater_equal(t["event_time"], since))
    total = sum(t.num_rows for t in tables.values())
    ref_from = end - dt.timedelta(days=reference_days)
    kind_of = {live.table: kind for kind, live in scorer.models.items()}
    candidates: dict[str, list[dict[str, Any]]] = {k: [] for k in kind_of.values()}
    for done, (table, row) in enumerate(time_ordered(tables), start=1):
        kind = kind_of.get(table)
        if kind is not None and row["event_time"] >= ref_from and scorer.models[kind].is_decision(row):
            candidates[kind].append(scorer.decision_row(kind, row))
        scorer.feed(table, row)
        if progress is not None and done % 100_000 == 0:
            progress(done, total)
    out.events = total
    for kind, rows in candidates.items():
        step = max(1, len(rows) // reference_rows)
        out.reference[kind] = rows[::step][:reference_rows]
    return out
