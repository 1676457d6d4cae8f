"""Ethereum exports and JSON-RPC responses → the lake's eth_transactions and eth_token_transfers.

All files of one ingest are read together, because one kind of file completes another: blocks give
transactions and logs their timestamps, receipts give transactions their status, logs give token
transfers. Token transfers are those of ethereum-etl token-transfer files plus the Transfer events
decoded from logs (the same event from both counts once). A block timestamp not found in the files is
looked up in ``eth_transactions`` in the lake; a row whose time is found nowhere is an error naming its
file and line. One ingest is one lake transaction, idempotent on the tables' keys.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from cryptoscope.lake import Lake
from cryptoscope.lake.sql import local_duckdb, parquet_source
from cryptoscope.schema import get_table
from cryptoscope.sources.chain.errors import ChainDataError
from cryptoscope.sources.chain.ethereum.records import Record, read_records
from cryptoscope.sources.chain.ethereum.transfers import decode_transfer

Progress = Callable[[str, int, int], None]


@dataclass
class EthereumIngestResult:
    files: int = 0
    records: dict[str, int] = field(default_factory=dict)
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_added: dict[str, int] = field(default_factory=dict)
    tip: int | None = None  # from a node: its latest block, as last asked
    removed: list[tuple[int, str]] = field(default_factory=list)  # (number, hash) of blocks that left its chain


def ingest_ethereum(lake: Lake | str | os.PathLike[str], paths: Sequence[str | os.PathLike[str]], *,
                    chain: str = "ethereum", progress: Progress | None = None) -> EthereumIngestResult:
    """Read every file, build both tables, then append them in one all-or-nothing lake transaction."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    records: list[Record] = []
    for i, path in enumerate(paths):
        records += read_records(path)
        if progress:
            progress("read", i + 1, len(paths))
    result = EthereumIngestResult(files=len(paths))
    for r in records:
        result.records[r.kind] = result.records.get(r.kind, 0) + 1
    tables = build_tables(records, chain, lambda blocks: lake_times(lake, chain, blocks))
    with lake.transaction() as tx:
        for name, rows in tables.items():
            result.rows_read[name] = rows.num_rows
            result.rows_added[name] = tx.append(name, rows)
    return result


def build_tables(records: list[Record], chain: str,
                 lake_times: Callable[[set[int]], dict[int, int]] | None = None) -> dict[str, pa.Table]:
    """eth_transactions and eth_token_transfers rows from the records of one ingest."""
    times = _times(records)
    statuses = {_hash(r, "transaction_hash"): r.number("status", required=False)
                for r in records if r.kind == "receipt"}
    txs = _transactions([r for r in records if r.kind == "transaction"], statuses)
    transfers = _transfers(records)
    missing = {row["block_number"] for row, _ in [*txs.values(), *transfers.values()]} - set(times)
    if missing and lake_times is not None:
        times.update(lake_times(missing))
    return {"eth_transactions": _table("eth_transactions", txs, times, chain),
            "eth_token_transfers": _table("eth_token_transfers", transfers, times, chain)}


def _hash(record: Record, name: str) -> str:
    value = record.hexstr(name)
    if value is None or len(value) != 66:
        raise record.error(f"not a 32-byte 0x-hex hash: {value!r}", name)
    return value


def _address(record: Record, name: str, *, required: bool = True) -> str | None:
    value = record.hexstr(name, required=required)
    if value is not None and len(value) != 42:
        raise record.error(f"not a 20-byte 0x-hex address: {value!r}", name)
    return value


def _times(records: list[Record]) -> dict[int, int]:
    """Block number → block timestamp (seconds) from every record that tells it."""
    times: dict[int, int] = {}
    for r in records:
        number_field = "number" if r.kind == "block" else "block_number"
        stamp_field = "timestamp" if r.kind == "block" else "block_timestamp"
        if r.data.get(stamp_field) not in (None, "") and r.data.get(number_field) not in (None, ""):
            times[int(r.number(number_field) or 0)] = int(r.number(stamp_field) or 0)
    return times


def _transactions(records: list[Record], statuses: dict[str, int | None]) -> dict[str, tuple[dict[str, Any], Record]]:
    rows: dict[str, tuple[dict[str, Any], Record]] = {}
    for r in records:
        tx_hash = _hash(r, "hash")
        status = r.number("receipt_status", required=False)
        gas_price = r.number("gas_price", required=False)
        row = {"tx_hash": tx_hash, "block_number": r.number("block_number"), "block_hash": _hash(r, "block_hash"),
               "transaction_index": r.number("transaction_index"), "nonce": r.number("nonce"),
               "from_address": _address(r, "from_address"), "to_address": _address(r, "to_address", required=False),
               "value": str(r.number("value")), "gas": r.number("gas"),
               "gas_price": None if gas_price is None else str(gas_price),
               "input": r.hexstr("input", required=False) or "0x",
               "receipt_status": status if status is not None else statuses.get(tx_hash)}
        rows.setdefault(tx_hash, (row, r))
    return rows


def _transfers(records: list[Record]) -> dict[tuple[str, int], tuple[dict[str, Any], Record]]:
    rows: dict[tuple[str, int], tuple[dict[str, Any], Record]] = {}
    for r in records:
        row: dict[str, Any]
        if r.kind == "token_transfer":
            row = {"token_address": _address(r, "token_address"), "from_address": _address(r, "from_address"),
                   "to_address": _address(r, "to_address"), "value": str(r.number("value")),
                   "tx_hash": _hash(r, "transaction_hash"), "log_index": r.number("log_index"),
                   "block_number": r.number("block_number")}
        elif r.kind == "log":
            topics = r.data.get("topics") or []
            if not isinstance(topics, list):
                raise r.error("topics must be a list", "topics")
            transfer = decode_transfer(_address(r, "address") or "", [str(t) for t in topics],
                                       r.hexstr("data", required=False) or "0x", _hash(r, "transaction_hash"),
                                       int(r.number("log_index") or 0), int(r.number("block_number") or 0))
            if transfer is None:
                continue
            row = {"token_address": transfer.token_address, "from_address": transfer.from_address,
                   "to_address": transfer.to_address, "value": transfer.value, "tx_hash": transfer.tx_hash,
                   "log_index": transfer.log_index, "block_number": transfer.block_number}
        else:
            continue
        rows.setdefault((row["tx_hash"], row["log_index"]), (row, r))
    return rows


def _table(name: str, rows: dict[Any, tuple[dict[str, Any], Record]], times: dict[int, int], chain: str) -> pa.Table:
    spec = get_table(name)
    out: list[dict[str, Any]] = []
    for row, record in rows.values():
        stamp = times.get(row["block_number"])
        if stamp is None:
            raise record.error(f"no timestamp for block {row['block_number']}: ingest its block (or its "
                               "transactions) in the same run, or before", "block_number")
        out.append({**row, "chain": chain, "event_time": stamp * 1_000_000})
    columns = {c.name: [r.get(c.name) for r in out] for c in spec.columns}
    arrays = [pa.array(columns["event_time"], pa.int64()).cast(c.type) if c.name == "event_time"
              else pa.array(columns[c.name], c.type) for c in spec.columns]
    return pa.Table.from_arrays(arrays, schema=spec.arrow_schema)


def lake_times(lake: Lake, chain: str, blocks: set[int]) -> dict[int, int]:
    files = lake.file_paths("eth_transactions")
    if not files:
        return {}
    with local_duckdb() as con:
        con.register("wanted", pa.table({"block_number": sorted(blocks)}))
        rows = con.sql(f"SELECT block_number, min(epoch(event_time))::BIGINT FROM {parquet_source(files)} "
                       f"WHERE chain = $chain AND block_number IN (SELECT block_number FROM wanted) GROUP BY 1",
                       params={"chain": chain}).fetchall()
    return {int(b): int(t) for b, t in rows}


__all__ = ["ChainDataError", "EthereumIngestResult", "build_tables", "ingest_ethereum"]
