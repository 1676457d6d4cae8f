"""The stream consumer on a real NATS server: the stream's scores and alerts are the batch ones, exactly once,
through a SIGKILL of the consumer, a SIGKILL of the broker, and with the load split in two partitions."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest

from cryptoscope.lake import Lake, connect
from cryptoscope.risk.scoring import score
from cryptoscope.stream.connection import connect as nats_connect
from cryptoscope.stream.consumer import Consumer, RunConfig, RunStats
from cryptoscope.stream.partition import Partition
from cryptoscope.stream.publish import publish
from cryptoscope.stream.subjects import ensure_streams
from cryptoscope.surveillance.batch import detect
from stream.conftest import Broker, StreamWorld

pytestmark = pytest.mark.slow


def consume(lake: Lake, nats: Broker, world: StreamWorld, **options: object) -> RunStats:
    config = RunConfig(lake=lake.root, url=nats.url, registry=world.registry, since=world.since, until_idle=1.0,
                       **options)
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


#: (subject, payload, what the dead letter says): a broken message goes to dead.<table>, the consumer goes on
BAD = [
    ("events.payments", b"{not json", "payments: not JSON"),
    ("events.payments", b'{"payment_id": 1}', "payments: field 'user_id' is missing"),
    ("events.sessions", None, "sessions: field 'success': expected true or false, got 'yes'"),
    ("events.nonsense", b"{}", "unknown table 'nonsense'"),
    ("events.sessions", "late", "sessions: event_time"),
]


def _session(world_since: dt.datetime, **change: object) -> bytes:
    row = {"session_id": 9_000_000_001, "user_id": 1, "event_time": world_since.isoformat(), "device_id": "d",
           "ip": "10.0.0.1", "ip_country": "DE", "user_agent": "curl", "channel": "api", "success": True,
           "used_2fa": False}
    return orjson.dumps(row | change)


async def publish_bad(url: str, since: dt.datetime) -> None:
    nc = await nats_connect(url)
    js = nc.jetstream()
    await ensure_streams(js)
    for subject, payload, _ in BAD:
        if payload is None:
            payload = _session(since, success="yes")
        elif payload == "late":  # after --since, but days older than the newest event the state has seen
            payload = _session(since + dt.timedelta(hours=1))
        await js.publish(subject, payload)
    await nc.close()


async def dead_letters(url: str) -> list[str]:
    """The reasons on the dead-letter subjects (cut after the field's name, as BAD gives them)."""
    nc = await nats_connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe("dead.>", stream="CRYPTOSCOPE_DEAD")
    msgs = await sub.fetch(100, timeout=2)
    await nc.close()
    reasons = sorted(m.headers["Cryptoscope-Error"] for m in msgs if m.headers)
    return sorted(next(b for _, _, b in BAD if r.startswith(b)) for r in reasons)


def _dead_counted(consumer: Consumer) -> int:
    return int(sum(s.value for metric in consumer.metrics.dead.collect() for s in metric.samples
                   if s.name.endswith("_total")))


def published(world: StreamWorld, nats: Broker) -> int:
    return asyncio.run(publish(world.lake, nats.url, since=world.since)).events


def rows(lake: Lake) -> dict[str, int]:
    return {s.name: s.rows for s in lake.status() if s.name not in ("risk_scores", "surveillance_alerts")}


def test_the_stream_gives_the_batch_scores_and_alerts(stream_world: StreamWorld, nats: Broker, tmp_path: Path,
                                                      batch: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    lake = stream_world.copy(tmp_path / "lake")
    before = rows(lake)
    events = published(stream_world, nats)
    asyncio.run(publish_bad(nats.url, stream_world.since))
    consumer = Consumer(RunConfig(lake=lake.root, url=nats.url, registry=stream_world.registry,
                                  since=stream_world.since, until_idle=1.0))
    stats = consumer.run()
    assert stats.processed == events > 10_000
    assert stats.dead == len(BAD) and _dead_counted(consumer) == len(BAD)
    assert asyncio.run(dead_letters(nats.url)) == sorted(reason for _, _, reason in BAD)
    assert_same_scores(scores_of(lake), batch[0])
    alerts = connect(lake).table("surveillance_alerts").to_pandas().set_index("alert_id").sort_index()
    assert len(batch[1]) > 0
    assert list(alerts.index) == list(batch[1].index)
    assert (alerts["detected_at"] == batch[1]["detected_at"]).all()
    assert rows(lake) == before, "the events the lake already held are not appended twice"
    # a second run finds nothing to do and adds nothing
    again = consume(lake, nats, stream_world)
    assert again.restored_at == events + len(BAD) and again.processed == 0
    assert_same_scores(scores_of(lake), batch[0])


def _run_command(lake: Lake, nats: Broker, world: StreamWorld) -> list[str]:
    return [str(Path(sys.executable).with_name("cryptoscope")), "stream", "run", "--lake", str(lake.root),
            "--url", nats.url, "--registry", str(world.registry), "--since", world.since.isoformat(),
            "--until-idle", "1", "--batch", "100", "--commit-every", "0.1"]


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


def test_a_consumer_then_a_broker_killed_mid_stream_lose_and_repeat_nothing(
        stream_world: StreamWorld, nats: Broker, tmp_path: Path, batch: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    lake = stream_world.copy(tmp_path / "lake")
    before = rows(lake)
    events = published(stream_world, nats)
    command = _run_command(lake, nats, stream_world)
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _kill_when_past(first, lake, events // 3) < events, "the consumer was killed in the middle"

    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while lake.catalog().cursors.get("cryptoscope-all", 0) < 2 * events // 3 and time.monotonic() < deadline:
        assert second.poll() is None, second.communicate()[0]
        time.sleep(0.05)
    nats = nats.restart(kill=True)
    try:  # the consumer rides out the broker's restart or exits with an error; a next start finishes the work
        out, _ = second.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        second.kill()
        out, _ = second.communicate()
    assert second.returncode != 0 or "re-fed after a restart" in out, out

    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert lake.catalog().cursors["cryptoscope-all"] == events
    assert_same_scores(scores_of(lake), batch[0])
    assert rows(lake) == before


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


def test_publish_says_clearly_when_the_broker_is_not_there(stream_world: StreamWorld) -> None:
    from cryptoscope.lake.cluster import free_port

    done = subprocess.run([str(Path(sys.executable).with_name("cryptoscope")), "stream", "publish", "--lake",
                           str(stream_world.lake.root), "--url", f"nats://user:secret@127.0.0.1:{free_port()}"],
                          capture_output=True, text=True, timeout=120, env=os.environ | {"COLUMNS": "200"})
    assert done.returncode == 2
    assert "cannot reach the broker at nats://user:***@127.0.0.1" in done.stderr
    assert "secret" not in done.stderr
