"""Recommendations on DuckDB and on Spark: the same lake reads, the same fitted model and the same top-10 rows
(Spark computes them with ``mapInPandas`` over the broadcast model), apart from when they were scored."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cryptoscope.lake import Lake, connect
from cryptoscope.lake.spark import connect_spark
from cryptoscope.reco.data import LakeData, load
from cryptoscope.reco.model import Recommender
from cryptoscope.reco.serve import BatchRun, write_batch
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary

# pyspark 4.0 and ibis 12 still call pandas APIs that pandas 3 deprecates: noise, not our code
pytestmark = [pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
              pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")]

FRAMES = ("users", "events", "kyc", "flags", "deposits", "chain", "prices")


def test_recommendations_are_the_same_on_duckdb_and_spark(small_world: tuple[Lake, SimConfig, SimSummary],
                                                          spark_session: Any, tmp_path: Path) -> None:
    world, _, _ = small_world
    data: dict[str, LakeData] = {}
    runs: dict[str, BatchRun] = {}
    rows: dict[str, pd.DataFrame] = {}
    for name in ("duckdb", "spark"):
        lake = Lake(tmp_path / name / "lake")  # a copy each: the batch appends to the lake
        shutil.copytree(world.root, lake.root)
        backend = connect(lake) if name == "duckdb" else connect_spark(lake, session=spark_session)
        start = time.perf_counter()
        data[name] = load(lake, backend=backend)
        model = Recommender.fit(data[name])
        runs[name] = write_batch(model, lake, show_progress=False, backend=backend)
        print(f"{name}: {runs[name].rows:,} rows for {runs[name].users:,} users in {time.perf_counter() - start:.0f}s")
        again = write_batch(model, lake, show_progress=False, backend=backend)
        assert again.added == 0 and again.rows == runs[name].rows, "a rerun for the same day adds nothing"
        rows[name] = (connect(lake).table("recommendations").to_pandas()
                      .sort_values("rec_id").reset_index(drop=True).drop(columns="scored_at"))
    for frame in FRAMES:
        pd.testing.assert_frame_equal(getattr(data["duckdb"], frame), getattr(data["spark"], frame),
                                      check_exact=True, obj=frame)
    assert runs["duckdb"].model_version == runs["spark"].model_version, "the same ranker, fitted twice"
    assert runs["duckdb"].added == runs["spark"].added == len(rows["duckdb"]) > 10_000
    pd.testing.assert_frame_equal(rows["duckdb"], rows["spark"], check_exact=False, rtol=0, atol=1e-6)
    assert rows["duckdb"]["rec_id"].is_unique
    first = rows["duckdb"].iloc[0]
    assert first["rec_id"] == f"{first['user_id']}:{runs['duckdb'].as_of.isoformat()}:{first['rank']}"
