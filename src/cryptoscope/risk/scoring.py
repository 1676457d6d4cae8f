"""Batch scoring: the promoted model's score, decision and reasons for every decision, into the lake.

Each decision of the product (from ``since`` on) gets one ``risk_scores`` row keyed
``kind:entity_id:model_version``; the append de-duplicates on that key, so scoring the same lake
again with the same model adds nothing, and a newly promoted version adds its own rows next to
the old ones.

>>> run = score("withdrawal", "demo-lake", "models-registry")        # doctest: +SKIP
>>> run.added, run.model_version                                      # doctest: +SKIP
(8540, 3)
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from cryptoscope.lake import Lake, connect
from cryptoscope.models import Registry
from cryptoscope.productline import Decision
from cryptoscope.risk.frames import decision_frame
from cryptoscope.risk.products import Product
from cryptoscope.risk.scorer import RiskScorer
from cryptoscope.schema import get_table

TABLE = "risk_scores"


@dataclass(frozen=True)
class ScoreRun:
    """What one ``score`` call did."""

    kind: str
    model_name: str
    model_version: int
    scored: int
    added: int


def score(kind: str, lake: Lake | str | os.PathLike[str], registry_root: str | os.PathLike[str], *,
          since: dt.datetime | None = None, top_k: int = 3) -> ScoreRun:
    """Score ``kind``'s decisions from ``since`` (all when None) with the promoted model; append to risk_scores.

    The decisions come from ``RiskScorer.score_many``: the same derive, rules, model, policy and reasons as
    online scoring."""
    line = RiskScorer(kind, top_k=top_k).load(Registry(Path(registry_root)))
    model = line.model_
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    frame = decision_frame(connect(lake), line.product, since=since)
    if frame.empty:
        return ScoreRun(kind, model.name, model.version, 0, 0)
    rows = scores_table(line.product, line.score_many(frame))
    with lake.transaction() as tx:
        added = tx.append(TABLE, rows, dedupe=True)
    return ScoreRun(kind, model.name, model.version, len(frame), added)


def scores_table(product: Product, decisions: list[Decision]) -> pa.Table:
    """The ``risk_scores`` rows of one scoring run, keyed ``kind:entity_id:model_version``."""
    return pa.Table.from_pandas(pd.DataFrame({
        "score_id": [f"{product.kind}:{d.entity_id}:{d.model_version}" for d in decisions],
        "kind": product.kind, "entity_type": product.entity_type, "entity_id": [d.entity_id for d in decisions],
        "user_id": np.array([d.user_id for d in decisions], dtype="int64"),
        "event_time": pd.to_datetime([d.event_time for d in decisions], utc=True),
        "score": np.array([d.score for d in decisions], dtype=float),
        "decision": [d.decision for d in decisions], "reasons": ["; ".join(d.reasons) for d in decisions],
        "model_name": [d.model for d in decisions], "model_version": [d.model_version for d in decisions],
        "scored_at": pd.Timestamp.now(tz="UTC"),
    }), schema=get_table(TABLE).arrow_schema, preserve_index=False)
