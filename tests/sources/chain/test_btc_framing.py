"""Files of blocks in every accepted shape, and bad files failing with the file, offset or line named."""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path

import pytest
from _chain_data import needs_data

from cryptoscope.sources.chain.bitcoin.block import parse_block, parse_blocks
from cryptoscope.sources.chain.bitcoin.framing import MAINNET_MAGIC, BlockFile, read_block_file
from cryptoscope.sources.chain.errors import ChainDataError

pytestmark = needs_data


def _early(block_files: dict[str, BlockFile], n: int) -> list[bytes]:
    f = block_files["mainnet-blocks-1-255.framed.bz2"]
    return [f.data[s:e] for s, e in f.spans[:n]]


def _framed(blocks: list[bytes]) -> bytes:
    return b"".join(MAINNET_MAGIC + len(b).to_bytes(4, "little") + b for b in blocks)


def _txids(f: BlockFile) -> list[str]:
    return parse_blocks(f.data, f.spans).transactions["txid"].to_pylist()


def test_every_shape_gives_the_same_blocks(block_files: dict[str, BlockFile], tmp_path: Path) -> None:
    blocks = _early(block_files, 5)
    expected = [t for b in blocks for t in parse_block(b).transactions["txid"].to_pylist()]
    shapes = {
        "framed.dat": _framed(blocks) + b"\x00" * 4096,  # Core's zero padding at the end of a blk file
        "framed.dat.gz": gzip.compress(_framed(blocks)),
        "blocks.hex": "\n".join(b.hex() for b in blocks).encode() + b"\n",
        "blocks.hex.bz2": bz2.compress("\r\n".join(b.hex().upper() for b in blocks).encode()),
        "framed.hex": _framed(blocks).hex().encode(),
        "getblock.json": json.dumps([{"result": b.hex(), "id": i} for i, b in enumerate(blocks)]).encode(),
    }
    for name, content in shapes.items():
        (tmp_path / name).write_bytes(content)
        assert _txids(read_block_file(tmp_path / name)) == expected, name


def test_core_xor_obfuscation(block_files: dict[str, BlockFile], tmp_path: Path) -> None:
    key = bytes(range(1, 9))
    plain = _framed(_early(block_files, 3))
    (tmp_path / "xor.dat").write_bytes(key)
    (tmp_path / "blk00000.dat").write_bytes(bytes(b ^ key[i % 8] for i, b in enumerate(plain)))
    assert read_block_file(tmp_path / "blk00000.dat").data == plain


def _error(tmp_path: Path, content: bytes, name: str = "bad.dat") -> ChainDataError:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ChainDataError) as caught:
        f = read_block_file(path)
        try:
            parse_blocks(f.data, f.spans)
        except ChainDataError as err:
            raise f.locate(err) from None
    assert str(path) in str(caught.value)
    return caught.value


def test_bad_files_name_the_place(block_files: dict[str, BlockFile], tmp_path: Path) -> None:
    blocks = _early(block_files, 3)
    good = _framed(blocks)
    second = 8 + len(blocks[0])
    wrong = good[:second] + b"\x0b\x11\x09\x08" + good[second + 4:]
    assert _error(tmp_path, wrong).offset == second
    assert "wrong magic" in str(_error(tmp_path, wrong))
    cut = _error(tmp_path, good[:-20])
    assert "truncated" in cut.reason and cut.offset == second + 8 + len(blocks[1]) + 4
    assert "testnet3" in str(_error(tmp_path, b"\x0b\x11\x09\x07" + good[4:]))
    truncated = _error(tmp_path, blocks[0][:150])
    assert truncated.reason.startswith("truncated") and truncated.offset is not None and truncated.offset <= 150
    varint = _error(tmp_path, blocks[0][:80] + b"\xfd\x01\x00" + blocks[0][81:])  # 1 written in 3 bytes
    assert "bad varint" in varint.reason and varint.offset == 80 and varint.field == "transaction count"
    hexed = _error(tmp_path, (blocks[0].hex() + "\n" + blocks[1].hex()[:100] + "zz" + blocks[1].hex()[102:]).encode(),
                   "bad.hex")
    assert hexed.line == 2 and "column 101" in hexed.reason
    inner = _error(tmp_path, (blocks[0].hex() + "\n" + blocks[1][:-3].hex() + "\n").encode(), "short.hex")
    assert inner.line == 2 and inner.reason.startswith("truncated")
    assert "bzip2" in str(_error(tmp_path, b"BZh91AY&SY" + b"\x00" * 40, "bad.bz2"))
    rpc = _error(tmp_path, b'{"result": null, "error": {"code": -5, "message": "Block not found"}}', "rpc.json")
    assert "Block not found" in rpc.reason
    assert _error(tmp_path, b'{"result": "00",\n "id": 1', "cut.json").line == 2
