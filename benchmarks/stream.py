"""Stream benchmark: `cryptoscope stream run` on a real nats-server, one consumer and two partitions.

The world is the serving benchmark's (8,000 users x 90 days, withdrawal model trained; `serve.py`'s
``prepare``). For each setting, on a fresh broker and a fresh copy of the lake:

1. **throughput**: the consumer(s) start on the empty stream and warm from the lake before ``--since``; once
   every one has subscribed, their durable consumers are paused on the broker while the events of
   ``--backlog-days`` days (the whole mix: logins, transfers, payments, orders, trades, cancels, ...) are
   published, then resumed together: ``events_per_s`` = events / (the first message any took .. the last
   commit of any), sustained; ``per_consumer_events_per_s`` is each one's own rate. (Before, the backlog
   was published first and the consumers started on it: partition 0, which also warms the market
   detectors, began ~20 s after partition 1 had drained it alone, and the window measured two drains one
   after the other.)
2. **latency**: then the next ``--paced-days`` of events are published at ``--rate`` events/s while the
   consumer runs: each decision's latency is from its event reaching the broker to its score reaching
   the broker on ``scores.<kind>`` (both broker timestamps): ``p50_ms``, ``p99_ms``.

Results go to ``benchmarks/results/stream.json`` (top level: one consumer; ``partitions_2``: two processes
``--partition 0/2`` and ``1/2``), with the command and the machine.

    python benchmarks/stream.py            # ~10 min once the serving world exists
    python benchmarks/stream.py --publish-first   # one consumer, the earlier method -> stream_publish_first.json

Over each drain it also reports the broker's CPU per event and how many of the machine's cores were busy
(``CpuTrace``): the drain is bound by the consumer's event-loop thread when neither is near its limit.
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
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
RESULTS = HERE / "results" / "stream.json"
SCRATCH = HERE / "scratch"


def cli() -> str:
    return str(Path(sys.executable).with_name("cryptoscope"))


def run_consumers(root: Path, url: str, registry: Path, since: dt.datetime, partitions: int, idle_s: float,
                  phase: str) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(partitions):
        command = [cli(), "stream", "run", "--lake", str(root / "lake"), "--url", url, "--registry", str(registry),
                   "--since", since.isoformat(), "--until-idle", str(idle_s), "--partition", f"{i}/{partitions}",
                   "--report", str(root / f"{phase}-{i}.json")]
        log = open(root / f"{phase}-{i}.log", "wb")  # noqa: SIM115  # the child writes it until it ends
        procs.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
    return procs


def finish(root: Path, procs: list[subprocess.Popen[bytes]], phase: str) -> list[dict[str, Any]]:
    for i, p in enumerate(procs):
        if p.wait(timeout=1800) != 0:
            raise SystemExit(f"consumer {i} failed: see {root / f'{phase}-{i}.log'}")
    return [json.loads((root / f"{phase}-{i}.json").read_text()) for i in range(len(procs))]


class CpuTrace:
    """The broker's CPU seconds and the whole machine's busy seconds, sampled every ``every_s`` on a thread, so the
    drain's window (known only from the consumers' reports, in wall-clock time) can be cut out afterwards."""

    def __init__(self, pid: int, every_s: float = 0.1) -> None:
        self.process, self.every_s = psutil.Process(pid), every_s
        self.samples: list[tuple[float, float, float]] = []  # (wall clock, broker CPU s, machine busy CPU s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuTrace:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            own, m = self.process.cpu_times(), psutil.cpu_times()
            # busy: what this machine's cores ran (guest time is inside user; steal is the host's, not ours)
            self.samples.append((time.time(), own.user + own.system, m.user + m.nice + m.system + m.irq + m.softirq))
            self._stop.wait(self.every_s)

    def between(self, start: float, end: float) -> tuple[float, float]:
        """(broker CPU seconds, machine busy CPU seconds) from ``start`` to ``end``, interpolated."""
        t, broker, machine = (np.array(column) for column in zip(*self.samples, strict=True))
        return (float(np.interp(end, t, broker) - np.interp(start, t, broker)),
                float(np.interp(end, t, machine) - np.interp(start, t, machine)))


async def subscribed(url: str, names: list[str], after: dt.datetime, limit_s: float = 600) -> None:
    """Wait until every consumer has (re)created its durable consumer: it is ready to take messages."""
    from cryptoscope.stream.connection import connect
    from cryptoscope.stream.subjects import EVENTS

    nc = await connect(url)
    js = nc.jetstream()
    deadline = time.monotonic() + limit_s
    try:
        while time.monotonic() < deadline:
            ready = 0
            for name in names:
                try:
                    info = await js.consumer_info(EVENTS, name)
                    ready += info.created is not None and dt.datetime.fromisoformat(str(info.created)) > after
                except Exception:  # not there yet
                    pass
            if ready == len(names):
                return
            await asyncio.sleep(0.2)
        raise SystemExit("the consumers did not subscribe in time")
    finally:
        await nc.close()


async def paused(url: str, names: list[str], pause: bool) -> None:
    """Pause the consumers' durable consumers (the broker holds their pull requests) or let them go."""
    from cryptoscope.stream.connection import connect
    from cryptoscope.stream.subjects import EVENTS

    nc = await connect(url)
    js = nc.jetstream()
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        for name in names:
            await (js.pause_consumer(EVENTS, name, until) if pause else js.resume_consumer(EVENTS, name))
    finally:
        await nc.close()


async def client_ceiling(url: str, backlog: int, reader: str, batch: int = 500) -> float:
    """Events/s a consumer that does nothing but take the backlog could reach, reading each message's stream
    position, on the same broker: the bound the client alone puts on `run`. ``reader`` "pull" is what `run`
    uses (`cryptoscope.stream.pull.Pull`), "fetch" nats-py's own `PullSubscription.fetch` (what it used before)."""
    import nats.errors
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

    from cryptoscope.stream.connection import connect
    from cryptoscope.stream.pull import Pull
    from cryptoscope.stream.subjects import EVENTS, position

    nc = await connect(url)
    js = nc.jetstream()
    name = f"ceiling-{reader}"
    config = ConsumerConfig(durable_name=name, ack_policy=AckPolicy.ALL, max_ack_pending=-1,
                            deliver_policy=DeliverPolicy.ALL, filter_subject="events.>")
    if reader == "pull":
        await js.add_consumer(EVENTS, config)
        pull = await Pull(nc, EVENTS, name, batch).start()
    else:
        sub = await js.pull_subscribe("events.>", durable=name, stream=EVENTS, config=config)
    taken, start = 0, time.perf_counter()
    while taken < backlog:
        try:
            msgs = await (pull.fetch(5) if reader == "pull" else sub.fetch(batch, timeout=5))
        except nats.errors.TimeoutError:
            break
        if not msgs:
            break
        for m in msgs:
            position(m)
        taken += len(msgs)
    seconds = time.perf_counter() - start
    await msgs[-1].ack()
    await js.delete_consumer(EVENTS, name)
    await nc.close()
    return taken / seconds


async def latencies(url: str, since: dt.datetime) -> list[float]:
    """Milliseconds from each decision's event reaching the broker to its score reaching it (paced phase only)."""
    from cryptoscope.stream.connection import connect
    from cryptoscope.stream.subjects import EVENT_AT_HEADER, SCORES

    nc = await connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe("scores.>", stream=SCORES)
    out: list[float] = []
    while True:
        try:
            msgs = await sub.fetch(1000, timeout=2)
        except (TimeoutError, Exception):  # nats-py's timeout when the subject is drained
            break
        for m in msgs:
            event_at = dt.datetime.fromisoformat((m.headers or {})[EVENT_AT_HEADER])
            if event_at >= since:
                out.append((m.metadata.timestamp - event_at).total_seconds() * 1000)
            await m.ack()
    await nc.close()
    return out


def _published(stdout: str) -> int:
    """The number of events `stream publish` says it published."""
    return int(stdout.split("published ")[1].split(" ")[0])


def setting(world: Path, registry: Path, partitions: int, args: argparse.Namespace,
            end: dt.datetime) -> dict[str, Any]:
    from cryptoscope.lake.cluster import free_port
    from cryptoscope.stream import broker

    root = SCRATCH / f"stream-{partitions}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    shutil.copytree(world, root / "lake")
    port = free_port()
    server = broker.start(root / "nats", port=port)
    url = f"nats://127.0.0.1:{port}"
    paced_from = end - dt.timedelta(days=args.paced_days)
    since = paced_from - dt.timedelta(days=args.backlog_days)
    names = ["cryptoscope-all"] if partitions == 1 else [f"cryptoscope-p{i}of{partitions}" for i in range(partitions)]
    publish = [cli(), "stream", "publish", "--lake", str(root / "lake"), "--url", url, "--since", since.isoformat(),
               "--until", paced_from.isoformat()]
    try:
        if args.publish_first:  # the method before 67fecb8: the backlog first, then the consumers start on it
            backlog = _published(subprocess.run(publish, check=True, capture_output=True, text=True).stdout)
            with CpuTrace(server.pid) as trace:
                drained = finish(root, run_consumers(root, url, registry, since, partitions, 3, "drain"), "drain")
        else:
            began = dt.datetime.now(dt.UTC)
            # idle for as long as the slowest takes to warm and subscribe and the backlog to be published
            procs = run_consumers(root, url, registry, since, partitions, 60, "drain")
            asyncio.run(subscribed(url, names, began))
            asyncio.run(paused(url, names, True))  # held while the backlog is published, then let go together
            backlog = _published(subprocess.run(publish, check=True, capture_output=True, text=True).stdout)
            with CpuTrace(server.pid) as trace:
                asyncio.run(paused(url, names, False))
                drained = finish(root, procs, "drain")
        if not all(s["processed"] == backlog for s in drained):
            raise SystemExit(f"a consumer did not take the whole backlog of {backlog}: "
                             f"{[s['processed'] for s in drained]} (see {root}/drain-*.log)")
        ceiling = {r: asyncio.run(client_ceiling(url, backlog, r)) for r in ("pull", "fetch")}
        started = dt.datetime.now(dt.UTC)
        procs = run_consumers(root, url, registry, since, partitions, 30, "paced")  # outlives the publisher's start
        asyncio.run(subscribed(url, names, started))
        pace_start = dt.datetime.now(dt.UTC)
        subprocess.run([cli(), "stream", "publish", "--lake", str(root / "lake"), "--url", url, "--since",
                        paced_from.isoformat(), "--rate", str(args.rate)], check=True, capture_output=True)
        paced = finish(root, procs, "paced")
        lat = np.array(asyncio.run(latencies(url, pace_start)))
    finally:
        broker.stop(server)
    busy_from, busy_until = min(s["busy_until"] - s["busy_s"] for s in drained), max(s["busy_until"] for s in drained)
    window = busy_until - busy_from
    broker_cpu, machine_cpu = trace.between(busy_from, busy_until)
    return {
        "events_per_s": round(backlog / window, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 2) if lat.size else None,
        "p99_ms": round(float(np.percentile(lat, 99)), 2) if lat.size else None,
        "backlog_events": backlog,
        "backlog_seconds": round(window, 2),
        "paced_rate_events_per_s": args.rate,
        "decisions_timed": int(lat.size),
        "decisions": sum(s["decisions"] for s in drained + paced),
        "alerts": sum(s["alerts"] for s in drained + paced),
        "per_consumer_events_per_s": [round(s["processed"] / s["busy_s"], 1) for s in drained],
        "warmed_events": max(s["warmed"] for s in drained),
        # the consumers' event-loop threads' CPU over the drain, per event: what one consumer's core spends
        "consumer_cpu_us_per_event": round(1e6 * sum(s.get("busy_cpu_s", 0.0) for s in drained) / backlog, 1),
        # over the same window: the broker's CPU per event, and how many of the machine's cores were busy
        "broker_cpu_us_per_event": round(1e6 * broker_cpu / backlog, 1),
        "machine_busy_cores": round(machine_cpu / window, 2),
        "client_ceiling_events_per_s": round(ceiling["pull"], 1),
        "client_ceiling_nats_py_fetch_events_per_s": round(ceiling["fetch"], 1),
    }


def main() -> None:
    from serve import prepare

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backlog-days", type=float, default=5)
    parser.add_argument("--paced-days", type=float, default=1)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--note", default="", help="what the code measured is (kept with the result)")
    parser.add_argument("--publish-first", action="store_true",
                        help="one consumer only, the method before 67fecb8 (the backlog published first, then the "
                             "consumer starts on it), to stream_publish_first.json")
    args = parser.parse_args()
    world, registry = SCRATCH / "serve-lake", SCRATCH / "serve-registry"
    prepare(world, registry)
    from cryptoscope.lake import connect

    end = connect(world).table("sessions").event_time.max().execute().to_pydatetime()
    one = setting(world, registry, 1, args, end)
    two = {} if args.publish_first else {"partitions_2": setting(world, registry, 2, args, end)}
    out = {"command": "python benchmarks/stream.py " + shlex.join(sys.argv[1:]),
           "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}; broker, consumer(s) and "
                      "publisher on the same machine",
           "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **one, **two}
    if args.note:
        out["code"] = args.note
    results = RESULTS.with_name("stream_publish_first.json") if args.publish_first else RESULTS
    if results.exists():  # the earlier runs stay, newest first: what each change bought
        previous = json.loads(results.read_text())
        out["earlier"] = [{k: v for k, v in previous.items() if k != "earlier"}, *previous.get("earlier", [])]
    results.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
