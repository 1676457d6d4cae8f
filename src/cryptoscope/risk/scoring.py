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

from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect
from cryptoscope.models import ReasonExplainer, Registry
from cryptoscope.risk.frames import decision_frame
from cryptoscope.risk.products import Product, get_product
from cryptoscope.risk.reasons import distinct_reasons
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
    """Score ``kind``'s decisions from ``since`` (all when None) with the promoted model; append to risk_scores."""
    product = get_product(kind)
    model = Registry(Path(registry_root)).load(product.model_name)
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    frame = decision_frame(connect(lake), product, since=since)
    if frame.empty:
        return ScoreRun(kind, product.model_name, model.version, 0, 0)
    features = frame[list(model.bundle.features)]
    p = model.bundle.score(features)
    if model.bundle.thresholds is None:
        raise CryptoscopeError(f"{model.name} v{model.version} has no decision policy; retrain it with costs")
    decisions = model.bundle.decide_scored(p, frame)
    rows = scores_table(product, frame, p, decisions, reason_texts(model.bundle.estimator, features, product, top_k),
                        model.name, model.version)
    with lake.transaction() as tx:
        added = tx.append(TABLE, rows, dedupe=True)
    return ScoreRun(kind, product.model_name, model.version, len(frame), added)


def reason_texts(estimator: object, features: pd.DataFrame, product: Product, top_k: int = 3) -> list[str]:
    """Per row, its top ``top_k`` reasons in words (one per signal), joined by "; "."""
    explainer = ReasonExplainer(product.catalog, top_k=3 * top_k).fit(estimator, features)
    return ["; ".join(r.text for r in distinct_reasons(row, top_k)) for row in explainer.reasons(features)]


def scores_table(product: Product, frame: pd.DataFrame, p: np.ndarray, decisions: np.ndarray, reasons: list[str],
                 model_name: str, version: int) -> pa.Table:
    """The ``risk_scores`` rows of one scoring run."""
    entity = frame["entity_id"].astype(str)
    return pa.Table.from_pandas(pd.DataFrame({
        "score_id": product.kind + ":" + entity + f":{version}",
        "kind": product.kind, "entity_type": product.entity_type, "entity_id": entity,
        "user_id": frame["user_id"].astype("int64"), "event_time": frame["decision_time"],
        "score": np.asarray(p, dtype=float), "decision": np.asarray(decisions, dtype=str), "reasons": reasons,
        "model_name": model_name, "model_version": version, "scored_at": pd.Timestamp.now(tz="UTC"),
    }), schema=get_table(TABLE).arrow_schema, preserve_index=False)
