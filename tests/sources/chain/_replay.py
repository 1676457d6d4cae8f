"""The shared real blocks by height, a replay node serving them, and small blocks for a competing branch."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from _chain_data import BITCOIN, BLOCK_FILES

from cryptoscope.sources.chain.bitcoin.node import BitcoinNode
from cryptoscope.sources.chain.replay import BitcoinReplay, ReplayServer
from cryptoscope.sources.chain.replay.bitcoin import blocks_from_files
from cryptoscope.sources.chain.rpc import connect

USER, PASSWORD = "analyst", "s3cret:with@signs"


def shared_blocks() -> dict[int, bytes]:
    """Heights 1-255, 277,647, 540,107 and 574,200 of mainnet, from ``../shared/data/bitcoin``."""
    return blocks_from_files([BITCOIN / name for name in BLOCK_FILES])


@contextmanager
def bitcoin_node(blocks: dict[int, bytes], **client: float
                 ) -> Iterator[tuple[ReplayServer, BitcoinReplay, BitcoinNode]]:
    """A replay node behind basic auth, and a client logged in to it (fast retries unless told otherwise)."""
    replay = BitcoinReplay(blocks)
    with ReplayServer(replay, user=USER, password=PASSWORD) as server:
        options = {"backoff": 0.01, "timeout": 5.0, **client}
        yield server, replay, BitcoinNode(connect(_url(server), **options))


def _url(server: ReplayServer) -> str:
    return f"http://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{server.port}/"


def branch_block(parent: str, tag: int, time: int) -> bytes:
    """A block on a competing branch: a coinbase paying 50 BTC to ``OP_TRUE``, its merkle root right, no proof of
    work (so it loads only without verification, as a node's stale block would have been loaded)."""
    script = b"\x04" + tag.to_bytes(4, "little")
    coinbase = (b"\x01\x00\x00\x00\x01" + b"\x00" * 32 + b"\xff" * 4 + bytes([len(script)]) + script + b"\xff" * 4
                + b"\x01" + (50 * 10**8).to_bytes(8, "little") + b"\x01\x51" + b"\x00" * 4)
    merkle = hashlib.sha256(hashlib.sha256(coinbase).digest()).digest()
    header = struct.pack("<i32s32sIII", 1, bytes.fromhex(parent)[::-1], merkle, time, 0x1D00FFFF, tag)
    return header + b"\x01" + coinbase
