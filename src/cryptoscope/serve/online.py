"""Real-time scoring: an event in, the promoted model's score, decision and reasons out, state updated.

`OnlineScorer` holds the online feature state (``features/online.py``) for the views the served risk
products read, the `Context` their spines need (``features/online_context.py``), and one loaded
`RiskScorer` per product (``risk/scorer.py``). For a decision it builds the product's row exactly as the
batch decision frame does (``risk.frames.decision_row``: spine, each view's features at the decision
time with its prefix, login novelty), and the scorer prepares, scores, decides and explains it with the
same code as batch scoring (``Product.prepare``, one implementation of derive, rules and guardrail);
then it feeds the event into the state, so the next decision sees it.

Features are read strictly before the event is added: the same "events before the decision" rule
as the offline point-in-time join. ``score_batch`` takes several events of one product in arrival
order and gives the same answers as one call each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.online import OnlineFeatureState
from cryptoscope.features.online_context import Context
from cryptoscope.features.spec import FeatureView
from cryptoscope.models import Registry
from cryptoscope.productline import Decision
from cryptoscope.products import online
from cryptoscope.risk.frames import decision_row
from cryptoscope.risk.products import PRODUCTS
from cryptoscope.risk.scorer import Prepared, RiskScorer
from cryptoscope.risk.sequences import OnlineEvents, steps_of

EVENTS = "account_events"  # the context's extra state of the sequence models

#: the products served online, from the registry: their decisions arrive as events (the chain products,
#: such as deposits, which need the chain stage's exposure first, are not among them even when trained)
SERVED = tuple(online())


def product_views(kinds: Iterable[str] = SERVED) -> list[FeatureView]:
    """Every feature view some served risk product reads (the order views are first met)."""
    seen: dict[str, FeatureView] = {}
    for kind in kinds:
        for view, _ in PRODUCTS[kind].views:
            seen.setdefault(view.name, view)
    return list(seen.values())


class OnlineScorer:
    """Feature state + context + promoted models; see the module doc. One instance is used by one thread."""

    def __init__(self, registry: Registry | None, kinds: Iterable[str] = SERVED) -> None:
        self.state = OnlineFeatureState(product_views())
        self.context = Context()
        self.models: dict[str, RiskScorer] = {}
        self.missing: dict[str, str] = {}
        for kind in kinds:
            try:
                if registry is None:
                    raise CryptoscopeError("no model registry configured")
                self.models[kind] = RiskScorer(kind).load(registry)
            except CryptoscopeError as exc:
                self.missing[kind] = str(exc)

        # models that read the account's event sequence (``risk/sequences.py``): how many steps each
        self.sequence_steps = {kind: steps for kind, live in self.models.items()
                               if (steps := steps_of(live.model_.bundle.features))}

    # -- events --------------------------------------------------------------------------------------
    def feed(self, table: str, row: Mapping[str, Any]) -> None:
        """Add one canonical-table event to the state and the context (no scoring)."""
        self.state.update(table, row)
        self.context.update(table, row)
        if self.sequence_steps:
            self._events().update(table, row)

    def decision_row(self, kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """The product's decision-frame row for ``row`` (a canonical row of its table), before ``prepare``, with the
        view features its model and rules read (``RiskScorer.reads_``); with the event sequence when the served
        model reads one."""
        live = self.models.get(kind)
        out = decision_row(PRODUCTS[kind], row, self.state, self.context, None if live is None else live.reads_)
        steps = self.sequence_steps.get(kind)
        if steps:
            out.update(self._events().columns(int(row["user_id"]), row["event_time"], str(row["address"]),
                                              float(row["amount_usd"]), steps))
        return out

    def _events(self) -> OnlineEvents:
        # in the context, so that it is snapshotted with it (a snapshot from before it existed has no ``extra``)
        extra: dict[str, Any] = self.context.__dict__.setdefault("extra", {})
        events: OnlineEvents = extra.setdefault(EVENTS, OnlineEvents())
        return events

    # -- scoring -------------------------------------------------------------------------------------
    def live(self, kind: str) -> RiskScorer:
        """The product's scorer, or a clear error saying why there is none."""
        if kind not in PRODUCTS:
            raise CryptoscopeError(f"unknown risk product {kind!r}; known: {', '.join(PRODUCTS)}")
        live = self.models.get(kind)
        if live is None:
            raise CryptoscopeError(f"no model serves {kind}: {self.missing.get(kind, 'not loaded')}")
        return live

    def score_batch(self, kind: str, rows: list[Mapping[str, Any]]) -> list[Decision]:
        """Score ``rows`` (canonical rows of the product's table, in arrival order), feeding each after reading."""
        return self.finish(kind, self.prepare(kind, rows))

    def prepare(self, kind: str, rows: list[Mapping[str, Any]]) -> Prepared:
        """Everything of ``score_batch`` but the reasons: rows built and fed, scored, decided."""
        live = self.live(kind)
        table = live.table
        built = []
        for row in rows:
            built.append(self.decision_row(kind, row))
            self.feed(table, row)
        prepared = live.prepare_rows(built)
        prepared.events = list(rows)
        return prepared

    def contributions(self, kind: str, prepared: Prepared) -> np.ndarray | None:
        """The TreeSHAP values of a prepared batch (None when explained already). Safe on another thread."""
        return self.live(kind).contributions(prepared)

    def finish(self, kind: str, prepared: Prepared, contributions: np.ndarray | None = None) -> list[Decision]:
        """The decisions with their reasons (from ``contributions`` when computed elsewhere)."""
        return self.live(kind).finish(prepared, contributions)

    def fit_explainers(self, background: Mapping[str, list[dict[str, Any]]]) -> None:
        """Fit each model's reasons on decisions the lake already held (its reference rows)."""
        for kind, live in self.models.items():
            if background.get(kind):
                live.fit_reasons(background[kind])

    @property
    def clock(self) -> dt.datetime | None:
        return self.state.clock
