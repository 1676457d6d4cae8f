"""Shared fixtures: a small simulated world, built once per test session, and a scored copy of it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cryptoscope.lake import Lake
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary, simulate

# models go to a local MLflow store in each test's registry folder, whatever the developer's shell points at;
# the tests of a tracking server start their own (tests/models/conftest.py)
os.environ.pop("MLFLOW_TRACKING_URI", None)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: the longest test files (minutes each), collected first: `make test` runs two workers a file at a time, and a
#: long file left to the end would run alone while the other worker idles
LONGEST_FIRST = ("products/test_conformance.py", "stream/test_consumer.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.path.as_posix()
        return next((i for i, name in enumerate(LONGEST_FIRST) if path.endswith(name)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the rest keep their order


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, SimConfig, SimSummary]:
    """8,000 users over 90 days with fraud three times as common, so every typology shows up."""
    cfg = SimConfig(users=8_000, days=90, seed=11, chunk_users=4_000, fraud_scale=3.0)
    lake = Lake(tmp_path_factory.mktemp("world") / "lake")
    return lake, cfg, simulate(cfg, lake)


@pytest.fixture(scope="session")
def scored_world(small_world: tuple[Lake, SimConfig, SimSummary], tmp_path_factory: pytest.TempPathFactory
                 ) -> tuple[Lake, Path]:
    """A copy of ``small_world`` (the chain and CLI tests write to it) after `write_demo_report`: scores in
    `chain_exposure`, the report at the returned path."""
    from cryptoscope.chain.report import write_demo_report

    lake, _, _ = small_world
    root = tmp_path_factory.mktemp("chain") / "lake"
    shutil.copytree(lake.root, root)
    copy = Lake(root)
    report = write_demo_report(copy, root.parent / "reports")
    return copy, report


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local SparkSession (two cores) for every parity test of the run: a JVM starts once, not per test.

    Tests that change a setting set it back. Fails, never skips, without Java: the parity tests are the proof
    that the Spark engine gives the DuckDB results."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("the Spark parity tests need a Java 17+ runtime on PATH or in JAVA_HOME")
    from cryptoscope.lake.spark import spark_session as build

    session = build("local[2]")  # this machine, whatever $CRYPTOSCOPE_SPARK_MASTER says: the lakes are in tmp dirs
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_cluster() -> Iterator[str]:
    """A real Spark standalone cluster on localhost (one master, two one-core workers), its master URL.

    Drivers connect from subprocesses (`cryptoscope run --master URL`): this process keeps its local session."""
    from cryptoscope.lake.cluster import local_cluster

    with local_cluster(workers=2, cores=1, memory="1g") as master:
        yield master
