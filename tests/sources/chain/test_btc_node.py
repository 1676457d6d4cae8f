"""Bitcoin from a node over a real socket: the same rows as from files, any height, resumable, re-organisations.

The node is `ReplayServer` serving the shared mainnet blocks as Bitcoin Core does (basic auth, keep-alive,
batches), with faults queued where a test needs them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from _chain_data import BITCOIN, needs_data
from _replay import bitcoin_node, branch_block

from cryptoscope.lake import Lake
from cryptoscope.lake.sql import parquet_source
from cryptoscope.sources.chain.bitcoin.fetch import FIRST_BATCH, fetch_blocks
from cryptoscope.sources.chain.bitcoin.ingest import BitcoinIngestResult, ingest_bitcoin
from cryptoscope.sources.chain.bitcoin.node_ingest import follow_node, ingest_from_node
from cryptoscope.sources.chain.errors import NodeError
from cryptoscope.sources.chain.replay import Fault

pytestmark = needs_data
TABLES = ("chain_blocks", "chain_transactions", "chain_inputs", "chain_outputs")


def rows(lake: Lake, table: str, where: str = "TRUE") -> list[tuple[Any, ...]]:
    files = lake.file_paths(table)
    if not files:
        return []
    return duckdb.sql(f"SELECT * FROM {parquet_source(files)} WHERE {where} ORDER BY ALL").fetchall()


def heights(lake: Lake) -> list[int]:
    return [h for (h,) in duckdb.sql(f"SELECT height FROM {parquet_source(lake.file_paths('chain_blocks'))} "
                                     "ORDER BY height").fetchall()]


def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_the_node_gives_the_rows_the_files_give_through_faults(btc_blocks: dict[int, bytes], tmp_path: Path
                                                               ) -> None:
    files = Lake(tmp_path / "files")
    ingest_bitcoin(files, [BITCOIN / "mainnet-blocks-1-255.framed.bz2"])
    with bitcoin_node(btc_blocks, timeout=0.5) as (server, _, node):
        block_7 = node.block_hashes([7])[0]
        for fault in (Fault("slow", "getblock", block_7, seconds=1.5), Fault("drop", "getblock"),
                      Fault("http503", "getblock", times=2), Fault("rpc_error", "getblockhash")):
            server.add_fault(fault)
        result = ingest_from_node(tmp_path / "node", node, 1, 255, workers=4)
        assert node.client.retried == 5 and server.max_in_flight >= 2
    assert result.blocks == 255 and result.unresolved_inputs == 0
    for table in TABLES:
        assert rows(Lake(tmp_path / "node"), table) == rows(files, table), table


def test_a_lone_block_loads_at_its_height_and_a_rerun_resumes(btc_blocks: dict[int, bytes], tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    with bitcoin_node(btc_blocks) as (server, _, node):
        lone = ingest_from_node(lake, node, 540_107, 540_107)  # no ancestor anywhere: the node tells the height
        assert lone.blocks == 1 and heights(lake) == [540_107]
        ingest_from_node(lake, node, 1, 100)
        server.calls.clear()
        again = ingest_from_node(lake, node, 1, 120)
        assert (again.skipped, again.blocks) == (100, 20) and server.calls.count("getblock") == 20
    assert heights(lake) == [*range(1, 121), 540_107]
    assert rows(lake, "chain_transactions", "block_height = 540107 AND is_segwit")[0][0] == "bitcoin"


def test_blocks_of_a_lost_branch_are_removed_with_their_transactions(btc_blocks: dict[int, bytes], tmp_path: Path
                                                                     ) -> None:
    real = {h: btc_blocks[h] for h in range(1, 256)}
    branch = dict(real)
    parent = _hash(real[249])
    for h in (250, 251, 252):
        branch[h] = branch_block(parent, tag=h, time=1_231_800_000 + h)
        parent = _hash(branch[h])
    del branch[253], branch[254], branch[255]
    lake = Lake(tmp_path / "lake")
    with bitcoin_node(branch) as (_, replay, node):
        ingest_from_node(lake, node, 1, verify=False)  # a stale branch has no proof of work here: verify off
        assert heights(lake)[-3:] == [250, 251, 252]
        lost = rows(lake, "chain_transactions", "block_height >= 250")
        replay.reorganise({h: real[h] for h in range(250, 256)})
        result = ingest_from_node(lake, node, 1)
    assert [h for h, _ in result.removed] == [250, 251, 252] and heights(lake) == list(range(1, 256))
    reference = Lake(tmp_path / "files")
    ingest_bitcoin(reference, [BITCOIN / "mainnet-blocks-1-255.framed.bz2"])
    for table in TABLES:
        assert rows(lake, table) == rows(reference, table), table
    txids = ", ".join(f"'{r[1]}'" for r in lost if r[3] >= 250 and r[1] not in {x[1] for x in rows(reference,
                                                                                                   "chain_transactions")})
    assert txids and not rows(lake, "chain_outputs", f"txid IN ({txids})")


def test_follow_drops_what_leaves_the_best_chain_and_takes_it_back(btc_blocks: dict[int, bytes], tmp_path: Path
                                                                  ) -> None:
    lake = Lake(tmp_path / "lake")
    stop = threading.Event()
    result = BitcoinIngestResult()
    with bitcoin_node({h: btc_blocks[h] for h in range(1, 256)}) as (_, replay, node):
        follower = threading.Thread(target=follow_node, args=(lake, node, 200),
                                    kwargs={"stop": stop, "poll": 0.02, "result": result})
        follower.start()
        try:
            until(lambda: result.tip == 255 and result.blocks == 56)
            replay.invalidate(250)  # an operator's invalidateblock: 250-255 leave the best chain
            until(lambda: len(result.removed) == 6)
            assert heights(lake)[-1] == 249
            replay.reorganise({h: btc_blocks[h] for h in range(250, 256)})  # reconsiderblock
            until(lambda: result.blocks == 62)
        finally:
            stop.set()
            follower.join(10)
    assert heights(lake) == list(range(200, 256)) and [h for h, _ in result.removed] == list(range(250, 256))


def test_node_trouble_names_the_node_and_the_height(btc_blocks: dict[int, bytes], tmp_path: Path) -> None:
    with bitcoin_node(btc_blocks) as (_, replay, node):
        with pytest.raises(NodeError, match="--to 600,000 is beyond the node's best chain, which ends at height "
                                            "574,200"):
            ingest_from_node(tmp_path / "lake", node, 574_200, 600_000)
        with pytest.raises(NodeError, match=r"height 256: RPC error -8: Block height out of range"):
            ingest_from_node(tmp_path / "lake", node, 250, 260)  # this replay has a gap after 255
        replay.raw[replay.best[3]] = os.urandom(5_000)  # the node answers junk for block 3
        with pytest.raises(NodeError, match=r"call getblock, height 3: block 0000\w+: not a Bitcoin "
                                            "block") as caught:
            ingest_from_node(tmp_path / "lake", node, 1, 5)
    assert "s3cret" not in str(caught.value) and Lake(tmp_path / "lake").status() == []


def _hash(raw: bytes) -> str:
    from cryptoscope.sources.chain.replay.bitcoin_json import block_hash

    return block_hash(raw)


def test_a_node_far_behind_the_lake_removes_nothing(btc_blocks: dict[int, bytes], tmp_path: Path) -> None:
    """A node still syncing (its tip far below the lake's top) is no re-organisation: the lake keeps its blocks."""
    lake = Lake(tmp_path / "lake")
    with bitcoin_node({h: btc_blocks[h] for h in range(1, 256)}) as (_, replay, node):
        ingest_from_node(lake, node, 1)
        replay.invalidate(120)
        with pytest.raises(NodeError, match=r"ends at height 119, 136 below the lake's highest block 255: a node "
                                            "still syncing"):
            ingest_from_node(lake, node, 1)
    assert heights(lake) == list(range(1, 256))


def test_a_few_blocks_are_one_request_from_the_callers_thread(btc_blocks: dict[int, bytes]) -> None:
    """No thread pool for what one request fetches (a follower's new block): same blocks, same order."""
    class Node:
        def __init__(self) -> None:
            self.threads: set[str] = set()

        def raw_blocks(self, wanted: list[tuple[int, str]]) -> list[bytes]:
            self.threads.add(threading.current_thread().name)
            return [btc_blocks[h] for h, _ in wanted]

    heights = sorted(btc_blocks)[:FIRST_BATCH]
    node = Node()
    got = list(fetch_blocks(node, [(h, str(h)) for h in heights], workers=4))  # type: ignore[arg-type]
    assert [(h, raw) for h, _, raw in got] == [(h, btc_blocks[h]) for h in heights]
    assert node.threads == {threading.current_thread().name}
    many = sorted(btc_blocks)[:FIRST_BATCH + 1]
    got = list(fetch_blocks(node, [(h, str(h)) for h in many], workers=4))  # type: ignore[arg-type]
    assert [h for h, _, _ in got] == many


def test_a_first_small_batch_goes_alone_and_sizes_the_rest(btc_blocks: dict[int, bytes]) -> None:
    """Small early blocks: the first batch alone (no size known yet), then the rest in as few requests as their
    size allows, handed on in height order."""
    class Node:
        def __init__(self) -> None:
            self.batches: list[int] = []
            self.lock = threading.Lock()

        def raw_blocks(self, wanted: list[tuple[int, str]]) -> list[bytes]:
            with self.lock:
                self.batches.append(len(wanted))
            return [btc_blocks[h] for h, _ in wanted]

    heights = [h for h in sorted(btc_blocks) if len(btc_blocks[h]) < 1000]
    assert len(heights) > FIRST_BATCH + 1
    node = Node()
    got = list(fetch_blocks(node, [(h, str(h)) for h in heights], workers=4))  # type: ignore[arg-type]
    assert [h for h, _, _ in got] == heights
    assert node.batches == [FIRST_BATCH, len(heights) - FIRST_BATCH]
