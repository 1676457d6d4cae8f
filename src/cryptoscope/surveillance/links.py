"""Which trading pairs are linked accounts: shared devices, IPs or referrers.

The links are the entity graph's (`cryptoscope.graph.links`), joined to the candidate pairs as one
Ibis expression on the engine that runs the detectors. The batch job reads them once and hands
them to the detectors and the stream as a small table, so every consumer sees exactly the same pairs.
"""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from cryptoscope.graph.links import link_table

LINK_SCHEMA = pa.schema([("u1", pa.int64()), ("u2", pa.int64()), ("link_kinds", pa.string())])
#: The entity kinds that say two trading accounts are one person.
SAME_PERSON_KINDS = ("device", "ip", "referrer")


def shared_kinds(backend: Any, candidates: ir.Table) -> ir.Table:
    """Distinct (u1, u2, kind): a candidate pair (u1 < u2) and one kind of entity both accounts used."""
    ents = link_table(backend, kinds=SAME_PERSON_KINDS).select("user_id", "kind", "entity").distinct()
    pairs = candidates.filter(candidates.u1 < candidates.u2).select("u1", "u2")
    first = ents.select(u1=ents.user_id, kind=ents.kind, entity=ents.entity)
    second = ents.select(u2=ents.user_id, entity=ents.entity)
    both = pairs.join(first, "u1").join(second, ["u2", "entity"])
    return both.select("u1", "u2", "kind").distinct()


def linked_pairs(backend: Any, candidates: ir.Table) -> pa.Table:
    """The candidate pairs (columns u1 < u2) that share at least one entity, with the kinds shared.

    ``backend`` is an Ibis backend over the lake, ``candidates`` an expression on it with columns u1, u2.
    The kinds are joined in memory: a pair shares at most three, and Spark cannot order a string aggregate.
    """
    shared = shared_kinds(backend, candidates).to_pyarrow().to_pandas()
    if shared.empty:
        return LINK_SCHEMA.empty_table()
    kinds = shared.sort_values(["u1", "u2", "kind"]).groupby(["u1", "u2"], sort=True)["kind"].agg(",".join)
    out = kinds.rename("link_kinds").reset_index()
    return pa.Table.from_pandas(out, schema=LINK_SCHEMA, preserve_index=False)
