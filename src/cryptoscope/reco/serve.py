"""Serving: the nightly batch of top-k lists into the lake, and training / loading the warm model.

`write_batch` scores every account in chunks (rich progress bar) and appends the lists to the
``recommendations`` table in one lake transaction; the key ``user_id:as_of_date:rank`` makes a rerun
for the same day add nothing. `Recommender.recommend` answers one user from memory for online use
(`benchmarks/reco_serve.py` measures it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from rich.progress import Progress

from cryptoscope.lake import Lake
from cryptoscope.reco.data import LakeData, load
from cryptoscope.reco.model import Recommender

CHUNK_USERS = 2_000
DEFAULT_MODEL = Path("reco-model/recommender.pkl")


@dataclass(frozen=True)
class BatchRun:
    users: int
    rows: int
    added: int
    as_of: dt.date
    model_version: str


def day_to_date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def model_version(model: Recommender) -> str:
    """As-of date plus a fingerprint of the ranker, so two trainings on different data never share a name."""
    text = "" if model.booster is None else model.booster.model_to_string()
    return f"{day_to_date(model.as_of).isoformat()}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def train(lake: str | os.PathLike[str], out: Path = DEFAULT_MODEL) -> tuple[Recommender, LakeData]:
    """Fit on everything in the lake and save the model for `recommend` and the batch job."""
    data = load(lake)
    model = Recommender.fit(data)
    model.save(out)
    return model, data


#: The columns of a batch (the ``recommendations`` table): one schema for every path that builds them.
ROW_SCHEMA = pa.schema([("rec_id", pa.string()), ("user_id", pa.int64()), ("event_time", pa.timestamp("us", "UTC")),
                        ("rank", pa.int64()), ("product_type", pa.string()), ("product_id", pa.string()),
                        ("item_risk", pa.int64()), ("suitability_level", pa.int64()), ("score", pa.float64()),
                        ("reason", pa.string()), ("model_version", pa.string()),
                        ("scored_at", pa.timestamp("us", "UTC"))])


def top_rows(model: Recommender, users: np.ndarray, k: int, version: str, scored_at: dt.datetime) -> pa.Table:
    """The ``recommendations`` rows of the top-k lists of ``users`` (row indexes of the model's users).

    The one implementation of a batch: the in-process chunks and every Spark partition call it."""
    if not len(users):
        return ROW_SCHEMA.empty_table()
    recs = [r for lst in model.explain(users, model.top(users, k)) for r in lst]
    as_of = dt.datetime.combine(day_to_date(model.as_of), dt.time(), tzinfo=dt.UTC)
    date = as_of.date().isoformat()
    return pa.table({
        "rec_id": [f"{r.user_id}:{date}:{r.rank}" for r in recs], "user_id": [r.user_id for r in recs],
        "event_time": [as_of] * len(recs), "rank": [r.rank for r in recs],
        "product_type": [r.item_type for r in recs], "product_id": [r.item_id for r in recs],
        "item_risk": [r.item_risk for r in recs], "suitability_level": [r.level for r in recs],
        "score": [r.score for r in recs], "reason": [r.reason for r in recs],
        "model_version": [version] * len(recs), "scored_at": [scored_at] * len(recs),
    }, schema=ROW_SCHEMA)


def _in_process(model: Recommender, users: np.ndarray, k: int, version: str, scored_at: dt.datetime,
                show_progress: bool) -> pa.Table:
    tables = []
    with Progress(disable=not show_progress, transient=True) as bar:
        task = bar.add_task("recommending", total=len(users))
        for start in range(0, len(users), CHUNK_USERS):
            chunk = users[start:start + CHUNK_USERS]
            tables.append(top_rows(model, chunk, k, version, scored_at))
            bar.advance(task, len(chunk))
    return pa.concat_tables(tables) if tables else top_rows(model, users[:0], k, version, scored_at)


def _on_spark(backend: Any, model: Recommender, users: np.ndarray, k: int, version: str,
              scored_at: dt.datetime) -> pa.Table:
    """`top_rows` over the users with ``applyInPandas``: the fitted model is broadcast once to the executors and
    each task scores exactly one of the in-process chunks (users ``CHUNK_USERS`` at a time, in order), so a
    user's list comes out of the same matrix products on either path. Batches cut elsewhere (a range
    partitioning's sampled bounds) changed the float sums' order, and with it a near tie: 2 of 2 M rows
    differed on the 200,000-user world before."""
    from pyspark.sql.pandas.types import from_arrow_schema

    if not len(users):
        return top_rows(model, users, k, version, scored_at)
    spark = backend._session
    shared = spark.sparkContext.broadcast(model)
    chunks = pd.DataFrame({"chunk": np.arange(len(users)) // CHUNK_USERS, "user": users.astype(np.int64)})
    frame = spark.createDataFrame(chunks).repartition(-(-len(users) // CHUNK_USERS), "chunk")

    def score(chunk: pd.DataFrame) -> pd.DataFrame:
        ordered = np.sort(chunk["user"].to_numpy(dtype=np.int64))  # the in-process chunk, users in order
        return top_rows(shared.value, ordered, k, version, scored_at).to_pandas()

    try:
        out = frame.groupBy("chunk").applyInPandas(score, from_arrow_schema(ROW_SCHEMA)).toArrow()
    finally:
        shared.unpersist()
    table = out.select(ROW_SCHEMA.names).cast(ROW_SCHEMA)
    return table.sort_by([("user_id", "ascending"), ("rank", "ascending")])


def write_batch(model: Recommender, lake: str | os.PathLike[str] | Lake, *, k: int = 10,
                show_progress: bool = True, backend: Any = None) -> BatchRun:
    """Top-k for every account that exists at the model's as-of day, appended to ``recommendations``.

    With a Spark ``backend`` (the run's engine) the lists are computed on the executors (`_on_spark`);
    otherwise in this process, in chunks. The same rows either way: `top_rows` builds both."""
    users = np.flatnonzero(model.snap.state.exists)
    version = model_version(model)
    scored_at = dt.datetime.now(dt.UTC)
    if backend is not None and getattr(backend, "name", "") == "pyspark":
        table = _on_spark(backend, model, users, k, version, scored_at)
    else:
        table = _in_process(model, users, k, version, scored_at, show_progress)
    with (lake if isinstance(lake, Lake) else Lake(lake)).transaction() as tx:
        added = tx.append("recommendations", table)
    rows = table.num_rows
    return BatchRun(len(users), rows, added, day_to_date(model.as_of), version)
