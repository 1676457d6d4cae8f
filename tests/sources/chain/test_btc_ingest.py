"""Real blocks into the lake: heights, resolved inputs, idempotence, and all-or-nothing on bad files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from _chain_data import BITCOIN, BLOCK_FILES, needs_data
from bitcoin.core import CoreMainParams

from cryptoscope.lake import Lake
from cryptoscope.lake.sql import parquet_source
from cryptoscope.sources.chain.bitcoin.framing import MAINNET_MAGIC, BlockFile
from cryptoscope.sources.chain.bitcoin.ingest import ingest_bitcoin
from cryptoscope.sources.chain.errors import ChainDataError

pytestmark = needs_data
UTXO = BITCOIN / "block-277647.utxostore.bz2"


def _sql(lake: Lake, table: str, query: str) -> list[tuple]:
    con = duckdb.connect()
    con.sql(f"CREATE VIEW t AS SELECT * FROM {parquet_source(lake.file_paths(table))}")
    return con.sql(query).fetchall()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("btc") / "lake")
    ingest_bitcoin(lake, [BITCOIN / name for name in BLOCK_FILES], utxo_stores=[UTXO])
    return lake


def test_heights_and_counts(lake: Lake) -> None:
    heights = [h for (h,) in _sql(lake, "chain_blocks", "SELECT height FROM t ORDER BY height")]
    assert heights == [*range(1, 256), 277647, 540107, 574200]
    assert _sql(lake, "chain_transactions", "SELECT count(*) FROM t")[0][0] == 262 + 213 + 3315 + 230
    assert _sql(lake, "chain_transactions", "SELECT block_height FROM t WHERE txid = "
                "'f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16'") == [(170,)]


def test_inputs_resolved_from_batch_and_utxo_file(lake: Lake) -> None:
    rows = _sql(lake, "chain_inputs", "SELECT count(*), count(value), count(address) FROM t WHERE txid IN "
                "(SELECT txid FROM read_parquet(" + repr(lake.file_paths("chain_transactions")) + ") "
                "WHERE block_height = 277647 AND NOT is_coinbase)")
    assert rows == [(732, 732, 732)]
    hal = _sql(lake, "chain_inputs", "SELECT value, address, script_type FROM t WHERE txid = "
               "'f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16'")
    assert hal == [(50 * 10**8, "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", "p2pk")]


def test_reingest_adds_nothing(lake: Lake) -> None:
    again = ingest_bitcoin(lake, [BITCOIN / "block-277647.dat.bz2"], utxo_stores=[UTXO])
    assert sum(again.rows_added.values()) == 0 and again.rows_read["chain_transactions"] == 213


def _framed(blocks: list[bytes]) -> bytes:
    return b"".join(MAINNET_MAGIC + len(b).to_bytes(4, "little") + b for b in blocks)


def test_second_ingest_links_to_the_lake(block_files: dict[str, BlockFile], tmp_path: Path) -> None:
    """Blocks 170.. ingested after 1..169: heights from chain_blocks, block 170's input from chain_outputs."""
    f = block_files["mainnet-blocks-1-255.framed.bz2"]
    blocks = [f.data[s:e] for s, e in f.spans]
    (tmp_path / "a.dat").write_bytes(_framed(blocks[:169]))
    (tmp_path / "b.dat").write_bytes(_framed(blocks[169:]))
    lake = Lake(tmp_path / "lake")
    with pytest.raises(ChainDataError, match="cannot tell the height"):
        ingest_bitcoin(lake, [tmp_path / "b.dat"])
    ingest_bitcoin(lake, [tmp_path / "a.dat"])
    result = ingest_bitcoin(lake, [tmp_path / "b.dat"])
    assert result.unresolved_inputs == 0
    assert _sql(lake, "chain_blocks", "SELECT min(height), max(height) FROM t") == [(1, 255)]
    assert _sql(lake, "chain_inputs", "SELECT value FROM t WHERE txid = "
                "'f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16'") == [(50 * 10**8,)]


def test_genesis_block(block_files: dict[str, BlockFile], tmp_path: Path) -> None:
    """The genesis block (python-bitcoinlib's copy) is height 0, and block 1 then links to it through the lake."""
    (tmp_path / "genesis.hex").write_text(CoreMainParams.GENESIS_BLOCK.serialize().hex() + "\n")
    lake = Lake(tmp_path / "lake")
    ingest_bitcoin(lake, [tmp_path / "genesis.hex"])
    f = block_files["mainnet-blocks-1-255.framed.bz2"]
    (tmp_path / "one.dat").write_bytes(f.data[f.spans[0][0]:f.spans[0][1]])
    ingest_bitcoin(lake, [tmp_path / "one.dat"])
    assert _sql(lake, "chain_blocks", "SELECT height, block_hash FROM t ORDER BY height") == [
        (0, "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"),
        (1, "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048")]


def test_a_bad_file_commits_nothing(block_files: dict[str, BlockFile], tmp_path: Path) -> None:
    good = block_files["block-277647.dat.bz2"]
    (tmp_path / "good.dat").write_bytes(good.data)
    (tmp_path / "cut.dat").write_bytes(good.data[:-100])
    lake = Lake(tmp_path / "lake")
    with pytest.raises(ChainDataError) as caught:
        ingest_bitcoin(lake, [tmp_path / "good.dat", tmp_path / "cut.dat"])
    assert "cut.dat" in str(caught.value) and caught.value.offset is not None
    assert lake.status() == []
