"""The point-in-time as-of join: hand-made cases, a property test against a brute-force join, Spark."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptoscope.features.asof import asof_features

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
TS = pa.timestamp("us", tz="UTC")
_counter = itertools.count()


def at(minutes: int | None) -> dt.datetime | None:
    return None if minutes is None else T0 + dt.timedelta(minutes=minutes)


def spine_table(rows: list[tuple[int | None, int | None]]) -> pa.Table:
    return pa.table({"user_id": pa.array([r[0] for r in rows], pa.int64()),
                     "decision_time": pa.array([at(r[1]) for r in rows], TS),
                     "row": pa.array(range(len(rows)), pa.int64())})


def feature_table(rows: list[tuple[int | None, int | None, float | None, int | None]]) -> pa.Table:
    return pa.table({"user_id": pa.array([r[0] for r in rows], pa.int64()),
                     "event_time": pa.array([at(r[1]) for r in rows], TS),
                     "x": pa.array([r[2] for r in rows], pa.float64()),
                     "n": pa.array([r[3] for r in rows], pa.int64())})


@pytest.fixture(scope="module")
def con() -> Any:
    c = ibis.duckdb.connect()
    c.raw_sql("SET TimeZone = 'UTC'")
    return c


def run(con: Any, spine: pa.Table, rows: pa.Table, **kw: Any) -> dict[int, tuple[Any, ...]]:
    """{spine row number: (x, n)} from asof_features on ``con``, the same every way.

    Rows with no tied (key, time) also go through the one-pass ``unique_rows`` path."""
    i = next(_counter)
    s = con.create_table(f"spine_{i}", spine, overwrite=True)
    f = con.create_table(f"rows_{i}", rows, overwrite=True)
    ways: list[dict[str, Any]] = [{"method": "window"}, {"method": "asof"}]
    pairs = [(r["user_id"], r["event_time"]) for r in rows.select(["user_id", "event_time"]).to_pylist()]
    if len(set(pairs)) == len(pairs):
        ways.append({"method": "asof", "unique_rows": True})
    got = []
    for way in ways:
        out = con.to_pyarrow(asof_features(s, f, "user_id", **way, **kw)).to_pylist()
        assert len(out) == spine.num_rows
        assert not out or list(out[0]) == [*spine.column_names, *kw.get("features", ["x", "n"])]
        got.append({r["row"]: (r["x"], r["n"]) for r in out})
    assert all(g == got[0] for g in got)
    return got[0]


def brute(spine: pa.Table, rows: pa.Table, *, ttl: dt.timedelta | None, inclusive: bool = True) -> dict[int, tuple]:
    """The definition, one spine row at a time."""
    out = {}
    feats = rows.to_pylist()
    for s in spine.to_pylist():
        t = s["decision_time"]
        cands = [] if s["user_id"] is None or t is None else [
            r for r in feats if r["user_id"] == s["user_id"] and r["event_time"] is not None
            and (r["event_time"] <= t if inclusive else r["event_time"] < t)
            and (ttl is None or r["event_time"] >= t - ttl)]
        if not cands:
            out[s["row"]] = (None, None)
            continue
        latest = max(r["event_time"] for r in cands)
        tied = [r for r in cands if r["event_time"] == latest]
        best = max(tied, key=lambda r: tuple((r[c] is not None, r[c] or 0) for c in ("x", "n")))
        out[s["row"]] = (best["x"], best["n"])
    return out


def test_latest_row_within_ttl(con: Any) -> None:
    spine = spine_table([(1, 0), (1, 60), (1, 120), (1, 600), (2, 60), (3, 60), (None, 60), (1, None), (1, 60)])
    rows = feature_table([(1, 10, 1.0, 1), (1, 60, 2.0, 2), (1, 90, 3.0, None), (2, 0, 4.0, 4), (None, 50, 9.0, 9),
                          (1, None, 8.0, 8)])
    got = run(con, spine, rows, ttl=dt.timedelta(minutes=60))
    assert got == {
        0: (None, None),  # nothing yet
        1: (2.0, 2),  # a row at the decision time itself counts (inclusive)
        2: (3.0, None),  # latest row wins even with a null value
        3: (None, None),  # the latest row (90) is older than the TTL
        4: (4.0, 4),  # exactly decision_time - ttl is still inside
        5: (None, None),  # an entity with no rows
        6: (None, None),  # null keys never match
        7: (None, None),  # nor null times
        8: (2.0, 2),  # duplicate spine rows both come out
    }
    assert got == brute(spine, rows, ttl=dt.timedelta(minutes=60))


def test_strict_and_no_ttl(con: Any) -> None:
    spine = spine_table([(1, 60), (1, 61), (1, 10_000)])
    rows = feature_table([(1, 10, 1.0, 1), (1, 60, 2.0, 2)])
    assert run(con, spine, rows, ttl=None, inclusive=False) == {0: (1.0, 1), 1: (2.0, 2), 2: (2.0, 2)}
    assert run(con, spine, rows, ttl=dt.timedelta(minutes=1), inclusive=False) == {0: (None, None), 1: (2.0, 2),
                                                                                   2: (None, None)}


def test_tied_feature_rows_pick_one_deterministically(con: Any) -> None:
    spine = spine_table([(1, 60)])
    rows = feature_table([(1, 30, 1.0, 7), (1, 30, 5.0, 1), (1, 30, None, 9)])
    assert run(con, spine, rows, ttl=None) == {0: (5.0, 1)}  # greatest values, nulls lowest
    created = rows.append_column("created", pa.array([at(3), at(1), at(2)], TS))
    assert run(con, spine, created, ttl=None, features=["x", "n"], tiebreak=["created"]) == {0: (1.0, 7)}


def test_rejects_feature_names_that_clash_with_the_spine(con: Any) -> None:
    s = con.create_table("clash_spine", spine_table([(1, 0)]), overwrite=True)
    f = con.create_table("clash_rows", feature_table([(1, 0, 1.0, 1)]).rename_columns(["user_id", "event_time",
                                                                                        "row", "n"]), overwrite=True)
    with pytest.raises(ValueError, match="also spine columns"):
        asof_features(s, f, "user_id", ttl=None)


def test_several_feature_tables_share_one_pass(con: Any) -> None:
    spine = spine_table([(1, 60), (2, 60), (1, 5)])
    a = feature_table([(1, 10, 1.0, 1), (2, 0, 4.0, 4)])
    b = feature_table([(1, 50, 7.0, 7), (2, 59, 8.0, 8)]).rename_columns(["user_id", "event_time", "y", "m"])
    s = con.create_table("multi_spine", spine, overwrite=True)
    fa, fb = con.create_table("multi_a", a, overwrite=True), con.create_table("multi_b", b, overwrite=True)
    for method, unique in (("window", False), ("asof", False), ("asof", True)):
        out = con.to_pyarrow(asof_features(s, [fa, fb], "user_id", ttl=[None, dt.timedelta(minutes=30)],
                                           method=method, unique_rows=unique)).to_pylist()
        assert {r["row"]: (r["x"], r["n"], r["y"], r["m"]) for r in out} == {
            0: (1.0, 1, 7.0, 7), 1: (4.0, 4, 8.0, 8), 2: (None, None, None, None)}
    with pytest.raises(ValueError, match="more than one table"):
        asof_features(s, [fa, fa], "user_id", ttl=None)


_key = st.one_of(st.none(), st.integers(0, 2))
_minute = st.one_of(st.none(), st.integers(0, 30))
_spine_rows = st.lists(st.tuples(_key, _minute), max_size=12)
_feature_rows = st.lists(st.tuples(_key, _minute, st.one_of(st.none(), st.sampled_from([0.5, 1.0, 2.0])),
                                   st.one_of(st.none(), st.integers(0, 3))), max_size=15)


@settings(max_examples=50, deadline=None)
@given(_spine_rows, _feature_rows, st.one_of(st.none(), st.integers(1, 20)), st.booleans())
def test_equals_brute_force(con: Any, spine_rows: list, rows: list, ttl_minutes: int | None, inclusive: bool) -> None:
    spine, feats = spine_table(spine_rows), feature_table(rows)
    ttl = None if ttl_minutes is None else dt.timedelta(minutes=ttl_minutes)
    assert run(con, spine, feats, ttl=ttl, inclusive=inclusive) == brute(spine, feats, ttl=ttl, inclusive=inclusive)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None and "CI" not in os.environ, reason="Spark needs a JVM")
def test_same_answer_on_pyspark(tmp_path: Any) -> None:
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[1]").appName("asof-test")
               .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "1").config("spark.sql.warehouse.dir", str(tmp_path))
               .getOrCreate())
    spark = ibis.pyspark.connect(session)
    spine = spine_table([(1, 0), (1, 60), (1, 120), (1, 600), (2, 60), (3, 60), (None, 60), (1, None), (1, 60)])
    rows = feature_table([(1, 10, 1.0, 1), (1, 60, 2.0, 2), (1, 90, 3.0, None), (2, 0, 4.0, 4), (1, 30, 5.0, 1),
                          (1, 30, 6.0, 1), (1, None, 8.0, 8)])
    for name, table, schema in (("asof_spine", spine, "user_id long, decision_time timestamp, row long"),
                                ("asof_rows", rows, "user_id long, event_time timestamp, x double, n long")):
        session.createDataFrame([tuple(r.values()) for r in table.to_pylist()], schema).createOrReplaceTempView(name)
    for ttl, inclusive in ((dt.timedelta(minutes=60), True), (None, False)):
        expr = asof_features(spark.table("asof_spine"), spark.table("asof_rows"), "user_id", ttl=ttl,
                             inclusive=inclusive)
        got = {r["row"]: (r["x"], r["n"]) for r in spark.to_pyarrow(expr).to_pylist()}
        assert got == brute(spine, rows, ttl=ttl, inclusive=inclusive)
