"""A product's decision frame: its spine, every view's features at each decision, the derived columns.

Views are joined on ``(view.key, decision_time)`` with the point-in-time builder's semantics
(events strictly before the decision); a view may get a prefix so that two views' features with
the same name (``deposit_usd_30d`` of fiat payments and of on-chain deposits) stay apart.

>>> frame = decision_frame(connect(lake), PRODUCTS["payment"])          # doctest: +SKIP
>>> frame = labelled_frame(connect(lake), PRODUCTS["payment"], plan)    # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.offline import view_features
from cryptoscope.risk.labels import attach_labels, label_events
from cryptoscope.risk.novelty import login_novelty
from cryptoscope.risk.plan import Boundaries, TimePlan, activity_window
from cryptoscope.risk.products import GUARD_COLUMN, RULE_COLUMN, Product


def decision_frame(con: Any, product: Product, *, since: dt.datetime | None = None) -> pd.DataFrame:
    """Every decision of ``product`` (from ``since`` on) with its features, rules decision and cost columns,
    in decision-time order; no labels."""
    spine = product.spine(con, since)
    out = _with_views(con, product, spine)
    frame = out.to_pandas()
    frame = product.derive(frame)
    missing = [f for f in product.features if f not in frame.columns]
    if missing:
        raise CryptoscopeError(f"{product.kind}: features {', '.join(missing)} are neither in its views nor derived")
    frame[RULE_COLUMN] = product.rules(frame)
    if product.guardrail is not None:
        frame[GUARD_COLUMN] = product.guardrail(frame)
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
