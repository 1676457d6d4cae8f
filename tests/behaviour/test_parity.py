"""The behaviour snapshot (every view behind segments, churn and value) is the same on DuckDB and Spark."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from cryptoscope.behaviour.views import snapshot_table
from cryptoscope.features import engines
from cryptoscope.lake import Lake
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate

pytestmark = [pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
              pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")]


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def test_snapshot_same_on_duckdb_and_spark(tmp_path: Any, spark_session: Any) -> None:
    lake = Lake(tmp_path / "lake")
    cfg = SimConfig(users=400, days=14, seed=3, fraud_scale=3.0)
    simulate(cfg, lake)
    times = [cfg.start + dt.timedelta(days=13)]
    out = {name: snapshot_table(engines.connect(lake, name), times).to_pyarrow() for name in ("duckdb", "spark")}
    assert out["duckdb"].num_rows > 300
    duck, spark = out["duckdb"], out["spark"]
    assert duck.schema.names == spark.schema.names and duck.num_rows == spark.num_rows
    keys = [("user_id", "ascending"), ("decision_time", "ascending")]
    problems = [f"{name} at user {left['user_id']}, {left['decision_time']}: {left[name]!r} != {right[name]!r}"
                for left, right in zip(duck.sort_by(keys).to_pylist(), spark.sort_by(keys).to_pylist(), strict=True)
                for name in duck.schema.names if not same(left[name], right[name])]
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:10])
