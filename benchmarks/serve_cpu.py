"""CPU per scoring request inside the server process, without the network: ``Service.score_now`` (a row scored
alone: features, model, TreeSHAP, reasons, journal) and the whole ASGI app (the fast lane: auth, rate limit,
validation, the same scoring, the JSON answer; no uvicorn), in CPU time of this thread.

Why: on a shared machine latency says how busy the machine was; CPU time per request barely does. To compare
two versions of the code, run this twice at the same time over the same state, once per version
(``PYTHONPATH=OLD/src`` for the old one), each with its own ``--work``:

    python benchmarks/serve.py ...                       # once: the world, the model, a server's state
    cp -r benchmarks/scratch/serve-work /tmp/state       # (the state serve.py's server left)
    PYTHONPATH=src python benchmarks/serve_cpu.py --state /tmp/state --work /tmp/w-new &
    PYTHONPATH=/old/src python benchmarks/serve_cpu.py --state /tmp/state --work /tmp/w-old

It starts from a copy of ``--state`` (a serving work folder: snapshot and journal), so both versions score
the same events on the same state. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shutil
import time
from pathlib import Path
from typing import Any

from serve import HERE, bodies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, default=HERE / "scratch" / "serve-lake")
    parser.add_argument("--state", type=Path, required=True, help="a serving work folder to start from (copied)")
    parser.add_argument("--work", type=Path, required=True, help="the copy (replaced)")
    parser.add_argument("--rows", type=int, default=3000)
    args = parser.parse_args()
    from cryptoscope.serve.app import create_app
    from cryptoscope.serve.auth import AuthStore
    from cryptoscope.serve.events import WithdrawalEvent
    from cryptoscope.serve.service import ServeConfig, Service

    shutil.rmtree(args.work, ignore_errors=True)
    shutil.copytree(args.state, args.work)
    config = ServeConfig(lake=args.lake, registry=args.lake.parent / "serve-registry", work=args.work)
    svc = Service(config)
    key = AuthStore(args.work).create_key("cpu-bench", "service")
    n, clock = args.rows, svc.scorer.clock or dt.datetime.now(dt.UTC)
    payloads = []
    for i, b in enumerate(bodies(args.lake, 2 * n + 600, seed=9)):  # after everything the state saw, in order
        event = json.loads(b) | {"transfer_id": 9_500_000_000 + i,
                                 "event_time": (clock + dt.timedelta(milliseconds=1 + i)).isoformat()}
        payloads.append(json.dumps(event).encode())
    rows = [WithdrawalEvent.model_validate_json(p).to_row() for p in payloads[:n + 300]]
    for i in range(300):  # warm-up
        svc.score_now("withdrawal", rows[i:i + 1])
    cpu = time.thread_time()
    for i in range(300, n + 300):
        svc.score_now("withdrawal", rows[i:i + 1])
    out: dict[str, Any] = {"score_now_cpu_ms_per_row": round((time.thread_time() - cpu) / n * 1000, 3)}
    app = create_app(config, svc)

    async def call(body: bytes) -> int:
        scope = {"type": "http", "method": "POST", "path": "/v1/score/withdrawal", "raw_path": b"/v1/score/withdrawal",
                 "query_string": b"", "root_path": "", "scheme": "http", "server": ("127.0.0.1", 8000),
                 "client": ("127.0.0.1", 5555), "http_version": "1.1", "asgi": {"version": "3.0"}, "app": app,
                 "headers": [(b"host", b"x"), (b"content-type", b"application/json"),
                             (b"authorization", b"Bearer " + key.encode()),
                             (b"content-length", str(len(body)).encode())]}
        messages: list[dict[str, Any]] = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return int(sent[0]["status"])

    async def run() -> float:
        for body in payloads[n + 300:n + 600]:  # the first verifies the key (scrypt) through FastAPI
            assert await call(body) == 200
        cpu = time.thread_time()
        for body in payloads[n + 600:]:
            await call(body)
        return (time.thread_time() - cpu) / n * 1000

    out["asgi_cpu_ms_per_request"] = round(asyncio.run(run()), 3)
    svc.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
