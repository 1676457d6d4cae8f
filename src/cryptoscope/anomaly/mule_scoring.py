"""Batch scoring of the mule model: every user not known bad at a snapshot, into ``risk_scores``.

The champion of ``abnormal_mule`` scores the snapshot as of ``as_of`` (default: the end of the lake rounded up to
midnight, `mules.default_end`), whichever family it is: the same rows and columns as the risk products write
(kind ``mule``, entity type ``user``, entity id ``<user_id>@<snapshot>``, the snapshot time as the event time, the
calibrated score, the decision and the reasons in words, keyed ``mule:<entity_id>:<version>``), so the abnormal
line's risk signal, the recommender's suitability and the API's user page read them like any risk score.
Scoring the same snapshot with the same version again adds nothing.

Reasons are written for the users the model flags (review or block) and at least the `TOP_K` highest scores, at
most ``explain`` of them, highest first; the others get none (an empty text). The trees could explain everyone,
the network costs a backward pass per user (`mule_reasons`): both explain the same users, so that swapping the
champion changes the scores and the words, not which rows have words.

>>> run = score("demo-lake", "models-registry")         # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cryptoscope.anomaly import mule_models, mule_reasons
from cryptoscope.anomaly.mules import ENTITY_TYPE, KIND, MODEL_NAME, TOP_K, default_end, take
from cryptoscope.lake import Lake, connect
from cryptoscope.models import APPROVE, Registry
from cryptoscope.schema import get_table

TABLE = "risk_scores"
#: At most this many users are explained per snapshot (highest scores first).
EXPLAIN = 1_000


@dataclass(frozen=True)
class MuleScoreRun:
    """What one ``score`` call did."""

    model_version: int
    as_of: dt.datetime
    scored: int
    flagged: int
    explained: int
    added: int


def score(lake: Lake | str | os.PathLike[str], registry_root: str | os.PathLike[str], *,
          as_of: dt.datetime | None = None, explain: int = EXPLAIN, top_k: int = 3, backend: Any = None
          ) -> MuleScoreRun:
    """Score the snapshot as of ``as_of`` with the promoted ``abnormal_mule`` and append it to ``risk_scores``."""
    found = Registry(Path(registry_root)).load(MODEL_NAME)
    root = lake if isinstance(lake, Lake) else Lake(lake)
    con = connect(root) if backend is None else backend
    at = as_of or default_end(con)
    snap = take(root, con, at)
    keep = np.flatnonzero(~np.isin(snap.user_ids, list(snap.result.known_bad)))
    p = mule_models.scores(found.bundle, snap)[keep]
    decisions = found.bundle.decide_scored(p, None)
    order = np.argsort(-p, kind="stable")
    wanted = max(TOP_K, int((decisions != APPROVE).sum()))
    chosen = order[:min(wanted, explain, len(order))]
    words = [""] * len(keep)
    for i, why in zip(chosen, mule_reasons.explain(found.bundle, snap, keep[chosen], top_k=top_k), strict=True):
        words[i] = "; ".join(why)
    rows = scores_table(snap.user_ids[keep], at, p, decisions, words, found.version)
    with root.transaction() as tx:
        added = tx.append(TABLE, rows, dedupe=True)
    return MuleScoreRun(found.version, at, len(keep), int((decisions != APPROVE).sum()), len(chosen), added)


def scores_table(users: np.ndarray, at: dt.datetime, p: np.ndarray, decisions: np.ndarray, reasons: list[str],
                 version: int) -> pa.Table:
    """The ``risk_scores`` rows of one snapshot's users, in user order."""
    entity = [f"{int(u)}@{at:%Y-%m-%dT%H:%M:%S}" for u in users]
    frame = pd.DataFrame({
        "score_id": [f"{KIND}:{e}:{version}" for e in entity], "kind": KIND, "entity_type": ENTITY_TYPE,
        "entity_id": entity, "user_id": np.asarray(users, dtype="int64"),
        "event_time": pd.Timestamp(at).tz_convert("UTC"), "score": np.asarray(p, dtype=float),
        "decision": np.asarray(decisions, dtype=str), "reasons": reasons, "model_name": MODEL_NAME,
        "model_version": np.int64(version), "scored_at": pd.Timestamp.now(tz="UTC")})
    return pa.Table.from_pandas(frame, schema=get_table(TABLE).arrow_schema, preserve_index=False)
