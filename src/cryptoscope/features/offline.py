"""Offline feature values at any decision time, as Ibis expressions any backend runs.

Every feature of a spine row is computed only from events strictly before its decision time,
inside the window ``[decision_time - w, decision_time)``. The expressions use nothing engine
specific, so DuckDB and Spark compute them from the same code (a parity test proves it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from cryptoscope.features.spec import Agg, Cond, FeatureView, window_delta

_OPS = {
    "==": lambda c, v: c == v, "!=": lambda c, v: c != v, ">": lambda c, v: c > v, ">=": lambda c, v: c >= v,
    "<": lambda c, v: c < v, "<=": lambda c, v: c <= v,
    "in": lambda c, v: c.isin(list(v)), "not in": lambda c, v: c.notin(list(v)),
}


def condition(table: ir.Table, conds: Sequence[Cond]) -> ir.BooleanValue | None:
    expr: ir.BooleanValue | None = None
    for c in conds:
        e = _OPS[c.op](table[c.column], c.value)
        expr = e if expr is None else expr & e
    return expr


def events(con: Any, view: FeatureView) -> ir.Table:
    """The view's source rows projected to key, event_time and the columns its aggregations read."""
    parts = []
    wanted = [view.key, *view.input_columns()]
    for src in view.sources:
        t = con.table(src.table)
        where = condition(t, src.where)
        if where is not None:
            t = t.filter(where)
        cols: dict[str, Any] = {"event_time": t.event_time}
        for name in wanted:
            spec = src.columns.get(name, name)
            cols[name] = t[spec] if isinstance(spec, str) else spec(t)
        parts.append(t.select(**cols))
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p, distinct=False)
    return out


def _aggregate(j: ir.Table, agg: Agg, window: str) -> ir.Value:
    in_window = j._t >= j.decision_time - ibis.interval(seconds=int(window_delta(window).total_seconds()))
    extra = condition(j, agg.where)
    cond = in_window if extra is None else in_window & extra
    if agg.fn == "count":
        return j._k.count(where=cond)
    if agg.fn == "share":
        return j._k.count(where=cond).cast("float64") / j._k.count(where=in_window).nullif(0).cast("float64")
    if agg.fn == "since_last":
        return j._t.max(where=cond)
    col = j[agg.column]
    if agg.fn == "sum":
        return col.sum(where=cond).coalesce(0)
    if agg.fn == "mean":
        return col.mean(where=cond)
    if agg.fn == "std":
        return col.std(where=cond, how="sample")
    if agg.fn == "min":
        return col.min(where=cond)
    if agg.fn == "max":
        return col.max(where=cond)
    return col.nunique(where=cond)


def view_features(con: Any, view: FeatureView, points: ir.Table) -> ir.Table:
    """Features of ``view`` at each distinct (key, decision_time) of ``points``."""
    ev = events(con, view).rename({"_k": view.key, "_t": "event_time"})
    pts = points.select(view.key, "decision_time").distinct()
    lookback = ibis.interval(seconds=int(view.longest.total_seconds()))
    j = pts.left_join(ev, [pts[view.key] == ev._k, ev._t < pts.decision_time, ev._t >= pts.decision_time - lookback])
    aggs = {f"{a.name}_{w}": _aggregate(j, a, w) for a in view.aggs for w in view.windows}
    out = j.group_by([view.key, "decision_time"]).aggregate(**aggs)
    # whole seconds on both sides, so every engine (and the online state) gets the same integer
    since = {name: (out.decision_time.epoch_seconds().floor() - out[name].epoch_seconds().floor())
             for a in view.aggs if a.fn == "since_last" for name in (f"{a.name}_{w}" for w in view.windows)}
    if since:
        out = out.mutate(**since)
    if view.derived:
        out = out.mutate(**{d.name: d.fn(*(out[c] for c in d.inputs)) for d in view.derived})
    return out.select(view.key, "decision_time", *view.feature_names())


def point_in_time(con: Any, views: Sequence[FeatureView], spine: ir.Table) -> ir.Table:
    """The spine with every view's features joined on (key, decision_time)."""
    out = spine
    for view in views:
        feats = view_features(con, view, spine).rename({f"_{view.name}_key": view.key,
                                                         f"_{view.name}_time": "decision_time"})
        key, time = f"_{view.name}_key", f"_{view.name}_time"
        out = out.left_join(feats, [out[view.key] == feats[key], out.decision_time == feats[time]]).drop(key, time)
    return out
