"""An Ethereum node's read calls answered from recorded JSON-RPC responses, for `ReplayServer`.

The answers are real ones that ethereum-etl recorded for its tests (``web3_response.*.json``: full blocks,
receipts, filter logs); they are indexed by what they hold, not by file name: blocks by number, receipts by
transaction hash, and every log (from receipts and from log answers) for ``eth_getLogs``. What was not recorded
is answered as a node answers what it does not have: ``null``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptoscope.sources.chain.replay.server import RpcFault


class EthereumReplay:
    """Answers ``eth_blockNumber``, ``eth_chainId``, ``eth_getBlockByNumber``, ``eth_getTransactionReceipt`` and
    ``eth_getLogs`` from the recorded answers in ``files``."""

    def __init__(self, files: Iterable[str | Path]) -> None:
        self.blocks: dict[int, dict[str, Any]] = {}
        self.receipts: dict[str, dict[str, Any]] = {}
        self.logs: dict[tuple[str, int], dict[str, Any]] = {}
        for path in files:
            doc = json.loads(Path(path).read_text())
            for answer in doc if isinstance(doc, list) else [doc]:
                self._index(answer.get("result") if isinstance(answer, dict) and "result" in answer else answer)

    def _index(self, result: Any) -> None:
        if isinstance(result, list):
            for item in result:
                self._index(item)
        elif isinstance(result, dict) and {"number", "transactions"} <= set(result):
            if all(isinstance(t, dict) for t in result["transactions"]):  # only blocks with full transactions
                self.blocks[int(result["number"], 16)] = result
        elif isinstance(result, dict) and "cumulativeGasUsed" in result:
            self.receipts[result["transactionHash"].lower()] = result
            self._index(result.get("logs") or [])
        elif isinstance(result, dict) and {"logIndex", "topics"} <= set(result):
            self.logs[(result["transactionHash"].lower(), int(result["logIndex"], 16))] = result

    def put(self, block: dict[str, Any], receipts: Iterable[dict[str, Any]] = ()) -> None:
        """Serve ``block`` (full transactions) and its ``receipts`` (with their logs) at the block's number, instead
        of what was served there: a new tip, or a re-organisation."""
        number, block_hash = int(block["number"], 16), str(block["hash"]).lower()
        self._index(list(receipts))  # first the receipts, then the block, then away with the old: a client that
        self._index(block)  # reads meanwhile sees old and new, never a block without its receipts

        def kept(answer: dict[str, Any]) -> bool:
            return int(answer["blockNumber"], 16) != number or str(answer.get("blockHash")).lower() == block_hash

        self.receipts = {h: r for h, r in self.receipts.items() if kept(r)}
        self.logs = {k: log for k, log in self.logs.items() if kept(log)}

    def __call__(self, method: str, params: list[Any]) -> Any:
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            raise RpcFault(-32601, f"the method {method} does not exist/is not available")
        return handler(*params)

    def _eth_chainId(self) -> str:
        return "0x1"

    def _eth_blockNumber(self) -> str:
        return hex(max(self.blocks, default=0))

    def _eth_getBlockByNumber(self, tag: str, full: bool = False) -> Any:
        block = self.blocks.get(self._number(tag))
        if block is None or full:
            return block
        return {**block, "transactions": [t["hash"] for t in block["transactions"]]}

    def _eth_getTransactionReceipt(self, tx_hash: str) -> Any:
        return self.receipts.get(str(tx_hash).lower())

    def _eth_getLogs(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        lo, hi = self._number(query.get("fromBlock", "latest")), self._number(query.get("toBlock", "latest"))
        topics = query.get("topics") or []
        first = topics[0] if topics else None
        wanted = {first.lower()} if isinstance(first, str) else {t.lower() for t in first or []}
        address = query.get("address")
        addresses = {address.lower()} if isinstance(address, str) else {a.lower() for a in address or []}
        found = [log for log in list(self.logs.values()) if lo <= int(log["blockNumber"], 16) <= hi
                 and (not wanted or (log["topics"] and log["topics"][0].lower() in wanted))
                 and (not addresses or log["address"].lower() in addresses)]
        return sorted(found, key=lambda log: (int(log["blockNumber"], 16), int(log["logIndex"], 16)))

    def _number(self, tag: Any) -> int:
        if tag in ("latest", "safe", "finalized", "pending"):
            return max(self.blocks, default=0)
        if tag == "earliest":
            return 0
        try:
            return int(str(tag), 16)
        except ValueError:
            raise RpcFault(-32602, f"invalid argument 0: hex string without 0x prefix: {tag!r}") from None
