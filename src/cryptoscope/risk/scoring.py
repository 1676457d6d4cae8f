"""Batch scoring: the promoted model's score, decision and reasons for every decision, into the lake.

Each decision of the product (from ``since`` on) gets one ``risk_scores`` row keyed
``kind:entity_id:model_version``; the append de-duplicates on that key, so scoring the same lake
again with the same model adds nothing, and a newly promoted version adds its own rows next to
the old ones.

The decisions are read through ``backend``, the Ibis connection of the run's engine (the lake's DuckDB by
default). Both engines score with one function, ``score_batch`` (prepare, ``RiskScorer.score_many``, the
rows): on DuckDB over the whole frame in this process; on Spark over each pandas batch of the decision
frame's Spark DataFrame with ``mapInPandas``, the loaded scorer broadcast to the executors once. Reasons
must not depend on how rows were batched, so the explainer's background is fixed before scoring: the
``REFERENCE_ROWS`` decisions whose entity ids hash lowest, the same rows on either engine. Only
``scored_at`` differs between two runs on the same lake and model.

>>> run = score("withdrawal", "demo-lake", "models-registry")        # doctest: +SKIP
>>> run.added, run.model_version                                      # doctest: +SKIP
(8540, 3)
>>> score("withdrawal", lake, registry, backend=connect_spark(lake))   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis.expr.schema as sch
import numpy as np
import pandas as pd
import pyarrow as pa

from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect
from cryptoscope.lake.driver import note
from cryptoscope.models import ReasonExplainer, Registry
from cryptoscope.productline import Decision
from cryptoscope.risk.frames import decision_expr, finish_frame
from cryptoscope.risk.products import Product
from cryptoscope.risk.scorer import RiskScorer
from cryptoscope.risk.sequences import AccountHistory, steps_of, with_model_sequences
from cryptoscope.schema import get_table

TABLE = "risk_scores"
#: Decisions in the reason explainer's background (a linear model's reasons are contributions against it).
REFERENCE_ROWS = 100


@dataclass(frozen=True)
class ScoreRun:
    """What one ``score`` call did."""

    kind: str
    model_name: str
    model_version: int
    scored: int
    added: int


def score(kind: str, lake: Lake | str | os.PathLike[str], registry_root: str | os.PathLike[str], *,
          since: dt.datetime | None = None, top_k: int = 3, backend: Any = None) -> ScoreRun:
    """Score ``kind``'s decisions from ``since`` (all when None) with the promoted model; append to risk_scores.

    The decisions come from ``RiskScorer.score_many``: the same derive, rules, model, policy and reasons as
    online scoring. ``backend`` is the Ibis connection to read with (None: the lake's DuckDB; a Spark one
    scores on the executors). Either way the rows written come through the driver: they are collected as
    Arrow and appended in one lake transaction, which commits the files and de-duplicates the keys."""
    scorer = RiskScorer(kind, top_k=top_k).load(Registry(Path(registry_root)))
    model = scorer.model_
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    con = connect(lake) if backend is None else backend
    expr = decision_expr(con, scorer.product, since=since)
    scored_at = pd.Timestamp.now(tz="UTC")
    reads_sequences = steps_of(model.bundle.features) > 0
    if getattr(con, "name", "") == "pyspark":
        if reads_sequences:
            raise CryptoscopeError(f"{model.name} v{model.version} reads event sequences, which are built on DuckDB "
                                   "only: score it with the lake's DuckDB (no --engine spark)")
        rows = _score_on_spark(con, expr, scorer, scored_at)
    else:
        raw = expr.to_pandas()
        history = AccountHistory.load(con) if reads_sequences else None
        explained = with_background(scorer, reference_rows(raw), history)
        rows = pa.Table.from_pandas(score_batch(explained, raw, scored_at, history), schema=_SCHEMA,
                                    preserve_index=False)
    if rows.num_rows == 0:
        return ScoreRun(kind, model.name, model.version, 0, 0)
    rows = rows.sort_by([("event_time", "ascending"), ("entity_id", "ascending")])
    with lake.transaction() as tx:
        added = tx.append(TABLE, rows, dedupe=True)
    return ScoreRun(kind, model.name, model.version, rows.num_rows, added)


def score_batch(scorer: RiskScorer, rows: pd.DataFrame, scored_at: pd.Timestamp,
                history: AccountHistory | None = None) -> pd.DataFrame:
    """The ``risk_scores`` rows of decision rows as an engine returned them (``decision_expr``): the one
    implementation both engines run, on the whole frame (DuckDB) or on each Spark batch. ``history`` gives
    the event sequences of a model that reads them (``sequences.py``).

    ``scorer`` must be explained already (``with_background``), or its reasons would depend on the batch."""
    if scorer.explainer_ is None:
        raise CryptoscopeError(f"{scorer.kind}: score_batch needs a scorer with a fixed reason background "
                               "(with_background)")
    if rows.empty:
        return _empty_frame()
    return scores_frame(scorer.product, scorer.score_many(_model_frame(scorer, finish_frame(scorer.product, rows),
                                                                      history)), scored_at)


def _model_frame(scorer: RiskScorer, frame: pd.DataFrame, history: AccountHistory | None) -> pd.DataFrame:
    """``frame`` with the event sequences the scorer's model reads, if it reads any."""
    features = scorer.model_.bundle.features

    def given() -> AccountHistory:
        if history is None:
            raise CryptoscopeError(f"{scorer.model_.name} reads event sequences: pass the account history")
        return history

    return with_model_sequences(frame, features, given)


def reference_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The ``REFERENCE_ROWS`` decisions whose entity ids' MD5 sort first (then by entity id): a background
    that neither the engine, the batching nor ``since``'s row order can change."""
    digest = pd.Series([hashlib.md5(str(e).encode()).hexdigest() for e in rows["entity_id"]], index=rows.index)
    order = pd.DataFrame({"h": digest, "e": rows["entity_id"].astype(str)}).sort_values(["h", "e"], kind="stable")
    return rows.loc[order.index[:REFERENCE_ROWS]].reset_index(drop=True)


def with_background(scorer: RiskScorer, reference: pd.DataFrame, history: AccountHistory | None = None) -> RiskScorer:
    """``scorer`` with its reason explainer fitted on ``reference`` decision rows (before ``prepare``)."""
    bundle = scorer.model_.bundle
    frame = _model_frame(scorer, finish_frame(scorer.product, reference), history)
    features = frame[list(bundle.features)].astype(float)
    scorer.explainer_ = ReasonExplainer(scorer.product.catalog, top_k=3 * scorer.top_k).fit(bundle.estimator,
                                                                                          features)
    return scorer


def _score_on_spark(con: Any, expr: Any, scorer: RiskScorer, scored_at: pd.Timestamp) -> pa.Table:
    """``score_batch`` over each batch of the decision frame on Spark's executors, collected as Arrow."""
    from pyspark import StorageLevel, cloudpickle
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    frame = con.raw_sql(con.compile(expr)).persist(StorageLevel.MEMORY_AND_DISK)  # read twice: background, scores
    try:
        schema = expr.schema()
        first = (frame.withColumn("_md5", F.md5(F.col("entity_id").cast("string")))
                 .orderBy("_md5", "entity_id").limit(REFERENCE_ROWS).drop("_md5"))
        reference = _from_spark(first.toPandas(), schema)
        # pickled once, not once per task; by cloudpickle, as Spark ships functions: a product's views hold
        # lambdas (derived source columns) that plain pickle refuses
        shipped = frame.sparkSession.sparkContext.broadcast(cloudpickle.dumps(scorer))
        scored = frame.mapInPandas(_partition_scorer(shipped, reference, schema, scored_at),
                                   schema=from_arrow_schema(_SCHEMA))
        table = note(scored.toArrow())  # counted with the rows every lake query brings to the driver
        shipped.unpersist()
    finally:
        frame.unpersist()
    return table.cast(_SCHEMA)


def _partition_scorer(shipped: Any, reference: pd.DataFrame, schema: sch.Schema,
                      scored_at: pd.Timestamp) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The function ``mapInPandas`` runs on each partition: the broadcast scorer, explained once per
    partition on the shared background, then ``score_batch`` on each batch as the driver would convert it."""
    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scorer = with_background(pickle.loads(shipped.value), reference)
        for batch in batches:
            yield score_batch(scorer, _from_spark(batch, schema), scored_at)
    return run


def _from_spark(batch: pd.DataFrame, schema: sch.Schema) -> pd.DataFrame:
    """A Spark pandas batch typed as Ibis' Spark backend types ``to_pandas`` (UTC times, Ibis dtypes)."""
    from ibis.backends.pyspark.converter import PySparkPandasData

    return PySparkPandasData.convert_table(batch, schema)


def scores_frame(product: Product, decisions: list[Decision], scored_at: pd.Timestamp) -> pd.DataFrame:
    """The ``risk_scores`` rows of some decisions, keyed ``kind:entity_id:model_version``."""
    return pd.DataFrame({
        "score_id": [f"{product.kind}:{d.entity_id}:{d.model_version}" for d in decisions],
        "kind": product.kind, "entity_type": product.entity_type, "entity_id": [d.entity_id for d in decisions],
        "user_id": np.array([d.user_id for d in decisions], dtype="int64"),
        "event_time": pd.to_datetime([d.event_time for d in decisions], utc=True),
        "score": np.array([d.score for d in decisions], dtype=float),
        "decision": [d.decision for d in decisions], "reasons": ["; ".join(d.reasons) for d in decisions],
        "model_name": [d.model for d in decisions],
        "model_version": np.array([d.model_version for d in decisions], dtype="int64"),
        "scored_at": scored_at,
    })


def _empty_frame() -> pd.DataFrame:
    return _SCHEMA.empty_table().to_pandas()


_SCHEMA: pa.Schema = get_table(TABLE).arrow_schema
