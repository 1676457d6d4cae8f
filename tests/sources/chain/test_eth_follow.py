"""Following an Ethereum node over a real socket: new blocks as the tip advances, re-organisations replaced.

The node is `ReplayServer` serving small made-up chains (`_replay.eth_chain`: a transaction and an ERC-20
Transfer per block) whose tip the tests advance and whose blocks they replace at numbers already loaded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from _replay import eth_chain

from cryptoscope.lake import Lake
from cryptoscope.lake.sql import parquet_source
from cryptoscope.sources.chain.errors import NodeError
from cryptoscope.sources.chain.ethereum.ingest import EthereumIngestResult
from cryptoscope.sources.chain.ethereum.node_ingest import follow_ethereum_node, ingest_ethereum_node
from cryptoscope.sources.chain.replay import EthereumReplay, ReplayServer
from cryptoscope.sources.chain.rpc import RpcClient, connect

Chain = list[tuple[dict[str, Any], list[dict[str, Any]]]]


@pytest.fixture
def node() -> Iterator[tuple[EthereumReplay, RpcClient]]:
    replay = EthereumReplay([])
    with ReplayServer(replay) as server:
        yield replay, connect(server.url(), backoff=0.01, timeout=5.0)


def serve(replay: EthereumReplay, chain: Chain) -> Chain:
    for block, receipts in chain:
        replay.put(block, receipts)
    return chain


def lake_blocks(lake: Lake) -> dict[int, str]:
    """Block number → hash, from eth_transactions (one row per block here)."""
    files = lake.file_paths("eth_transactions")
    rows = duckdb.sql(f"SELECT block_number, block_hash FROM {parquet_source(files)} ORDER BY 1").fetchall()
    assert len(rows) == len({n for n, _ in rows}), "two blocks at one number"
    return dict(rows)


def transfers(lake: Lake) -> dict[int, str]:
    """Block number → tx hash of its token transfers."""
    files = lake.file_paths("eth_token_transfers")
    rows = duckdb.sql(f"SELECT block_number, tx_hash FROM {parquet_source(files)} ORDER BY 1").fetchall()
    assert len(rows) == len({n for n, _ in rows})
    return dict(rows)


def expect(lake: Lake, chain: Chain) -> None:
    """The lake holds exactly ``chain``'s blocks: their hashes, their transactions and their transfers."""
    assert lake_blocks(lake) == {int(b["number"], 16): b["hash"] for b, _ in chain}
    assert transfers(lake) == {int(b["number"], 16): b["transactions"][0]["hash"] for b, _ in chain}


def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_follow_loads_new_blocks_and_replaces_reorganised_ones(node: tuple[EthereumReplay, RpcClient],
                                                               tmp_path: Path) -> None:
    replay, client = node
    lake = Lake(tmp_path / "lake")
    chain = serve(replay, eth_chain(range(100, 111), "a"))
    stop, result = threading.Event(), EthereumIngestResult()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            follow_ethereum_node(lake, client, 100, stop=stop, poll=0.02, result=result)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    follower = threading.Thread(target=run)
    follower.start()
    try:
        until(lambda: result.rows_added.get("eth_transactions") == 11 or bool(errors))
        assert not errors and result.tip == 110
        chain += serve(replay, eth_chain(range(111, 114), "a", chain[-1][0]["hash"]))  # the tip advances
        until(lambda: result.rows_added.get("eth_transactions") == 14 or bool(errors))
        assert not errors and result.tip == 113 and not result.removed
        expect(lake, chain)
        lost = [(int(b["number"], 16), b["hash"]) for b, _ in chain[-2:]]
        chain = chain[:-2] + serve(replay, eth_chain(range(112, 115), "b", chain[-3][0]["hash"]))  # 112-113 replaced
        until(lambda: result.rows_added.get("eth_transactions") == 17 or bool(errors))
        assert not errors and result.removed == lost and result.tip == 114
        expect(lake, chain)
        lost.append((114, chain[-1][0]["hash"]))
        chain = chain[:-1] + serve(replay, eth_chain(range(114, 115), "c", chain[-2][0]["hash"]))  # same tip number
        until(lambda: len(result.removed) == 3 or bool(errors))
        until(lambda: result.rows_added.get("eth_transactions") == 18 or bool(errors))
        assert not errors and result.removed == lost
    finally:
        stop.set()
        follower.join(10)
    assert not follower.is_alive()
    expect(lake, chain)
    assert len(chain) == 15 and result.rows_added == {"eth_transactions": 18, "eth_token_transfers": 18}


def _one_pass(lake: Lake, client: RpcClient, lo: int) -> EthereumIngestResult:
    stop = threading.Event()
    return follow_ethereum_node(lake, client, lo, stop=stop, poll=0.01, on_pass=lambda _: stop.set())


def test_a_reorganisation_below_the_window_is_followed_down_and_a_deeper_one_removes_nothing(
        node: tuple[EthereumReplay, RpcClient], tmp_path: Path) -> None:
    replay, client = node
    lake = Lake(tmp_path / "lake")
    chain = serve(replay, eth_chain(range(1_000, 1_106), "a"))
    ingest_ethereum_node(lake, client, 1_000)
    expect(lake, chain)
    chain = chain[:50] + serve(replay, eth_chain(range(1_050, 1_106), "b", chain[49][0]["hash"]))  # 56 deep
    result = _one_pass(lake, client, 1_099)  # the window checks 1,099-1,105; the lake's blocks below, till 1,049
    assert [n for n, _ in result.removed] == list(range(1_050, 1_106))
    assert result.rows_added == {"eth_transactions": 56, "eth_token_transfers": 56}
    expect(lake, chain)
    before = lake.status()
    serve(replay, eth_chain(range(1_000, 1_106), "c", "0x" + "0" * 64))  # all 106 replaced: deeper than 100
    with pytest.raises(NodeError, match=r"the lake's block 1,004 \(0x\w+…\) is not the node's block at that "
                                        r"number, 101 below its latest block 1,105: a re-organisation deeper than "
                                        r"100 blocks, or another chain\? Nothing was removed"):
        _one_pass(lake, client, 1_099)
    expect(lake, chain)
    assert lake.status() == before


def test_a_node_far_behind_the_lake_removes_nothing(node: tuple[EthereumReplay, RpcClient], tmp_path: Path) -> None:
    replay, client = node
    lake = Lake(tmp_path / "lake")
    chain = serve(replay, eth_chain(range(1, 130), "a"))
    ingest_ethereum_node(lake, client, 1)
    for n in range(20, 130):
        del replay.blocks[n]
    with pytest.raises(NodeError, match="the node's latest block is 19, 110 below the lake's highest block 129: a "
                                        "node still syncing"):
        _one_pass(lake, client, 1)
    expect(lake, chain)


def test_a_chain_that_moves_while_it_is_read_is_read_again(node: tuple[EthereumReplay, RpcClient],
                                                           tmp_path: Path) -> None:
    replay, client = node
    lake = Lake(tmp_path / "lake")
    chain = serve(replay, eth_chain(range(10, 20), "a"))
    branch = eth_chain(range(15, 20), "b", chain[4][0]["hash"])
    original = replay._eth_getTransactionReceipt
    moved = []

    def receipt_then_reorganise(tx_hash: str) -> Any:  # the node switches branches between blocks and receipts
        answer = original(tx_hash)
        if not moved:
            moved.append(serve(replay, branch))
        return answer

    replay._eth_getTransactionReceipt = receipt_then_reorganise  # type: ignore[method-assign]
    result = ingest_ethereum_node(lake, client, 10, workers=1)
    assert moved and result.records["block"] == 10  # the first read was thrown away, not committed
    expect(lake, chain[:5] + branch)
