"""`cryptoscope chain ingest`: real files in, a summary out; bad files give one line and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _chain_data import BITCOIN, ETL, needs_data

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
