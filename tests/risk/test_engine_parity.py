"""Risk training and batch scoring on DuckDB and on Spark: the same model, the same ``risk_scores`` rows.

One product (payment, the quickest to build) is trained once per engine on the small world, and the DuckDB
model scores a copy of the lake per engine; the tests compare cards, test-period scores and written rows.
The row budget is checked on the labelled frame (every bad decision kept, good ones by hash, weighted back)
and, on both engines, on the spine it samples.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoscope.lake import Lake, connect
from cryptoscope.lake.spark import connect_spark
from cryptoscope.risk.frames import labelled_frame
from cryptoscope.risk.plan import TimePlan, activity_window
from cryptoscope.risk.products import get_product
from cryptoscope.risk.sampling import ROW_BUDGET_ENV, WEIGHT_COLUMN, kept_by_hash, row_budget, sample_training
from cryptoscope.risk.scoring import score
from cryptoscope.risk.training import TrainResult, train
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary

World = tuple[Lake, SimConfig, SimSummary]
KIND = "payment"
ENGINES = ("duckdb", "spark")
# ibis 12 still asks pandas about an option pandas 3 deprecates: noise, not our code
pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")


def _backend(engine: str, lake: Lake, session: Any) -> Any:
    return connect(lake) if engine == "duckdb" else connect_spark(lake, session=session)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("risk_engines")


@pytest.fixture(scope="module")
def trained(small_world: World, workdir: Path, spark_session: Any) -> dict[str, TrainResult]:
    lake = small_world[0]
    return {engine: train(KIND, lake, workdir / engine / "registry", report_dir=workdir / engine / "reports",
                          backend=_backend(engine, lake, spark_session)) for engine in ENGINES}


@pytest.fixture(scope="module")
def scored(small_world: World, workdir: Path, trained: dict[str, TrainResult], spark_session: Any
           ) -> dict[str, pd.DataFrame]:
    """``risk_scores`` after scoring a copy of the lake on each engine with the DuckDB-trained model."""
    assert trained["duckdb"].promoted
    out = {}
    for engine in ENGINES:
        lake = Lake(shutil.copytree(small_world[0].root, workdir / engine / "lake"))
        run = score(KIND, lake, workdir / "duckdb" / "registry", backend=_backend(engine, lake, spark_session))
        assert run.scored == run.added > 0
        out[engine] = connect(lake).table("risk_scores").to_pandas()
    return out


def _card(result: TrainResult) -> dict[str, Any]:
    card = result.card.to_dict()
    del card["created"], card["artifacts"]  # when, and the report's path in each engine's folder
    return card


def test_training_gives_the_same_model_on_both_engines(trained: dict[str, TrainResult]) -> None:
    duck, spark = trained["duckdb"], trained["spark"]
    assert _card(duck) == _card(spark)
    assert duck.card.sampling["rate"] == 1.0 and duck.card.sampling["rows_after"] == duck.card.sampling["rows_before"]
    assert duck.evaluation.summary() == spark.evaluation.summary()
    assert duck.promoted == spark.promoted
    np.testing.assert_allclose(duck.trained.p_test, spark.trained.p_test, rtol=0, atol=1e-6)


def test_batch_scores_are_the_same_rows_on_both_engines(scored: dict[str, pd.DataFrame]) -> None:
    duck, spark = (scored[e].drop(columns="scored_at").sort_values("score_id").reset_index(drop=True)
                   for e in ENGINES)
    assert len(duck) == len(spark) and duck["score_id"].is_unique
    np.testing.assert_allclose(duck["score"], spark["score"], rtol=0, atol=1e-6)
    pd.testing.assert_frame_equal(duck.drop(columns="score"), spark.drop(columns="score"))
    assert set(duck["decision"]) >= {"approve", "review"}
    assert (duck["score_id"] == KIND + ":" + duck["entity_id"] + ":" + duck["model_version"].astype(str)).all()


def test_the_row_budget_keeps_every_bad_decision_and_hashes_the_good_ones(small_world: World) -> None:
    con, product, plan = connect(small_world[0]), get_product(KIND), TimePlan()
    full, bounds, whole = labelled_frame(con, product, plan)
    sampled, _, cut = labelled_frame(con, product, plan, budget=1_500)
    assert not whole.sampled and WEIGHT_COLUMN not in full
    assert cut.sampled and cut.rows_before == whole.rows_before > 1_500 and cut.rows_after <= 1_500
    train_end = pd.Timestamp(bounds.train_end)
    in_train = full["decision_time"] < train_end
    good = full[in_train & (full["label"] == 0)]
    expected = set(good.loc[kept_by_hash(good["entity_id"], cut.rate), "entity_id"])
    expected |= set(full.loc[~in_train | (full["label"] == 1), "entity_id"])
    assert set(sampled["entity_id"]) == expected
    assert cut.positives == int((in_train & (full["label"] == 1)).sum())
    weights = sampled.set_index("entity_id")[WEIGHT_COLUMN]
    heavy = sampled[(sampled["decision_time"] < train_end) & (sampled["label"] == 0)]["entity_id"]
    assert np.allclose(weights[heavy], 1 / cut.rate) and (weights.drop(heavy) == 1.0).all()


def test_both_engines_sample_the_same_decisions(small_world: World, spark_session: Any) -> None:
    lake, product = small_world[0], get_product(KIND)
    kept = {}
    for engine in ENGINES:
        con = _backend(engine, lake, spark_session)
        start, end = activity_window(con)
        bounds = TimePlan().boundaries(start, end, maturity=product.maturity)
        spine, sampling = sample_training(con, product.spine(con, start), entity_type=product.entity_type,
                                          label_types=product.label_types, train_end=bounds.train_end,
                                          build_date=bounds.build_date, budget=1_000)
        assert sampling.sampled
        kept[engine] = (sampling, set(spine.select("entity_id").to_pandas()["entity_id"]))
    assert kept["duckdb"] == kept["spark"]


def test_the_row_budget_comes_from_the_argument_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ROW_BUDGET_ENV, raising=False)
    assert row_budget() == 2_000_000 and row_budget(10) == 10
    monkeypatch.setenv(ROW_BUDGET_ENV, "5000")
    assert row_budget() == 5000
