"""Ethereum: our importer must give the transactions and token transfers ethereum-etl exported, field by field."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from _chain_data import ETL, needs_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptoscope.lake import Lake
from cryptoscope.sources.chain.errors import ChainDataError
from cryptoscope.sources.chain.ethereum.ingest import build_tables, ingest_ethereum
from cryptoscope.sources.chain.ethereum.records import read_records
from cryptoscope.sources.chain.ethereum.transfers import decode_transfer

pytestmark = needs_data
STREAM = ETL / "test_stream"
BLOCKS = ETL / "test_export_blocks_job"
TX_FIELDS = {"hash": "tx_hash", "nonce": "nonce", "transaction_index": "transaction_index",
             "from_address": "from_address", "to_address": "to_address", "value": "value", "gas": "gas",
             "gas_price": "gas_price", "input": "input", "block_number": "block_number", "block_hash": "block_hash"}
TRANSFER_FIELDS = {"token_address": "token_address", "from_address": "from_address", "to_address": "to_address",
                   "value": "value", "transaction_hash": "tx_hash", "log_index": "log_index",
                   "block_number": "block_number"}


def _expected(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".csv":
        with path.open(newline="") as fh:
            return list(csv.DictReader(fh))
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _norm(value: Any) -> Any:
    return None if value in (None, "") else str(value)


def _compare(ours: list[dict[str, Any]], expected: list[dict[str, Any]], fields: dict[str, str],
             key: tuple[str, ...]) -> None:
    """Same rows, and every field the export has equal to ours (numbers compared as exact decimals)."""
    by_key = {tuple(str(row[fields[k]]) for k in key): row for row in ours}
    assert len(by_key) == len(ours) == len(expected)
    for exp in expected:
        row = by_key[tuple(str(exp[k]) for k in key)]
        for theirs, mine in fields.items():
            assert _norm(row[mine]) == _norm(exp[theirs]), (theirs, exp)
        if "block_timestamp" in exp:
            assert int(row["event_time"].timestamp()) == int(exp["block_timestamp"])
        if "receipt_status" in exp:
            assert _norm(row["receipt_status"]) == _norm(exp["receipt_status"])


def _tables(*paths: Path) -> dict[str, list[dict[str, Any]]]:
    records = [r for p in paths for r in read_records(p)]
    return {name: t.to_pylist() for name, t in build_tables(records, "ethereum").items()}


def test_etl_json_exports_and_transfers_decoded_from_logs() -> None:
    """Blocks 17,173,049-050: 298 transactions and 291 token transfers (decoded here from the 681 logs)."""
    folder = STREAM / "blocks_17173049_17173050"
    ours = _tables(folder / "expected_blocks.json", folder / "expected_transactions.json",
                   folder / "expected_logs.json")
    _compare(ours["eth_transactions"], _expected(folder / "expected_transactions.json"), TX_FIELDS, ("hash",))
    _compare(ours["eth_token_transfers"], _expected(folder / "expected_token_transfers.json"), TRANSFER_FIELDS,
             ("transaction_hash", "log_index"))


def test_json_rpc_blocks_and_receipts() -> None:
    folder = STREAM / "blocks_1755634_1755635"
    ours = _tables(*sorted(p for p in folder.glob("web3_response.*") if "latest" not in p.name))
    _compare(ours["eth_transactions"], _expected(folder / "expected_transactions.json"), TX_FIELDS, ("hash",))
    _compare(ours["eth_token_transfers"], _expected(folder / "expected_token_transfers.json"), TRANSFER_FIELDS,
             ("transaction_hash", "log_index"))


@pytest.mark.parametrize("job", ["blocks_with_transactions", "block_with_logs", "block_without_transactions"])
def test_json_rpc_get_block_by_number(job: str) -> None:
    folder = BLOCKS / job
    ours = _tables(*folder.glob("web3_response.eth_getBlockByNumber_*"))
    _compare(ours["eth_transactions"], _expected(folder / "expected_transactions.csv"), TX_FIELDS, ("hash",))


def test_json_rpc_filter_logs_and_receipts() -> None:
    """Block 483,920: token transfers from eth_getFilterLogs, and again from the receipts' logs."""
    block = BLOCKS / "block_with_logs" / "web3_response.eth_getBlockByNumber_0x76250_true.json"
    folder = ETL / "test_export_token_transfers_job" / "block_with_transfers"
    expected = _expected(folder / "expected_token_transfers.csv")
    ours = _tables(block, folder / "web3_response.eth_getFilterLogs_0x0.json")
    _compare(ours["eth_token_transfers"], expected, TRANSFER_FIELDS, ("transaction_hash", "log_index"))
    receipts = sorted((ETL / "test_export_receipts_job" / "receipts_with_logs").glob("web3_response.*"))
    from_receipts = _tables(block, *receipts)
    _compare(from_receipts["eth_token_transfers"], expected, TRANSFER_FIELDS, ("transaction_hash", "log_index"))


def test_etl_csv_logs_decode_like_ethereum_etl() -> None:
    folder = ETL / "test_extract_token_transfers_job" / "logs"
    decoded = [decode_transfer(r.data["address"], r.data["topics"], r.data["data"], r.data["transaction_hash"],
                               int(r.data["log_index"]), int(r.data["block_number"]))
               for r in read_records(folder / "logs.csv")]
    ours = [vars(t) for t in decoded if t is not None]
    _compare(ours, _expected(folder / "expected_token_transfers.csv"), TRANSFER_FIELDS,
             ("transaction_hash", "log_index"))


def test_etl_csv_equals_etl_json() -> None:
    folder = BLOCKS / "blocks_with_transactions_and_withdrawals"
    blocks = folder / "expected_blocks.json"
    from_csv = _tables(blocks, folder / "expected_transactions.csv")
    assert from_csv == _tables(blocks, folder / "expected_transactions.json")
    assert len(from_csv["eth_transactions"]) > 0


def test_lake_ingest_is_idempotent_and_all_or_nothing(tmp_path: Path) -> None:
    folder = STREAM / "blocks_17173049_17173050"
    files = [folder / "expected_blocks.json", folder / "expected_transactions.json", folder / "expected_logs.json"]
    lake = Lake(tmp_path / "lake")
    bad = tmp_path / "bad.json"
    bad.write_text(folder.joinpath("expected_logs.json").read_text().replace('"log_index": 7,', '"log_index": 7', 1))
    with pytest.raises(ChainDataError, match="malformed JSON") as caught:
        ingest_ethereum(lake, [*files, bad])
    assert caught.value.line == 8 and "bad.json" in str(caught.value)
    assert lake.status() == []
    first = ingest_ethereum(lake, files)
    assert first.rows_added == {"eth_transactions": 298, "eth_token_transfers": 291}
    # logs alone later: their block times now come from eth_transactions in the lake
    assert ingest_ethereum(lake, [folder / "expected_token_transfers.json"]).rows_added["eth_token_transfers"] == 0
    assert sum(ingest_ethereum(lake, files).rows_added.values()) == 0


def test_bad_input_names_file_line_and_field(tmp_path: Path) -> None:
    source = BLOCKS / "block_with_logs" / "expected_transactions.csv"
    lines = source.read_text().splitlines()
    lines[2] = lines[2].replace("0x9b22a80d", "0x9b22a8zz", 1)
    bad = tmp_path / "transactions.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ChainDataError, match="not 0x-hex") as caught:
        _tables(bad)
    assert caught.value.line == 3 and caught.value.field == "from_address"
    logs = tmp_path / "logs.csv"
    logs.write_text((ETL / "test_extract_token_transfers_job" / "logs" / "logs.csv").read_text())
    with pytest.raises(ChainDataError, match="no timestamp for block 1452581") as caught:
        _tables(logs)
    assert caught.value.line == 2
    rpc = tmp_path / "rpc.json"
    rpc.write_text('{"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "header not found"}}')
    with pytest.raises(ChainDataError, match="header not found"):
        _tables(rpc)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["expected_transactions.json", "expected_logs.json", "expected_blocks.json"]),
       st.integers(0, 10**6), st.text(max_size=6))
def test_fuzz_damaged_exports_raise_only_our_error(tmp_path_factory: pytest.TempPathFactory, name: str, at: int,
                                                   junk: str) -> None:
    """A damaged line of a real export: records and tables are built, or `ChainDataError` names the place."""
    text = (STREAM / "blocks_1755634_1755635" / name).read_text()
    at %= len(text) + 1
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_text(text[:at] + junk + text[at + len(junk):])
    try:
        build_tables(read_records(path), "ethereum")
    except ChainDataError as err:
        assert err.file == str(path)


def test_batched_json_rpc_response(tmp_path: Path) -> None:
    """A JSON-RPC batch (one array of responses) reads like the same responses in separate files."""
    folder = STREAM / "blocks_1755634_1755635"
    files = sorted(p for p in folder.glob("web3_response.*") if "latest" not in p.name)
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([json.loads(p.read_text()) for p in files]))
    assert _tables(batch) == _tables(*files)
