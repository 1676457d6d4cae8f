"""The block parser on real mainnet blocks: hashes, txids and addresses must be the published ones."""

from __future__ import annotations

import base58
import bech32
import numpy as np
import pyarrow.compute as pc
import pytest
from _chain_data import needs_data
from bitcoin.core import (
    CBlock,
    CMutableTransaction,
    CMutableTxIn,
    CMutableTxOut,
    COutPoint,
    CScript,
    CTxInWitness,
    CTxWitness,
    lx,
)
from bitcoin.core.script import CScriptWitness

from cryptoscope.sources.chain.bitcoin import sha
from cryptoscope.sources.chain.bitcoin.block import ParsedBlocks, merkle_root, parse_block, parse_blocks, sha256d
from cryptoscope.sources.chain.bitcoin.framing import BlockFile
from cryptoscope.sources.chain.errors import ChainDataError

pytestmark = needs_data


def test_known_block_hashes_and_heights(parsed: dict[str, ParsedBlocks]) -> None:
    early = parsed["mainnet-blocks-1-255.framed.bz2"]
    assert len(early.headers) == 255
    assert early.headers[0].block_hash == "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048"
    assert early.headers[0].prev_block_hash == "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    for before, after in zip(early.headers, early.headers[1:], strict=False):
        assert after.prev_block_hash == before.block_hash  # blocks 1..255 in order, each linked to the last
    block = parsed["block-277647.dat.bz2"]
    assert block.headers[0].block_hash == "0000000000000000054a714e580b16c583701712ab91060e92dbde6eb1e052a8"
    assert block.tx_counts == [213] and block.bip34_heights == [277647]
    assert int(pc.sum(pc.greater(block.transactions["input_count"], 1)).as_py()) == 115
    assert parsed["block-574200.blk"].bip34_heights == [574200]
    assert parsed["block-540107.blk"].bip34_heights == [540107]


def test_segwit_counts(parsed: dict[str, ParsedBlocks]) -> None:
    for name, txs, segwit in (("block-574200.blk", 3315, 1341), ("block-540107.blk", 230, 104)):
        table = parsed[name].transactions
        assert table.num_rows == txs
        assert int(pc.sum(table["is_segwit"].cast("int64")).as_py()) == segwit
        legacy = table.filter(pc.invert(table["is_segwit"]))
        assert legacy["txid"].to_pylist() == legacy["wtxid"].to_pylist()


def test_first_bitcoin_payment(parsed: dict[str, ParsedBlocks]) -> None:
    """Block 170: Satoshi pays Hal Finney 10 BTC in the first transaction that is not a coinbase."""
    early = parsed["mainnet-blocks-1-255.framed.bz2"]
    txs = early.transactions.filter(pc.equal(early.transactions["block"], 169)).to_pylist()
    assert [t["txid"] for t in txs][1] == "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
    spend = early.inputs.filter(pc.equal(early.inputs["txid"], txs[1]["txid"])).to_pylist()[0]
    assert spend["prev_txid"] == "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"  # block 9
    outs = early.outputs.filter(pc.equal(early.outputs["txid"], txs[1]["txid"])).to_pylist()
    assert [o["value"] for o in outs] == [10 * 10**8, 40 * 10**8]
    assert all(o["script_type"] == "p2pk" for o in outs)
    first = early.outputs.slice(0, 1).to_pylist()[0]  # block 1's coinbase
    assert first["address"] == "12c6DSiU4Rq3P4ZxziKxzrL5LmMBrzjrJX"


def test_txids_match_python_bitcoinlib(block_files: dict[str, BlockFile], parsed: dict[str, ParsedBlocks]) -> None:
    """An independent implementation must find the same hashes, txids, wtxids and values."""
    for name, f in block_files.items():
        txids, wtxids, values = [], [], []
        for start, end in f.spans:
            block = CBlock.deserialize(f.data[start:end])
            txids += [tx.GetTxid()[::-1].hex() for tx in block.vtx]
            wtxids += [tx.GetHash()[::-1].hex() for tx in block.vtx]
            values += [out.nValue for tx in block.vtx for out in tx.vout]
        assert parsed[name].transactions["txid"].to_pylist() == txids, name
        assert parsed[name].transactions["wtxid"].to_pylist() == wtxids, name
        assert parsed[name].outputs["value"].to_pylist() == values, name


def _reference_address(script: bytes) -> str | None:
    if len(script) == 25 and script[:3] == b"\x76\xa9\x14":
        return base58.b58encode_check(b"\x00" + script[3:23]).decode()
    if len(script) == 23 and script[:2] == b"\xa9\x14":
        return base58.b58encode_check(b"\x05" + script[2:22]).decode()
    if script[:1] == b"\x00" and len(script) in (22, 34):
        return bech32.encode("bc", 0, list(script[2:]))
    return None


def test_addresses_match_reference_libraries(parsed: dict[str, ParsedBlocks]) -> None:
    checked = 0
    for name in ("block-574200.blk", "block-540107.blk", "block-277647.dat.bz2"):
        for row in parsed[name].outputs.select(["script_pubkey", "address"]).to_pylist():
            expected = _reference_address(bytes.fromhex(row["script_pubkey"]))
            if expected is not None:
                assert row["address"] == expected
                checked += 1
    assert checked > 8_000


@pytest.mark.parametrize(("script", "address"), [
    # BIP-350 test vectors (bech32m for witness versions 1..16) and BIP-86's first taproot address
    ("5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
     "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y"),
    ("6002751e", "bc1sw50qgdz25j"),
    ("5210751e76e8199196d454941c45d1b3a323", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"),
    ("512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
     "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"),
    ("5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c",
     "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"),
    ("0014751e76e8199196d454941c45d1b3a323f1433bd6", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
])
def test_taproot_block(script: str, address: str) -> None:
    """A block spending a Taproot key path: the witness is skipped right and the output gets its bech32m address."""
    raw = _block_paying(bytes.fromhex(script))
    block = parse_block(raw, verify=False)
    out = block.outputs.to_pylist()[-1]
    assert out["address"] == address
    assert out["script_type"] == {"5120": "p2tr", "0014": "p2wpkh"}.get(script[:4], "witness_unknown")
    assert block.transactions["is_segwit"].to_pylist() == [False, True]
    assert block.transactions["txid"].to_pylist()[1] == CBlock.deserialize(raw).vtx[1].GetTxid()[::-1].hex()
    assert merkle_root([lx(t) for t in block.transactions["txid"].to_pylist()])[::-1].hex() \
        == block.headers[0].merkle_root


def _block_paying(script: bytes) -> bytes:
    """A regtest-style block (no proof of work): a coinbase and one Taproot key-path spend paying ``script``."""
    coinbase = CMutableTransaction([CMutableTxIn(COutPoint(), CScript(b"\x03\x01\x02\x03"))],
                                   [CMutableTxOut(50 * 10**8, CScript(b"\x51"))])
    spend = CMutableTransaction([CMutableTxIn(COutPoint(lx("11" * 32), 0), CScript())],
                                [CMutableTxOut(12_345, CScript(script))], nVersion=2)
    spend.wit = CTxWitness([CTxInWitness(CScriptWitness([b"\x01" * 64]))])
    txids = [sha256d(coinbase.serialize()), spend.GetTxid()]
    header = (b"\x00\x00\x00\x20" + b"\x00" * 32 + merkle_root(txids) + (1_700_000_000).to_bytes(4, "little")
              + b"\xff\xff\x7f\x20" + b"\x00" * 4)
    return header + b"\x02" + coinbase.serialize() + spend.serialize()


def test_tampered_block_fails_the_merkle_check(block_files: dict[str, BlockFile]) -> None:
    f = block_files["block-277647.dat.bz2"]
    start, end = f.spans[0]
    raw = bytearray(f.data[start:end])
    raw[-5] ^= 1  # last transaction's last output script: the txid changes, the header does not
    with pytest.raises(ChainDataError, match="merkle root"):
        parse_block(bytes(raw))
    raw[-5] ^= 1
    raw[79] ^= 0xFF  # nonce: the header hash no longer meets its target
    with pytest.raises(ChainDataError, match="proof-of-work"):
        parse_block(bytes(raw))


def test_tampered_witness_fails_the_commitment(block_files: dict[str, BlockFile],
                                               parsed: dict[str, ParsedBlocks]) -> None:
    raw = bytearray(block_files["block-540107.blk"].data)
    txs = parsed["block-540107.blk"].transactions.to_pylist()
    sizes = np.cumsum([80 + 1 + 0] + [t["size"] for t in txs])  # 230 txs: a one-byte count
    segwit = next(i for i, t in enumerate(txs) if t["is_segwit"] and i > 0)
    raw[int(sizes[segwit + 1]) - 10] ^= 1  # inside its witness (just before the 4-byte locktime)
    with pytest.raises(ChainDataError, match="witness commitment"):
        parse_block(bytes(raw))


def test_batch_equals_one_by_one(block_files: dict[str, BlockFile]) -> None:
    f = block_files["mainnet-blocks-1-255.framed.bz2"]
    batch = parse_blocks(f.data, f.spans[:20])
    single = [parse_block(f.data[s:e]) for s, e in f.spans[:20]]
    assert batch.transactions["txid"].to_pylist() == [t for b in single for t in b.transactions["txid"].to_pylist()]
    assert batch.outputs["address"].to_pylist() == [a for b in single for a in b.outputs["address"].to_pylist()]


def test_hashlib_fallback_gives_the_same_columns(block_files: dict[str, BlockFile], parsed: dict[str, ParsedBlocks],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libcrypto's SHA256_* symbols the parser hashes through hashlib: same rows, same checks."""
    assert sha.AVAILABLE  # this machine has OpenSSL: the fast path is the one the other tests ran
    monkeypatch.setattr(sha, "AVAILABLE", False)
    for name in ("block-574200.blk", "mainnet-blocks-1-255.framed.bz2"):
        f = block_files[name]
        again = parse_blocks(f.data, f.spans)
        for table in ("transactions", "inputs", "outputs"):
            assert getattr(again, table).equals(getattr(parsed[name], table)), (name, table)


def test_compiled_merkle_root_equals_hashlib() -> None:
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 7, 64, 1001):
        hashes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        assert bytes(sha.merkle_root(hashes)) == merkle_root([row.tobytes() for row in hashes])
