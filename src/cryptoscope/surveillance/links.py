"""Which trading pairs are linked accounts: shared devices, IPs or referrers.

The entity graph (`cryptoscope.graph`) is the source when it is installed; otherwise the same links
are read straight from ``sessions`` and ``accounts``. Links are computed once over the lake with
DuckDB and handed to whichever engine runs the detectors as a small table, so both engines see
exactly the same pairs.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pyarrow as pa

LINK_SCHEMA = pa.schema([("u1", pa.int64()), ("u2", pa.int64()), ("link_kinds", pa.string())])

# (user_id, entity) pairs from the raw tables: the fallback when the entity graph is not there
_FALLBACK_SQL = """
SELECT user_id, 'device:' || device_id AS entity FROM sessions WHERE device_id IS NOT NULL
UNION SELECT user_id, 'ip:' || ip FROM sessions WHERE ip IS NOT NULL
UNION SELECT user_id, 'device:' || signup_device_id FROM accounts WHERE signup_device_id IS NOT NULL
UNION SELECT user_id, 'ip:' || signup_ip FROM accounts WHERE signup_ip IS NOT NULL
"""


def _entities(duck: Any, users: pa.Table) -> Any:
    """A DuckDB relation of (user_id, entity) for the candidate users only."""
    duck.register("_cand_users", users)
    if importlib.util.find_spec("cryptoscope.graph") is not None:
        from cryptoscope.graph.links import read_links

        frame = read_links(duck, kinds=("device", "ip", "referrer"))
        duck.register("_graph_links", frame[["user_id", "entity"]])
        source = "SELECT user_id, entity FROM _graph_links"
    else:
        source = _FALLBACK_SQL
    return duck.sql(f"SELECT DISTINCT e.user_id, e.entity FROM ({source}) e JOIN _cand_users c USING (user_id)")


def linked_pairs(duck: Any, candidates: pa.Table) -> pa.Table:
    """The candidate pairs (columns u1 < u2) that share at least one entity, with the kinds shared.

    ``duck`` is a DuckDB connection over the lake (``cryptoscope.lake.engine.connect(lake).con``).
    """
    if candidates.num_rows == 0:
        return LINK_SCHEMA.empty_table()
    users = pa.table({"user_id": pa.concat_arrays([candidates["u1"].combine_chunks(),
                                                   candidates["u2"].combine_chunks()]).unique()})
    ents = _entities(duck, users)
    duck.register("_cand_pairs", candidates.select(["u1", "u2"]))
    sql = """
        SELECT p.u1, p.u2, string_agg(DISTINCT split_part(a.entity, ':', 1), ',' ORDER BY split_part(a.entity, ':', 1))
               AS link_kinds
        FROM _cand_pairs p JOIN ents a ON a.user_id = p.u1 JOIN ents b ON b.user_id = p.u2 AND b.entity = a.entity
        WHERE p.u1 < p.u2
        GROUP BY p.u1, p.u2
    """
    out = _pairs(duck, ents, sql)
    return out.cast(LINK_SCHEMA)


def _pairs(duck: Any, ents: Any, sql: str) -> pa.Table:
    duck.register("ents", _arrow(ents))
    return _arrow(duck.sql(sql))


def _arrow(rel: Any) -> pa.Table:
    """A DuckDB relation as one Arrow table, fully read (the connection is free again afterwards)."""
    table = rel.fetch_arrow_table()
    return table if isinstance(table, pa.Table) else table.read_all()
