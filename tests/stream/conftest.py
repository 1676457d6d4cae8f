"""A real NATS server with JetStream per test module, and a small world with a promoted withdrawal model."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cryptoscope.lake import Lake
from cryptoscope.lake.cluster import free_port
from cryptoscope.risk.training import train
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate
from cryptoscope.stream import broker


@dataclass
class Broker:
    url: str
    port: int
    data: Path
    process: subprocess.Popen[bytes]

    def restart(self, *, kill: bool) -> Broker:
        """Stop (SIGKILL with ``kill``, as a crash) and start again on the same port and data; the fixture
        stops the new process at the end, so a restarted server never outlives its test."""
        broker.stop(self.process, kill=kill)
        self.process = broker.start(self.data, port=self.port)
        return self


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[Broker]:
    """A fresh server for each test (its own streams and consumers)."""
    port = free_port()
    data = tmp_path / "nats"
    running = Broker(f"nats://127.0.0.1:{port}", port, data, broker.start(data, port=port))
    yield running
    broker.stop(running.process, kill=True)


@dataclass(frozen=True)
class StreamWorld:
    """A lake whose last days the tests publish, and a registry with the withdrawal model promoted."""

    lake: Lake
    registry: Path
    since: dt.datetime

    def copy(self, to: Path) -> Lake:
        shutil.copytree(self.lake.root, to)
        return Lake(to)


@pytest.fixture(scope="session")
def stream_world(tmp_path_factory: pytest.TempPathFactory) -> StreamWorld:
    """3,000 users over 40 days; the stream carries the last nine (about 45,000 events, a few market-abuse alerts)."""
    root = tmp_path_factory.mktemp("stream-world")
    cfg = SimConfig(users=3_000, days=40, seed=5, chunk_users=3_000, fraud_scale=3.0)
    lake = Lake(root / "lake")
    simulate(cfg, lake)
    assert train("withdrawal", lake, root / "registry", report_dir=root / "reports").promoted
    return StreamWorld(lake, root / "registry", cfg.start + dt.timedelta(days=31))
