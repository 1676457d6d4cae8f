"""A product's decision frame: its spine, every view's features at each decision, the derived columns.

Views are joined on ``(view.key, decision_time)`` with the point-in-time builder's semantics
(events strictly before the decision); a view may get a prefix so that two views' features with
the same name (``deposit_usd_30d`` of fiat payments and of on-chain deposits) stay apart.

Online, ``decision_row`` builds the same row for one event from the online feature state and context
(features strictly before the event, as the point-in-time join reads them); ``rows_frame`` turns such rows
into a frame for the batch functions.

>>> frame = decision_frame(connect(lake), PRODUCTS["payment"])          # doctest: +SKIP
>>> frame, bounds, sampling = labelled_frame(connect(lake), PRODUCTS["payment"], plan)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.offline import view_features
from cryptoscope.features.online import OnlineFeatureState
from cryptoscope.features.online_context import Context
from cryptoscope.features.online_window import to_micros
from cryptoscope.risk.labels import attach_labels, label_events
from cryptoscope.risk.novelty import login_novelty
from cryptoscope.risk.plan import Boundaries, TimePlan, activity_window
from cryptoscope.risk.products import Product
from cryptoscope.risk.sampling import Sampling, row_budget, sample_training, with_weights
from cryptoscope.risk.spines import spine_one


def decision_expr(con: Any, product: Product, *, since: dt.datetime | None = None) -> ir.Table:
    """Every decision of ``product`` (from ``since`` on) with its views' features, as an Ibis expression on
    ``con``'s engine (DuckDB or Spark): the rows ``finish_frame`` turns into a decision frame."""
    return _with_views(con, product, product.spine(con, since))


def decision_frame(con: Any, product: Product, *, since: dt.datetime | None = None) -> pd.DataFrame:
    """Every decision of ``product`` (from ``since`` on) with its features, rules decision and cost columns,
    in decision-time order; no labels."""
    return finish_frame(product, decision_expr(con, product, since=since).to_pandas())


def finish_frame(product: Product, rows: pd.DataFrame) -> pd.DataFrame:
    """Decision rows as an engine returned them (``decision_expr``), prepared and in canonical form.

    Canonical, so that DuckDB and Spark (or a Spark batch) give the same frame: times as UTC microseconds
    (Spark hands back nanoseconds) and rows ordered by ``(decision_time, entity_id)``, a total order since an
    entity id names one decision. Fitting reads rows in this order, so a fit is the same on either engine."""
    frame = product.prepare(_utc_microseconds(rows))
    missing = [f for f in product.features if f not in frame.columns]
    if missing:
        raise CryptoscopeError(f"{product.kind}: features {', '.join(missing)} are neither in its views nor derived")
    return frame.sort_values(["decision_time", "entity_id"], kind="stable").reset_index(drop=True)


def labelled_frame(con: Any, product: Product, plan: TimePlan, *,
                   budget: int | None = None) -> tuple[pd.DataFrame, Boundaries, Sampling]:
    """Decisions inside the lake's activity window, labelled as the plan allows (see ``labels.py``), on
    ``con``'s engine; the training period sampled to the row ``budget`` (``sampling.py``) when it exceeds it.

    Decisions in the maturity wait before the build date, and those within the product's outcome
    horizon of the end, are dropped on the engine (see ``plan.py``)."""
    start, end = activity_window(con)
    bounds = plan.boundaries(start, end, maturity=product.maturity, horizon=product.horizon)
    spine = product.spine(con, start)
    times = spine.decision_time
    waiting = (times >= _instant(bounds.valid_end)) & (times < _instant(bounds.build_date))
    spine = spine.filter(~waiting, times <= _instant(bounds.last_decision))
    # sampled before the views are joined: counting and sampling read the spine, the views only the rows kept
    spine, sampling = sample_training(con, spine, entity_type=product.entity_type,
                                      label_types=product.label_types, train_end=bounds.train_end,
                                      build_date=bounds.build_date, budget=row_budget(budget))
    expr = _with_views(con, product, spine)
    frame = finish_frame(product, expr.to_pandas())
    frame = attach_labels(frame, label_events(con, product.entity_type, product.label_types), bounds.build_date,
                          outcome_required=product.outcome_required)
    if frame.empty:
        raise CryptoscopeError(f"the lake has no {product.kind} decisions between {start} and {end}")
    frame, sampling = with_weights(frame.reset_index(drop=True), sampling, bounds.train_end)
    return frame, bounds, sampling


def _instant(at: dt.datetime) -> ir.TimestampScalar:
    return ibis.literal(pd.Timestamp(at).tz_convert("UTC").to_pydatetime(), type="timestamp('UTC')")


def _utc_microseconds(frame: pd.DataFrame) -> pd.DataFrame:
    """Time columns as ``datetime64[us, UTC]`` whatever unit the engine's driver gave them."""
    times = {c: frame[c].dt.tz_convert("UTC").astype("datetime64[us, UTC]") for c in frame.columns
             if isinstance(frame[c].dtype, pd.DatetimeTZDtype) and frame[c].dtype != "datetime64[us, UTC]"}
    return frame.assign(**times) if times else frame


def _with_views(con: Any, product: Product, spine: ir.Table) -> ir.Table:
    out = spine
    for view, prefix in product.views:
        feats = view_features(con, view, spine)
        renames = {f"{prefix}{n}": n for n in view.feature_names()} | {"_key": view.key, "_time": "decision_time"}
        feats = feats.rename(renames)
        out = out.left_join(feats, [out[view.key] == feats._key, out.decision_time == feats._time])
        out = out.drop("_key", "_time")
    if product.novelty:
        nov = login_novelty(con, spine).rename(_key="user_id", _time="decision_time")
        out = out.left_join(nov, [out.user_id == nov._key, out.decision_time == nov._time]).drop("_key", "_time")
    return out


def decision_row(product: Product, row: Mapping[str, Any], state: OnlineFeatureState, ctx: Context,
                 reads: frozenset[str] | None = None) -> dict[str, Any]:
    """The decision-frame row of one event of ``product.table`` (before ``prepare``), from the online state.

    With ``reads`` (``RiskScorer.reads``: what the model, the rules, the guardrail and the costs read), of the
    views' features only those: the same values, a third of the work on a served request."""
    at = row["event_time"]
    out = spine_one(product.kind, str(row[product.id_column]), row, ctx)
    t = to_micros(at)
    for view, prefix in product.views:  # each view's features, its prefix on their names, nulls as nan
        names = None if reads is None else _unprefixed(reads, prefix)
        out.update(state.get_as(view.name, out[view.key], t, prefix, np.nan, names))
    if product.novelty:
        out.update({k: (np.nan if v is None else v) for k, v in ctx.novelty(out["user_id"], at).items()})
    return out


@functools.cache
def _unprefixed(reads: frozenset[str], prefix: str) -> frozenset[str]:
    return frozenset(n[len(prefix):] for n in reads if n.startswith(prefix))


def rows_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows made by ``decision_row`` as a frame: the numbers in one float block, the few texts and times as
    objects (one block instead of a hundred columns built one by one: most of a one-row request's time)."""
    first = rows[0]  # every row has the same keys and kinds: None only ever stands for a missing text
    text = [c for c, v in first.items() if v is None or isinstance(v, str | dt.datetime)]
    numeric = [c for c in first if c not in set(text)]
    frame = pd.DataFrame(np.array([[r[c] for c in numeric] for r in rows], dtype=float), columns=numeric)
    for c in text:
        frame[c] = pd.Series([r[c] for r in rows], dtype=object)
    return frame
