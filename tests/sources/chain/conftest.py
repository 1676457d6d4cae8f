"""The real blocks read and parsed once for the whole folder."""

from __future__ import annotations

import pytest
from _chain_data import BITCOIN, BLOCK_FILES

from cryptoscope.sources.chain.bitcoin.block import ParsedBlocks, parse_blocks
from cryptoscope.sources.chain.bitcoin.framing import BlockFile, read_block_file


@pytest.fixture(scope="session")
def block_files() -> dict[str, BlockFile]:
    return {name: read_block_file(BITCOIN / name) for name in BLOCK_FILES}


@pytest.fixture(scope="session")
def parsed(block_files: dict[str, BlockFile]) -> dict[str, ParsedBlocks]:
    return {name: parse_blocks(f.data, f.spans) for name, f in block_files.items()}


@pytest.fixture(scope="session")
def btc_blocks() -> dict[int, bytes]:
    """Mainnet blocks by height (1-255, 277,647, 540,107, 574,200), as a replay node serves them."""
    from _replay import shared_blocks

    return shared_blocks()
