"""The batch job: every detector as Ibis expressions on one backend (DuckDB or Spark), finished in Python.

The expressions read only the canonical views that `cryptoscope.features.engines` connects, so the
same code runs in process on DuckDB and on a Spark cluster. Linked accounts are read once (`links`),
as a small table the detectors join against.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pyarrow as pa

from cryptoscope.surveillance import alerts
from cryptoscope.surveillance.links import LINK_SCHEMA, linked_pairs
from cryptoscope.surveillance.params import DEFAULT, Params
from cryptoscope.surveillance.pump import pump_alerts
from cryptoscope.surveillance.spoofing import spoofing_alerts
from cryptoscope.surveillance.wash import candidate_pairs, wash_alerts


def _rows(expr: Any) -> list[dict[str, Any]]:
    table = expr.to_pyarrow()
    return list(table.to_pylist())


def account_links(con: Any, p: Params = DEFAULT) -> pa.Table:
    """Linked pairs among the pairs that trade with each other, read once on ``con`` (any Ibis backend)."""
    return linked_pairs(con, con.table("trades").pipe(candidate_pairs, p))


def detect(con: Any, p: Params = DEFAULT, *, links: pa.Table | None = None,
           scored_at: dt.datetime | None = None) -> pa.Table:
    """All alerts over the lake that ``con`` (an Ibis backend from `engines.connect`) reads."""
    links = account_links(con, p) if links is None else links
    orders, trades = con.table("orders"), con.table("trades")
    link_t = ibis.memtable(links.cast(LINK_SCHEMA).combine_chunks())
    rows = alerts.wash_rows(_rows(wash_alerts(trades, link_t, p)))
    rows += alerts.spoofing_rows(_rows(spoofing_alerts(orders, trades, p)))
    rows += alerts.pump_rows(_rows(pump_alerts(trades, p)))
    return alerts.to_table(rows, scored_at or dt.datetime.now(dt.UTC))
