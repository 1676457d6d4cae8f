"""A product's decision frame: its spine, every view's features at each decision, the derived columns.

Views are joined on ``(view.key, decision_time)`` with the point-in-time builder's semantics
(events strictly before the decision); a view may get a prefix so that two views' features with
the same name (``deposit_usd_30d`` of fiat payments and of on-chain deposits) stay apart.

Online, ``decision_row`` builds the same row for one event from the online feature state and context
(features strictly before the event, as the point-in-time join reads them); ``rows_frame`` turns such rows
into a frame for the batch functions.

>>> frame = decision_frame(connect(lake), PRODUCTS["payment"])          # doctest: +SKIP
>>> frame = labelled_frame(connect(lake), PRODUCTS["payment"], plan)    # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.offline import view_features
from cryptoscope.features.online import OnlineFeatureState
from cryptoscope.features.online_context import Context
from cryptoscope.risk.labels import attach_labels, label_events
from cryptoscope.risk.novelty import login_novelty
from cryptoscope.risk.plan import Boundaries, TimePlan, activity_window
from cryptoscope.risk.products import Product
from cryptoscope.risk.spines import spine_one


def decision_frame(con: Any, product: Product, *, since: dt.datetime | None = None) -> pd.DataFrame:
    """Every decision of ``product`` (from ``since`` on) with its features, rules decision and cost columns,
    in decision-time order; no labels."""
    spine = product.spine(con, since)
    out = _with_views(con, product, spine)
    frame = product.prepare(out.to_pandas())
    missing = [f for f in product.features if f not in frame.columns]
    if missing:
        raise CryptoscopeError(f"{product.kind}: features {', '.join(missing)} are neither in its views nor derived")
    return frame.sort_values(["decision_time", "entity_id"], kind="stable").reset_index(drop=True)


def labelled_frame(con: Any, product: Product, plan: TimePlan) -> tuple[pd.DataFrame, Boundaries]:
    """Decisions inside the lake's activity window, labelled as the plan allows (see ``labels.py``).

    Decisions in the maturity wait before the build date, and those within the product's outcome
    horizon of the end, are dropped (see ``plan.py``)."""
    start, end = activity_window(con)
    bounds = plan.boundaries(start, end, maturity=product.maturity, horizon=product.horizon)
    frame = decision_frame(con, product, since=start)
    times = frame["decision_time"]
    waiting = (times >= pd.Timestamp(bounds.valid_end)) & (times < pd.Timestamp(bounds.build_date))
    frame = frame[~waiting & (times <= pd.Timestamp(bounds.last_decision))]
    frame = attach_labels(frame, label_events(con, product.entity_type, product.label_types), bounds.build_date,
                          outcome_required=product.outcome_required)
    if frame.empty:
        raise CryptoscopeError(f"the lake has no {product.kind} decisions between {start} and {end}")
    return frame.reset_index(drop=True), bounds


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


def decision_row(product: Product, row: Mapping[str, Any], state: OnlineFeatureState, ctx: Context) -> dict[str, Any]:
    """The decision-frame row of one event of ``product.table`` (before ``prepare``), from the online state."""
    at = row["event_time"]
    out = spine_one(product.kind, str(row[product.id_column]), row, ctx)
    for view, prefix in product.views:
        feats = state.get(view.name, out[view.key], at)
        out.update({f"{prefix}{k}": (np.nan if v is None else v) for k, v in feats.items()})
    if product.novelty:
        out.update({k: (np.nan if v is None else v) for k, v in ctx.novelty(out["user_id"], at).items()})
    return out


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
