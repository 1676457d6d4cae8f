"""Bitcoin blocks from a node's JSON-RPC into the lake: any heights, resumable, and following the tip.

The node tells each block's height, so blocks load from any height without their ancestors. A pass compares the
requested heights with the lake first: a height whose block is there (same hash) is skipped, so an interrupted
ingest resumes where its last commit ended; a block in the lake that left the node's best chain is removed
(`reorg.py`), and the block that replaced it loaded. Blocks are committed in chunks (`CHUNK_BYTES`, or every
`CHUNK_SECONDS`), each one lake transaction, verified and checked against the node's word like file blocks:
the hash asked for, the parent of the height below, the BIP-34 height.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence

from cryptoscope.lake import Lake
from cryptoscope.sources.chain.bitcoin.block import ParsedBlocks, parse_blocks
from cryptoscope.sources.chain.bitcoin.fetch import fetch_blocks
from cryptoscope.sources.chain.bitcoin.framing import span_of
from cryptoscope.sources.chain.bitcoin.heights import BlockFacts, lake_blocks, link_heights
from cryptoscope.sources.chain.bitcoin.ingest import BitcoinIngestResult, BlockLoader
from cryptoscope.sources.chain.bitcoin.node import BitcoinNode
from cryptoscope.sources.chain.bitcoin.reorg import remove_blocks
from cryptoscope.sources.chain.errors import ChainDataError, NodeError
from cryptoscope.sources.chain.follow import MAX_REORG_DEPTH, follow_tip

CHUNK_BYTES = 32 << 20
CHUNK_SECONDS = 10.0  # a chunk commits at least this often, so a follower's lake stays fresh
MAX_HEIGHT = 2**62
#: the two blocks whose coinbase repeats an earlier coinbase's txid (Bitcoin Core's IsBIP30Repeat): the one place a
#: txid is in two blocks, so chunks holding them look for repeats in the whole lake
BIP30_REPEATS = frozenset({91_842, 91_880})
#: (blocks fetched, blocks to fetch, bytes fetched) as a pass goes
NodeProgress = Callable[[int, int, int], None]


class _ChainMoved(Exception):
    """The best chain changed while a pass read it: the pass starts again."""


def ingest_from_node(lake: Lake | str | os.PathLike[str], node: BitcoinNode, lo: int, hi: int | None = None, *,
                     workers: int = 4, verify: bool = True, progress: NodeProgress | None = None,
                     loader: BlockLoader | None = None) -> BitcoinIngestResult:
    """Heights ``lo`` to ``hi`` (default: the node's tip) of the node's best chain into the lake."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    loader = loader or BlockLoader(lake, BitcoinIngestResult())
    for _ in range(3):
        try:
            _pass(lake, node, lo, hi, workers, verify, progress, loader)
            return loader.result
        except _ChainMoved:
            loader.unspent = None  # it may hold outputs of blocks that just left the chain
    raise NodeError("the best chain kept changing while its blocks were read; run the ingest again", url=node.url)


def follow_node(lake: Lake | str | os.PathLike[str], node: BitcoinNode, lo: int, *, stop: threading.Event,
                poll: float = 10.0, workers: int = 4, verify: bool = True, progress: NodeProgress | None = None,
                on_pass: Callable[[BitcoinIngestResult], None] | None = None,
                result: BitcoinIngestResult | None = None) -> BitcoinIngestResult:
    """Load from ``lo`` to the tip, then poll the tip every ``poll`` seconds and load what comes (re-organisations
    included) until ``stop`` is set. ``result`` (filled as it goes) is the caller's, to read after an interrupt."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    loader = BlockLoader(lake, result or BitcoinIngestResult())

    def load(start: int) -> int | None:
        ingest_from_node(lake, node, start, None, workers=workers, verify=verify, progress=progress, loader=loader)
        return loader.result.tip

    def passed() -> None:
        if on_pass:
            on_pass(loader.result)

    follow_tip(lo, stop=stop, poll=poll, tip=node.best_block_hash, load=load, on_pass=passed)
    return loader.result


def _pass(lake: Lake, node: BitcoinNode, lo: int, hi: int | None, workers: int, verify: bool,
          progress: NodeProgress | None, loader: BlockLoader) -> None:
    result = loader.result
    last = MAX_HEIGHT if hi is None else hi
    near = lake_blocks(lake, max(lo - 1, 0), last)  # one look: the block below lo (a fork?) and the range's
    floor = _fork_floor(lake, node, lo, near.get(lo - 1, []))
    present = {h: x for h, x in near.items() if h >= lo} if floor == lo else lake_blocks(lake, floor, last)
    tip, hashes = _tip_and_hashes(node, floor, hi)
    result.tip = tip
    heights = list(hashes)
    if present and max(present) - tip > MAX_REORG_DEPTH:
        raise NodeError(f"the node's best chain ends at height {tip:,}, {max(present) - tip:,} below the lake's "
                        f"highest block {max(present):,}: a node still syncing, or another chain? Nothing was "
                        "removed", url=node.url, call="getblockcount")
    stale = [(h, x) for h, found in sorted(present.items()) for x in found if hashes.get(h) != x]
    if stale:
        remove_blocks(lake, [x for _, x in stale])
        result.removed += stale
        loader.unspent = None
    wanted = [(h, hashes[h]) for h in heights if hashes[h] not in present.get(h, [])]
    result.skipped += len(heights) - len(wanted)
    _load(lake, node, wanted, hashes, workers, verify, progress, loader)


def _tip_and_hashes(node: BitcoinNode, floor: int, hi: int | None) -> tuple[int, dict[int, str]]:
    """The node's tip and its best chain's hashes from ``floor`` to ``hi`` (default: the tip). With ``hi`` given,
    the tip comes in the same batch as the hashes (a round trip fewer, which a lone block's ingest feels)."""
    if hi is None:
        tip = node.block_count()
        return tip, dict(zip(range(floor, tip + 1), node.block_hashes(range(floor, tip + 1)), strict=True))
    try:
        tip, found = node.tip_and_hashes(range(floor, hi + 1))
    except NodeError as err:
        if err.code != -8:  # not a height out of range
            raise
        tip = node.block_count()
        if hi <= tip:
            raise
    if hi > tip:
        raise NodeError(f"--to {hi:,} is beyond the node's best chain, which ends at height {tip:,}", url=node.url,
                        call="getblockcount")
    return tip, dict(zip(range(floor, hi + 1), found, strict=True))


def _fork_floor(lake: Lake, node: BitcoinNode, lo: int, below_lo: list[str]) -> int:
    """``lo``, lowered while the lake's block just below it has left the best chain (a deep re-organisation);
    ``below_lo``: the lake's blocks at ``lo - 1``, read with the range's."""
    floor = lo
    while floor > 0:
        below = below_lo if floor == lo else lake_blocks(lake, floor - 1, floor - 1).get(floor - 1, [])
        if all(node.in_best_chain(x, floor - 1) for x in below):
            return floor
        floor -= 1
        if lo - floor > MAX_REORG_DEPTH:
            raise NodeError(f"the lake's blocks below height {lo:,} left the node's best chain more than "
                            f"{MAX_REORG_DEPTH} blocks deep: another chain? Nothing was removed", url=node.url,
                            call="getblockheader", height=floor)
    return floor


def _load(lake: Lake, node: BitcoinNode, wanted: Sequence[tuple[int, str]], hashes: dict[int, str], workers: int,
          verify: bool, progress: NodeProgress | None, loader: BlockLoader) -> None:
    chunk: list[tuple[int, str, bytes]] = []
    size = fetched = 0
    started = time.monotonic()
    for blocks, (height, block_hash, raw) in enumerate(fetch_blocks(node, wanted, workers), start=1):
        chunk.append((height, block_hash, raw))
        size += len(raw)
        fetched += len(raw)
        if progress:
            progress(blocks, len(wanted), fetched)
        if size >= CHUNK_BYTES or time.monotonic() - started >= CHUNK_SECONDS:
            _commit(lake, node, chunk, hashes, verify, loader)
            chunk, size, started = [], 0, time.monotonic()
    if chunk:
        _commit(lake, node, chunk, hashes, verify, loader)


def _commit(lake: Lake, node: BitcoinNode, chunk: list[tuple[int, str, bytes]], hashes: dict[int, str],
            verify: bool, loader: BlockLoader) -> None:
    """Parse, verify and check one chunk against what the node said, then append it in one lake transaction."""
    parsed = _parse(node, chunk, verify)
    facts = []
    for (height, block_hash, _), header, bip34 in zip(chunk, parsed.headers, parsed.bip34_heights, strict=True):
        if header.block_hash != block_hash:
            raise NodeError(f"asked for block {block_hash}, got {header.block_hash}", url=node.url, call="getblock",
                            height=height)
        if hashes.get(height - 1, header.prev_block_hash) != header.prev_block_hash:
            raise _ChainMoved
        facts.append(BlockFacts(block_hash, header.prev_block_hash, bip34, height, node.url, stated_by="the node"))
    known = {x: h for h, x in hashes.items()}  # the node's word, as the lake's (checked at the pass's start)
    try:
        heights = link_heights(facts, known)
    except ChainDataError as err:
        raise NodeError(err.reason, url=node.url, call="getblock") from None
    with lake.transaction() as tx:  # a block's rows carry its time: a repeat meets the files of that time
        loader.load(tx, parsed, heights, same_time=not BIP30_REPEATS & {h for h, _, _ in chunk})


def _parse(node: BitcoinNode, chunk: list[tuple[int, str, bytes]], verify: bool) -> ParsedBlocks:
    spans, size = [], 0
    for _, _, raw in chunk:
        spans.append((size, size + len(raw)))
        size += len(raw)
    try:
        return parse_blocks(b"".join(raw for _, _, raw in chunk), spans, verify=verify)
    except ChainDataError as err:
        i = span_of(spans, err.offset) or 0
        height, block_hash, _ = chunk[i]
        where = f" (byte offset {err.offset - spans[i][0]:,}" if err.offset is not None else " ("
        raise NodeError(f"block {block_hash}: {err.reason}{where}, field "
                        f"{err.field!r})", url=node.url, call="getblock", height=height) from None
