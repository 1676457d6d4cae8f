"""A block that arrives alone: --height says where it is, and whatever contradicts it (or is no block) is an error."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from _chain_data import needs_data
from test_btc_node import heights

from cryptoscope.lake import Lake
from cryptoscope.sources.chain.bitcoin.ingest import ingest_bitcoin
from cryptoscope.sources.chain.errors import ChainDataError

pytestmark = needs_data


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    (tmp_path / name).write_bytes(data)
    return tmp_path / name


def test_height_for_a_pre_bip34_block_without_ancestors(btc_blocks: dict[int, bytes], tmp_path: Path) -> None:
    one = _file(tmp_path, "170.dat", btc_blocks[170])
    with pytest.raises(ChainDataError, match=r"cannot tell the height .* or give its height with --height"):
        ingest_bitcoin(tmp_path / "lake", [one])
    lake = Lake(tmp_path / "lake")
    ingest_bitcoin(lake, [one], first_height=170)
    hexed = _file(tmp_path, "171-180.hex", "\n".join(btc_blocks[h].hex() for h in range(171, 181)).encode())
    ingest_bitcoin(lake, [hexed])  # they chain from 170, now in the lake
    assert heights(lake) == list(range(170, 181))


def test_a_height_that_contradicts_the_parent_or_the_coinbase_is_refused(btc_blocks: dict[int, bytes],
                                                                          tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    ingest_bitcoin(lake, [_file(tmp_path, "169.dat", btc_blocks[169])], first_height=169)
    with pytest.raises(ChainDataError, match=r"--height says block \w+ is at height 500, but its parent \w+ puts it "
                                             "at 170"):
        ingest_bitcoin(lake, [_file(tmp_path, "170.dat", btc_blocks[170])], first_height=500)
    with pytest.raises(ChainDataError, match="is at height 5 but its coinbase says 574,200"):
        ingest_bitcoin(lake, [_file(tmp_path, "574200.blk", btc_blocks[574_200])], first_height=5)
    assert heights(lake) == [169]


def test_junk_is_no_bitcoin_block_before_anything_about_heights(btc_blocks: dict[int, bytes], tmp_path: Path) -> None:
    junk = random.Random(23).randbytes(5_000)
    with pytest.raises(ChainDataError, match="not a Bitcoin block") as caught:
        ingest_bitcoin(tmp_path / "lake", [_file(tmp_path, "junk.bin", junk)])
    assert caught.value.offset == 0 and caught.value.field == "header"
    body = btc_blocks[170][:80] + junk  # a real header (its proof of work holds) on a junk body
    with pytest.raises(ChainDataError) as caught:
        ingest_bitcoin(tmp_path / "lake", [_file(tmp_path, "body.bin", body)])
    assert "height" not in caught.value.reason and caught.value.offset is not None
