"""The row budget of a training set: every bad decision kept, good ones by a hash of their id, weighted back,
the same decisions on DuckDB and on Spark.

That training and batch scoring give the same models and ``risk_scores`` rows on both engines is shown for
every product at once by the conformance suite's run on a Spark cluster (tests/products/test_conformance.py).
"""

from __future__ import annotations

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
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary

World = tuple[Lake, SimConfig, SimSummary]
KIND = "payment"
ENGINES = ("duckdb", "spark")
# ibis 12 still asks pandas about an option pandas 3 deprecates: noise, not our code
pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")


def _backend(engine: str, lake: Lake, session: Any) -> Any:
    return connect(lake) if engine == "duckdb" else connect_spark(lake, session=session)


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
