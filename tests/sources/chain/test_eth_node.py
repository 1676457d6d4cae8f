"""Ethereum from a node over a real socket: ethereum-etl's recorded answers in, ethereum-etl's expected rows out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from _chain_data import ETL, needs_data
from test_eth_ingest import BLOCKS, STREAM, TRANSFER_FIELDS, TX_FIELDS, _compare, _expected

from cryptoscope.lake import Lake
from cryptoscope.sources.chain.errors import NodeError
from cryptoscope.sources.chain.ethereum.node_ingest import ingest_ethereum_node
from cryptoscope.sources.chain.replay import EthereumReplay, Fault, ReplayServer
from cryptoscope.sources.chain.rpc import RpcClient, connect

pytestmark = needs_data


@pytest.fixture
def node() -> Iterator[tuple[ReplayServer, RpcClient]]:
    answers = [p for p in ETL.rglob("web3_response.*.json") if "latest" not in p.name]
    with ReplayServer(EthereumReplay(answers)) as server:  # a provider: the key would be in the URL's path
        yield server, connect(server.url(), backoff=0.01)


def _lake_rows(lake: Lake, table: str) -> list[dict[str, object]]:
    return [r for f in lake.file_paths(table) for r in pq.read_table(f).to_pylist()]


def test_blocks_receipts_and_transfer_logs_equal_ethereum_etl(node: tuple[ReplayServer, RpcClient],
                                                              tmp_path: Path) -> None:
    server, client = node
    server.add_fault(Fault("http503", "eth_getLogs"))
    server.add_fault(Fault("rpc_error", "eth_getTransactionReceipt", code=-32005, message="rate limited"))
    lake = Lake(tmp_path / "lake")
    result = ingest_ethereum_node(lake, client, 1_755_634, 1_755_635, workers=2)
    assert result.rows_added == {"eth_transactions": 2, "eth_token_transfers": 1} and client.retried == 2
    folder = STREAM / "blocks_1755634_1755635"
    _compare(_lake_rows(lake, "eth_transactions"), _expected(folder / "expected_transactions.json"), TX_FIELDS,
             ("hash",))
    ingest_ethereum_node(lake, client, 483_920, 483_920)
    expected = _expected(ETL / "test_export_token_transfers_job" / "block_with_transfers" /
                         "expected_token_transfers.csv") + _expected(folder / "expected_token_transfers.json")
    _compare(_lake_rows(lake, "eth_token_transfers"), expected, TRANSFER_FIELDS, ("transaction_hash", "log_index"))
    txs = _expected(BLOCKS / "block_with_logs" / "expected_transactions.csv")
    _compare([r for r in _lake_rows(lake, "eth_transactions") if r["block_number"] == 483_920], txs, TX_FIELDS,
             ("hash",))
    assert server.requests < len(server.calls)  # receipts and blocks went in batches


def test_a_rerun_asks_only_for_blocks_not_in_the_lake(node: tuple[ReplayServer, RpcClient], tmp_path: Path) -> None:
    server, client = node
    ingest_ethereum_node(tmp_path / "lake", client, 1_755_634, 1_755_635)
    server.calls.clear()
    again = ingest_ethereum_node(tmp_path / "lake", client, 1_755_634, 1_755_635)
    assert sum(again.rows_added.values()) == 0
    assert server.calls.count("eth_getBlockByNumber") == 1  # 1,755,634 has no transaction, so it leaves no row


def test_what_the_node_lacks_is_named_with_the_height(node: tuple[ReplayServer, RpcClient], tmp_path: Path) -> None:
    _, client = node
    with pytest.raises(NodeError, match=r"eth_getTransactionReceipt, height 47,218: the node has no receipt"):
        ingest_ethereum_node(tmp_path / "lake", client, 47_218, 47_219)
    with pytest.raises(NodeError, match="--to 9,999,999 is beyond the node's latest block 1,755,635"):
        ingest_ethereum_node(tmp_path / "lake", client, 1_755_635, 9_999_999)
    with pytest.raises(NodeError, match=r"height 1,000: the node has no such block"):
        ingest_ethereum_node(tmp_path / "lake", client, 1_000, 1_000)
    assert Lake(tmp_path / "lake").status() == []
