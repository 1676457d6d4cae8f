"""Session-wide serving fixtures shared by tests/serve and tests/console (built once per process)."""

from __future__ import annotations

import datetime as dt
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from cryptoscope.serve.app import create_app
from cryptoscope.serve.service import Service
from serve.world import PASSWORD, ServeWorld, add_people, build

_BUILT: dict[str, Any] = {}


@contextmanager
def uvicorn_thread(app: Any, http: Any) -> Iterator[int]:
    """``app`` under a real uvicorn server (``http``: its HTTP protocol class) on a free loopback port, in a
    thread; yields the port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", http=http))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def _world(small_world: tuple[Any, ...], factory: pytest.TempPathFactory) -> ServeWorld:
    if "world" not in _BUILT:
        _BUILT["world"] = build(small_world[0], factory.mktemp("serve-world"))
    world: ServeWorld = _BUILT["world"]
    return world


@pytest.fixture(scope="session")
def serve_world(small_world: tuple[Any, ...], tmp_path_factory: pytest.TempPathFactory) -> ServeWorld:
    return _world(small_world, tmp_path_factory)


@pytest.fixture(scope="session")
def live(serve_world: ServeWorld, tmp_path_factory: pytest.TempPathFactory) -> tuple[Service, dict[str, str]]:
    """One warmed service (shared: starting one replays the lake) and its API keys."""
    if "live" not in _BUILT:
        work = tmp_path_factory.mktemp("serve-work")
        keys = add_people(work)
        _BUILT["live"] = (Service(serve_world.config(work)), keys)
    out: tuple[Service, dict[str, str]] = _BUILT["live"]
    return out


@pytest.fixture(scope="session")
def client(live: tuple[Service, dict[str, str]]) -> Iterator[TestClient]:
    service, _ = live
    with TestClient(create_app(service.config, service)) as c:
        yield c


def login(client: TestClient, user: str) -> dict[str, str]:
    """Log ``user`` in; returns the CSRF header their form posts need (the cookie stays in the client)."""
    client.cookies.clear()
    r = client.post("/console/login", data={"username": user, "password": PASSWORD, "next": "/console/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    who = client.app.state.service.auth.from_cookie(r.cookies["cryptoscope_session"])  # type: ignore[attr-defined]
    return {"X-CSRF-Token": who.csrf}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


_TRANSFER_IDS = itertools.count(9_500_000_000)  # one counter for every test's withdrawals: ids never repeat


def withdrawal(service: Service, user: int, **extra: Any) -> dict[str, Any]:
    """A withdrawal to score a second after the newest event the service has seen (a fresh transfer id)."""
    clock = service.scorer.clock
    assert clock is not None
    return {"user_id": user, "event_time": (clock + dt.timedelta(seconds=1)).isoformat(),
            "transfer_id": next(_TRANSFER_IDS), "address": "bc1qlaneexample0", "amount_usd": 900.0} | extra


def lane_count(service: Service) -> float:
    """Requests the scoring fast lane has answered (or refused) so far."""
    value = service.metrics.registry.get_sample_value("cryptoscope_score_fast_lane_total")
    return float(value or 0.0)


__all__ = ["bearer", "client", "lane_count", "live", "login", "serve_world", "withdrawal"]
