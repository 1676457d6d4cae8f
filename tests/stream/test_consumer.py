"""The stream consumer on a real NATS server: the stream's scores and alerts are the batch ones, exactly once,
through a SIGKILL of the consumer, a SIGKILL of the broker, and with the load split in two partitions."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoscope.lake import Lake, connect
from cryptoscope.risk.scoring import score
from cryptoscope.stream.consumer import Consumer, RunConfig, RunStats
from cryptoscope.stream.partition import Partition
from cryptoscope.stream.publish import publish
from cryptoscope.surveillance.batch import detect
from stream.conftest import Broker, StreamWorld

pytestmark = pytest.mark.slow


def consume(lake: Lake, nats: Broker, world: StreamWorld, **options: object) -> RunStats:
    config = RunConfig(lake=lake.root, url=nats.url, registry=world.registry, since=world.since, until_idle=1.0,
                       **options)  # type: ignore[arg-type]
    return Consumer(config).run()


def scores_of(lake: Lake) -> pd.DataFrame:
    return connect(lake).table("risk_scores").to_pandas().set_index("score_id").sort_index()


def assert_same_scores(stream: pd.DataFrame, batch: pd.DataFrame) -> None:
    assert len(batch) > 100
    assert list(stream.index) == list(batch.index), "every decision exactly once, no other"
    assert np.abs(stream["score"].to_numpy() - batch["score"].to_numpy()).max() <= 1e-9
    assert (stream["decision"] == batch["decision"]).all()


@pytest.fixture(scope="module")
def batch(stream_world: StreamWorld, tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`risk score withdrawal --since` and batch surveillance on a copy of the world: what the stream must give."""
    lake = stream_world.copy(tmp_path_factory.mktemp("batch") / "lake")
    score("withdrawal", lake, stream_world.registry, since=stream_world.since)
    alerts = detect(connect(lake)).to_pandas()
    alerts = alerts[alerts["detected_at"] >= stream_world.since].set_index("alert_id").sort_index()
    return scores_of(lake), alerts


def published(world: StreamWorld, nats: Broker) -> int:
    return asyncio.run(publish(world.lake, nats.url, since=world.since)).events


def rows(lake: Lake) -> dict[str, int]:
    return {s.name: s.rows for s in lake.status() if s.name not in ("risk_scores", "surveillance_alerts")}


def test_the_stream_gives_the_batch_scores_and_alerts(stream_world: StreamWorld, nats: Broker, tmp_path: Path,
                                                      batch: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    lake = stream_world.copy(tmp_path / "lake")
    before = rows(lake)
    events = published(stream_world, nats)
    stats = consume(lake, nats, stream_world)
    assert stats.processed == events > 10_000 and stats.dead == 0
    assert_same_scores(scores_of(lake), batch[0])
    alerts = connect(lake).table("surveillance_alerts").to_pandas().set_index("alert_id").sort_index()
    assert len(batch[1]) > 0
    assert list(alerts.index) == list(batch[1].index)
    assert (alerts["detected_at"] == batch[1]["detected_at"]).all()
    assert rows(lake) == before, "the events the lake already held are not appended twice"
    # a second run finds nothing to do and adds nothing
    again = consume(lake, nats, stream_world)
    assert again.restored_at == events and again.processed == 0
    assert_same_scores(scores_of(lake), batch[0])


def _run_command(lake: Lake, nats: Broker, world: StreamWorld) -> list[str]:
    return [str(Path(sys.executable).with_name("cryptoscope")), "stream", "run", "--lake", str(lake.root),
            "--url", nats.url, "--registry", str(world.registry), "--since", world.since.isoformat(),
            "--until-idle", "1", "--batch", "40", "--commit-every", "0.05"]


def _kill_when_past(process: subprocess.Popen[bytes], lake: Lake, position: int, limit_s: float = 300) -> int:
    """SIGKILL ``process`` once its committed cursor passes ``position``; returns the cursor then."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        cursor = lake.catalog().cursors.get("cryptoscope-all", 0)
        if cursor >= position:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return cursor
        assert process.poll() is None, "the consumer ended before it could be killed"
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"the consumer did not pass message {position} in {limit_s} s")


def test_a_consumer_killed_mid_stream_resumes_exactly_once(stream_world: StreamWorld, nats: Broker, tmp_path: Path,
                                                           batch: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    lake = stream_world.copy(tmp_path / "lake")
    events = published(stream_world, nats)
    command = _run_command(lake, nats, stream_world)
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_at = _kill_when_past(first, lake, events // 3)
    assert killed_at < events, "killed in the middle"
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "re-fed after a restart" in done.stdout
    assert lake.catalog().cursors["cryptoscope-all"] == events
    assert_same_scores(scores_of(lake), batch[0])


def test_a_broker_killed_mid_stream_loses_and_repeats_nothing(stream_world: StreamWorld, nats: Broker, tmp_path: Path,
                                                              batch: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    lake = stream_world.copy(tmp_path / "lake")
    events = published(stream_world, nats)
    command = _run_command(lake, nats, stream_world)
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while lake.catalog().cursors.get("cryptoscope-all", 0) < events // 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    nats = nats.restart(kill=True)
    try:  # the consumer rides out the restart or exits with an error; either way a start finishes the work
        first.wait(timeout=120)
    except subprocess.TimeoutExpired:
        first.kill()
        first.wait()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert lake.catalog().cursors["cryptoscope-all"] == events
    assert_same_scores(scores_of(lake), batch[0])


def test_two_partitions_give_what_one_consumer_gives(stream_world: StreamWorld, nats: Broker, tmp_path: Path,
                                                     batch: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    lake = stream_world.copy(tmp_path / "lake")
    before = rows(lake)
    events = published(stream_world, nats)
    halves = [consume(lake, nats, stream_world, partition=Partition(i, 2)) for i in range(2)]
    assert all(0 < h.decisions < len(batch[0]) for h in halves)
    assert sum(h.decisions for h in halves) == len(batch[0])
    assert {h.cursor for h in halves} == {events}
    assert_same_scores(scores_of(lake), batch[0])
    alerts = connect(lake).table("surveillance_alerts").to_pandas().set_index("alert_id").sort_index()
    assert list(alerts.index) == list(batch[1].index)
    assert rows(lake) == before


def test_run_says_clearly_when_the_broker_is_not_there(stream_world: StreamWorld, tmp_path: Path) -> None:
    lake = stream_world.copy(tmp_path / "lake")
    from cryptoscope.lake.cluster import free_port

    done = subprocess.run([str(Path(sys.executable).with_name("cryptoscope")), "stream", "publish", "--lake",
                           str(lake.root), "--url", f"nats://user:secret@127.0.0.1:{free_port()}"],
                          capture_output=True, text=True, timeout=120, env=os.environ | {"COLUMNS": "200"})
    assert done.returncode == 2
    assert "cannot reach the broker at nats://user:***@127.0.0.1" in done.stderr
    assert "secret" not in done.stderr
