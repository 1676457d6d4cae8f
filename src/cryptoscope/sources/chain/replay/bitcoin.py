"""Bitcoin Core's read calls over a set of real blocks, for `ReplayServer`; and the operator's re-organisations.

The calls an ingest or bitcoin-etl makes (``getblockcount``, ``getbestblockhash``, ``getblockhash``,
``getblock`` with verbosity 0, 1 or 2, ``getblockheader``) are answered as Bitcoin Core answers them, errors
included (-8 for a height beyond the tip, -5 for an unknown block). `reorganise` and `invalidate` change the best
chain as a node does when a longer branch arrives or an operator runs ``invalidateblock``: the blocks that left
it are still served by hash, with ``confirmations: -1``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from cryptoscope.sources.chain.bitcoin.block import parse_blocks
from cryptoscope.sources.chain.bitcoin.framing import read_block_file
from cryptoscope.sources.chain.bitcoin.heights import BlockFacts, link_heights
from cryptoscope.sources.chain.errors import ChainDataError
from cryptoscope.sources.chain.replay.bitcoin_json import block_hash, header_fields, transactions
from cryptoscope.sources.chain.replay.server import RpcFault


class BitcoinReplay:
    """A best chain (height → hash, gaps allowed: heights outside it are "out of range") over known blocks."""

    def __init__(self, blocks: Mapping[int, bytes]) -> None:
        self.raw: dict[str, bytes] = {}
        self.height_of: dict[str, int] = {}
        self.best: dict[int, str] = {}
        self._decoded: dict[tuple[str, int], orjson.Fragment] = {}
        self._fields: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.reorganise(blocks)

    def reorganise(self, blocks: Mapping[int, bytes]) -> None:
        """Make ``blocks`` (height → raw block) the best chain at their heights; the chain ends at the highest."""
        with self._lock:
            for height, raw in blocks.items():
                name = block_hash(raw)
                self.raw[name], self.height_of[name], self.best[height] = raw, height, name
            if blocks:
                tip = max(blocks)
                self.best = {h: x for h, x in self.best.items() if h <= tip}

    def invalidate(self, height: int) -> None:
        """``invalidateblock`` of the block at ``height``: it and its descendants leave the best chain."""
        with self._lock:
            self.best = {h: x for h, x in self.best.items() if h < height}

    def prepare(self, verbosity: int = 2) -> None:
        """Decode every block now (the benchmark does, so that no answer is timed with its decoding)."""
        for name in list(self.raw):
            self._tx_json(name, verbosity)
            self._header(name)

    def __call__(self, method: str, params: list[Any]) -> Any:
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            raise RpcFault(-32601, "Method not found")
        return handler(*params)

    def _tip(self) -> int:
        if not self.best:
            raise RpcFault(-28, "Loading block index...")
        return max(self.best)

    def _getblockcount(self) -> int:
        return self._tip()

    def _getbestblockhash(self) -> str:
        return self.best[self._tip()]

    def _getblockhash(self, height: Any) -> str:
        if not isinstance(height, int) or height not in self.best:
            raise RpcFault(-8, "Block height out of range")
        return self.best[height]

    def _getblock(self, name: Any, verbosity: Any = 1) -> Any:
        raw = self._known(name)
        level = int(verbosity)  # Core takes a bool too: false is 0, true is 1
        if level == 0:
            return raw.hex()
        return {**self._context(name), **self._header(name), "tx": self._tx_json(name, min(level, 2))}

    def _getblockheader(self, name: Any, verbose: Any = True) -> Any:
        raw = self._known(name)
        if not verbose:
            return raw[:80].hex()
        fields = {k: v for k, v in self._header(name).items() if k not in ("strippedsize", "size", "weight")}
        return {**self._context(name), **fields}

    def _known(self, name: Any) -> bytes:
        raw = self.raw.get(str(name).lower())
        if raw is None:
            raise RpcFault(-5, "Block not found")
        return raw

    def _context(self, name: str) -> dict[str, Any]:
        """What a block's place in the chain adds: height, confirmations (-1 off the best chain), next block."""
        height = self.height_of[name]
        on_chain = self.best.get(height) == name
        out: dict[str, Any] = {"hash": name, "confirmations": self._tip() - height + 1 if on_chain else -1,
                               "height": height}
        following = self.best.get(height + 1)
        if on_chain and following:
            out["nextblockhash"] = following
        return out

    def _header(self, name: str) -> dict[str, Any]:
        if name not in self._fields:
            self._fields[name] = header_fields(self.raw[name])
        return self._fields[name]

    def _tx_json(self, name: str, verbosity: int) -> orjson.Fragment:
        key = (name, verbosity)
        if key not in self._decoded:
            self._decoded[key] = orjson.Fragment(orjson.dumps(transactions(self.raw[name], verbosity)))
        return self._decoded[key]


def blocks_from_files(paths: Sequence[str | os.PathLike[str]], first_height: int | None = None) -> dict[int, bytes]:
    """Height → serialized block of every block in ``paths`` (any format `read_block_file` reads), verified, the
    heights derived as a file ingest derives them (parents, stated heights, ``first_height``, BIP-34)."""
    facts, raw = [], {}
    for path in paths:
        f = read_block_file(path)
        try:
            parsed = parse_blocks(f.data, f.spans) if f.spans else None
        except ChainDataError as err:
            raise f.locate(err) from None
        stated = f.heights or [None] * len(f.spans)
        for (start, end), header, bip34, height in zip(f.spans, parsed.headers if parsed else [],
                                                        parsed.bip34_heights if parsed else [], stated, strict=True):
            facts.append(BlockFacts(header.block_hash, header.prev_block_hash, bip34, height, f.label))
            raw[header.block_hash] = f.data[start:end]
    heights = link_heights(facts, {}, first_height)
    return {heights[name]: block for name, block in raw.items()}
