"""Online feature state for real-time scoring: the offline features, event by event.

>>> import datetime as dt
>>> from cryptoscope.features.online import OnlineFeatureState
>>> state = OnlineFeatureState()
>>> t = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)
>>> state.update("sessions", {"user_id": 7, "event_time": t, "device_id": "d1", "ip": "10.0.0.1",
...                           "ip_country": "DE", "success": False, "used_2fa": False})
>>> f = state.get("user_logins", 7, t + dt.timedelta(minutes=5))
>>> f["logins_1h"], f["failed_logins_1h"], f["since_login_1h"]
(1, 1, None)

Every canonical-table event goes to each view with a `Source` on that table, projected exactly as
the offline builder projects it, and is kept per (view, entity key) in `ViewState` (see
`online_window`). ``get(view, key, at)`` answers from the rows in ``[at - w, at)``, the same
window and the same null/zero rules as `cryptoscope.features.offline.view_features`; a parity
test replays a simulated world through both.

Events must come in time order (equal times are fine; a late one is still placed correctly, just
more slowly, unless it is already older than a view's longest window). Rows older than a view's
longest window, measured back from the newest event seen, are forgotten, so memory follows the
live windows, and ``get`` is exact for any ``at`` at or after the newest event seen (an earlier
``at`` may miss rows already forgotten).

``snapshot(path)``/``restore(path)`` keep the state in a SQLite file; ``save_to(RedisStateStore(url))``
and ``load_from(...)`` in Redis (see `online_store`). One state is meant for one thread.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cryptoscope.features.online_store import FORMAT, RedisStateStore, SQLiteStateStore, StateStore
from cryptoscope.features.online_window import ViewState, from_micros, to_micros
from cryptoscope.features.spec import FeatureView
from cryptoscope.features.views import VIEWS

_NEVER = 2**63
#: a view forgets its expired rows once the oldest is this fraction of its longest window past due (`_evict`):
#: on the stream benchmark's backlog 1/16 spent 2.6 µs an event forgetting against 4.0-4.9 µs at 1/64, for 5 %
#: more rows held (1/8: 2.1 µs, 10 % more)
EVICT_SLACK = 16


class OnlineFeatureState:
    """Per-entity sliding windows for a set of feature views, fed one event at a time."""

    def __init__(self, views: Iterable[FeatureView] = VIEWS.values()) -> None:
        self._views: dict[str, ViewState] = {}
        for view in views:
            if view.name in self._views:
                raise ValueError(f"view {view.name} given twice")
            self._views[view.name] = ViewState(view)
        # table -> (generated add, the view's longest window in µs) for every source reading it
        self._routes: dict[str, list[tuple[Callable[[Mapping[str, Any], int], bool], int]]] = {}
        for vs in self._views.values():
            for src in vs.sources:
                self._routes.setdefault(src.table, []).append((src.add, vs.longest))
        self._clock: int | None = None  # newest event time seen, microseconds
        self._due = _NEVER  # when the clock passes this, some view has rows to forget

    # -- events ----------------------------------------------------------------------------------------

    def update(self, table: str, row: Mapping[str, Any]) -> None:
        """Take one event of a canonical table: a dict row with ``event_time`` (aware datetime or int µs)."""
        routes = self._routes.get(table)
        if not routes:
            return
        t = to_micros(row["event_time"])
        clock = self._clock
        if clock is None or t >= clock:
            self._clock = clock = t
            for add, longest in routes:
                if add(row, t) and t + longest < self._due:  # a view's first stored row: it expires then
                    self._due = t + longest
            if clock > self._due:
                self._evict(clock)
        else:  # late: keep it only where it can still count for a query at or after the clock
            for add, longest in routes:
                if t >= clock - longest and add(row, t):
                    self._due = min(self._due, t + longest)

    def _evict(self, clock: int, slack: bool = True) -> None:
        """Forget the rows older than each view's longest window. With ``slack`` a view forgets only once its
        oldest row is ``longest / EVICT_SLACK`` past due, and then every due row at once, one trim per entity:
        forgetting one row per event cost a quarter of the stream consumer's time. Rows kept a little longer
        change no answer (a window's bisection leaves them out); `stored_rows` and snapshots forget exactly."""
        due = _NEVER
        for vs in self._views.values():
            late = vs.longest // EVICT_SLACK if slack else 0
            if vs.fifo_t and vs.fifo_t[0] + vs.longest + late < clock:
                vs.evict(clock - vs.longest)
            if vs.fifo_t:
                due = min(due, vs.fifo_t[0] + vs.longest + late)
        self._due = due

    def _forget(self) -> None:
        """Forget exactly what is past every view's longest window (what `_evict`'s slack has kept)."""
        if self._clock is not None:
            self._evict(self._clock, slack=False)
            self._evict(self._clock)  # the next due time, with the slack

    @property
    def clock(self) -> dt.datetime | None:
        """The newest event time seen."""
        return None if self._clock is None else from_micros(self._clock)

    @property
    def views(self) -> dict[str, FeatureView]:
        return {name: vs.view for name, vs in self._views.items()}

    # -- queries ---------------------------------------------------------------------------------------

    def get(self, view_name: str, key: Any, at: dt.datetime | int) -> dict[str, Any]:
        """Every feature of the view (aggregates ``{name}_{window}``, then derived) for ``key`` at ``at``."""
        try:
            vs = self._views[view_name]
        except KeyError:
            raise KeyError(f"no view {view_name!r} in this state (views: {sorted(self._views)})") from None
        return vs.features(key, to_micros(at))

    def get_as(self, view_name: str, key: Any, at: dt.datetime | int, prefix: str, null: Any,
               names: frozenset[str] | None = None) -> dict[str, Any]:
        """``get`` with ``prefix`` on every name and null answers as ``null``, in one pass (a decision row's
        form: ``risk.frames.decision_row``); only ``names`` (unprefixed) and what they derive from, when given."""
        try:
            vs = self._views[view_name]
        except KeyError:
            raise KeyError(f"no view {view_name!r} in this state (views: {sorted(self._views)})") from None
        return vs.reader(prefix, null, names)(key, to_micros(at))

    def get_all(self, entity_keys: Mapping[str, Any], at: dt.datetime | int) -> dict[str, dict[str, Any]]:
        """Features of every view whose key is given, by view name.

        ``entity_keys`` names keys by key column (``{"user_id": 7, "ip": "10.0.0.1"}``) or by entity
        (``{"user": 7}``); views whose entity has no key here are left out.
        """
        t = to_micros(at)
        out: dict[str, dict[str, Any]] = {}
        for name, vs in self._views.items():
            v = vs.view
            if v.key in entity_keys:
                out[name] = vs.features(entity_keys[v.key], t)
            elif v.entity in entity_keys:
                out[name] = vs.features(entity_keys[v.entity], t)
        return out

    def stored_rows(self, view_name: str) -> dict[Any, int]:
        """How many rows each live entity of a view holds (for tests and monitoring): the longest window's."""
        self._forget()
        return {key: len(kw) for key, kw in self._views[view_name].keys.items()}

    # -- persistence -----------------------------------------------------------------------------------

    def save_to(self, store: StateStore) -> None:
        """Write the whole state to ``store`` (`SQLiteStateStore`, `RedisStateStore`), replacing what it held."""
        self._forget()
        meta = {"format": FORMAT, "clock": self._clock,
                "views": {name: vs.fingerprint() for name, vs in self._views.items()}}
        store.write(meta, {name: vs.dump() for name, vs in self._views.items()})

    @classmethod
    def load_from(cls, store: StateStore, views: Iterable[FeatureView] = VIEWS.values()) -> OnlineFeatureState:
        """A state with ``views`` holding what ``store`` saved for them.

        A view whose definition changed since the save (different fingerprint) is refused; views the
        snapshot lacks start empty, views only the snapshot has are ignored.
        """
        state = cls(views)
        meta, stored = store.read()
        fingerprints: dict[str, str] = meta["views"]
        for name, vs in state._views.items():
            if name not in fingerprints:
                continue
            if fingerprints[name] != vs.fingerprint():
                raise ValueError(f"view {name} changed since the snapshot was taken: rebuild its state")
            vs.load(iter(stored.get(name, [])))
        state._clock = meta["clock"]
        if state._clock is not None:
            state._evict(state._clock)
        return state

    def snapshot(self, path: str | os.PathLike[str]) -> None:
        """Save to a SQLite file, atomically (a temporary file, then `os.replace`)."""
        self.save_to(SQLiteStateStore(path))

    @classmethod
    def restore(cls, path: str | os.PathLike[str], views: Iterable[FeatureView] = VIEWS.values()) -> OnlineFeatureState:
        return cls.load_from(SQLiteStateStore(path), views)


__all__ = ["OnlineFeatureState", "RedisStateStore", "SQLiteStateStore", "StateStore"]
