"""One code path, two engines: every shipped view gives the same features on DuckDB and on Spark.

A small simulated world is written once; for every view a spine of decision points is sampled
from the view's own events (so events AT the decision time exist and must be left out, both
engines alike), plus points moved a microsecond to a month away from an event. Both engines run
the same `view_features` expression; rows must match one for one: integers, strings, booleans,
timestamps and nulls exactly, floats to a relative 1e-9 (the engines sum in different orders).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import zlib
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features import engines
from cryptoscope.features.offline import events, point_in_time, view_features
from cryptoscope.features.spec import window_delta
from cryptoscope.features.views import VIEWS
from cryptoscope.lake import Lake
from cryptoscope.schema import TABLES
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate

# pyspark 4.0 and ibis 12 still call pandas APIs that pandas 3 deprecates: noise, not our code
pytestmark = [pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
              pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")]

EXACT_POINTS = 200  # decision time = an event's time: that event (and any at the same instant) is excluded
MOVED_POINTS = 100
#: Moves around an event: at window edges by a microsecond, inside windows, and past the 30-day windows.
MOVES = tuple(dt.timedelta(**kw) for kw in (
    {"microseconds": 1}, {"microseconds": -1}, {"seconds": 1}, {"minutes": 7}, {"minutes": -7},
    {"hours": 3}, {"hours": 1}, {"hours": 24}, {"days": 7}, {"days": 31}))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """1,500 users over three weeks, fraud three times as common: every view has events."""
    lake = Lake(tmp_path_factory.mktemp("parity") / "lake")
    simulate(SimConfig(users=1_500, days=21, seed=29, fraud_scale=3.0), lake)
    return lake


@pytest.fixture(scope="module")
def cons(lake: Lake, spark_session: Any) -> dict[str, Any]:
    # engines.connect is what --engine calls; for Spark it picks up the running session above.
    return {"duckdb": engines.connect(lake, "duckdb"), "spark": engines.connect(lake, "spark")}


def spine(con: Any, view_name: str) -> tuple[pa.Table, dict[Any, list[dt.datetime]]]:
    """Up to EXACT_POINTS + MOVED_POINTS distinct (key, decision_time), sampled the same way every run.

    Also returns every key's sorted event times, for a brute-force count to check against.
    """
    view = VIEWS[view_name]
    ev = events(con, view).select(view.key, "event_time").to_pyarrow()
    ev = ev.sort_by([(view.key, "ascending"), ("event_time", "ascending")])
    assert ev.num_rows > 0, f"{view_name}: the simulated world has no events for this view"
    rng = np.random.default_rng(zlib.crc32(view_name.encode()))
    keys, times = ev.column(view.key).to_pylist(), ev.column("event_time").to_pylist()
    exact = rng.choice(len(keys), size=min(EXACT_POINTS, len(keys)), replace=False)
    moved = rng.choice(len(keys), size=min(MOVED_POINTS, len(keys)), replace=False)
    points = {(keys[i], times[i]) for i in exact}
    points |= {(keys[i], times[i] + MOVES[j % len(MOVES)]) for j, i in enumerate(moved)}
    ordered = sorted(points)
    history: dict[Any, list[dt.datetime]] = {}
    for k, t in zip(keys, times, strict=True):
        history.setdefault(k, []).append(t)
    return pa.table({view.key: pa.array([k for k, _ in ordered], ev.schema.field(view.key).type),
                     "decision_time": pa.array([t for _, t in ordered], pa.timestamp("us", tz="UTC"))}), history


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return bool(a == b) and type(a) is type(b)


def assert_same_rows(what: str, left: pa.Table, right: pa.Table, order: list[str]) -> None:
    """Row by row after sorting by ``order``; a failure names the view, the column, the row and both values."""
    assert left.column_names == right.column_names, f"{what}: columns {left.column_names} != {right.column_names}"
    for name in left.column_names:
        lt, rt = left.schema.field(name).type, right.schema.field(name).type
        assert lt == rt, f"{what}.{name}: type {lt} on duckdb, {rt} on spark"
    assert left.num_rows == right.num_rows, f"{what}: {left.num_rows} rows on duckdb, {right.num_rows} on spark"
    keys = [(c, "ascending") for c in order]
    lrows, rrows = left.sort_by(keys).to_pylist(), right.sort_by(keys).to_pylist()
    problems: list[str] = []
    for lrow, rrow in zip(lrows, rrows, strict=True):
        at = ", ".join(f"{c}={lrow[c]}" for c in order)
        if any(lrow[c] != rrow[c] for c in order):
            problems.append(f"{what}: row order differs at ({at}) vs ({', '.join(str(rrow[c]) for c in order)})")
            continue
        for name in left.column_names:
            if not same(lrow[name], rrow[name]):
                problems.append(f"{what}.{name} at ({at}): duckdb={lrow[name]!r} spark={rrow[name]!r}")
    assert not problems, f"{len(problems)} differences, first ones:\n" + "\n".join(problems[:15])


@pytest.mark.parametrize("view_name", list(VIEWS))
def test_view_features_same_on_duckdb_and_spark(cons: dict[str, Any], view_name: str) -> None:
    view = VIEWS[view_name]
    points, history = spine(cons["duckdb"], view_name)
    out = {name: view_features(con, view, ibis.memtable(points)).to_pyarrow() for name, con in cons.items()}
    assert out["duckdb"].num_rows == len(set(zip(*points.to_pydict().values(), strict=True)))
    assert_same_rows(view_name, out["duckdb"], out["spark"], [view.key, "decision_time"])
    # Equal is not enough if both are wrong the same way: a plain count over the longest window against
    # brute force, which also shows that an event AT the decision time is left out.
    plain = next((a for a in view.aggs if a.fn == "count" and not a.where), None)
    if plain is not None:
        window = max(view.windows, key=window_delta)
        column = f"{plain.name}_{window}"
        for row in out["duckdb"].to_pylist():
            times, t = history.get(row[view.key], []), row["decision_time"]
            expected = bisect.bisect_left(times, t) - bisect.bisect_left(times, t - window_delta(window))
            assert row[column] == expected, f"{view_name}.{column} at {row[view.key]}, {t}: {row[column]} != {expected}"


def test_point_in_time_on_labels_same_on_duckdb_and_spark(cons: dict[str, Any]) -> None:
    """The labels table itself as the spine, read from the lake by each engine; every user-keyed view."""
    views = [v for v in VIEWS.values() if v.key == "user_id"]
    out = {}
    for name, con in cons.items():
        labels = con.table("labels")
        labels = labels.filter(labels.user_id.notnull()).select("label_id", "user_id", "decision_time", "label_type",
                                                                 "label")
        out[name] = point_in_time(con, views, labels).to_pyarrow()
    assert out["duckdb"].num_rows > 0, "the simulated world has no labels"
    assert_same_rows("point_in_time(labels)", out["duckdb"], out["spark"], ["label_id"])


def test_every_table_has_the_same_schema_on_both_engines(cons: dict[str, Any], spark_session: Any,
                                                         tmp_path: Any) -> None:
    """Types, time zones and nullability of every canonical table, for a full lake and an empty one."""
    from cryptoscope.lake.spark import connect_spark

    empty = Lake(tmp_path / "empty")
    # a new session of the same Spark context: its own temporary views, so `cons` keeps the full lake
    pairs = {"simulated": (cons["duckdb"], cons["spark"]),
             "empty": (engines.connect(empty, "duckdb"), connect_spark(empty, session=spark_session.newSession()))}
    for lake_name, (duck, spark) in pairs.items():
        for name in TABLES:
            d = [(c, str(t), t.nullable) for c, t in duck.table(name).schema().items()]
            s = [(c, str(t), t.nullable) for c, t in spark.table(name).schema().items()]
            assert d == s, f"{lake_name} lake, table {name}: duckdb {d} != spark {s}"
    assert pairs["empty"][1].table("payments").count().execute() == 0


def test_unknown_engine_is_a_clear_error(tmp_path: Any) -> None:
    with pytest.raises(CryptoscopeError, match=r"unknown engine 'flink'.*duckdb, spark"):
        engines.connect(Lake(tmp_path / "lake"), "flink")


def test_spark_master_comes_from_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptoscope.lake.spark import MASTER_ENV, resolve_master

    monkeypatch.delenv(MASTER_ENV, raising=False)
    assert resolve_master() == "local[2]"
    monkeypatch.setenv(MASTER_ENV, "spark://cluster:7077")
    assert resolve_master() == "spark://cluster:7077"
    assert resolve_master("local[4]") == "local[4]"
