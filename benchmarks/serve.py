"""Load benchmark of the scoring API: a second process drives ``POST /v1/score/withdrawal`` on loopback.

The server is ``cryptoscope serve`` (one uvicorn process, uvloop + httptools) over a simulated world
(8,000 users x 90 days, as the test suite's) with the withdrawal model trained on it. This load
generator is pinned to the last core and the server to the first (``--server-cpus all`` lets it use
both, e.g. for its optional TreeSHAP worker thread: ``CRYPTOSCOPE_EXPLAIN_THREAD=1``).

* **open loop** at ``--rate`` requests/s for ``--seconds``: requests are due on a fixed schedule and a
  request's latency is counted from when it was due, so a stalled server cannot hide its queue
  (no coordinated omission). ``p50_ms``, ``p99_ms`` and ``requests_per_s`` (answered per second) come
  from this run;
* **closed loop**: ``--connections`` clients send as fast as answers come for ``--seconds``:
  the most the server sustains (``max_requests_per_s``).

Each request is a distinct withdrawal of a random account, with an API key, through the whole path:
validation, auth, online features, model, decision, reasons, journal commit. The client is a minimal
HTTP/1.1 keep-alive loop on asyncio streams (on uvloop): a general HTTP client costs more CPU than the
server.

Besides latency, each open-loop run reports the server's CPU time per request (user + system, from
the kernel's accounting of the server process) and the load generator's: the server figure hardly
depends on what else runs on the machine, the latency figures do (the load average is recorded).

    python benchmarks/serve.py --rate 1000 --seconds 20      # ~3 min with the world already simulated
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from cryptoscope.fsio import atomic_write
from cryptoscope.serve.service import batch_wait_ms_default

HERE = Path(__file__).parent
RESULTS = HERE / "results" / "serve.json"


def prepare(lake: Path, registry: Path) -> None:
    """Simulate the world and train the withdrawal model once (reused by later runs)."""
    from cryptoscope.lake import Lake
    from cryptoscope.risk.training import train
    from cryptoscope.sources.simulate.config import SimConfig
    from cryptoscope.sources.simulate.world import simulate

    if not lake.exists() or not any(lake.iterdir()):
        shutil.rmtree(lake, ignore_errors=True)
        simulate(SimConfig(users=8_000, days=90, seed=11, chunk_users=4_000, fraud_scale=3.0), Lake(lake))
    from cryptoscope.models import Registry

    if Registry(registry).promoted("risk_withdrawal") is None:
        result = train("withdrawal", Lake(lake), registry, report_dir=registry.parent / "serve-reports")
        if not result.promoted:
            raise SystemExit("the withdrawal model was not promoted: nothing to serve")


def bodies(lake: Path, n: int, seed: int = 5) -> list[bytes]:
    """``n`` withdrawal events of random accounts, one millisecond apart after the lake's last event."""
    from cryptoscope.lake import connect

    con = connect(lake)
    users = con.table("accounts").to_pyarrow()["user_id"].to_numpy()
    end = con.table("sessions").event_time.max().to_pyarrow().as_py()
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        event = {"user_id": int(rng.choice(users)), "event_time": (end + dt.timedelta(milliseconds=1 + i)).isoformat(),
                 "transfer_id": 8_000_000_000 + i, "address": f"bc1qbench{int(rng.integers(0, 5_000))}",
                 "amount_usd": round(float(rng.lognormal(6.0, 1.3)), 2)}
        out.append(json.dumps(event).encode())
    return out


def request(body: bytes, key: str) -> bytes:
    return (b"POST /v1/score/withdrawal HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + key.encode() + b"\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\n\r\n" + body)


SERVER_MS: list[float] = []  # the server's own "latency_ms" (handler start to answer), for the split


async def _call(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes) -> int:
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length)
    at = body.find(b'"latency_ms":')
    if at >= 0:
        SERVER_MS.append(float(body[at + 13:body.index(b",", at)]))
    return status


async def open_loop(port: int, payloads: list[bytes], rate: float, connections: int) -> dict[str, Any]:
    """Send ``payloads`` on a fixed schedule at ``rate``/s; latency from the due time."""
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    lat: list[float] = []
    errors = 0

    SERVER_MS.clear()

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (item := await queue.get()) is not None:
            due, payload = item
            status = await _call(reader, writer, payload)
            lat.append(time.perf_counter() - due)
            errors += status != 200
        writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    await asyncio.sleep(0.2)
    start = time.perf_counter()
    for i, payload in enumerate(payloads):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, payload))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - start
    ms = np.array(lat) * 1000
    server = np.array(SERVER_MS[-len(lat):]) if SERVER_MS else np.array([np.nan])
    return {"requests": len(lat), "errors": errors, "seconds": round(elapsed, 2),
            "server_p50_ms": round(float(np.percentile(server, 50)), 2),
            "server_p99_ms": round(float(np.percentile(server, 99)), 2),
            "requests_per_s": round(len(lat) / elapsed, 1), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p90_ms": round(float(np.percentile(ms, 90)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "max_ms": round(float(ms.max()), 2)}


async def closed_loop(port: int, payloads: list[bytes], connections: int, seconds: float) -> dict[str, Any]:
    """``connections`` clients, each sending its next request when the last is answered."""
    it = iter(payloads)
    lat: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop and (payload := next(it, None)) is not None:
            t = time.perf_counter()
            await _call(reader, writer, payload)
            lat.append(time.perf_counter() - t)
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    ms = np.array(lat) * 1000
    return {"requests": len(lat), "requests_per_s": round(len(lat) / elapsed, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2)}


def measured(server: subprocess.Popen[bytes], run: Any) -> dict[str, Any]:
    """Run the coroutine ``run`` on uvloop; add the CPU seconds per request the server and this client spent,
    and the load average during the run."""
    procs = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]  # --workers: each
    before, mine = _cpu(procs), time.process_time()
    out: dict[str, Any] = _loop_run(run)
    used = time.process_time() - mine
    n = max(out["requests"], 1)
    user, system = (after - then for after, then in zip(_cpu(procs), before, strict=True))
    return out | {"server_cpu_ms_per_request": round((user + system) / n * 1000, 3),
                  "server_kernel_share": round(system / max(user + system, 1e-9), 3),  # system calls, TCP, wake-ups
                  "client_cpu_ms_per_request": round(used / n * 1000, 3),
                  "load_average_1min_after": round(os.getloadavg()[0], 2)}


def _cpu(procs: list[psutil.Process]) -> tuple[float, float]:
    """User and system seconds of the server's processes (the supervisor and its workers with ``--workers``)."""
    times = [p.cpu_times() for p in procs]
    return sum(t.user for t in times), sum(t.system for t in times)


def _loop_run(run: Any) -> Any:
    try:
        import uvloop
    except ImportError:  # the plain asyncio loop: more client CPU per request
        return asyncio.run(run)
    return uvloop.run(run)


def in_process(lake: Path, registry: Path, work: Path, rows: int = 2_000) -> dict[str, Any]:
    """CPU per scored withdrawal inside the server's scoring call (``Service.score_now``: online features,
    model, reasons, journal commit; no HTTP), in batches of 1 and of 8, on the state the server left.

    CPU time of this thread, not wall time: it hardly depends on what else runs on the machine."""
    from cryptoscope.serve.events import WithdrawalEvent
    from cryptoscope.serve.service import ServeConfig, Service

    svc = Service(ServeConfig(lake=lake, registry=registry, work=work))
    try:
        events = [WithdrawalEvent.model_validate_json(b).to_row() for b in bodies(lake, 2 * rows + 200, seed=9)]
        clock = svc.scorer.clock or dt.datetime.now(dt.UTC)
        for i, event in enumerate(events):  # after everything the server saw: in order, as in production
            event["transfer_id"], event["event_time"] = 9_100_000_000 + i, clock + dt.timedelta(milliseconds=1 + i)
        for i in range(200):  # warm-up
            svc.score_now("withdrawal", events[i:i + 1])
        out = {}
        for size, start in ((1, 200), (8, 200 + rows)):
            cpu = time.thread_time()
            for i in range(start, start + rows, size):
                svc.score_now("withdrawal", events[i:i + size])
            out[f"cpu_ms_per_row_batch_{size}"] = round((time.thread_time() - cpu) / rows * 1000, 3)
        return out
    finally:
        svc.close()


def start_server(lake: Path, registry: Path, work: Path, port: int, cpus: set[int],
                 workers: int = 1) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "cryptoscope.cli", "serve", "--lake", str(lake), "--registry", str(registry),
           "--work", str(work), "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, preexec_fn=lambda: os.sched_setaffinity(0, cpus))
    for _ in range(1200):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            raise SystemExit("the server exited during start-up")
    raise SystemExit("the server did not start in 10 minutes")


def scrape(port: int, key: str) -> dict[str, float]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name in ("cryptoscope_score_batch_size_sum", "cryptoscope_score_batch_size_count",
                          "cryptoscope_score_fast_lane_total"):
                out[s.name] = s.value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, default=HERE / "scratch" / "serve-lake")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server-cpus", choices=["all", "first"], default="first",
                        help="the server pinned to the first core (default) or on every core, e.g. with "
                             "CRYPTOSCOPE_EXPLAIN_THREAD=1 (the load generator always runs on the last)")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes (`serve --workers`); above 1 they run on every core, beside the "
                             "load generator")
    parser.add_argument("--batch-wait-ms", type=float, default=None,
                        help="CRYPTOSCOPE_BATCH_WAIT_MS for the server: under load a batch waits this long for "
                             "company (serve/batcher.py); default: the server's own (2; 0 is off)")
    parser.add_argument("--sweep", type=float, nargs="*", default=[250.0, 500.0],
                        help="lower open-loop rates also measured (where p99 stays under 10 ms)")
    args = parser.parse_args()
    began = time.perf_counter()
    if args.batch_wait_ms is not None:  # the server process inherits it
        os.environ["CRYPTOSCOPE_BATCH_WAIT_MS"] = str(args.batch_wait_ms)
    threaded = "CRYPTOSCOPE_EXPLAIN_THREAD=1 " if os.environ.get("CRYPTOSCOPE_EXPLAIN_THREAD") == "1" else ""
    command = f"{threaded}python benchmarks/serve.py {shlex.join(sys.argv[1:])}".strip()
    print(command, flush=True)
    registry, work = args.lake.parent / "serve-registry", args.lake.parent / "serve-work"
    prepare(args.lake, registry)
    shutil.rmtree(work, ignore_errors=True)
    from cryptoscope.serve.auth import AuthStore

    key = AuthStore(work).create_key("bench", "service")
    total = int(args.rate * args.seconds)
    swept = sum(int(r * args.seconds) for r in args.sweep)
    payloads = [request(b, key) for b in bodies(args.lake, 1_000 + swept + total + int(args.rate * args.seconds * 3))]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus = set(cpus) if args.server_cpus == "all" or args.workers > 1 else {cpus[0]}
    server = start_server(args.lake, registry, work, port, server_cpus, args.workers)
    os.sched_setaffinity(0, {cpus[-1]})
    load_before = os.getloadavg()[0]
    try:
        _loop_run(closed_loop(port, payloads[:1_000], 8, 10.0))  # warm-up (the key is verified once, by scrypt)
        at, sweep = 1_000, {}
        for rate in args.sweep:
            n = int(rate * args.seconds)
            sweep[str(int(rate))] = measured(server, open_loop(port, payloads[at:at + n], rate, args.connections))
            at += n
        before = scrape(port, key)
        steady = measured(server, open_loop(port, payloads[at:at + total], args.rate, args.connections))
        after = scrape(port, key)
        burst = measured(server, closed_loop(port, payloads[at + total:], args.connections, args.seconds))
    finally:
        server.terminate()
        server.wait(60)
    batches = after.get("cryptoscope_score_batch_size_count", 0) - before.get("cryptoscope_score_batch_size_count", 0)
    scored = after.get("cryptoscope_score_batch_size_sum", 0) - before.get("cryptoscope_score_batch_size_sum", 0)
    lane = after.get("cryptoscope_score_fast_lane_total", 0) - before.get("cryptoscope_score_fast_lane_total", 0)
    result = {
        "p50_ms": steady["p50_ms"], "p99_ms": steady["p99_ms"], "requests_per_s": steady["requests_per_s"],
        "server_cpu_ms_per_request": steady["server_cpu_ms_per_request"],
        "fast_lane_share": round(lane / scored, 3) if scored else None,
        "target_requests_per_s": args.rate, "max_requests_per_s": burst["requests_per_s"],
        "open_loop": steady, "open_loop_lower_rates": sweep, "closed_loop": burst | {"connections": args.connections},
        "mean_batch": round(scored / batches, 2) if batches else None,
        "command": command,
        "machine": f"{os.cpu_count()} cores, server on cpus {sorted(server_cpus)}, load generator on cpu {cpus[-1]}, "
                   f"1-min load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} at the end "
                   "(above ~1.3, something else shared the cores)",
        "workers": args.workers,
        "explain_thread": os.environ.get("CRYPTOSCOPE_EXPLAIN_THREAD", "0") == "1",
        "batch_wait_ms": batch_wait_ms_default(),  # what the server process used (it inherits the environment)
        "python": platform.python_version(), "measured": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    result["in_process"] = in_process(args.lake, registry, work)
    out = RESULTS if args.workers == 1 else RESULTS.with_name(f"serve_workers{args.workers}.json")
    atomic_write(out, (json.dumps(result, indent=2) + "\n").encode())
    print(json.dumps(result, indent=2))
    print(f"wrote {out} ({time.perf_counter() - began:.0f} s); reproduce with: {result['command']}")


if __name__ == "__main__":
    main()
