"""One feature view kept online: per entity, time-sorted columns that `get` slices by bisection.

A view's aggregations read a handful of *streams*: the times of the rows that pass a set of
``where`` conditions, and for aggregations over a column also that column's non-null values
(SQL aggregates skip nulls, ``count`` counts rows). Stream 0 is every row of the view. An event
appends to the streams it matches; a query for ``[at - w, at)`` is two bisections per stream and
window, then C-level builtins (``len``, ``sum``/``math.fsum``, ``min``, ``max``, ``set``) over
the slice. Nothing is ever subtracted, so sums stay as exact as a fresh sum over the window, and
rows at or after ``at`` are simply left out. Rows older than the view's longest window (measured
back from the newest event the state has seen) are dropped, so an ``at`` earlier than that newest
event may miss rows its window needed; at or after it, the answer is the offline answer.

Entity keys are stored as given and must be JSON scalars (int, str, ...) to be snapshotted.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import operator
from array import array
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from cryptoscope.features.online_compile import AggPlan, StreamSpec, compile_reader, compile_source
from cryptoscope.features.spec import Cond, FeatureView, window_delta

US_PER_S = 1_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_US = dt.timedelta(microseconds=1)

Row = Mapping[str, Any]
Check = Callable[[Row], bool]


#: the last datetime `to_micros` converted and its answer, one tuple swapped whole (so threads may share it): an
#: event's time is converted by the stream's check, its work, the feature state and the context in turn
_last: tuple[dt.datetime | None, int] = (None, 0)


def to_micros(t: dt.datetime | int) -> int:
    """Microseconds since the epoch of a timezone-aware datetime, or an int already in microseconds."""
    global _last
    if type(t) is int:
        return t
    last = _last
    if t is last[0]:  # the very object (datetimes are immutable; `_last` keeps it alive, so its id is not reused)
        return last[1]
    if isinstance(t, dt.datetime):
        if t.tzinfo is None:
            raise ValueError(f"naive datetime {t!r}: event and decision times must be timezone-aware")
        us = (t - _EPOCH) // _ONE_US
        _last = (t, us)
        return us
    if isinstance(t, bool):
        raise TypeError("a time must be a timezone-aware datetime or int microseconds, not bool")
    return operator.index(t)  # numpy integers and friends


def from_micros(t: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=t)


def compile_cond(cond: Cond) -> Check:
    """A closure equivalent to ``cond.evaluate`` (None never passes), without its per-call dict of lambdas."""
    col, op, value = cond.column, cond.op, cond.value
    if op == "==":
        return lambda r: (x := r[col]) is not None and x == value
    if op == "!=":
        return lambda r: (x := r[col]) is not None and x != value
    if op == ">":
        return lambda r: (x := r[col]) is not None and x > value
    if op == ">=":
        return lambda r: (x := r[col]) is not None and x >= value
    if op == "<":
        return lambda r: (x := r[col]) is not None and x < value
    if op == "<=":
        return lambda r: (x := r[col]) is not None and x <= value
    if op == "in":
        return lambda r: (x := r[col]) is not None and x in value
    if op == "not in":
        return lambda r: (x := r[col]) is not None and x not in value
    raise ValueError(f"condition {cond}: unknown operator {op!r}")


class KeyWindow:
    """The stored rows of one entity: per stream its sorted times and, for value streams, the values.

    Times are ``array('q')`` (8 bytes a row, invisible to the garbage collector), values plain lists.
    """

    __slots__ = ("times", "values")

    def __init__(self, has_values: tuple[bool, ...]) -> None:
        self.times: list[array[int]] = [array("q") for _ in has_values]
        self.values: list[list[Any] | None] = [[] if v else None for v in has_values]

    def __len__(self) -> int:
        return len(self.times[0])

    def trim(self, horizon: int) -> None:
        """Drop every row older than ``horizon``."""
        for times, values in zip(self.times, self.values, strict=True):
            if times and times[0] < horizon:
                k = bisect_left(times, horizon)
                del times[:k]
                if values is not None:
                    del values[:k]


class ViewState:
    """Every entity's rows for one view, and the arrival order that drives eviction."""

    def __init__(self, view: FeatureView) -> None:
        self.view = view
        self.longest = int(view.longest.total_seconds()) * US_PER_S
        # offline compares with an interval of whole seconds, so do the same
        self.windows = tuple(int(window_delta(w).total_seconds()) * US_PER_S for w in view.windows)
        conds: list[Cond] = []
        streams: list[StreamSpec] = [StreamSpec((), None)]
        aggs: list[AggPlan] = []
        for a in view.aggs:
            idx = []
            for c in a.where:
                if c not in conds:
                    conds.append(c)
                idx.append(conds.index(c))
            spec = StreamSpec(tuple(sorted(set(idx))), a.column if a.fn not in ("count", "share", "since_last")
                              else None)
            if spec not in streams:
                streams.append(spec)
            aggs.append(AggPlan(a.fn, streams.index(spec), tuple(f"{a.name}_{w}" for w in view.windows)))
        self.conds = tuple(conds)
        self.checks = tuple(compile_cond(c) for c in conds)
        self.streams = tuple(streams)
        self.aggs = tuple(aggs)
        self.keys: dict[Any, KeyWindow] = {}
        # arrival order, oldest first: event time and key of every stored row (two deques, no tuples)
        self.fifo_t: deque[int] = deque()
        self.fifo_k: deque[Any] = deque()
        self._has_values = tuple(s.column is not None for s in streams)
        self._empty = KeyWindow(self._has_values)  # read only: the answer for an entity with no rows
        bindings = {"keys": self.keys, "fifo_t": self.fifo_t, "fifo_k": self.fifo_k,
                    "new_window": partial(KeyWindow, self._has_values), "late": self._add_late}
        self.sources = tuple(compile_source(view, src, self.conds, self.streams, bindings) for src in view.sources)
        self._readers: dict[tuple[str, int, frozenset[str] | None], Callable[[Any, int], dict[str, Any]]] = {}
        #: every feature of the view for ``key`` over ``[at - w, at)`` (``features_reference``, generated)
        self.features: Callable[[Any, int], dict[str, Any]] = self.reader()

    def reader(self, prefix: str = "", null: Any = None,
               names: frozenset[str] | None = None) -> Callable[[Any, int], dict[str, Any]]:
        """The generated ``features`` with ``prefix`` on every name and null answers as ``null``, only ``names``
        (and what they are derived from) when given (made once)."""
        found = self._readers.get((prefix, id(null), names))
        if found is None:
            bindings = {"keys": self.keys, "empty": self._empty, "bisect_left": bisect_left, "US_PER_S": US_PER_S,
                        "reducers": REDUCERS}
            found, code = compile_reader(self.view, self.windows, self.aggs, bindings, prefix=prefix, null=null,
                                         names=names)
            self._readers[(prefix, id(null), names)] = found
            if not prefix and null is None and names is None:
                self.read_code = code  # the text of ``features``, for debugging
        return found

    # -- writing ---------------------------------------------------------------------------------------

    def _add_late(self, kw: KeyWindow, t: int, proj: Row) -> None:
        """Insert a row older than the entity's newest in time order (the generated adds only append)."""
        flags = [check(proj) for check in self.checks]
        for i, s in enumerate(self.streams):
            if not all(flags[c] for c in s.conds):
                continue
            if s.column is None:
                insort(kw.times[i], t)
            elif (v := proj[s.column]) is not None:
                k = bisect_right(kw.times[i], t)
                kw.times[i].insert(k, t)
                values = kw.values[i]
                assert values is not None  # a value stream
                values.insert(k, v)

    def evict(self, horizon: int) -> None:
        """Forget every row older than ``horizon``, and entities left with none."""
        fifo_t, fifo_k, keys = self.fifo_t, self.fifo_k, self.keys
        due = set()
        while fifo_t and fifo_t[0] < horizon:
            fifo_t.popleft()
            due.add(fifo_k.popleft())
        for key in due:  # each entity trimmed once, however many of its rows expired
            kw = keys.get(key)
            if kw is None:
                continue
            every = kw.times[0]  # stream 0 holds every row: when its newest expired, all have
            if not every or every[-1] < horizon:
                del keys[key]
                continue
            kw.trim(horizon)

    # -- reading ---------------------------------------------------------------------------------------

    def features_reference(self, key: Any, at: int) -> dict[str, Any]:
        """Every feature of the view for ``key`` over ``[at - w, at)``, with the offline builder's semantics: the
        plan interpreted, which ``features`` (generated by ``online_compile.compile_reader``) unrolls; tests
        hold the two equal."""
        kw = self.keys.get(key, self._empty)
        all_times, all_values = kw.times, kw.values
        ends = [bisect_left(ts, at) for ts in all_times]
        starts = [[bisect_left(ts, at - w, 0, j) for ts, j in zip(all_times, ends, strict=True)]
                  for w in self.windows]
        at_s = at // US_PER_S
        out: dict[str, Any] = {}
        for agg in self.aggs:
            s, fn = agg.stream, agg.fn
            times, values, j = all_times[s], all_values[s], ends[s]
            for name, lo in zip(agg.names, starts, strict=True):
                i = lo[s]
                n = j - i
                if fn == "count":
                    out[name] = n
                elif fn == "share":
                    total = ends[0] - lo[0]
                    out[name] = n / total if total else None
                elif fn == "since_last":
                    out[name] = at_s - times[j - 1] // US_PER_S if n else None
                else:
                    assert values is not None  # aggregations over a column read a value stream
                    out[name] = _reduce(fn, values[i:j])
        for d in self.view.derived:
            out[d.name] = d.fn(*(out[c] for c in d.inputs))
        return out

    # -- persistence -----------------------------------------------------------------------------------

    def fingerprint(self) -> str:
        """What stored rows depend on: a snapshot only loads into a view with the same fingerprint."""
        v = self.view
        return json.dumps({
            "key": v.key, "longest": self.longest,
            "conds": [repr(c) for c in self.conds],
            "streams": [[list(s.conds), s.column] for s in self.streams],
            "sources": [[s.table, [repr(c) for c in s.where],
                         {k: c if isinstance(c, str) else "<fn>" for k, c in sorted(s.columns.items())}]
                        for s in v.sources],
        }, sort_keys=True)

    def dump(self) -> Iterator[tuple[str, str]]:
        """(key, rows) of every entity as JSON text; floats round-trip exactly."""
        for key, kw in self.keys.items():
            rows = [[ts.tolist(), vs] for ts, vs in zip(kw.times, kw.values, strict=True)]
            yield json.dumps(key), json.dumps(rows, separators=(",", ":"))

    def load(self, entities: Iterator[tuple[str, str]]) -> None:
        """The inverse of `dump`; rebuilds the eviction order from the rows' times."""
        order: list[tuple[int, Any]] = []
        for key_json, rows_json in entities:
            key = json.loads(key_json)
            streams = json.loads(rows_json)
            if [vs is not None for _, vs in streams] != list(self._has_values):
                raise ValueError(f"view {self.view.name}: stored rows of {key!r} do not fit the view's streams")
            kw = KeyWindow(self._has_values)
            for i, (ts, vs) in enumerate(streams):
                if vs is not None and len(vs) != len(ts):
                    raise ValueError(f"view {self.view.name}: stored rows of {key!r} are damaged")
                kw.times[i], kw.values[i] = array("q", ts), vs
            if kw.times[0]:
                self.keys[key] = kw
                order.extend((t, key) for t in kw.times[0])
        order.sort(key=operator.itemgetter(0))
        self.fifo_t.extend(t for t, _ in order)
        self.fifo_k.extend(k for _, k in order)


def _sum(vals: list[Any]) -> Any:
    if not vals:
        return 0
    return math.fsum(vals) if type(vals[0]) is float else sum(vals)


def _max(vals: list[Any]) -> Any:
    return max(vals) if vals else None


def _min(vals: list[Any]) -> Any:
    return min(vals) if vals else None


def _mean(vals: list[Any]) -> Any:
    if not vals:
        return None
    return (math.fsum(vals) if type(vals[0]) is float else sum(vals)) / len(vals)


def _std(vals: list[Any]) -> Any:
    n = len(vals)
    if n < 2:
        return None
    if min(vals) == max(vals):
        return 0.0
    mean = (math.fsum(vals) if type(vals[0]) is float else sum(vals)) / n
    return math.sqrt(math.fsum([(x - mean) * (x - mean) for x in vals]) / (n - 1))


def _nunique(vals: list[Any]) -> int:
    return len(set(vals))


#: sum, mean, std (sample), min, max or nunique of a window's non-null values, as SQL computes them
REDUCERS: dict[str, Callable[[list[Any]], Any]] = {"sum": _sum, "mean": _mean, "std": _std, "min": _min,
                                                   "max": _max, "nunique": _nunique}


def _reduce(fn: str, vals: list[Any]) -> Any:
    try:
        reduce = REDUCERS[fn]
    except KeyError:
        raise ValueError(f"unknown aggregation {fn!r}") from None
    return reduce(vals)


__all__ = ["AggPlan", "KeyWindow", "ViewState", "from_micros", "to_micros"]
