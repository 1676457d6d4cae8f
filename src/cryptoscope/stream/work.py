"""What a stream consumer does with events, without any I/O: the online state, the scores, the alerts.

`Work.apply` takes one event: a decision of a served risk product (owned by this partition) gets its
decision row from the online state *before* the event is added, exactly as `OnlineScorer.prepare` and the
batch point-in-time join do; every event is then fed to the state; orders, trades and
cancels go to the surveillance detectors (in a process of their own, ``surveyor.py``). `Work.decide` scores
the decisions gathered since its last call with the promoted models (the same `RiskScorer` code as batch
scoring), `Work.new_alerts` returns the alerts first met since its last call, and `Work.take_raw` the rows
to append to the lake. Feeding without scoring (``score=False``) is how a restarted consumer catches up on
events whose results it had already committed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.online_window import to_micros
from cryptoscope.productline import Decision
from cryptoscope.schema import get_table
from cryptoscope.serve.online import OnlineScorer
from cryptoscope.stream.partition import Partition
from cryptoscope.stream.surveyor import Surveyor
from cryptoscope.surveillance.alerts import TABLE as ALERTS
from cryptoscope.surveillance.stream import KIND, StreamDetector


class Work:
    """See the module doc. ``emitted`` holds the ids of alerts already out (they are not sent again). The
    detector runs in a process of its own (`Surveyor`) where this partition surveils; call `close` at the end."""

    def __init__(self, scorer: OnlineScorer, detector: StreamDetector, partition: Partition,
                 emitted: set[str] | None = None, tables: frozenset[str] = frozenset()) -> None:
        self.scorer, self.partition = scorer, partition
        self._kept = detector, emitted or set()  # a partition that does not surveil keeps them as they are
        self.surveyor = Surveyor(detector, self._kept[1]) if partition.surveils else None
        self.tables = tables  # the tables the online state reads
        self.kind_of: dict[str, str] = {}
        for kind, live in scorer.models.items():
            if live.table in self.kind_of:
                raise CryptoscopeError(f"{kind} and {self.kind_of[live.table]} both decide on {live.table}: "
                                       "the stream feeds each event once")
            self.kind_of[live.table] = kind
        self._built: dict[str, list[dict[str, Any]]] = {}
        self._raw: dict[str, list[dict[str, Any]]] = {}
        self.clock: int | None = None  # newest event time applied, µs

    def apply(self, table: str, row: Mapping[str, Any], *, score: bool = True, data: bytes | None = None) -> str | None:
        """Take one event (``data``: the message it came in, when it did); returns the product whose decision it is
        when one is to be scored."""
        decided = None
        t = to_micros(row["event_time"])
        self.clock = t if self.clock is None or t > self.clock else self.clock
        if table in self.tables:  # every partition's state takes every event (`partition.py` says why)
            kind = self.kind_of.get(table)
            if (score and kind is not None and self.partition.owns_user(row["user_id"])
                    and self.scorer.models[kind].is_decision(row)):
                self._built.setdefault(kind, []).append(self.scorer.decision_row(kind, row))
                decided = kind
            self.scorer.feed(table, row)
        if table in KIND and self.surveyor is not None:
            self.surveyor.put(KIND[table], row if data is None else data)  # pickled on its way: no copy needed
        if score and table != "order_cancels" and self.partition.writes(table, row):
            self._raw.setdefault(table, []).append(dict(row))
        return decided

    def decide(self) -> dict[str, list[Decision]]:
        """Score the decisions gathered since the last call (per product, in the order their events came)."""
        out = {}
        for kind, built in self._built.items():
            live = self.scorer.live(kind)
            out[kind] = live.finish(live.prepare_rows(built))
        self._built = {}
        return out

    def take_raw(self) -> dict[str, list[dict[str, Any]]]:
        """The raw rows this partition writes, gathered since the last call."""
        raw, self._raw = self._raw, {}
        return raw

    def new_alerts(self) -> pa.Table:
        """The alerts first met since the last call, as far as the surveillance process has got."""
        return get_table(ALERTS).empty() if self.surveyor is None else self.surveyor.take()

    def drain(self) -> None:
        """Return once surveillance has applied every event so far and its alerts are ready for `new_alerts`."""
        if self.surveyor is not None:
            self.surveyor.drain()

    def surveillance(self) -> tuple[StreamDetector, set[str]]:
        """The detectors and the ids of the alerts out, as of every event applied (what a snapshot keeps)."""
        return self._kept if self.surveyor is None else self.surveyor.state()

    def close(self) -> None:
        if self.surveyor is not None:
            self.surveyor.close()
