"""btcd's utxostore: decoded values must balance block 277,647 to the satoshi."""

from __future__ import annotations

import bz2
from pathlib import Path

import pyarrow.compute as pc
import pytest
from _chain_data import BITCOIN, needs_data

from cryptoscope.sources.chain.bitcoin.block import ParsedBlocks
from cryptoscope.sources.chain.bitcoin.utxostore import decompress_amount, read_utxostore
from cryptoscope.sources.chain.errors import ChainDataError

pytestmark = needs_data
COIN = 100_000_000


@pytest.mark.parametrize(("packed", "satoshi"), [(0, 0), (0x1, 1), (0x7, COIN // 100), (0x9, COIN),
                                                 (0x32, 50 * COIN), (0x1406F40, 21_000_000 * COIN)])
def test_decompress_amount_matches_bitcoin_core_vectors(packed: int, satoshi: int) -> None:
    assert decompress_amount(packed) == satoshi


def test_block_277647_balances(parsed: dict[str, ParsedBlocks]) -> None:
    """Every input found; every transaction pays a fee >= 0; the coinbase claims 25 BTC plus all the fees."""
    utxo = read_utxostore(BITCOIN / "block-277647.utxostore.bz2")
    block = parsed["block-277647.dat.bz2"]
    spends = block.inputs.filter(pc.invert(pc.equal(block.inputs["prev_txid"], "00" * 32)))
    joined = spends.join(utxo.rename_columns([f"u_{c}" for c in utxo.column_names]),
                         keys=["prev_txid", "prev_output_index"], right_keys=["u_txid", "u_output_index"])
    assert joined.num_rows == spends.num_rows == 732
    paid_in = joined.group_by("txid").aggregate([("u_value", "sum")])
    paid_out = block.outputs.group_by("txid").aggregate([("value", "sum")])
    both = paid_in.join(paid_out, "txid")
    fees = pc.subtract(both["u_value_sum"], both["value_sum"])
    assert pc.min(fees).as_py() >= 0
    coinbase = block.transactions["txid"][0].as_py()
    claimed = pc.sum(block.outputs.filter(pc.equal(block.outputs["txid"], coinbase))["value"]).as_py()
    assert claimed == 25 * COIN + pc.sum(fees).as_py()
    assert set(utxo["script_type"].to_pylist()) == {"p2pkh"}
    assert utxo.column("height").to_pylist()[0] == 277646


def test_truncated_utxostore(tmp_path: Path) -> None:
    path = tmp_path / "cut.utxostore"
    path.write_bytes(bz2.decompress((BITCOIN / "block-277647.utxostore.bz2").read_bytes())[:100])
    with pytest.raises(ChainDataError, match="truncated") as caught:
        read_utxostore(path)
    assert caught.value.offset == 66  # the second entry (the first is 40 + 26 bytes) is cut inside its outpoint
