"""The user's exposure history (``USER_EXPOSURE`` over ``chain_exposure``): point in time, on DuckDB and Spark.

One user's transfers are written to a lake as the chain stage writes them, each case chosen so that
one rule decides whether it counts at the decision: a score known only after the decision, a
retrospective score, a transfer at the decision instant, one older than the month. The counts are
checked by hand, then the same expression runs on Spark and must give the same row.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from cryptoscope.features import engines
from cryptoscope.features.offline import view_features
from cryptoscope.features.views import USER_EXPOSURE, VIEWS
from cryptoscope.lake import Lake
from cryptoscope.schema import get_table

# ibis 12 still asks pandas about an option pandas 3 deprecates: noise, not our code
pytestmark = [pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
DAY = 86_400


def score(transfer_id: int, offset_s: int, *, haircut: float = 0.5, hops: int | None = 1,
          category: str | None = "mixer", direction: str = "deposit", mode: str = "point_in_time",
          known_after_s: int = 0) -> dict[str, Any]:
    """A chain_exposure row of user 1, ``offset_s`` seconds from T0, known ``known_after_s`` after its transfer."""
    at = T0 + dt.timedelta(seconds=offset_s)
    return {"score_id": f"{transfer_id}:{mode}", "transfer_id": transfer_id, "user_id": 1, "event_time": at,
            "direction": direction, "chain": "ethereum", "address": f"0x{transfer_id:040x}", "mode": mode,
            "haircut": haircut, "poison": haircut, "hops": hops if haircut > 0 else None,
            "category": category if haircut > 0 else None, "evidence": "[]",
            "known_at": at + dt.timedelta(seconds=known_after_s), "scored_at": T0 + dt.timedelta(days=60)}


#: user 1 at T0, and whether each row may count
ROWS = [
    score(1, -2 * DAY),                                                   # counts: an exposed deposit 2 days ago
    score(2, -10 * DAY, haircut=1.0, hops=0, category="sanctioned", direction="withdrawal"),  # counts
    score(3, -5 * DAY, haircut=0.0),                                      # counts, clean
    score(4, -1 * DAY, haircut=1.0, known_after_s=2 * DAY),               # known a day AFTER the decision: unseen
    score(5, -3 * DAY, haircut=1.0, mode="retrospective"),                # hindsight: never a feature
    score(6, 0, haircut=1.0),                                             # at the decision instant: not before it
    score(7, -40 * DAY, haircut=1.0),                                     # older than the longest window
]


def _lake(root: Path, rows: list[dict[str, Any]]) -> Lake:
    lake = Lake(root)
    with lake.transaction() as tx:
        tx.append("chain_exposure", pa.Table.from_pylist(rows, schema=get_table("chain_exposure").arrow_schema))
    return lake


def _features(con: Any) -> dict[str, Any]:
    points = ibis.memtable(pa.table({"user_id": pa.array([1], pa.int64()),
                                     "decision_time": pa.array([T0], pa.timestamp("us", "UTC"))}))
    rows = view_features(con, USER_EXPOSURE, points).to_pyarrow().to_pylist()
    assert len(rows) == 1
    return rows[0]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return _lake(tmp_path_factory.mktemp("exposure") / "lake", ROWS)


def test_only_scores_known_before_the_decision_count(lake: Lake) -> None:
    got = _features(engines.connect(lake, "duckdb"))
    assert got["exposed_deposits_30d"] == 1 and got["exposed_withdrawals_30d"] == 1
    assert got["exposed_deposits_7d"] == 1 and got["exposed_withdrawals_7d"] == 0
    assert got["max_haircut_30d"] == 1.0 and got["max_haircut_7d"] == 0.5  # row 4's 1.0 is not seen in the week
    assert got["since_exposed_30d"] == 2 * DAY  # row 1, not row 4 (a day ago, but known only later)
    assert got["exposure_categories_30d"] == 2  # mixer, sanctioned
    # rows 1-4 are the month's transfers; row 4's score was not known yet, so it does not count as exposed
    assert got["exposed_share_30d"] == pytest.approx(2 / 4)


def test_the_same_score_counts_once_it_was_known_in_time(tmp_path: Path) -> None:
    """Row 4 known at its own transfer time (as every point-in-time score is) is seen: the rule above bites."""
    rows = [r if r["transfer_id"] != 4 else {**r, "known_at": r["event_time"]} for r in ROWS]
    got = _features(engines.connect(_lake(tmp_path / "lake", rows), "duckdb"))
    assert got["exposed_deposits_30d"] == 2 and got["max_haircut_7d"] == 1.0 and got["since_exposed_30d"] == DAY


def test_an_output_table_view_stays_out_of_the_event_views() -> None:
    # the online state, anomaly features and training sets iterate VIEWS over event tables: chain_exposure
    # is written by the chain stage, so its view is imported by name where it is needed (risk products)
    assert USER_EXPOSURE.name not in VIEWS and all(s.table != "chain_exposure" for v in VIEWS.values()
                                                  for s in v.sources)


@pytest.mark.slow
def test_same_features_on_spark(lake: Lake, spark_session: Any) -> None:
    duck, spark = _features(engines.connect(lake, "duckdb")), _features(engines.connect(lake, "spark"))
    assert spark.keys() == duck.keys()
    for name, value in duck.items():
        assert spark[name] == (pytest.approx(value) if isinstance(value, float) else value), name
