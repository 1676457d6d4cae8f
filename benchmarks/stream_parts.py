"""The stream's per-event parts, this code against an earlier revision, in one process, interleaved in small chunks.

Why: on this machine the speed drifts by a third between runs a minute apart, so two whole `benchmarks/stream.py`
runs cannot show a 10 % change in one part. Here the earlier revision's modules (taken with ``git archive``) and
this checkout's run on the same messages, alternating every chunk, and their outputs are compared:

* **decode**: `cryptoscope.stream.codec.decode` on every message of the stream benchmark's five-day backlog;
* **pump**: `PumpState.on_trade` (the pump-and-dump detector of the surveillance process) on its trades; the
  baselines' sums must be equal to the bit;
* **features**: `OnlineFeatureState.update` (the consumer's online state, eviction included) on every message,
  after both states took the 40 days before the backlog; their features at the end must be equal.

    python benchmarks/stream_parts.py --against 26b7bea      # ~5 min once the serving world exists
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
RESULTS = HERE / "results" / "stream_parts.json"
#: in import order: an earlier part is what a later one imports (`earlier` wires the old ones to each other)
PARTS = ("src/cryptoscope/stream/codec.py", "src/cryptoscope/surveillance/stream_state.py",
         "src/cryptoscope/features/online_window.py", "src/cryptoscope/features/online.py")
WARM_DAYS = 40


def earlier(revision: str, folder: Path) -> dict[str, ModuleType]:
    """The revision's versions of `PARTS`, loaded as modules of their own (they import the rest from this checkout)."""
    archive = folder / "old.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", revision, *PARTS], cwd=HERE.parent, check=True, stdout=out)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    modules, real = {}, {}
    try:
        for path in PARTS:
            name = path.removeprefix("src/").removesuffix(".py").replace("/", ".")
            spec = importlib.util.spec_from_file_location("old_" + Path(path).stem, folder / path)
            assert spec is not None and spec.loader is not None
            modules[Path(path).stem] = module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            real[name] = sys.modules.get(name)
            sys.modules[name] = module  # the old parts loaded after this one import it, not this checkout's
    finally:
        for name, module in real.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return modules


def interleaved(items: Sequence[Any], chunk: int, rounds: int,
                make: Callable[[str], Callable[[Any], Any]]) -> dict[str, float]:
    """Thread CPU seconds per item of ``make("old")`` and ``make("new")`` (fresh each round), taking turns per chunk,
    the one to go first alternating."""
    spent = {"old": 0.0, "new": 0.0}
    for r in range(rounds):
        run = {name: make(name) for name in spent}
        gc.collect()  # the last round's states hold cycles: freed here, not by a collection in someone's chunk
        for i, lo in enumerate(range(0, len(items), chunk)):
            part = items[lo:lo + chunk]
            for name in ("old", "new") if (i + r) % 2 else ("new", "old"):
                step, start = run[name], time.thread_time()
                for item in part:
                    step(item)
                spent[name] += time.thread_time() - start
    return {name: seconds / (rounds * len(items)) for name, seconds in spent.items()}


def same_features(old: Any, new: Any) -> bool:
    """Every view's features of every entity either state holds, at the newest event either saw."""
    at = max(old._clock, new._clock)
    for name in new.views:
        keys = set(old._views[name].keys) | set(new._views[name].keys)
        if any(old.get(name, key, at) != new.get(name, key, at) for key in keys):
            return False
    return True


def main() -> None:
    from cryptoscope.features import online
    from cryptoscope.lake import Lake, connect
    from cryptoscope.serve.online import product_views
    from cryptoscope.stream import codec
    from cryptoscope.stream.publish import feed
    from cryptoscope.surveillance import stream_state
    from cryptoscope.surveillance.params import Params
    from serve import prepare

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", required=True, help="the earlier revision (a commit)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    world = HERE / "scratch" / "serve-lake"
    prepare(world, HERE / "scratch" / "serve-registry")
    end = connect(world).table("sessions").event_time.max().execute().to_pydatetime()
    until = end - dt.timedelta(days=1)  # the stream benchmark's backlog: five days before the paced last day
    _, events = feed(Lake(world), until - dt.timedelta(days=5), until)
    messages = [(table, codec.encode(row)) for table, row in events]
    with tempfile.TemporaryDirectory() as tmp:
        old = earlier(args.against, Path(tmp))
    decoders = {"old": old["codec"].decode, "new": codec.decode}
    for table, data in messages:  # the same rows
        assert decoders["old"](table, data) == decoders["new"](table, data), table
    decode = interleaved(messages, 2_000, args.rounds, lambda name: lambda m: decoders[name](*m))
    trades = [codec.decode(t, d) for t, d in messages if t == "trades"]
    states: dict[str, Any] = {}

    def pump(name: str) -> Callable[[Any], Any]:
        states[name] = (old["stream_state"] if name == "old" else stream_state).PumpState(Params())
        return states[name].on_trade

    on_trade = interleaved(trades, 250, args.rounds, pump)
    assert states["old"].base == states["new"].base and states["old"].clipped == states["new"].clipped
    rows = [(t, codec.decode(t, d)) for t, d in messages]
    _, warm_events = feed(Lake(world), until - dt.timedelta(days=5 + WARM_DAYS), until - dt.timedelta(days=5))
    warm = list(warm_events)

    def features(name: str) -> Callable[[Any], Any]:
        state = states[name] = (old["online"] if name == "old" else online).OnlineFeatureState(product_views())
        for table, row in warm:
            state.update(table, row)
        return lambda m: state.update(*m)

    update = interleaved(rows, 2_000, args.rounds, features)
    assert same_features(states["old"], states["new"])
    out = {
        "command": "python benchmarks/stream_parts.py " + " ".join(sys.argv[1:]),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores; one process, old and new taking turns every chunk",
        "against": args.against,
        "messages": len(messages), "trades": len(trades),
        "decode_us_per_message": {k: round(1e6 * v, 2) for k, v in decode.items()},
        "decode_ratio_new_over_old": round(decode["new"] / decode["old"], 3),
        "pump_us_per_trade": {k: round(1e6 * v, 1) for k, v in on_trade.items()},
        "pump_ratio_new_over_old": round(on_trade["new"] / on_trade["old"], 3),
        "warm_events": len(warm),
        "features_us_per_message": {k: round(1e6 * v, 2) for k, v in update.items()},
        "features_ratio_new_over_old": round(update["new"] / update["old"], 3),
        "same_output": "decoded rows equal; the pump baselines' sums equal to the bit; every entity's features "
                       "equal at the end",
    }
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
