"""bitcoin-etl's side of `chain_rpc.py`, run by the Python of bitcoin-etl's own virtualenv (it pins old click and
requests, so it never shares ours).

Runs ``bitcoinetl export_blocks_and_transactions`` in this process (click's ``main``, as its console script does),
once over a few blocks to warm up, then over each range, timing each; prints one JSON line of the timings.

    etl-venv/bin/python benchmarks/chain_rpc_etl.py --uri http://u:p@127.0.0.1:8332 --out DIR --range 1 255 ...
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from bitcoinetl.cli.export_blocks_and_transactions import export_blocks_and_transactions


def export(uri: str, out: Path, lo: int, hi: int, batch_size: int, workers: int) -> None:
    export_blocks_and_transactions.main(
        ["--start-block", str(lo), "--end-block", str(hi), "--provider-uri", uri, "--batch-size", str(batch_size),
         "--max-workers", str(workers), "--blocks-output", str(out / f"blocks-{lo}.json"),
         "--transactions-output", str(out / f"transactions-{lo}.json")], standalone_mode=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--range", nargs=2, type=int, action="append", required=True)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--max-workers", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # its progress log, one line per few blocks
    args.out.mkdir(parents=True, exist_ok=True)
    export(args.uri, args.out, 1, 3, args.batch_size, args.max_workers)  # warm-up: imports, session, first socket
    ranges = []
    for lo, hi in args.range:
        start, cpu = time.perf_counter(), time.process_time()
        export(args.uri, args.out, lo, hi, args.batch_size, args.max_workers)
        ranges.append({"from": lo, "to": hi, "seconds": time.perf_counter() - start,
                       "cpu_seconds": time.process_time() - cpu,
                       "output_bytes": sum(p.stat().st_size for p in args.out.glob(f"*-{lo}.json"))})
    print(json.dumps({"ranges": ranges}))


if __name__ == "__main__":
    main()
