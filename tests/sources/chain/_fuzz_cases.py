"""Fuzz cases for the block parser, shared by the in-process test and the pure-Python (no-JIT) run.

The contract: whatever the bytes, parsing returns blocks or raises `ChainDataError`; nothing else.
"""

from __future__ import annotations

import bz2
import contextlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptoscope.sources.chain.bitcoin.block import parse_blocks
from cryptoscope.sources.chain.bitcoin.framing import read_block_file
from cryptoscope.sources.chain.errors import ChainDataError

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "bitcoin"


def seeds() -> list[bytes]:
    """Real blocks to mutate: a few early ones, block 170 (first payment) and a SegWit-era block."""
    early = read_block_file(SHARED / "mainnet-blocks-1-255.framed.bz2")
    picks = [early.data[s:e] for s, e in (early.spans[0], early.spans[169], early.spans[200])]
    segwit = (SHARED / "block-540107.blk").read_bytes()
    return [*picks, segwit[:4000]]  # a prefix: the header and the first transactions, then truncation


def parse_or_our_error(data: bytes) -> None:
    with contextlib.suppress(ChainDataError):
        parse_blocks(data, [(0, len(data))])


def mutate(block: bytes, edits: list[tuple[int, int, int]], cut: int | None) -> bytes:
    """Apply (kind, position, byte) edits: 0 flips bits, 1 inserts, 2 deletes; then maybe truncate."""
    data = bytearray(block)
    for kind, pos, value in edits:
        at = pos % (len(data) + 1)
        if kind == 0 and at < len(data):
            data[at] ^= value or 1
        elif kind == 1:
            data.insert(at, value)
        elif at < len(data):
            del data[at]
    return bytes(data[:cut] if cut is not None else data)


EDITS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=6)


def run(examples: int, seed_blocks: list[bytes]) -> None:
    """Random bytes, mutated real blocks, and random files through the framing reader."""
    config = settings(max_examples=examples, deadline=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))

    @config
    @given(st.binary(max_size=400))
    def random_bytes(data: bytes) -> None:
        parse_or_our_error(data)
        parse_or_our_error(seed_blocks[0][:80] + data)  # a real header, then garbage

    @config
    @given(st.sampled_from(range(len(seed_blocks))), EDITS, st.none() | st.integers(0, 5000))
    def mutated(which: int, edits: list[tuple[int, int, int]], cut: int | None) -> None:
        parse_or_our_error(mutate(seed_blocks[which], edits, cut))

    random_bytes()
    mutated()


def run_files(examples: int, folder: Path) -> None:
    """Random and damaged files (framed, hex, bz2) through `read_block_file` and the parser."""
    early = (SHARED / "mainnet-blocks-1-255.framed.bz2").read_bytes()
    framed = bz2.decompress(early)[:2000]

    @settings(max_examples=examples, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(["raw", "hex", "bz2"]), EDITS, st.none() | st.integers(0, 2000))
    def files(shape: str, edits: list[tuple[int, int, int]], cut: int | None) -> None:
        data = mutate(framed, edits, cut)
        content = {"raw": data, "hex": data.hex().encode(), "bz2": bz2.compress(data)}[shape]
        path = folder / f"fuzz.{shape}"
        path.write_bytes(content)
        with contextlib.suppress(ChainDataError):
            f = read_block_file(path)
            parse_blocks(f.data, f.spans)

    files()
