"""The online state gives the offline features, event by event, and survives a restart.

The parity test replays a simulated world (every source table the shipped views read, merged
into one stream in time order) through `OnlineFeatureState` and, just before the first event at or
after each sampled decision time, asks for the features; `view_features` computes the same points
offline with DuckDB. Smaller tests pin the edges against a brute-force reference written straight
from the spec: window bounds, equal timestamps, late events, nulls, every condition operator.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptoscope.features.offline import view_features
from cryptoscope.features.online import OnlineFeatureState
from cryptoscope.features.online_store import RedisStateStore
from cryptoscope.features.online_window import compile_cond, to_micros
from cryptoscope.features.spec import Agg, Cond, Derived, FeatureView, Source, eq, isin, ratio, window_delta
from cryptoscope.features.views import VIEWS
from cryptoscope.lake import Lake, connect
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate

US = 1_000_000
Event = tuple[int, str, dict[str, Any]]  # (event time µs, table, row)


# -- the simulated world, as one stream ---------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[Event]]:
    """1,000 users x 14 days (fraud three times as common): the lake's connection and its event stream."""
    lake = Lake(tmp_path_factory.mktemp("online") / "lake")
    simulate(SimConfig(users=1_000, days=14, seed=29, chunk_users=1_000, fraud_scale=3.0), lake)
    con = connect(lake)
    tables = sorted({src.table for view in VIEWS.values() for src in view.sources})
    stream: list[tuple[int, int, int, str, dict[str, Any]]] = []
    for ti, name in enumerate(tables):
        for ri, row in enumerate(con.table(name).to_pyarrow().to_pylist()):
            stream.append((to_micros(row["event_time"]), ti, ri, name, row))
    stream.sort(key=lambda e: e[:3])
    return con, [(t, name, row) for t, _, _, name, row in stream]


def view_events(view: FeatureView, stream: list[Event]) -> list[tuple[int, int, Any]]:
    """(stream index, event time, key) of every row the view sees, projected as the spec says."""
    out = []
    for i, (t, table, row) in enumerate(stream):
        for src in view.sources:
            if src.table == table and all(c.evaluate(row) for c in src.where):
                spec = src.columns.get(view.key, view.key)
                key = row[spec] if isinstance(spec, str) else spec(row)
                if key is not None:
                    out.append((i, t, key))
    return out


def sample_points(view: FeatureView, stream: list[Event], rng: random.Random, n: int = 150) -> list[tuple[Any, int]]:
    """(key, decision time µs) from real events of the view: at an event, on window edges, shifted."""
    events = view_events(view, stream)
    widths = [int(window_delta(w).total_seconds()) * US for w in view.windows]
    shifts = [0, 0, 0, 1, -1, US // 2, 3_600 * US, *widths, *(w + 1 for w in widths), *(w - 1 for w in widths)]
    points = set()
    for _, t, key in rng.sample(events, min(n - 3, len(events))):
        shift = rng.choice(shifts) if rng.random() < 0.7 else rng.randrange(max(widths))
        points.add((key, t + shift))
    missing = -424242 if isinstance(events[0][2], int) else "no-such-key"
    points.update((missing, events[k][1] + 1) for k in (0, len(events) // 2, -1))
    return sorted(points, key=lambda p: p[1])


def same(online: Any, offline: Any) -> bool:
    """Ints exactly, floats to 1e-9 relative, None == null."""
    if online is None or offline is None:
        return online is None and offline is None
    if isinstance(offline, float) or isinstance(online, float):
        return math.isclose(online, offline, rel_tol=1e-9)
    return type(online) is type(offline) and online == offline


def test_parity_with_offline_on_a_simulated_world(world: tuple[Any, list[Event]]) -> None:
    con, stream = world
    rng = random.Random(5)
    points = {name: sample_points(view, stream, rng) for name, view in VIEWS.items()}
    queue = sorted(((d, name, key) for name, pts in points.items() for key, d in pts), key=lambda q: q[0])

    state = OnlineFeatureState()
    online: dict[tuple[str, Any, int], dict[str, Any]] = {}
    i = 0
    for d, name, key in queue:
        while i < len(stream) and stream[i][0] < d:
            state.update(stream[i][1], stream[i][2])
            i += 1
        at = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=d)
        online[name, key, d] = state.get(name, key, at)

    mismatches = []
    for name, view in VIEWS.items():
        keys, times = zip(*points[name], strict=True)
        spine = pa.table({view.key: pa.array(keys, pa.int64() if isinstance(keys[0], int) else pa.string()),
                          "decision_time": pa.array(times, pa.int64()).cast(pa.timestamp("us", tz="UTC"))})
        offline = view_features(con, view, ibis.memtable(spine)).to_pyarrow().to_pylist()
        assert len(offline) == len(points[name])
        for row in offline:
            got = online[name, row[view.key], to_micros(row["decision_time"])]
            assert list(got) == view.feature_names()
            mismatches += [(name, row[view.key], row["decision_time"], f, got[f], row[f])
                           for f in view.feature_names() if not same(got[f], row[f])]
    assert not mismatches, f"{len(mismatches)} differences, first: {mismatches[:10]}"


# -- eviction -------------------------------------------------------------------------------------------


def test_eviction_keeps_exactly_the_longest_window(world: tuple[Any, list[Event]]) -> None:
    """After any event, each entity holds exactly its rows in [newest - longest window, newest]."""
    _, stream = world
    per_view = {name: view_events(view, stream) for name, view in VIEWS.items()}
    state = OnlineFeatureState()
    checkpoints = set(range(0, len(stream), len(stream) // 9)) | {len(stream) - 1}
    for i, (_, table, row) in enumerate(stream):
        state.update(table, row)
        if i not in checkpoints:
            continue
        clock = stream[i][0]
        for name, view in VIEWS.items():
            horizon = clock - int(view.longest.total_seconds()) * US
            expected = Counter(key for j, t, key in per_view[name] if j <= i and t >= horizon)
            assert state.stored_rows(name) == expected, f"{name} after event {i}"


# -- persistence --------------------------------------------------------------------------------------


def probes(state: OnlineFeatureState, rng: random.Random) -> list[tuple[str, Any, int]]:
    """Live keys of every view (and a missing one), asked now, an hour and three days later."""
    assert state.clock is not None
    clock = to_micros(state.clock)
    out = []
    for name in state.views:
        keys = sorted(state.stored_rows(name), key=repr)
        for key in [*rng.sample(keys, min(40, len(keys))), "no-such-key"]:
            out += [(name, key, clock + 1), (name, key, clock + 3_600 * US), (name, key, clock + 3 * 86_400 * US)]
    return out


def answers(state: OnlineFeatureState, points: list[tuple[str, Any, int]]) -> list[dict[str, Any]]:
    return [state.get(name, key, at) for name, key, at in points]


def check_round_trip(world: tuple[Any, list[Event]], save: Any, load: Any) -> None:
    """Saved halfway and at the end: the loaded state answers like the original, also after more events."""
    _, stream = world
    half = len(stream) // 2
    original = OnlineFeatureState()
    for _, table, row in stream[:half]:
        original.update(table, row)
    save(original)
    loaded = load()
    assert loaded.clock == original.clock
    assert {n: loaded.stored_rows(n) for n in VIEWS} == {n: original.stored_rows(n) for n in VIEWS}
    for _, table, row in stream[half:]:
        original.update(table, row)
        loaded.update(table, row)
    pts = probes(original, random.Random(3))
    assert answers(loaded, pts) == answers(original, pts)
    assert {n: loaded.stored_rows(n) for n in VIEWS} == {n: original.stored_rows(n) for n in VIEWS}
    save(original)
    again = load()
    assert answers(again, pts) == answers(original, pts)


def test_sqlite_snapshot_round_trip(world: tuple[Any, list[Event]], tmp_path: Path) -> None:
    path = tmp_path / "state" / "online.sqlite"
    check_round_trip(world, lambda s: s.snapshot(path), lambda: OnlineFeatureState.restore(path))
    assert [p.name for p in path.parent.iterdir()] == ["online.sqlite"]  # no temporary files left


def test_failed_snapshot_leaves_the_previous_one(tmp_path: Path) -> None:
    path = tmp_path / "online.sqlite"
    state = OnlineFeatureState([VIEWS["user_payments"]])
    row = {"user_id": 1, "event_time": 1_700_000_000 * US, "status": "ok", "direction": "deposit",
           "method": "card", "amount_usd": 5.0, "instrument_hash": "c1", "instrument_country": "DE"}
    state.update("payments", row)
    state.snapshot(path)
    state.update("payments", {**row, "event_time": row["event_time"] + 1, "instrument_hash": object()})
    with pytest.raises(TypeError):  # an unsavable value: JSON refuses it halfway through the write
        state.snapshot(path)
    assert [p.name for p in tmp_path.iterdir()] == ["online.sqlite"]
    restored = OnlineFeatureState.restore(path, [VIEWS["user_payments"]])
    assert restored.stored_rows("user_payments") == {1: 1}


def test_restore_refuses_a_changed_view(tmp_path: Path) -> None:
    path = tmp_path / "online.sqlite"
    OnlineFeatureState([VIEWS["user_payments"]]).snapshot(path)
    changed = FeatureView(**{**VIEWS["user_payments"].__dict__, "windows": ("24h", "30d", "90d")})
    with pytest.raises(ValueError, match="changed since the snapshot"):
        OnlineFeatureState.restore(path, [changed])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, in its own directory, stopped afterwards."""
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (CI installs Debian's redis-server)")
        pytest.skip("redis-server is not installed")
    workdir = tmp_path_factory.mktemp("redis")
    for _ in range(5):  # another process may take the port between the probe and the bind
        port = _free_port()
        proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
                                 "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            proc.kill()  # exited (port taken?) or never listened: try another port
            proc.wait(timeout=10)
            continue
        break
    else:
        pytest.fail("redis-server did not start")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_redis_round_trip(world: tuple[Any, list[Event]], redis_url: str) -> None:
    store = RedisStateStore(redis_url, prefix="test:online")
    try:
        check_round_trip(world, lambda s: s.save_to(store), lambda: OnlineFeatureState.load_from(store))
        gen = store.client.get("test:online:current")
        assert sorted(store.client.keys("test:online:*")) == sorted(  # the replaced generation is gone
            ["test:online:current", f"test:online:{gen}:meta", *(f"test:online:{gen}:view:{n}" for n in VIEWS)])
    finally:
        store.client.flushdb()
        store.close()


# -- the edges, against a reference written straight from the spec ----------------------------------------

TOY = FeatureView(
    name="toy", entity="user", key="user_id",
    sources=(Source("pay", where=(Cond("kind", "!=", "test"),)),
             Source("pay2", columns={"user_id": "payer", "amount": lambda r: r["qty"] * r["price"]})),
    windows=("1h", "6h", "2d"),
    aggs=(Agg("n", "count"), Agg("big", "count", where=(Cond("amount", ">", 50.0),)),
          Agg("small_share", "share", where=(Cond("amount", "<=", 10.0),)),
          Agg("total", "sum", "amount"), Agg("mean", "mean", "amount"), Agg("sd", "std", "amount"),
          Agg("lo", "min", "amount", where=(Cond("amount", ">=", 5.0),)), Agg("hi", "max", "amount"),
          Agg("tags", "nunique", "tag", where=(isin("tag", ("a", "b", "c")), Cond("amount", "<", 90.0))),
          Agg("other_tags", "count", where=(Cond("tag", "not in", ("a",)),)),
          Agg("since_a", "since_last", where=(eq("tag", "a"),))),
    derived=(Derived("n_ratio", ("n_1h", "n_2d"), ratio),))


def reference(view: FeatureView, events: list[tuple[str, dict[str, Any]]], key: Any, at: int) -> dict[str, Any]:
    """The spec, literally: every event, projected, filtered and aggregated from scratch."""
    rows = []
    for table, row in events:
        for src in view.sources:
            if src.table != table or not all(c.evaluate(row) for c in src.where):
                continue
            proj = {}
            for name in [view.key, *view.input_columns()]:
                spec = src.columns.get(name, name)
                try:
                    proj[name] = row[spec] if isinstance(spec, str) else spec(row)
                except TypeError:
                    proj[name] = None
            if proj[view.key] is not None and proj[view.key] == key:
                rows.append((to_micros(row["event_time"]), proj))
    out: dict[str, Any] = {}
    for a in view.aggs:
        for w in view.windows:
            lo = at - int(window_delta(w).total_seconds()) * US
            window = [(t, p) for t, p in rows if lo <= t < at]
            hits = [(t, p) for t, p in window if all(c.evaluate(p) for c in a.where)]
            vals = [p[a.column] for _, p in hits if p[a.column] is not None] if a.column else []
            out[f"{a.name}_{w}"] = aggregate(a.fn, at, window, hits, vals)
    for d in view.derived:
        out[d.name] = d.fn(*(out[c] for c in d.inputs))
    return out


def aggregate(fn: str, at: int, window: list[Any], hits: list[tuple[int, Any]], vals: list[Any]) -> Any:
    if fn == "count":
        return len(hits)
    if fn == "share":
        return len(hits) / len(window) if window else None
    if fn == "since_last":
        return at // US - max(t for t, _ in hits) // US if hits else None
    if fn == "sum":
        return math.fsum(vals)
    if fn == "nunique":
        return len(set(vals))
    if fn == "std":
        return statistics.stdev(vals) if len(vals) > 1 else None
    if not vals:
        return None
    return {"mean": statistics.fmean, "min": min, "max": max}[fn](vals)


amounts = st.one_of(st.none(), st.sampled_from([0.5, 5.0, 10.0, 10.5, 50.0, 77.25, 90.0, 1e6]))
toy_events = st.lists(st.tuples(
    st.integers(0, 3 * 86_400 * US).map(lambda t: t - t % (US // 4) if t % 3 else t),  # equal times are common
    st.sampled_from(["pay", "pay2", "other"]), st.sampled_from([1, 2, None]), amounts,
    st.sampled_from(["a", "b", "c", "d", None]), st.sampled_from(["live", "test", None])), max_size=60)


def toy_row(table: str, t: int, user: Any, amount: Any, tag: Any, kind: Any) -> dict[str, Any]:
    t += 1_735_689_600 * US  # 2025-01-01
    if table == "pay2":
        return {"event_time": t, "payer": user, "qty": 2, "price": None if amount is None else amount / 2, "tag": tag}
    return {"event_time": t, "user_id": user, "amount": amount, "tag": tag, "kind": kind}


@settings(max_examples=150, deadline=None)
@given(toy_events, st.randoms(use_true_random=False))
def test_matches_the_spec_at_every_step(raw: list[Any], rnd: random.Random) -> None:
    """Asked before each event (equal times included) and after the last, like a scorer would."""
    events = [(table, toy_row(table, t, *rest)) for t, table, *rest in sorted(raw, key=lambda e: e[0])]
    state = OnlineFeatureState([TOY])
    for i, (table, row) in enumerate([*events, ("end", {"event_time": 10**18})]):
        at = row["event_time"] if i < len(events) else to_micros(state.clock or 0) + rnd.randrange(3 * 86_400 * US)
        if i == len(events) or rnd.random() < 0.3:
            for user in (1, 2, 3):
                want, got = reference(TOY, events[:i], user, at), state.get("toy", user, at)
                assert list(got) == list(want)
                assert all(same(got[f], want[f]) for f in want), (user, at, got, want)
        if i < len(events):
            state.update(table, row)


@settings(max_examples=60, deadline=None)
@given(toy_events, st.randoms(use_true_random=False))
def test_late_events_land_where_they_belong(raw: list[Any], rnd: random.Random) -> None:
    events = [(table, toy_row(table, t, *rest)) for t, table, *rest in sorted(raw, key=lambda e: e[0])]
    shuffled = events[:]
    for i in range(len(shuffled) - 1):  # swap neighbours now and then: each arrives at most a little late
        if rnd.random() < 0.3:
            shuffled[i], shuffled[i + 1] = shuffled[i + 1], shuffled[i]
    in_order, late = OnlineFeatureState([TOY]), OnlineFeatureState([TOY])
    for table, row in events:
        in_order.update(table, row)
    for table, row in shuffled:
        late.update(table, row)
    clock = to_micros(in_order.clock or 0)
    for at in (clock, clock + 1, clock + 5 * 3_600 * US):
        for user in (1, 2):
            assert late.get("toy", user, at) == in_order.get("toy", user, at)


@settings(max_examples=60, deadline=None)
@given(toy_events, st.randoms(use_true_random=False))
def test_generated_reads_are_the_interpreted_plan(raw: list[Any], rnd: random.Random) -> None:
    """``features`` (generated per view) answers exactly as ``features_reference`` (the plan interpreted), and
    ``get_as`` is the same answer with a prefix and nulls as the given value."""
    state = OnlineFeatureState([TOY])
    for t, table, *rest in sorted(raw, key=lambda e: e[0]):
        state.update(table, toy_row(table, t, *rest))
    view = state._views["toy"]
    clock = to_micros(state.clock or 0)
    for at in (clock, clock + 1, clock - rnd.randrange(3 * 86_400 * US), clock + 7 * 3_600 * US):
        for user in (1, 2, 3):
            got, want = view.features(user, at), view.features_reference(user, at)
            assert list(got.items()) == list(want.items())
            assert all(type(got[f]) is type(want[f]) for f in want)
            nan = float("nan")
            assert state.get_as("toy", user, at, "toy_", nan) == {f"toy_{k}": nan if v is None else v
                                                                   for k, v in want.items()}
            some = frozenset(rnd.sample(sorted(want), rnd.randrange(1, len(want))))  # what a model would read
            part = state.get_as("toy", user, at, "", None, some)
            assert some <= set(part) < set(want) or set(part) == set(want)
            assert all(part[k] == want[k] or part[k] != part[k] for k in part)  # the same values (nan is nan)


@pytest.mark.parametrize("cond", [
    Cond("x", op, v) for op, v in [("==", 1), ("!=", 1), (">", 1), (">=", 1), ("<", 1), ("<=", 1),
                                   ("in", (1, 2)), ("not in", (1, 2))]])
def test_compiled_conditions_mean_what_evaluate_means(cond: Cond) -> None:
    check = compile_cond(cond)
    for x in (None, 0, 1, 2, 3):
        assert check({"x": x}) == cond.evaluate({"x": x})
    view = FeatureView(name="c", entity="user", key="k", sources=(Source("t"),), windows=("1h",),
                       aggs=(Agg("hits", "count", where=(cond,)),))
    state = OnlineFeatureState([view])
    for i, x in enumerate((None, 0, 1, 2, 3)):
        state.update("t", {"k": "u", "event_time": i, "x": x})
    assert state.get("c", "u", 10)["hits_1h"] == sum(cond.evaluate({"x": x}) for x in (None, 0, 1, 2, 3))


def test_times_keys_and_views() -> None:
    state = OnlineFeatureState()
    t = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)
    row = {"user_id": 7, "event_time": t, "device_id": "d1", "ip": "10.0.0.1", "ip_country": "DE",
           "success": True, "used_2fa": True}
    state.update("sessions", row)
    state.update("sessions", {**row, "event_time": to_micros(t) + 1, "ip": "10.0.0.2"})  # int µs works too
    state.update("tickets", {"event_time": t})  # a table no view reads is ignored
    at = t + dt.timedelta(seconds=90, microseconds=500_000)
    f = state.get("user_logins", 7, at)
    assert (f["logins_1h"], f["ips_1h"], f["since_login_1h"], f["no_2fa_share_1h"]) == (2, 2, 90, 0.0)
    assert state.get("user_logins", 8, at)["logins_30d"] == 0
    both = state.get_all({"user_id": 7, "ip": "10.0.0.1"}, at)
    assert set(both) == {v.name for v in VIEWS.values() if v.key in ("user_id", "ip")}
    assert both["ip_activity"]["ip_users_1h"] == 1
    assert state.get_all({"user": 7}, at)["user_logins"] == f
    with pytest.raises(KeyError, match="no view"):
        state.get("nope", 7, at)
    with pytest.raises(ValueError, match="naive"):
        state.get("user_logins", 7, dt.datetime(2025, 3, 1))
