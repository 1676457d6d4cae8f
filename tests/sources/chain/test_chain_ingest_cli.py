"""`cryptoscope chain ingest`: real files or a node in, a summary out; bad input gives one line and exit code 2."""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest
from _chain_data import BITCOIN, ETL, needs_data
from _replay import PASSWORD, USER, bitcoin_node, eth_chain

from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake
from cryptoscope.lake.sql import parquet_source
from cryptoscope.sources.chain.replay import EthereumReplay, ReplayServer

pytestmark = needs_data
CLI = [sys.executable, "-m", "cryptoscope.cli"]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_ingest_bitcoin_and_ethereum(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    done = run("chain", "ingest", "bitcoin", BITCOIN / "block-277647.dat.bz2", "--utxo-store",
               BITCOIN / "block-277647.utxostore.bz2", "--lake", lake)
    assert done.returncode == 0, done.stderr
    assert "chain_transactions" in done.stdout and "0 inputs spend outputs found neither" in done.stdout
    folder = ETL / "test_stream" / "blocks_1755634_1755635"
    done = run("chain", "ingest", "ethereum", *sorted(folder.glob("web3_response.eth_get[BT]*0x*")), "--lake", lake)
    assert done.returncode == 0, done.stderr
    assert "eth_token_transfers" in done.stdout


def test_bad_input_exits_2_with_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "blk00000.dat"
    bad.write_bytes(b"\xf9\xbe\xb4\xd9\x10\x00\x00\x00" + b"\x01" * 8)
    done = run("chain", "ingest", "bitcoin", bad, "--lake", tmp_path / "lake")
    assert done.returncode == 2
    assert "blk00000.dat" in done.stderr and "byte offset 4" in done.stderr and "Traceback" not in done.stderr
    done = run("chain", "ingest", "dogecoin", bad, "--lake", tmp_path / "lake")
    assert done.returncode == 2 and "unknown chain" in done.stderr


def test_a_folder_stands_for_its_files(tmp_path: Path) -> None:
    from cryptoscope.cli.chain import _expand

    for name in ("blk00001.dat", "blk00000.dat", "rev00000.dat", "xor.dat"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in _expand("bitcoin", tmp_path)] == ["blk00000.dat", "blk00001.dat"]
    folder = ETL / "test_stream" / "blocks_17173049_17173050"
    assert len(_expand("ethereum", folder)) == 4
    assert _expand("ethereum", folder / "expected_logs.json") == [folder / "expected_logs.json"]


def test_a_node_ingest_never_imports_pandas_scipy_or_cffi(btc_blocks: dict[int, bytes], tmp_path: Path) -> None:
    """pyarrow and Numba would import them at the first block for features the command does not use (about 0.6 s
    of a short run's start: `cli/_lean.py`)."""
    with bitcoin_node({h: btc_blocks[h] for h in range(1, 21)}) as (server, _, _):
        url = f"http://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{server.port}/"
        argv = ["cryptoscope", "chain", "ingest", "bitcoin", "--rpc", url, "--from", "1", "--to", "20", "--lake",
                str(tmp_path / "lake")]
        code = (f"import sys\nsys.argv = {argv!r}\nfrom cryptoscope.cli import main\ntry:\n    main()\n"
                "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
                "print('imported:', *[m for m in ('pandas', 'scipy.linalg', 'cffi') if m in sys.modules])")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "20 blocks" in done.stdout and done.stdout.strip().splitlines()[-1] == "imported:"


def test_from_a_node_resumable_with_clear_errors(btc_blocks: dict[int, bytes], tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with bitcoin_node({h: btc_blocks[h] for h in range(1, 256)}) as (server, _, _):
        url = f"http://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{server.port}/"
        done = run("chain", "ingest", "bitcoin", "--rpc", url, "--from", "1", "--to", "200", "--workers", "4",
                   "--lake", lake)
        assert done.returncode == 0, done.stderr
        assert "200 blocks" in done.stdout and "blocks/s" in done.stdout and "MB/s" in done.stdout
        done = run("chain", "ingest", "bitcoin", "--rpc", url, "--from", "1", "--lake", lake)  # to the tip
        assert done.returncode == 0 and "55 blocks" in done.stdout and "200 heights already in the lake" in done.stdout
        refused = run("chain", "ingest", "bitcoin", "--rpc", url.replace("%40", "x"), "--from", "1", "--lake", lake)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "the node refused the credentials (HTTP 401" in refused.stderr and PASSWORD[:6] not in refused.stderr


def test_follow_until_interrupted(btc_blocks: dict[int, bytes], tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    with bitcoin_node({h: btc_blocks[h] for h in range(1, 256)}) as (server, replay, _):
        cookie = tmp_path / ".cookie"
        cookie.write_text(f"{USER}:{PASSWORD}")
        with following("bitcoin", "--rpc", f"http://127.0.0.1:{server.port}", "--rpc-cookie", str(cookie),
                       "--from", "240", "--lake", str(lake.root)) as (follower, lines):
            _until(lambda: _top(lake) == 255)
            replay.invalidate(253)
            _until(lambda: any("left the best chain: 253" in line for line in lines))
            assert _top(lake) == 252
    out = follower.stdout.read() if follower.stdout else ""
    assert follower.returncode == 0, lines
    assert "3 blocks that left the best chain removed" in out


def test_lone_block_and_junk_on_the_command_line(btc_blocks: dict[int, bytes], tmp_path: Path) -> None:
    (tmp_path / "170.blk").write_bytes(btc_blocks[170])
    done = run("chain", "ingest", "bitcoin", tmp_path / "170.blk", "--height", "170", "--lake", tmp_path / "lake")
    assert done.returncode == 0, done.stderr
    (tmp_path / "junk.bin").write_bytes(random.Random(5).randbytes(5_000))
    junk = run("chain", "ingest", "bitcoin", tmp_path / "junk.bin", "--lake", tmp_path / "lake")
    assert junk.returncode == 2 and "junk.bin, byte offset 0, field 'header': not a Bitcoin block" in junk.stderr


def test_rpc_options_that_do_not_go_together() -> None:
    from cryptoscope.cli.chain import _check_rpc_options

    for args, message in [((["x.dat"], None, 1, None, False, None), "give no files"),
                          (([], 5, 1, None, False, None), "--height is for files"),
                          (([], None, None, None, False, None), "needs --from"),
                          (([], None, 9, 5, False, None), "--to 5 is below --from 9"),
                          (([], None, 1, 5, True, None), "leave --to out"),
                          (([], None, 1, None, False, [Path("u")]), "--utxo-store goes with files")]:
        with pytest.raises(CryptoscopeError, match=message):
            _check_rpc_options(*args)
    _check_rpc_options([], None, 1, None, True, None)  # --follow goes with either chain


def test_ethereum_from_a_node(tmp_path: Path) -> None:
    answers = [p for p in ETL.rglob("web3_response.*.json") if "latest" not in p.name]
    with ReplayServer(EthereumReplay(answers)) as server:
        done = run("chain", "ingest", "ethereum", "--rpc", server.url(), "--from", "483920", "--to", "483920",
                   "--lake", tmp_path / "lake")
    assert done.returncode == 0, done.stderr
    assert "eth_token_transfers" in done.stdout and "4 receipts" in done.stdout


def _top(lake: Lake) -> int | None:
    files = lake.file_paths("chain_blocks")
    return duckdb.sql(f"SELECT max(height) FROM {parquet_source(files)}").fetchall()[0][0] if files else None


@contextlib.contextmanager
def following(chain: str, *args: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """`chain ingest CHAIN ARGS --follow` running; its stderr lines (one per pass that found something) gather in
    the list; on leaving it is interrupted as a user would (SIGINT) and waited for."""
    follower = subprocess.Popen([*CLI, "chain", "ingest", chain, *args, "--follow", "--poll", "0.05"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    stderr = follower.stderr
    assert stderr is not None and follower.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(stderr.readline, "")))
    reader.start()
    try:
        yield follower, lines
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(60)
        reader.join(10)


def _until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_follow_an_ethereum_node_until_interrupted(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    replay = EthereumReplay([])
    chain = eth_chain(range(500, 510), "a")
    for block, receipts in chain:
        replay.put(block, receipts)
    with (ReplayServer(replay) as server,
          following("ethereum", "--rpc", server.url(), "--from", "500", "--lake", str(lake.root)) as (follower, lines)):
        _until(lambda: _eth_blocks(lake).get(509) == chain[-1][0]["hash"])
        for block, receipts in eth_chain(range(508, 512), "b", chain[7][0]["hash"]):  # 508-509 replaced
            replay.put(block, receipts)
        _until(lambda: 511 in _eth_blocks(lake))
        assert any("left the node's chain: 508" in line for line in lines), lines
    out = follower.stdout.read() if follower.stdout else ""
    assert follower.returncode == 0, lines
    assert "2 blocks that left the node's chain removed" in out and "latest block 511" in out
    assert sorted(_eth_blocks(lake)) == list(range(500, 512)) and _eth_blocks(lake)[509] != chain[-1][0]["hash"]


def _eth_blocks(lake: Lake) -> dict[int, str]:
    files = lake.file_paths("eth_transactions")
    return dict(duckdb.sql(f"SELECT block_number, block_hash FROM {parquet_source(files)}").fetchall()) if files else {}
