"""Ethereum files → uniform records (block, transaction, receipt, log, token_transfer) with their place.

Three shapes are read, told apart by content, not name:
- ethereum-etl CSV exports (``export_blocks_and_transactions``, ``export_receipts_and_logs``,
  ``export_token_transfers``, ``extract_token_transfers``): the kind comes from the header;
- ethereum-etl JSON lines (``export_*`` and ``stream`` output): the kind comes from ``type`` or the keys;
- raw JSON-RPC responses, single or batched: ``eth_getBlockByNumber`` with full transactions,
  ``eth_getTransactionReceipt`` / ``eth_getBlockReceipts`` (with their logs), ``eth_getLogs`` /
  ``eth_getFilterLogs``; quantities are hex.

Every record keeps the file and line (or JSON path) it came from, so later errors can point at it.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptoscope.sources.chain.errors import ChainDataError

KINDS = ("block", "transaction", "receipt", "log", "token_transfer")
_SIGNATURES = (("transaction", {"hash", "from_address"}), ("block", {"number", "parent_hash"}),
               ("token_transfer", {"token_address", "from_address"}), ("log", {"log_index", "topics"}),
               ("receipt", {"transaction_hash", "cumulative_gas_used"}))
_SKIPPED_TYPES = {"trace", "contract", "token", "geth_trace"}
_UNUSED_CSV = {"trace_type", "trace_address", "bytecode", "decimals"}


@dataclass(frozen=True)
class Record:
    kind: str
    data: dict[str, Any]
    file: str
    line: int | None = None
    path: str | None = None  # where inside a JSON document

    def error(self, message: str, field: str | None = None) -> ChainDataError:
        where = f"{field} at {self.path}" if self.path and field else (field or self.path)
        return ChainDataError(message, file=self.file, line=self.line, field=where)

    def number(self, name: str, *, required: bool = True) -> int | None:
        """A quantity: decimal (ethereum-etl) or 0x-hex (JSON-RPC); None when empty and not required."""
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise self.error("missing value", name)
            return None
        if isinstance(value, bool):
            raise self.error(f"not a number: {value!r}", name)
        if isinstance(value, int):
            return value
        try:
            text = str(value).strip()
            return int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            raise self.error(f"not a number: {value!r}", name) from None

    def hexstr(self, name: str, *, required: bool = True) -> str | None:
        """A 0x-hex string (hash, address, call data), lower-cased; None when empty and not required."""
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise self.error("missing value", name)
            return None
        text = str(value).strip().lower()
        if not text.startswith("0x") or any(c not in "0123456789abcdef" for c in text[2:]):
            raise self.error(f"not 0x-hex: {str(value)[:80]!r}", name)
        return text


def read_records(path: str | os.PathLike[str]) -> list[Record]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChainDataError(f"cannot read as UTF-8 text: {exc}", file=str(path)) from exc
    label = str(path)
    stripped = text.lstrip()
    if not stripped:
        return []
    if stripped[0] in "{[":
        first = stripped.splitlines()[0]
        try:
            head = json.loads(first)
        except json.JSONDecodeError:
            head = None
        if head is None or isinstance(head, list) or (isinstance(head, dict) and {"jsonrpc", "result"} & set(head)):
            return list(_rpc_document(text, label))
        return list(_json_lines(text, label))
    return list(_csv(text, label))


def _kind(row: dict[str, Any]) -> str | None:
    declared = row.get("type")
    if isinstance(declared, str) and (declared in KINDS or declared in _SKIPPED_TYPES):
        return declared if declared in KINDS else None
    keys = set(row)
    for kind, needed in _SIGNATURES:
        if needed <= keys:
            return kind
    return None


def _json_lines(text: str, label: str) -> Iterator[Record]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ChainDataError(f"malformed JSON: {exc.msg} (column {exc.colno})", file=label, line=number) from None
        if not isinstance(row, dict):
            raise ChainDataError("expected a JSON object per line", file=label, line=number)
        kind = _kind(row)
        if kind is None:
            if row.get("type") in _SKIPPED_TYPES:
                continue
            raise ChainDataError("not an ethereum-etl block, transaction, receipt, log or token transfer",
                                 file=label, line=number)
        yield Record(kind, row, label, number)


def _csv(text: str, label: str) -> Iterator[Record]:
    reader = csv.DictReader(io.StringIO(text))
    kind = _kind(dict.fromkeys(reader.fieldnames or []))
    if kind is None and _UNUSED_CSV & set(reader.fieldnames or []):
        return  # traces, contracts, tokens: exports this ingest has no table for
    if kind is None:
        raise ChainDataError(f"CSV header {','.join(reader.fieldnames or [])[:120]!r} is not an ethereum-etl export "
                             "of blocks, transactions, receipts, logs or token transfers", file=label, line=1)
    try:
        for row in reader:
            data: dict[str, Any] = dict(row)
            if None in data:
                raise ChainDataError("more fields than the header has", file=label, line=reader.line_num)
            if kind == "log":
                topics = data.get("topics") or ""
                data["topics"] = [t for t in topics.split(",") if t]
            yield Record(kind, data, label, reader.line_num)
    except csv.Error as exc:
        raise ChainDataError(f"malformed CSV: {exc}", file=label, line=reader.line_num) from None


def _rpc_document(text: str, label: str) -> Iterator[Record]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChainDataError(f"malformed JSON: {exc.msg} (column {exc.colno})", file=label, line=exc.lineno) from None
    responses = doc if isinstance(doc, list) else [doc]
    for i, response in enumerate(responses):
        where = f"[{i}]" if isinstance(doc, list) else "$"
        if not isinstance(response, dict) or not {"result", "error"} & set(response):
            raise ChainDataError("not a JSON-RPC response (no 'result' or 'error')", file=label, field=where)
        if response.get("error"):
            raise ChainDataError(f"JSON-RPC error response: {response['error']}", file=label, field=where)
        if response.get("result") is None:
            raise ChainDataError("JSON-RPC response without a result (block or receipt not found?)", file=label,
                                 field=where)
        yield from rpc_records(response["result"], label, f"{where}.result")


def rpc_records(result: Any, label: str, where: str) -> Iterator[Record]:
    """The records in one JSON-RPC result (a block with full transactions, receipts, logs, or a list of them)."""
    if isinstance(result, list):
        for i, item in enumerate(result):
            yield from rpc_records(item, label, f"{where}[{i}]")
        return
    if not isinstance(result, dict):
        raise ChainDataError(f"unexpected JSON-RPC result {str(result)[:60]!r}", file=label, field=where)
    keys = set(result)
    if {"transactions", "number", "hash"} <= keys:
        yield Record("block", _block(result), label, path=where)
        for i, tx in enumerate(result["transactions"] or []):
            if isinstance(tx, dict):
                yield Record("transaction", _rpc_tx(tx, result), label, path=f"{where}.transactions[{i}]")
    elif {"transactionHash", "cumulativeGasUsed"} <= keys:
        yield Record("receipt", {"transaction_hash": result.get("transactionHash"), "status": result.get("status"),
                                 "block_number": result.get("blockNumber")}, label, path=where)
        for i, log in enumerate(result.get("logs") or []):
            yield Record("log", _rpc_log(log), label, path=f"{where}.logs[{i}]")
    elif {"logIndex", "topics"} <= keys:
        yield Record("log", _rpc_log(result), label, path=where)
    elif {"hash", "from", "nonce"} <= keys:
        yield Record("transaction", _rpc_tx(result, None), label, path=where)
    else:
        raise ChainDataError("JSON-RPC result is not a block, receipt, log or transaction", file=label, field=where)


def _block(block: dict[str, Any]) -> dict[str, Any]:
    return {"number": block.get("number"), "hash": block.get("hash"), "timestamp": block.get("timestamp")}


def _rpc_tx(tx: dict[str, Any], block: dict[str, Any] | None) -> dict[str, Any]:
    return {"hash": tx.get("hash"), "nonce": tx.get("nonce"), "block_hash": tx.get("blockHash"),
            "block_number": tx.get("blockNumber"), "transaction_index": tx.get("transactionIndex"),
            "from_address": tx.get("from"), "to_address": tx.get("to"), "value": tx.get("value"),
            "gas": tx.get("gas"), "gas_price": tx.get("gasPrice"), "input": tx.get("input"),
            "block_timestamp": block.get("timestamp") if block else None}


def _rpc_log(log: dict[str, Any]) -> dict[str, Any]:
    return {"log_index": log.get("logIndex"), "transaction_hash": log.get("transactionHash"),
            "block_number": log.get("blockNumber"), "address": log.get("address"), "data": log.get("data"),
            "topics": log.get("topics") or [], "block_timestamp": log.get("blockTimestamp")}
