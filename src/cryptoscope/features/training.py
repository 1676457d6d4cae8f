"""Training sets that could have been built on the cut-off day, and not one day later.

A row is a labelled decision (who, when, what turned out); its features come from events
strictly before the decision, and it exists only if both the decision and the label were
known by the cut-off. Chargebacks that arrive after the cut-off stay out, as in production.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.offline import condition, point_in_time
from cryptoscope.features.spec import Cond, FeatureView, eq
from cryptoscope.schema import LABEL_TYPES

#: Label types the exchange only ever learns as positives (a chargeback, a report): every other decision of
#: the same kind counts as good. (source table, id column, which rows are such decisions)
_POSITIVE_ONLY: dict[str, tuple[str, str, tuple[Cond, ...]]] = {
    "card_fraud": ("payments", "payment_id", (eq("method", "card"), eq("direction", "deposit"))),
    "account_takeover": ("chain_transfers", "transfer_id", (eq("direction", "withdrawal"),)),
    "money_mule": ("chain_transfers", "transfer_id", (eq("direction", "withdrawal"),)),
    "illicit_exposure": ("chain_transfers", "transfer_id", ()),
    "kyc_fraud": ("kyc_submissions", "submission_id", ()),
}


def label_spine(con: Any, label_type: str, cutoff: dt.datetime) -> ir.Table:
    """(user_id, decision_time, label, label_time, entity_id) of decisions made and judged by ``cutoff``.

    For positive-only label types every decision of that kind before the cut-off is a row, labelled 1
    when a label was known by the cut-off and 0 otherwise (label_time null); for types with explicit
    outcomes (loan defaults) only the decisions whose outcome was known count.
    """
    if label_type not in LABEL_TYPES:
        raise CryptoscopeError(f"unknown label type {label_type!r}; known: {', '.join(LABEL_TYPES)}")
    if cutoff.tzinfo is None:
        raise CryptoscopeError("the cut-off must be a UTC datetime, not a naive one")
    at = ibis.literal(cutoff.astimezone(dt.UTC))
    labels = con.table("labels")
    known = labels.filter((labels.label_type == label_type) & (labels.event_time <= at)
                          & (labels.decision_time < at) & labels.user_id.notnull())
    known = known.select("user_id", "decision_time", "label", label_time=known.event_time, entity_id=known.entity_id)
    if label_type not in _POSITIVE_ONLY:
        return known
    table, id_column, conds = _POSITIVE_ONLY[label_type]
    decisions = con.table(table)
    where = condition(decisions, conds)
    decisions = decisions.filter(decisions.event_time < at if where is None else (decisions.event_time < at) & where)
    decisions = decisions.select("user_id", decision_time=decisions.event_time,
                                 entity_id=decisions[id_column].cast("string"))
    positives = known.group_by("entity_id").aggregate(label=known.label.max(), label_time=known.label_time.min())
    spine = decisions.left_join(positives, "entity_id").drop("entity_id_right")
    return spine.mutate(label=spine.label.coalesce(0)).select("user_id", "decision_time", "label", "label_time",
                                                              "entity_id")


def training_set(con: Any, views: Sequence[FeatureView], label_type: str, cutoff: dt.datetime) -> ir.Table:
    """Labels known by ``cutoff`` with the features of every user-keyed view at each decision time."""
    user_views = [v for v in views if v.key == "user_id"]
    if not user_views:
        raise CryptoscopeError("no view is keyed by user_id; a label spine needs user features")
    return point_in_time(con, user_views, label_spine(con, label_type, cutoff))
