"""Point-in-time (as-of) joins of precomputed feature rows, as Ibis expressions any backend runs.

A feature store keeps feature *rows*: values of an entity as of a time (a daily snapshot, a
per-event value). A training set needs, for every labelled decision, the latest such row that was
already known at the decision time and is not older than a time-to-live:

    feature_time <= decision_time              (``<`` with ``inclusive=False``)
    feature_time >= decision_time - ttl        (no lower bound with ``ttl=None``)

`asof_features` does this with a union and one cumulative window instead of a range join, so its
cost grows with the number of rows, not with rows times the history each entity has in the TTL:

1. the distinct (key, decision time) points and the feature rows' (key, time) go in one column,
   ordered by key and time (at equal times feature rows first when inclusive, last when not);
2. a running ``max(feature_time)`` per key gives each point the time of its latest row;
3. the point joins the feature row with that key and time (an equi-join), then the spine.

Everything is a plain union, window function and equi-join, so DuckDB and Spark run the same
expression (a test runs it on both).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.datatypes as dtypes
import ibis.expr.types as ir

_UNORDERABLE = (dtypes.Array, dtypes.Map, dtypes.Struct, dtypes.JSON)


def _interval(ttl: dt.timedelta) -> ir.IntervalScalar:
    micros = ttl // dt.timedelta(microseconds=1)
    if micros <= 0:
        raise ValueError(f"ttl must be positive, got {ttl}")
    if micros % 1_000_000 == 0:
        return ibis.interval(seconds=micros // 1_000_000)
    return ibis.interval(microseconds=micros)


def asof_features(
    spine: ir.Table,
    feature_rows: ir.Table,
    key: str | Sequence[str],
    *,
    ttl: dt.timedelta | None,
    inclusive: bool = True,
    time: str = "decision_time",
    feature_time: str = "event_time",
    features: Sequence[str] | None = None,
    tiebreak: Sequence[str] = (),
) -> ir.Table:
    """``spine`` with the ``features`` of its latest feature row at each spine row's ``time``.

    Every spine row comes out once (duplicates included), with its own columns first and then the
    feature columns, null when no feature row of its key lies in ``[time - ttl, time]`` (``time``
    excluded with ``inclusive=False``). Null keys and null times never match. Row order is not kept.

    Several feature rows with the same key and ``feature_time``: the one with the greatest
    ``tiebreak`` columns (e.g. a created timestamp) wins, then the one with the greatest feature
    values (nulls lowest), so every backend picks the same row.
    """
    keys = [key] if isinstance(key, str) else list(key)
    names = list(features) if features is not None else [
        c for c in feature_rows.columns if c not in {*keys, feature_time}]
    clash = sorted(set(names) & set(spine.columns))
    if clash:
        raise ValueError(f"feature columns {clash} are also spine columns: rename one side")
    missing = sorted({*keys, feature_time, *tiebreak, *names} - set(feature_rows.columns))
    if missing:
        raise ValueError(f"feature rows lack columns {missing}")

    ft_type = feature_rows[feature_time].type()
    spine_t_type = spine[time].type()
    point_side, row_side = (1, 0) if inclusive else (0, 1)
    kn = [f"_k{i}" for i in range(len(keys))]

    # 1. points and feature-row times in one ordered column per key
    pts = spine.select(*keys, time).distinct()
    left = pts.select(**{n: pts[k] for n, k in zip(kn, keys, strict=True)},
                      _t=pts[time].cast(ft_type), _t0=pts[time],
                      _side=ibis.literal(point_side, "int8"), _ft=ibis.null(ft_type))
    right = feature_rows.select(**{n: feature_rows[k].cast(pts[k].type()) for n, k in zip(kn, keys, strict=True)},
                                _t=feature_rows[feature_time], _t0=ibis.null(spine_t_type),
                                _side=ibis.literal(row_side, "int8"), _ft=feature_rows[feature_time])
    both = left.union(right, distinct=False)

    # 2. the time of the latest feature row at or before each point
    window = ibis.cumulative_window(group_by=[both[n] for n in kn], order_by=[both._t, both._side])
    both = both.mutate(_latest=both._ft.max().over(window))
    points = both.filter(both._side == point_side, both._t.notnull(), both._latest.notnull())
    if ttl is not None:
        points = points.filter(points._latest >= points._t - _interval(ttl))
    points = points.select(*kn, "_t0", "_latest")

    # 3. that feature row (one of tied rows, deterministically), then every spine row
    rows = feature_rows.select(**{n: feature_rows[k].cast(pts[k].type()) for n, k in zip(kn, keys, strict=True)},
                               _ft=feature_rows[feature_time],
                               **{f"_tb{i}": feature_rows[c] for i, c in enumerate(tiebreak)},
                               **{f"_v{i}": feature_rows[c] for i, c in enumerate(names)})
    hit = points.join(rows, [*(points[n] == rows[n] for n in kn), points._latest == rows._ft])
    order = [ibis.desc(hit[c], nulls_first=False) for c in hit.columns
             if c.startswith(("_tb", "_v")) and not isinstance(hit[c].type(), _UNORDERABLE)]
    hit = hit.mutate(_rn=ibis.row_number().over(group_by=[*(hit[n] for n in kn), hit._t0], order_by=order))
    hit = hit.filter(hit._rn == 0).select(*kn, "_t0", *(f"_v{i}" for i in range(len(names))))

    out = spine.left_join(hit, [*(spine[k] == hit[n] for k, n in zip(keys, kn, strict=True)), spine[time] == hit._t0])
    return out.select(*spine.columns, **{name: out[f"_v{i}"] for i, name in enumerate(names)})
