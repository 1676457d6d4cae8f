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

import numpy as np
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


def _rows(model: Recommender, users: np.ndarray, k: int, version: str, scored_at: dt.datetime) -> pa.Table:
    recs = [r for lst in model.explain(users, model.top(users, k)) for r in lst]
    as_of = dt.datetime.combine(day_to_date(model.as_of), dt.time(), tzinfo=dt.UTC)
    date = as_of.date().isoformat()
    return pa.table({
        "rec_id": [f"{r.user_id}:{date}:{r.rank}" for r in recs],
        "user_id": pa.array([r.user_id for r in recs], pa.int64()),
        "event_time": pa.array([as_of] * len(recs), pa.timestamp("us", tz="UTC")),
        "rank": pa.array([r.rank for r in recs], pa.int64()),
        "product_type": [r.item_type for r in recs], "product_id": [r.item_id for r in recs],
        "item_risk": pa.array([r.item_risk for r in recs], pa.int64()),
        "suitability_level": pa.array([r.level for r in recs], pa.int64()),
        "score": pa.array([r.score for r in recs], pa.float64()), "reason": [r.reason for r in recs],
        "model_version": [version] * len(recs),
        "scored_at": pa.array([scored_at] * len(recs), pa.timestamp("us", tz="UTC")),
    })


def write_batch(model: Recommender, lake: str | os.PathLike[str] | Lake, *, k: int = 10,
                show_progress: bool = True) -> BatchRun:
    """Top-k for every account that exists at the model's as-of day, appended to ``recommendations``."""
    users = np.flatnonzero(model.snap.state.exists)
    version = model_version(model)
    scored_at = dt.datetime.now(dt.UTC)
    tables = []
    with Progress(disable=not show_progress, transient=True) as bar:
        task = bar.add_task("recommending", total=len(users))
        for start in range(0, len(users), CHUNK_USERS):
            chunk = users[start:start + CHUNK_USERS]
            tables.append(_rows(model, chunk, k, version, scored_at))
            bar.advance(task, len(chunk))
    table = pa.concat_tables(tables) if tables else _rows(model, users[:0], k, version, scored_at)
    with (lake if isinstance(lake, Lake) else Lake(lake)).transaction() as tx:
        added = tx.append("recommendations", table)
    rows = table.num_rows
    return BatchRun(len(users), rows, added, day_to_date(model.as_of), version)
