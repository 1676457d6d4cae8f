"""Point-in-time (as-of) joins of precomputed feature rows, as Ibis expressions any backend runs.

A feature store keeps feature *rows*: values of an entity as of a time (a daily snapshot, a
per-event value). A training set needs, for every labelled decision, the latest such row that was
already known at the decision time and is not older than a time-to-live:

    feature_time <= decision_time              (``<`` with ``inclusive=False``)
    feature_time >= decision_time - ttl        (no lower bound with ``ttl=None``)

`asof_features` never joins a point with every row of its entity's history (a range join: cost
rows x history). It finds each distinct (key, decision time) point's latest row time first:

* ``window`` (any backend): the points and the feature rows' (key, time) go in one column,
  ordered by key and time (at equal times feature rows first when inclusive, last when not), and a
  running ``max(feature_time)`` per key and feature table gives every point its latest row time,
  all tables from one sort: a union, a window function, nothing engine specific;
* ``asof`` (DuckDB): the backend's native ASOF JOIN of the points with each table's (key, time);

then joins the feature row with that key and time (an equi-join; tied rows resolved the same way
on every backend), then the spine. Tests check both ways against a brute-force join, and the
``window`` way on Spark too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Literal

import ibis
import ibis.expr.datatypes as dtypes
import ibis.expr.types as ir

_UNORDERABLE = (dtypes.Array, dtypes.Map, dtypes.Struct, dtypes.JSON)
_NATIVE_ASOF = {"duckdb"}  # backends whose SQL has an ASOF JOIN that Ibis' asof_join compiles to


def _backend_name(*tables: ir.Table) -> str | None:
    for t in tables:
        try:
            return str(t._find_backend(use_default=False).name)
        except Exception:  # an unbound table or a memtable: no backend of its own
            continue
    return None


def _interval(ttl: dt.timedelta) -> ir.IntervalScalar:
    micros = ttl // dt.timedelta(microseconds=1)
    if micros <= 0:
        raise ValueError(f"ttl must be positive, got {ttl}")
    if micros % 1_000_000 == 0:
        return ibis.interval(seconds=micros // 1_000_000)
    return ibis.interval(microseconds=micros)


def asof_features(
    spine: ir.Table,
    feature_rows: ir.Table | Sequence[ir.Table],
    key: str | Sequence[str],
    *,
    ttl: dt.timedelta | Sequence[dt.timedelta | None] | None,
    inclusive: bool = True,
    time: str = "decision_time",
    feature_time: str = "event_time",
    features: Sequence[str] | None = None,
    tiebreak: Sequence[str] = (),
    method: Literal["auto", "asof", "window"] = "auto",
    unique_rows: bool = False,
) -> ir.Table:
    """``spine`` with the ``features`` of its latest feature row at each spine row's ``time``.

    Every spine row comes out once (duplicates included), with its own columns first and then the
    feature columns, null when no feature row of its key lies in ``[time - ttl, time]`` (``time``
    excluded with ``inclusive=False``). Null keys and null times never match. Row order is not kept.

    ``feature_rows`` may be several tables with the same key and time columns (one per feature
    view, each its own as-of match; ``ttl`` then one value or one per table): they share the
    spine's distinct points (and with ``window`` one sort), where chaining calls would make the
    second compute the first again for its points. ``features``
    picks columns (each from the one table that has it); by default every column but the key,
    ``feature_time`` and ``tiebreak``.

    Several rows of a table with the same key and ``feature_time``: the one with the greatest
    ``tiebreak`` columns (e.g. a created timestamp) wins, then the one with the greatest feature
    values (nulls lowest), so every backend picks the same row.

    ``method`` finds each point's latest row time: ``window`` with the union and running max above
    (any backend), ``asof`` with Ibis' ``asof_join`` (DuckDB's native ASOF JOIN, faster; Spark has
    none); ``auto`` takes ``asof`` on DuckDB and ``window`` elsewhere. Both give the same rows.

    ``unique_rows=True`` is the caller's word that no table holds two rows with the same key and
    ``feature_time`` (rows made by a group by on them, as daily feature batches are): no tie can
    arise, so ``asof`` joins every spine row with its feature row in one ASOF JOIN per table,
    with no distinct points, no join back and no tie-breaking window. Rows that break that word
    make the pick among tied rows arbitrary; every other result is the same.
    """
    tables = [feature_rows] if isinstance(feature_rows, ir.Table) else list(feature_rows)
    ttls = list(ttl) if isinstance(ttl, Sequence) else [ttl] * len(tables)
    if not tables or len(ttls) != len(tables):
        raise ValueError(f"{len(tables)} feature tables and {len(ttls)} ttls")
    keys = [key] if isinstance(key, str) else list(key)
    for t in tables:
        missing = sorted({*keys, feature_time} - set(t.columns))
        if missing:
            raise ValueError(f"feature rows lack columns {missing}")
    names = [[c for c in t.columns if c not in {*keys, feature_time, *tiebreak}
              and (features is None or c in features)] for t in tables]
    taken = [c for cols in names for c in cols]
    unknown = sorted(set(features or ()) - set(taken))
    if unknown:
        raise ValueError(f"no feature table has columns {unknown}")
    twice = sorted({c for c in taken if taken.count(c) > 1})
    if twice:
        raise ValueError(f"feature columns {twice} come from more than one table")
    clash = sorted(set(taken) & set(spine.columns))
    if clash:
        raise ValueError(f"feature columns {clash} are also spine columns: rename one side")

    ft_type = tables[0][feature_time].type()
    kn = [f"_k{i}" for i in range(len(keys))]
    pts = spine.select(*keys, time).distinct()
    key_types = [pts[k].type() for k in keys]

    def own(t: ir.Table, **more: ir.Value) -> dict[str, ir.Value]:  # a table's keys under our names and types
        return {**{n: t[k].cast(kt) for n, k, kt in zip(kn, keys, key_types, strict=True)}, **more}

    if method == "auto":
        method = "asof" if _backend_name(spine, *tables) in _NATIVE_ASOF else "window"
    if method == "asof" and unique_rows:
        return _direct_asof(spine, tables, names, ttls, own, time=time, feature_time=feature_time, ft_type=ft_type,
                            inclusive=inclusive)
    if method == "asof":
        latest = _latest_asof(pts, tables, own, time=time, feature_time=feature_time, ft_type=ft_type,
                              inclusive=inclusive)
    elif method == "window":
        latest = _latest_window(pts, tables, own, time=time, feature_time=feature_time, ft_type=ft_type,
                                inclusive=inclusive)
    else:
        raise ValueError(f"method {method!r}: expected auto, asof or window")

    # 3. per table, that row (one of tied rows, deterministically), then every spine row
    out = spine
    for (t, cols, table_ttl), points in zip(zip(tables, names, ttls, strict=True), latest, strict=True):
        found = points._latest.notnull()
        if table_ttl is not None:
            found = found & (points._latest >= points._t - _interval(table_ttl))
        hits = points.filter(found).select(*kn, "_t0", "_latest")
        ties = [c for c in tiebreak if c in t.columns]
        rows = t.select(**own(t, _ft=t[feature_time].cast(ft_type), **{f"_tb{j}": t[c] for j, c in enumerate(ties)},
                              **{f"_v{j}": t[c] for j, c in enumerate(cols)}))
        hit = hits.join(rows, [*(hits[n] == rows[n] for n in kn), hits._latest == rows._ft])
        order = [ibis.desc(hit[c], nulls_first=False) for c in (*(f"_tb{j}" for j in range(len(ties))),
                                                                 *(f"_v{j}" for j in range(len(cols))))
                 if not isinstance(hit[c].type(), _UNORDERABLE)]
        hit = hit.mutate(_rn=ibis.row_number().over(group_by=[*(hit[n] for n in kn), hit._t0], order_by=order))
        hit = hit.filter(hit._rn == 0).select(*kn, "_t0", *(f"_v{j}" for j in range(len(cols))))
        joined = out.left_join(hit, [*(out[k] == hit[n] for k, n in zip(keys, kn, strict=True)),
                                     out[time] == hit._t0])
        out = joined.select(*out.columns, **{c: joined[f"_v{j}"] for j, c in enumerate(cols)})
    return out


Own = Callable[..., dict[str, Any]]


def _direct_asof(spine: ir.Table, tables: list[ir.Table], names: list[list[str]], ttls: list[dt.timedelta | None],
                 own: Own, *, time: str, feature_time: str, ft_type: Any, inclusive: bool) -> ir.Table:
    """Every spine row ASOF-joined with each table's full rows: one pass per table when rows never tie."""
    out = spine.mutate(_t=spine[time].cast(ft_type))
    kn = list(own(spine))
    for t, cols, table_ttl in zip(tables, names, ttls, strict=True):
        rows = t.select(**{f"_r{n}": v for n, v in own(t).items()}, _ft=t[feature_time].cast(ft_type),
                        **{f"_v{j}": t[c] for j, c in enumerate(cols)})
        left = out.mutate(**own(out))
        on = left._t >= rows._ft if inclusive else left._t > rows._ft
        j = left.asof_join(rows, on=on, predicates=[left[n] == rows[f"_r{n}"] for n in kn])
        found = j._ft.notnull()
        if table_ttl is not None:
            found = found & (j._ft >= j._t - _interval(table_ttl))
        out = j.select(*out.columns, **{c: ibis.ifelse(found, j[f"_v{i}"], ibis.null(j[f"_v{i}"].type()))
                                        for i, c in enumerate(cols)})
    return out.drop("_t")


def _latest_window(pts: ir.Table, tables: list[ir.Table], own: Own, *, time: str, feature_time: str,
                   ft_type: Any, inclusive: bool) -> list[ir.Table]:
    """Per table: (keys, _t, _t0, _latest) of each point, from one union and one running max per table."""
    point_side, row_side = (1, 0) if inclusive else (0, 1)
    fts = [f"_ft{i}" for i in range(len(tables))]
    null_ft = ibis.null(ft_type)
    both = pts.select(**own(pts, _t=pts[time].cast(ft_type), _t0=pts[time], _side=ibis.literal(point_side, "int8"),
                            **dict.fromkeys(fts, null_ft)))
    for i, t in enumerate(tables):
        ft = t[feature_time].cast(ft_type)
        both = both.union(t.select(**own(t, _t=ft, _t0=ibis.null(pts[time].type()),
                                         _side=ibis.literal(row_side, "int8"),
                                         **{f: ft if j == i else null_ft for j, f in enumerate(fts)})), distinct=False)
    kn = [c for c in both.columns if c.startswith("_k")]
    window = ibis.cumulative_window(group_by=[both[n] for n in kn], order_by=[both._t, both._side])
    both = both.mutate(**{f"_latest{i}": both[f].max().over(window) for i, f in enumerate(fts)})
    points = both.filter(both._side == point_side, both._t.notnull())
    return [points.select(*kn, "_t", "_t0", _latest=points[f"_latest{i}"]) for i in range(len(tables))]


def _latest_asof(pts: ir.Table, tables: list[ir.Table], own: Own, *, time: str, feature_time: str,
                 ft_type: Any, inclusive: bool) -> list[ir.Table]:
    """Per table: (keys, _t, _t0, _latest) of each point, from the backend's ASOF JOIN."""
    left = pts.select(**own(pts, _t=pts[time].cast(ft_type), _t0=pts[time]))
    kn = [c for c in left.columns if c.startswith("_k")]
    out = []
    for t in tables:
        right = t.select(**{f"_r{n}": v for n, v in own(t).items()}, _latest=t[feature_time].cast(ft_type))
        on = left._t >= right._latest if inclusive else left._t > right._latest
        j = left.asof_join(right, on=on, predicates=[left[n] == right[f"_r{n}"] for n in kn])
        out.append(j.select(*kn, "_t", "_t0", "_latest"))
    return out
