"""`cryptoscope serve --workers 2`, a real server of two processes on one port, answers as one process would.

The requests share a destination address and alternate between users, so each answer reads views another
worker may just have fed; a worker that scored without catching up with the other's journalled events would
answer differently from the single process that takes them in the same order."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from cryptoscope.lake.cluster import free_port
from cryptoscope.serve.app import create_app
from cryptoscope.serve.service import Service
from serve.fixtures import bearer
from serve.world import ServeWorld, add_people

_IDS = itertools.count(9_300_000_000)
_FIELDS = ("score", "decision", "reasons", "model_version")


@dataclass(frozen=True)
class Workers:
    url: str
    work: Path
    keys: dict[str, str]
    reference: Path  # the work folder before the first request
    clock: dt.datetime  # the newest event in the snapshot


@pytest.fixture(scope="module")
def two_workers(serve_world: ServeWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """A two-process server over a snapshot of the serving world, and a copy of its work folder as it was before
    the server took a request."""
    tmp_path = tmp_path_factory.mktemp("workers")
    work = tmp_path / "work"
    keys = add_people(work)
    first = Service(serve_world.config(work))  # the snapshot (last 12 days) both servers start from
    clock = first.scorer.clock
    assert clock is not None
    first.close()
    shutil.copytree(work, tmp_path / "reference")
    port = free_port()
    cli = Path(sys.executable).with_name("cryptoscope")
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([str(cli), "serve", "--lake", str(serve_world.lake), "--registry",
                               str(serve_world.registry), "--work", str(work), "--port", str(port), "--workers", "2"],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_workers(url, server, tmp_path / "server.log", lambda seen: len(seen) == 2)
        yield Workers(url, work, keys, tmp_path / "reference", clock)
        server.send_signal(signal.SIGTERM)  # the supervisor stops each worker once; each snapshots
        assert server.wait(timeout=120) == 0, (tmp_path / "server.log").read_text()[-3000:]
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_two_worker_processes_answer_as_one_process_would(two_workers: Workers, serve_world: ServeWorld) -> None:
    server = two_workers
    bodies = _interleaved(server.clock, serve_world.case_users[:3], 40)
    answers = [_post(server.url, b, server.keys["service"]) for b in bodies]  # a connection each: both workers get some
    seen = _wait_for_workers(server.url, None, None, lambda s: len(s) == 2 and all(b > 0 for b in s.values()))
    assert len(seen) == 2 and all(batches > 0 for batches in seen.values()), seen

    reference_service = Service(serve_world.config(server.reference))
    with TestClient(create_app(reference_service.config, reference_service)) as one:
        expected = [one.post("/v1/score/withdrawal", json=b, headers=bearer(server.keys["service"])).json()
                    for b in bodies]
    reference_service.close()
    assert [{f: a[f] for f in _FIELDS} for a in answers] == [{f: e[f] for f in _FIELDS} for e in expected]
    assert len({a["score"] for a in answers}) > 5  # the answers moved with the state


def test_a_scrape_of_any_worker_counts_every_workers_decisions(two_workers: Workers, serve_world: ServeWorld) -> None:
    bodies = _interleaved(two_workers.clock + dt.timedelta(hours=2), [serve_world.pii_user], 10)
    for b in bodies:
        _post(two_workers.url, b, two_workers.keys["service"])
    for _ in range(4):  # each scrape on a connection of its own: whichever worker answers, the sum is the same
        with httpx.Client(base_url=two_workers.url, timeout=30) as c:
            text = c.get("/metrics", headers=bearer(two_workers.keys["service"])).text
        counted = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                      if line.startswith("cryptoscope_score_requests_total{"))
        assert counted == _journalled(two_workers.work, "scored")


def test_an_idempotency_key_is_answered_once_across_workers(two_workers: Workers, serve_world: ServeWorld) -> None:
    url, work, keys = two_workers.url, two_workers.work, two_workers.keys
    before = _journalled(work)
    body = {"user_id": serve_world.case_users[0], "event_time": (two_workers.clock + dt.timedelta(hours=1)).isoformat(),
            "transfer_id": next(_IDS), "address": "bc1qretriedacrossworkers0", "amount_usd": 1_234.0}

    async def retries() -> list[httpx.Response]:
        async def one() -> httpx.Response:
            async with httpx.AsyncClient(base_url=url, timeout=30) as c:  # a connection each
                return await c.post("/v1/score/withdrawal", json=body,
                                    headers=bearer(keys["service"]) | {"Idempotency-Key": "retry-across-workers"})
        return list(await asyncio.gather(*(one() for _ in range(12))))

    answers = [r.json() for r in asyncio.run(retries())]
    assert {a["score"] for a in answers} == {answers[0]["score"]}
    assert sum(not a["replayed"] for a in answers) == 1  # scored once; the others replay its answer
    assert _journalled(work) == before + 1


def _interleaved(clock: dt.datetime, users: list[int], n: int) -> list[dict[str, Any]]:
    """Withdrawals to one address from alternating users, a second apart, after the state's newest event."""
    return [{"user_id": users[i % len(users)], "event_time": (clock + dt.timedelta(seconds=i + 1)).isoformat(),
             "transfer_id": next(_IDS), "address": "bc1qsharedbyworkers0", "amount_usd": 900.0 + 37 * i}
            for i in range(n)]


def _post(url: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=30) as c:
        r = c.post("/v1/score/withdrawal", json=body, headers=bearer(key))
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def _wait_for_workers(url: str, server: subprocess.Popen[bytes] | None, log: Path | None,
                      done: Any, timeout: float = 180) -> dict[int, int]:
    """Ask /healthz on fresh connections until ``done(batches by worker pid)``; the server's log on failure."""
    seen: dict[int, int] = {}
    deadline = time.monotonic() + timeout
    while not done(seen):
        try:
            with httpx.Client(base_url=url, timeout=5) as c:
                health = c.get("/healthz").json()
            seen[health["worker"]] = health["batches"]
        except httpx.TransportError:
            time.sleep(0.5)
        if (server is not None and server.poll() is not None) or time.monotonic() > deadline:
            pytest.fail(f"the workers did not answer: {log.read_text()[-3000:] if log else seen}")
    return seen


def _journalled(work: Path, table: str = "events") -> int:
    con = sqlite3.connect(work / "journal.db")
    try:
        (n,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    finally:
        con.close()
    return int(n)
