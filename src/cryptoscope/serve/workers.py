"""Several server processes on one port (``cryptoscope serve --workers N``), for more than one core's worth of
requests.

Why processes, and why each holds the whole state: a Python process answers on one core, and a decision reads
views keyed by more than its user (the destination address's other senders, the card's and device's other
accounts), so a process holding a slice of the users would undercount exactly the cross-account signals
those views exist for. Each worker restores the snapshot made here before it starts, and they share the
journal, whose seq orders every event: before scoring, a worker feeds its state what the others journalled
since (``Service.decide``), so every answer is the one a single process would give for that order. Feeding
an event costs about a twentieth of scoring one, so N workers split the expensive part.

Each worker binds its own socket with ``SO_REUSEPORT``: the kernel spreads connections over the workers by a
hash of the connection (a keep-alive connection stays with one worker). A worker that dies is started again
(it restores the snapshot and replays the journal after it); one that dies within a minute of its start stops
the server with its exit code (a port in use, a broken model). SIGINT or SIGTERM to this process stops the
workers cleanly, each taking a snapshot. A scrape of ``/metrics`` sums every worker's counters; rate limits
are per worker (see docs/serve.md).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType

from cryptoscope.errors import CryptoscopeError
from cryptoscope.serve.metrics import MULTIPROC_DIR
from cryptoscope.serve.service import ServeConfig, Service

log = logging.getLogger("cryptoscope.serve")

_QUICK_DEATH_S = 60.0  # a worker that dies sooner after its start is not restarted: the cause would repeat


def prepare(config: ServeConfig, workers: int, progress: Callable[[int, int], None] | None = None) -> None:
    """Check the settings, then warm or restore the state once and snapshot it: what every worker restores."""
    if workers < 1:
        raise CryptoscopeError(f"--workers must be at least 1, not {workers}")
    if config.explain_thread:
        raise CryptoscopeError("CRYPTOSCOPE_EXPLAIN_THREAD=1 works with one server process only: unset it or "
                               "serve with --workers 1")
    Service(config, progress).close()  # a first start warms from the lake


def serve_workers(config: ServeConfig, host: str, port: int, workers: int) -> None:
    """Run ``workers`` server processes until stopped (after ``prepare``)."""
    counters = config.work_dir / "metrics"  # the workers' Prometheus values, summed by any scrape (metrics.py)
    shutil.rmtree(counters, ignore_errors=True)
    counters.mkdir(parents=True)
    os.environ[MULTIPROC_DIR] = str(counters)  # a spawned worker inherits it before it imports prometheus_client
    spawn = multiprocessing.get_context("spawn")
    running: dict[int, tuple[BaseProcess, float]] = {}
    stopping: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)
        for proc, _ in running.values():
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn drains, the app snapshots

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for i in range(workers):
            running[i] = _start(spawn, config, host, port)
        _supervise(spawn, config, host, port, running, stopping)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        os.environ.pop(MULTIPROC_DIR, None)


def _supervise(spawn: multiprocessing.context.SpawnContext, config: ServeConfig, host: str, port: int,
               running: dict[int, tuple[BaseProcess, float]], stopping: list[int]) -> None:
    """Wait for the workers; start a dead one again unless it died young or the server is stopping."""
    failure: str | None = None
    while running:
        multiprocessing.connection.wait([proc.sentinel for proc, _ in running.values()], timeout=1.0)
        for i, (proc, started) in list(running.items()):
            if proc.is_alive():
                continue
            proc.join()
            del running[i]
            if stopping or failure:
                continue
            if time.monotonic() - started < _QUICK_DEATH_S:
                failure = f"server worker {i} exited with code {proc.exitcode} within a minute of starting"
                for other, _ in running.values():
                    other.terminate()
                continue
            log.warning("server worker %s exited with code %s; starting it again", i, proc.exitcode)
            running[i] = _start(spawn, config, host, port)
    if failure:
        raise CryptoscopeError(failure + ": see its log above")


def _start(spawn: multiprocessing.context.SpawnContext, config: ServeConfig, host: str,
           port: int) -> tuple[BaseProcess, float]:
    proc = spawn.Process(target=_worker, args=(config, host, port), name="cryptoscope-serve", daemon=False)
    proc.start()
    return proc, time.monotonic()


def _worker(config: ServeConfig, host: str, port: int) -> None:
    """One server process: restore the state, then answer on its own ``SO_REUSEPORT`` socket."""
    import uvicorn

    from cryptoscope.serve.app import create_app
    from cryptoscope.serve.wire import LaneProtocol

    os.setpgrp()  # a terminal's Ctrl-C reaches the supervisor only, which stops each worker once
    service = Service(config)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))  # only once the state is ready: the kernel sends connections to bound sockets
    server = uvicorn.Server(uvicorn.Config(create_app(config, service, close=True), log_level="warning",
                                           access_log=False, http=LaneProtocol))
    server.run(sockets=[sock])
