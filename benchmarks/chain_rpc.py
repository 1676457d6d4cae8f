"""Ingest from a node: cryptoscope against bitcoin-etl's ``export_blocks_and_transactions``, same node, same run.

Both read the same real mainnet blocks (heights 1-255, 277,647, 540,107, 574,200: 258 blocks, 3.7 MB) from the
same replay node (``cryptoscope chain replay-node``, a separate process speaking Bitcoin Core's JSON-RPC over
HTTP with basic auth), one range at a time, as each tool's command takes them. Ours asks ``getblock`` verbosity 0
(raw blocks) and writes the verified lake tables; bitcoin-etl asks verbosity 2 (decoded JSON, which it needs) and
writes its JSON exports. The replay node decodes every block before the runs, so the decoding a real node does
for verbosity 2 (C++, but slow) costs bitcoin-etl nothing here.

Timed in-process, after a warm-up (imports, Numba's cache, first connections), runs interleaved: ours through
``ingest_from_node`` into a fresh lake, bitcoin-etl through its click command's ``main`` in its own virtualenv
(``chain_rpc_etl.py``), at its defaults (``--batch-size 1 --max-workers 5``) and with ``--batch-size 10``. The
commands themselves (``cryptoscope chain ingest bitcoin --rpc`` and ``bitcoinetl export_blocks_and_transactions``,
one per range), process start included, are timed at the end, ``--command-repeat`` rounds alternating.

    python benchmarks/chain_rpc.py --etl-venv benchmarks/scratch/etl-venv --repeat 7
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import platform
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from cryptoscope.sources.chain.bitcoin.block import parse_blocks
from cryptoscope.sources.chain.bitcoin.fetch import fetch_blocks
from cryptoscope.sources.chain.bitcoin.node import BitcoinNode
from cryptoscope.sources.chain.bitcoin.node_ingest import ingest_from_node
from cryptoscope.sources.chain.rpc import connect

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "bitcoin"
FILES = ("mainnet-blocks-1-255.framed.bz2", "block-277647.dat.bz2", "block-540107.blk", "block-574200.blk")
RANGES = ((1, 255), (277_647, 277_647), (540_107, 540_107), (574_200, 574_200))
RESULTS = Path(__file__).parent / "results" / "chain_rpc.json"
USER, PASSWORD = "bench", "replay"
#: flushes a durable lake commit waits for one after another (`store.Transaction.commit`): the staged files with the
#: marker's folder; the partition folders with the new catalog; the lake folder after the catalog swap
FLUSH_STEPS = 3
ETL_CONFIGS = {"defaults": ["--batch-size", "1", "--max-workers", "5"],
               "batch_10": ["--batch-size", "10", "--max-workers", "5"]}


def start_node(port: int) -> subprocess.Popen[str]:
    files = [a for f in FILES for a in ("--bitcoin", str(DATA / f))]
    return subprocess.Popen([sys.executable, "-m", "cryptoscope.cli", "chain", "replay-node", *files, "--port",
                             str(port), "--user", USER, "--password", PASSWORD, "--decode"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def wait_ready(url: str, seconds: float = 120.0) -> BitcoinNode:
    node = BitcoinNode(connect(url, retries=0, timeout=5))
    end = time.monotonic() + seconds
    while True:
        try:
            node.block_count()
            return BitcoinNode(connect(url))
        except Exception:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def ours(node: BitcoinNode, scratch: Path, workers: int) -> dict[str, Any]:
    lake = Path(tempfile.mkdtemp(dir=scratch)) / "lake"
    ranges, blocks, size = [], 0, 0
    total, cpu = time.perf_counter(), time.process_time()
    for lo, hi in RANGES:
        start, cpu_start = time.perf_counter(), time.process_time()
        result = ingest_from_node(lake, node, lo, hi, workers=workers)
        ranges.append({"from": lo, "to": hi, "seconds": time.perf_counter() - start,
                       "cpu_seconds": time.process_time() - cpu_start})
        blocks, size = blocks + result.blocks, size + result.bytes
    run = {"seconds": time.perf_counter() - total, "cpu_seconds": time.process_time() - cpu, "blocks": blocks,
           "bytes": size, "ranges": ranges}
    shutil.rmtree(lake.parent)
    return run


def theirs(python: Path, url: str, scratch: Path, config: list[str]) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(dir=scratch))
    args = [str(python), str(Path(__file__).parent / "chain_rpc_etl.py"), "--uri", url, "--out", str(out), *config]
    args += [a for lo, hi in RANGES for a in ("--range", str(lo), str(hi))]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=True)
    ranges = json.loads(done.stdout.strip().splitlines()[-1])["ranges"]
    shutil.rmtree(out)
    return {"seconds": sum(r["seconds"] for r in ranges), "cpu_seconds": sum(r["cpu_seconds"] for r in ranges),
            "output_bytes": sum(r["output_bytes"] for r in ranges), "ranges": ranges}


def our_command() -> list[str]:
    """``cryptoscope`` as a user runs it: the console script beside this interpreter (``python -m cryptoscope.cli``
    where there is none)."""
    script = Path(sys.executable).parent / "cryptoscope"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "cryptoscope.cli"]


def commands(etl_venv: Path, url: str, scratch: Path, repeat: int) -> dict[str, Any]:
    """Each tool's command over the four ranges, process start included: ``repeat`` rounds, the two tools
    alternating, ours into a fresh lake and bitcoin-etl into a fresh folder each round."""
    lake, out = scratch / "cli-lake", scratch / "cli-etl"
    ours_cmd = [[*our_command(), "chain", "ingest", "bitcoin", "--rpc", url, "--from", str(lo), "--to", str(hi),
                 "--lake", str(lake)] for lo, hi in RANGES]
    etl_cmd = [[str(etl_venv / "bin" / "bitcoinetl"), "export_blocks_and_transactions", "--start-block", str(lo),
                "--end-block", str(hi), "--provider-uri", url, "--blocks-output", str(out / f"b{lo}.json"),
                "--transactions-output", str(out / f"t{lo}.json")] for lo, hi in RANGES]
    rounds: dict[str, list[float]] = {"ours": [], "bitcoin_etl": []}
    load_before = os.getloadavg()
    for _ in range(repeat):
        for name, cmds in (("ours", ours_cmd), ("bitcoin_etl", etl_cmd)):
            shutil.rmtree(lake, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            start = time.perf_counter()
            for cmd in cmds:
                subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True, cwd=ROOT)
            rounds[name].append(time.perf_counter() - start)
    shutil.rmtree(lake, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    timed: dict[str, Any] = {name: {"seconds": min(runs), "median_seconds": statistics.median(runs),
                                    "rounds_seconds": [round(r, 4) for r in runs],
                                    "commands": [shlex.join(c).replace(PASSWORD, "***") for c in cmds]}
                             for (name, runs), cmds in zip(rounds.items(), (ours_cmd, etl_cmd), strict=True)}
    timed["ratio"] = timed["bitcoin_etl"]["seconds"] / timed["ours"]["seconds"]
    timed["ratio_median"] = timed["bitcoin_etl"]["median_seconds"] / timed["ours"]["median_seconds"]
    timed["load_average_before"], timed["load_average_after"] = load_before, os.getloadavg()
    return timed


def best_of(repeat: int, work: Any) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds) of ``work()`` over ``repeat`` runs."""
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        work()
        wall, cpu = min(wall, time.perf_counter() - start), min(cpu, time.process_time() - cpu_start)
    return wall, cpu


def fetch(node: BitcoinNode, lo: int, hi: int, workers: int) -> list[bytes]:
    """The range's hashes, then its raw blocks, asked as the ingest asks them."""
    heights = list(range(lo, hi + 1))
    return [raw for _, _, raw in fetch_blocks(node, list(zip(heights, node.block_hashes(heights), strict=True)),
                                              workers)]


def stages(node: BitcoinNode, repeat: int, workers: int) -> list[dict[str, Any]]:
    """Per range, what two stages of ours cost alone (best of ``repeat``): the node's answers to the calls no
    ingest can do without (the range's hashes, then its raw blocks: `fetch_blocks`, as the ingest asks them),
    and parsing with verification (merkle roots, witness commitments, proof of work) of those blocks. The rest
    of a range's time is the lake's: rows, input resolution, Parquet, the durable commit."""
    out = []
    for lo, hi in RANGES:
        raws = fetch(node, lo, hi, workers)
        spans = [(a, a + len(r)) for a, r in zip(itertools.accumulate([0, *map(len, raws)]), raws, strict=False)]
        data = b"".join(raws)
        node_wall, _ = best_of(repeat, functools.partial(fetch, node, lo, hi, workers))
        parse_wall, parse_cpu = best_of(repeat, functools.partial(parse_blocks, data, spans, verify=True))
        out.append({"from": lo, "to": hi, "node_seconds": node_wall, "parse_verify_seconds": parse_wall,
                    "parse_verify_cpu_seconds": parse_cpu})
    round_trip, _ = best_of(repeat * 3, node.block_count)
    return [{"round_trip_seconds": round_trip, "what": "getblockcount, the node's smallest answer"}, *out]


def process_start(etl_venv: Path, repeat: int = 3) -> dict[str, Any]:
    """Best of ``repeat`` fresh processes, each from its start to its exit: the interpreter alone, our CLI's start
    (``--help``), a first block parsed in a fresh process set up as ``chain ingest bitcoin`` sets itself up and
    ends (`cli._lean.start_for_blocks`: pyarrow and Numba without pandas, SciPy and CFFI; Numba's cached kernels
    loaded; ``gc.freeze`` at exit, as `cli.main` does) and as a library user's process (those imported too, the
    interpreter's last collections walking Numba's registries), and bitcoin-etl's command's start (``--help``):
    what each command pays around its first block."""
    first = f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r}); " if "PYTHONPATH" not in os.environ else ""
    parse_one = ("from cryptoscope.sources.chain.bitcoin.block import parse_blocks; "
                 "from cryptoscope.sources.chain.bitcoin.framing import read_block_file; "
                 f"f = read_block_file({str(DATA / FILES[0])!r}); parse_blocks(f.data, f.spans[:1])")
    lean = "from cryptoscope.cli._lean import start_for_blocks; start_for_blocks(); "
    runs = {"python_seconds": [sys.executable, "-c", "pass"],
            "ours_cli_help_seconds": [*our_command(), "chain", "ingest", "bitcoin", "--help"],
            "ours_first_parse_seconds": [sys.executable, "-c", first + lean + parse_one + "; import gc; gc.freeze()"],
            "ours_first_parse_library_seconds": [sys.executable, "-c", first + parse_one],
            "bitcoin_etl_help_seconds": [str(etl_venv / "bin" / "bitcoinetl"), "export_blocks_and_transactions",
                                         "--help"]}
    return {name: best_of(repeat, functools.partial(subprocess.run, cmd, capture_output=True, check=True,
                                                    cwd=ROOT))[0] for name, cmd in runs.items()}


def flush_latency(scratch: Path, tries: int = 21) -> float:
    """Median seconds of one fsync of a small file just written here: what each durable step waits at least."""
    times = []
    for i in range(tries):
        path = scratch / f"flush-{i}"
        path.write_bytes(os.urandom(4096))
        fd = os.open(path, os.O_RDONLY)
        start = time.perf_counter()
        os.fsync(fd)
        times.append(time.perf_counter() - start)
        os.close(fd)
        path.unlink()
    return statistics.median(times)


def floor(ours_s: dict[str, Any], etl_s: dict[str, Any], flush: float) -> dict[str, Any]:
    """What a 10x result would allow ours (bitcoin-etl's best time / 10, per range too), beside the least that
    the durable commits wait on this disk (one per range, `FLUSH_STEPS` flushes each)."""
    ranges = [{"from": o["from"], "to": o["to"], "ours_best_seconds": o["best_seconds"],
               "ten_x_budget_seconds": e["best_seconds"] / 10, "durable_commit_floor_seconds": FLUSH_STEPS * flush}
              for o, e in zip(ours_s["ranges"], etl_s["ranges"], strict=True)]
    return {"fsync_median_seconds": flush, "flush_steps_per_commit": FLUSH_STEPS, "commits": len(RANGES),
            "durable_commits_floor_seconds": FLUSH_STEPS * flush * len(RANGES),
            "ten_x_budget_seconds": etl_s["best_seconds"] / 10, "ranges": ranges}


def served_bytes() -> dict[str, int]:
    """What each side asks the node to send: raw blocks (verbosity 0, hex) against decoded ones (verbosity 2)."""
    from cryptoscope.sources.chain.replay import BitcoinReplay
    from cryptoscope.sources.chain.replay.bitcoin import blocks_from_files

    replay = BitcoinReplay(blocks_from_files([DATA / f for f in FILES]))
    return {f"getblock_verbosity_{v}_bytes": sum(len(orjson.dumps(replay("getblock", [x, v])))
                                                  for x in replay.best.values()) for v in (0, 2)}


def summary(runs: list[dict[str, Any]], blocks: int, size: int) -> dict[str, Any]:
    best, median = min(r["seconds"] for r in runs), statistics.median(r["seconds"] for r in runs)
    cpu = min(r["cpu_seconds"] for r in runs)
    ranges = [{"from": r["from"], "to": r["to"], "best_seconds": min(x["ranges"][i]["seconds"] for x in runs),
               "median_seconds": statistics.median(x["ranges"][i]["seconds"] for x in runs),
               "best_cpu_seconds": min(x["ranges"][i]["cpu_seconds"] for x in runs)}
              for i, r in enumerate(runs[0]["ranges"])]
    return {"best_seconds": best, "median_seconds": median, "best_cpu_seconds": cpu,
            "blocks_per_s": blocks / best, "mb_per_s": size / 1e6 / best, "median_mb_per_s": size / 1e6 / median,
            "runs_seconds": [round(r["seconds"], 4) for r in runs], "ranges": ranges}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--etl-venv", type=Path, default=Path(__file__).parent / "scratch" / "etl-venv")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--command-repeat", type=int, default=3, help="rounds of the commands end to end")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write the JSON")
    args = parser.parse_args()
    scratch = Path(__file__).parent / "scratch" / "chain_rpc"
    scratch.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_node(port)
    url = f"http://{USER}:{PASSWORD}@127.0.0.1:{port}/"
    try:
        result = measure(args, url, scratch)
    finally:
        server.terminate()
        server.wait(30)
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    if not args.dry_run:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


def measure(args: argparse.Namespace, url: str, scratch: Path) -> dict[str, Any]:
    node = wait_ready(url)
    python = args.etl_venv / "bin" / "python"
    ours(node, scratch, args.workers)  # warm-up: Numba's cache, DuckDB, the first connections
    mine: list[dict[str, Any]] = []
    etl: dict[str, list[dict[str, Any]]] = {name: [] for name in ETL_CONFIGS}
    for _ in range(args.repeat):  # interleaved, so the shared machine's load falls on both alike
        mine.append(ours(node, scratch, args.workers))
        for name, config in ETL_CONFIGS.items():
            etl[name].append(theirs(python, url, scratch, config))
        print(f"ours {mine[-1]['seconds']:.3f} s, bitcoin-etl " + ", ".join(
            f"{n} {etl[n][-1]['seconds']:.3f} s" for n in etl), file=sys.stderr)
    blocks, size = mine[0]["blocks"], mine[0]["bytes"]
    ours_s = summary(mine, blocks, size)
    theirs_s = {name: summary(runs, blocks, size) | {"options": ETL_CONFIGS[name],
                                                     "output_bytes": runs[0]["output_bytes"]}
                for name, runs in etl.items()}
    best_etl = min(theirs_s, key=lambda n: theirs_s[n]["best_seconds"])
    limits = floor(ours_s, theirs_s[best_etl], flush_latency(scratch))
    limits["stages"] = stages(node, args.repeat, args.workers)
    ratio = {"best": theirs_s[best_etl]["best_seconds"] / ours_s["best_seconds"],
             "median": theirs_s[best_etl]["median_seconds"] / ours_s["median_seconds"],
             "cpu": theirs_s[best_etl]["best_cpu_seconds"] / ours_s["best_cpu_seconds"],
             "against": best_etl}
    return {
        "command": "python benchmarks/chain_rpc.py " + shlex.join(sys.argv[1:]),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average_at_end": os.getloadavg()},
        "workload": {"ranges": RANGES, "blocks": blocks, "bytes": size, "files": FILES,
                     "node": "cryptoscope chain replay-node (separate process, HTTP/1.1 keep-alive, basic auth), "
                             "verbosity-2 answers decoded before the runs"},
        "ours": {"what": f"ingest_from_node(lake, node, lo, hi, workers={args.workers}) per range into a fresh lake:"
                         " getblockhash batch + getblock verbosity 0 (batched), verified (merkle, witness commitment,"
                         " proof of work), 4 lake tables, one lake transaction per range", **ours_s},
        "bitcoin_etl": {"what": "bitcoin-etl 1.5.2 export_blocks_and_transactions per range (getblockhash + getblock "
                                "verbosity 2, JSON exports of blocks and transactions), in its own virtualenv",
                        **theirs_s},
        "ratio_bitcoin_etl_seconds_over_ours": ratio,
        "target": 10.0, "target_met": ratio["best"] >= 10.0,
        "floor": limits,
        "served": served_bytes(),
        "commands_end_to_end": (cli := commands(args.etl_venv, url, scratch, args.command_repeat)),
        "process_start": (start := process_start(args.etl_venv)),
        "verdict": verdict(ratio, ours_s, limits) + " " + cli_verdict(cli, start),
    }


def verdict(ratio: dict[str, Any], ours_s: dict[str, Any], limits: dict[str, Any]) -> str:
    """The result in words, so that the JSON cannot be read as more than it measured."""
    met = "met" if ratio["best"] >= 10 else "MISSED"
    best, cpu, budget = ours_s["best_seconds"], ours_s["best_cpu_seconds"], limits["ten_x_budget_seconds"]
    trip, *per_range = limits["stages"]
    node = sum(r["node_seconds"] for r in per_range)
    parse = sum(r["parse_verify_seconds"] for r in per_range)
    lake = best - node - parse
    ranges = "; ".join(
        f"{r['from']}-{r['to']}: {b['ten_x_budget_seconds'] * 1e3:.1f} ms allowed, ours "
        f"{b['ours_best_seconds'] * 1e3:.1f} (node {r['node_seconds'] * 1e3:.1f}, parse+verify "
        f"{r['parse_verify_seconds'] * 1e3:.1f})" for r, b in zip(per_range, limits["ranges"], strict=True))
    return (f"10x target {met}: bitcoin-etl ({ratio['against']}) takes {ratio['best']:.2f}x our time on the best "
            f"runs, {ratio['median']:.2f}x on medians, {ratio['cpu']:.2f}x our CPU time; 10x needs "
            f"{10 / ratio['best']:.1f}x less time than ours. 10x would leave ours {budget * 1e3:.1f} ms for the "
            f"four ranges; ours takes {best * 1e3:.1f} ms ({cpu * 1e3:.1f} CPU-ms, threads included), of which the "
            f"node's answers to the hashes and raw blocks alone {node * 1e3:.1f} ms (its smallest round trip "
            f"{trip['round_trip_seconds'] * 1e3:.2f} ms), parsing with verification {parse * 1e3:.1f} ms, and the "
            f"lake (rows, input resolution, Parquet, the durable commit) the remaining {lake * 1e3:.1f} ms, of "
            f"which the four commits' flushes need at least {limits['durable_commits_floor_seconds'] * 1e3:.1f} ms "
            f"({limits['flush_steps_per_commit']} one after another per commit, "
            f"{limits['fsync_median_seconds'] * 1e3:.2f} ms per fsync of a small file here). Node plus parsing "
            f"alone take {(node + parse) * 1e3:.1f} ms, {'more' if node + parse > budget else 'less'} than the "
            f"budget. Per range: {ranges}. The replay node decodes bitcoin-etl's verbosity-2 answers before the "
            "runs, so the decoding a real node does for it is not counted; only the bytes (see 'served') show it.")


def cli_verdict(cli: dict[str, Any], start: dict[str, float]) -> str:
    """The commands end to end in words: what each of ours pays before its first block."""
    ours, theirs = cli["ours"]["seconds"], cli["bitcoin_etl"]["seconds"]
    word = "faster" if ours < theirs else "slower"
    return (f"End to end, process start included, the four commands took {ours:.2f} s against bitcoin-etl's "
            f"{theirs:.2f} s on the best of {len(cli['ours']['rounds_seconds'])} rounds (medians "
            f"{cli['ours']['median_seconds']:.2f} s and {cli['bitcoin_etl']['median_seconds']:.2f} s; ours "
            f"{max(ours, theirs) / min(ours, theirs):.1f}x {word}): each of ours starts at least "
            f"{start['ours_first_parse_seconds']:.2f} s before its first block is parsed (interpreter "
            f"{start['python_seconds']:.2f} s; numpy, pyarrow, Numba and its cached kernels the rest; the CLI alone "
            f"{start['ours_cli_help_seconds']:.2f} s; a library user's process, which also imports pandas, SciPy and "
            f"CFFI, {start['ours_first_parse_library_seconds']:.2f} s), bitcoin-etl's "
            f"{start['bitcoin_etl_help_seconds']:.2f} s.")


if __name__ == "__main__":
    main()
