"""Block heights: a block does not say its height, so it is derived, stated, or both and then checked.

A block's height is its parent's plus one, the parent found among the blocks of this ingest (in any order, as
blk files hold them), in ``chain_blocks`` or the genesis block. Where the chain of parents ends in the unknown,
the height comes from a statement about one of its blocks: the node's (``--rpc``), a ``getblock`` answer's
(``height``), or the user's (``--height``, for the first block of the call); failing those, from the height the
root's coinbase pushes (BIP-34, blocks from 227,931). Every statement is then checked against what the parents
and the coinbase say, so a wrong ``--height`` is an error, not a silent mislabelling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.lake import Lake
from cryptoscope.lake.columns import read_columns
from cryptoscope.sources.chain.errors import ChainDataError

CHAIN = "bitcoin"
GENESIS = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
NO_PARENT = "00" * 32
BIP34_HEIGHT = 227_931


@dataclass(frozen=True)
class BlockFacts:
    """What the heights are derived from: a block, its parent, the heights stated for it, where it was read."""

    block_hash: str
    parent: str
    bip34: int | None
    stated: int | None  # by the node or the getblock answer
    file: str
    line: int | None = None
    stated_by: str = "the getblock answer"


def link_heights(blocks: Sequence[BlockFacts], known: dict[str, int], first_height: int | None = None
                 ) -> dict[str, int]:
    """Height of every block: parents (``known``: heights outside this ingest), statements, then BIP-34.

    ``first_height`` (the user's ``--height``) states the height of ``blocks[0]``.
    """
    facts = {b.block_hash: b for b in blocks}
    pins = {b.block_hash: (b.stated, b.stated_by) for b in blocks if b.stated is not None}
    if first_height is not None and blocks:
        first = blocks[0]
        if first.stated is not None and first.stated != first_height:
            raise _error(first, f"--height {first_height:,} but {first.stated_by} says {first.stated:,}")
        pins[first.block_hash] = (first_height, "--height")
    known = {**known, NO_PARENT: -1}  # the genesis block's parent
    known.setdefault(GENESIS, 0)
    heights: dict[str, int] = {}
    for block in facts:
        chain = []  # this block, its parent, ... up to the first whose height is known
        node = block
        while node in facts and node not in heights:
            chain.append(node)
            node = facts[node].parent
        if not chain:
            continue
        base = heights.get(node, known.get(node))
        if base is None:
            base = _root_base(chain[::-1], facts, pins)
        for offset, name in enumerate(reversed(chain), start=1):
            heights[name] = base + offset
    _check(facts, heights, pins)
    return heights


def _root_base(order: list[str], facts: dict[str, BlockFacts], pins: dict[str, tuple[int, str]]) -> int:
    """The height below the first block of ``order`` (a chain, root first, whose root's parent is unknown)."""
    for i, name in enumerate(order):
        if name in pins:
            return pins[name][0] - i - 1
    root = facts[order[0]]
    if root.bip34 is None:
        raise _error(root, f"cannot tell the height of block {root.block_hash}: its parent {root.parent} is "
                           "neither in this ingest nor in the lake, and it predates BIP-34; ingest its ancestors "
                           "first or together, or give its height with --height", "prev_block_hash")
    return root.bip34 - 1


def _check(facts: dict[str, BlockFacts], heights: dict[str, int], pins: dict[str, tuple[int, str]]) -> None:
    for name, (stated, by) in pins.items():
        if heights[name] != stated:
            block = facts[name]
            raise _error(block, f"{by} says block {name} is at height {stated:,}, but its parent {block.parent} "
                                f"puts it at {heights[name]:,}", "height")
    for name, height in heights.items():
        claimed = facts[name].bip34
        if claimed is not None and claimed != height and max(claimed, height) >= BIP34_HEIGHT:
            raise _error(facts[name], f"block {name} is at height {height:,} but its coinbase says {claimed:,} "
                                      "(BIP-34)", "coinbase height")


def _error(block: BlockFacts, message: str, field: str = "height") -> ChainDataError:
    return ChainDataError(message, file=block.file, line=block.line, field=field)


_HEIGHTS = pa.schema([("chain", pa.string()), ("block_hash", pa.string()), ("height", pa.int64())])


def lake_heights(lake: Lake, hashes: set[str]) -> dict[str, int]:
    """Heights of the blocks in ``chain_blocks`` among ``hashes``."""
    files = lake.file_paths("chain_blocks")
    if not files or not hashes:
        return {}
    wanted = pa.array(sorted(hashes), pa.string())
    rows = read_columns(files, _HEIGHTS, lambda t: pc.and_(pc.equal(t["chain"], CHAIN),
                                                            pc.is_in(t["block_hash"], value_set=wanted)))
    return dict(zip(rows["block_hash"].to_pylist(), rows["height"].to_pylist(), strict=True))


def lake_blocks(lake: Lake, lo: int, hi: int) -> dict[int, list[str]]:
    """Height → hashes of the blocks in ``chain_blocks`` from ``lo`` to ``hi`` (inclusive; a stale block read
    from a blk file can share its height with the block that won)."""
    files = lake.file_paths("chain_blocks")
    if not files:
        return {}
    rows = read_columns(files, _HEIGHTS, lambda t: pc.and_(
        pc.equal(t["chain"], CHAIN), pc.and_(pc.greater_equal(t["height"], lo), pc.less_equal(t["height"], hi))))
    found: dict[int, list[str]] = {}
    for height, block_hash in sorted(zip(rows["height"].to_pylist(), rows["block_hash"].to_pylist(), strict=True)):
        found.setdefault(int(height), []).append(str(block_hash))
    return found
