"""Labels as they were known: at the build date for the rows a model learns from, at the end for its test.

A decision's label comes from the ``labels`` rows about its entity (``entity_type``, ``entity_id``)
of the product's label types. At a cut-off only the labels with ``event_time <= cut-off`` count:

* fraud products: 1 if a bad label is known, else 0 (no news is good news, as in production);
* outcome products (credit): the known outcome, and rows whose outcome is not yet known are dropped.

``label_time`` says when the label used became known (empty for a 0 by absence), so a test can
prove that no training row used a label from after the build date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def label_events(con: Any, entity_type: str, label_types: Sequence[str]) -> pd.DataFrame:
    """(entity_id, label, label_time) of every label on ``entity_type`` of the given types."""
    lab = con.table("labels")
    lab = lab.filter(lab.entity_type == entity_type, lab.label_type.isin(list(label_types)))
    return lab.select("entity_id", "label", label_time=lab.event_time).to_pandas()


def known_at(events: pd.DataFrame, cutoff: dt.datetime | None) -> pd.DataFrame:
    """Per entity: the worst label known by ``cutoff`` (all when None) and when it became known."""
    known = events if cutoff is None else events[events["label_time"] <= pd.Timestamp(cutoff)]
    worst = known.groupby("entity_id")["label"].transform("max")
    first = known[known["label"] == worst].groupby("entity_id").agg(label=("label", "max"),
                                                                      label_time=("label_time", "min"))
    return first


def attach_labels(frame: pd.DataFrame, events: pd.DataFrame, build_date: dt.datetime, *,
                  outcome_required: bool = False) -> pd.DataFrame:
    """``frame`` with ``label`` and ``label_time``: as known at ``build_date`` for decisions before it,
    as known now (every label in the lake) for decisions from it on."""
    before = (frame["decision_time"] < pd.Timestamp(build_date)).to_numpy()
    parts = []
    for mask, cutoff in ((before, build_date), (~before, None)):
        rows = frame[mask]
        labels = known_at(events, cutoff)
        parts.append(rows.join(labels, on="entity_id"))
    out = pd.concat(parts).sort_index()
    if outcome_required:
        out = out[out["label"].notna()]
    out["label"] = out["label"].fillna(0).astype(np.int64)
    return out
