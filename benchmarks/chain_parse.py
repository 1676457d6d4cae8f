"""Block parsing throughput: cryptoscope's parser against python-bitcoinlib on the same real blocks, one run.

Both sides parse every block of each shared file and produce every txid. python-bitcoinlib does
``CBlock.deserialize`` then ``GetTxid()`` per transaction (and ``GetHash()`` per block). Ours does more:
``parse_blocks`` builds all the lake columns (txid, wtxid, inputs with prev txids and script hex, outputs with
values, script hex, script types and Base58/bech32/bech32m addresses) and verifies the merkle root, the
witness commitment and the proof of work; ``--no-verify`` figures are given beside. The files are read and
decompressed before timing; Numba's compiled code is loaded (from its cache, or compiled) by a warm-up
call, whose time is reported separately. Runs of the parsers are interleaved; the best of them is kept (medians beside).

    python benchmarks/chain_parse.py --repeat 15
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bitcoin.core import CBlock

from cryptoscope.sources.chain.bitcoin.block import parse_blocks
from cryptoscope.sources.chain.bitcoin.framing import BlockFile, read_block_file

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "bitcoin"
FILES = ("mainnet-blocks-1-255.framed.bz2", "block-277647.dat.bz2", "block-574200.blk", "block-540107.blk")
RESULTS = Path(__file__).parent / "results" / "chain.json"


def bitcoinlib(f: BlockFile) -> int:
    n = 0
    for start, end in f.spans:
        block = CBlock.deserialize(f.data[start:end])
        block.GetHash()
        n += len([tx.GetTxid() for tx in block.vtx])
    return n


def ours(f: BlockFile, verify: bool = True) -> int:
    return parse_blocks(f.data, f.spans, verify=verify).transactions.num_rows


def timed(fn: Callable[[], int]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of this process (less sensitive to other work on a shared machine), result."""
    start, cpu = time.perf_counter(), time.process_time()
    n = fn()
    return time.perf_counter() - start, time.process_time() - cpu, n


def measure(f: BlockFile, repeat: int) -> dict[str, Any]:
    runs: dict[str, list[float]] = {"ours": [], "ours_no_verify": [], "bitcoinlib": []}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    counts = set()
    for _ in range(repeat):
        for name, fn in (("ours", lambda: ours(f)), ("bitcoinlib", lambda: bitcoinlib(f)),
                         ("ours_no_verify", lambda: ours(f, verify=False))):
            seconds, cpu_seconds, n = timed(fn)
            runs[name].append(seconds)
            cpu[name].append(cpu_seconds)
            counts.add(n)
    assert len(counts) == 1, f"the parsers disagree on the number of transactions: {counts}"
    size = sum(e - s for s, e in f.spans)
    entry: dict[str, Any] = {"blocks": len(f.spans), "transactions": counts.pop(), "bytes": size}
    for name, seconds in runs.items():
        entry[f"{name}_seconds"] = round(min(seconds), 5)
        entry[f"{name}_median_seconds"] = round(statistics.median(seconds), 5)
        entry[f"{name}_mb_per_s"] = round(size / min(seconds) / 1e6, 2)
        entry[f"{name}_cpu_seconds"] = round(statistics.median(cpu[name]), 5)
    entry["speedup_vs_bitcoinlib"] = round(entry["bitcoinlib_seconds"] / entry["ours_seconds"], 2)
    entry["speedup_vs_bitcoinlib_median"] = round(entry["bitcoinlib_median_seconds"] / entry["ours_median_seconds"], 2)
    entry["speedup_vs_bitcoinlib_cpu"] = round(entry["bitcoinlib_cpu_seconds"] / entry["ours_cpu_seconds"], 2)
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    files = {name: read_block_file(args.data / name) for name in FILES}
    warm_start = time.perf_counter()
    ours(files["block-277647.dat.bz2"])
    warm_up = time.perf_counter() - warm_start
    per_file = {}
    for name, f in files.items():
        per_file[name] = measure(f, args.repeat)
        print(name, json.dumps(per_file[name]), flush=True)
    size = sum(e["bytes"] for e in per_file.values())
    total = {k: sum(e[f"{k}_seconds"] for e in per_file.values()) for k in ("ours", "ours_no_verify", "bitcoinlib")}
    result = {
        "benchmark": "Bitcoin block parsing throughput on the real blocks in ../shared/data/bitcoin",
        "command": shlex.join(["python", "benchmarks/chain_parse.py", *sys.argv[1:]]),
        "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
                   f"{platform.machine()}",
        "work": "both: every block and txid; ours also: all lake columns (addresses, script types, hex), merkle "
                "root + witness commitment + proof-of-work checks (ours_no_verify: without the checks)",
        "repeat": args.repeat,
        "statistic": "best (min) wall time of interleaved runs; *_median_* the median wall time, *_cpu_* the median "
                     "CPU time of the process (the machine is shared with other work)",
        "warm_up_seconds": round(warm_up, 3),
        "files": per_file,
        "total_bytes": size,
        "ours_mb_per_s": round(size / total["ours"] / 1e6, 2),
        "ours_no_verify_mb_per_s": round(size / total["ours_no_verify"] / 1e6, 2),
        "bitcoinlib_mb_per_s": round(size / total["bitcoinlib"] / 1e6, 2),
        "parse_speedup_vs_bitcoinlib": round(total["bitcoinlib"] / total["ours"], 2),
        "parse_speedup_vs_bitcoinlib_no_verify": round(total["bitcoinlib"] / total["ours_no_verify"], 2),
        "parse_speedup_vs_bitcoinlib_median": round(sum(e["bitcoinlib_median_seconds"] for e in per_file.values())
                                                    / sum(e["ours_median_seconds"] for e in per_file.values()), 2),
        "parse_speedup_vs_bitcoinlib_cpu": round(sum(e["bitcoinlib_cpu_seconds"] for e in per_file.values())
                                                 / sum(e["ours_cpu_seconds"] for e in per_file.values()), 2),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "files"}, indent=2))


if __name__ == "__main__":
    main()
