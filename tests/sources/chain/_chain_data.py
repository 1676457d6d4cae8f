"""Where the real chain data lives (``../shared/data`` beside the project), for the tests of this folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
BITCOIN = SHARED_DATA / "bitcoin"
ETL = SHARED_DATA / "ethereum" / "ethereum-etl"
BLOCK_FILES = ("mainnet-blocks-1-255.framed.bz2", "block-277647.dat.bz2", "block-574200.blk", "block-540107.blk")

needs_data = pytest.mark.skipif(not BITCOIN.exists() and "CI" not in os.environ,
                                reason="shared chain data not available")
