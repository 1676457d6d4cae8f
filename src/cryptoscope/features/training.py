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
from cryptoscope.features.offline import point_in_time
from cryptoscope.features.spec import FeatureView
from cryptoscope.schema import LABEL_TYPES


def label_spine(con: Any, label_type: str, cutoff: dt.datetime) -> ir.Table:
    """(user_id, decision_time, label, label_time) for labels of ``label_type`` known by ``cutoff``."""
    if label_type not in LABEL_TYPES:
        raise CryptoscopeError(f"unknown label type {label_type!r}; known: {', '.join(LABEL_TYPES)}")
    if cutoff.tzinfo is None:
        raise CryptoscopeError("the cut-off must be a UTC datetime, not a naive one")
    at = ibis.literal(cutoff.astimezone(dt.UTC))
    labels = con.table("labels")
    known = labels.filter((labels.label_type == label_type) & (labels.event_time <= at)
                          & (labels.decision_time < at) & labels.user_id.notnull())
    return known.select("user_id", "decision_time", "label", label_time=known.event_time, entity_id=known.entity_id)


def training_set(con: Any, views: Sequence[FeatureView], label_type: str, cutoff: dt.datetime) -> ir.Table:
    """Labels known by ``cutoff`` with the features of every user-keyed view at each decision time."""
    user_views = [v for v in views if v.key == "user_id"]
    if not user_views:
        raise CryptoscopeError("no view is keyed by user_id; a label spine needs user features")
    return point_in_time(con, user_views, label_spine(con, label_type, cutoff))
