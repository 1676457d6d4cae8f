"""One detector code path, two engines: the batch job gives the same alerts on DuckDB and on Spark."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from surveillance_books import assert_same_alerts
from test_surveillance_stream import every_typology_book

from cryptoscope.features import engines
from cryptoscope.surveillance.batch import account_links, detect

# pyspark 4.0 and ibis 12 still call pandas APIs that pandas 3 deprecates: noise, not our code
pytestmark = [pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
              pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
              pytest.mark.slow]


@pytest.fixture
def one_partition(spark_session: Any) -> Iterator[Any]:
    """A hand-built book: one partition per shuffle is plenty (set back afterwards)."""
    before = spark_session.conf.get("spark.sql.shuffle.partitions")
    spark_session.conf.set("spark.sql.shuffle.partitions", "1")
    yield spark_session
    spark_session.conf.set("spark.sql.shuffle.partitions", before)


def test_detectors_give_the_same_alerts_on_duckdb_and_spark(tmp_path: Path, one_partition: Any) -> None:
    """On a hand-built book with every typology (a simulated world takes Spark minutes on two cores)."""
    lake = every_typology_book().lake(tmp_path / "lake")
    duck = engines.connect(lake, "duckdb")
    links = account_links(duck)  # read once from the lake, handed to both engines
    assert account_links(engines.connect(lake, "spark")).to_pylist() == links.to_pylist() != []
    out = {name: detect(engines.connect(lake, name), links=links) for name in ("duckdb", "spark")}
    assert sorted(set(out["duckdb"]["typology"].to_pylist())) == ["pump_and_dump", "spoofing", "wash_trading"]
    assert_same_alerts(out["duckdb"], out["spark"], "duckdb vs spark")
