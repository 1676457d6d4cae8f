"""Saved ``getblock`` answers of every verbosity as files: the height comes from the answer, the checks still run."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from _chain_data import needs_data
from test_btc_node import heights, rows

from cryptoscope.lake import Lake
from cryptoscope.sources.chain.bitcoin.ingest import ingest_bitcoin
from cryptoscope.sources.chain.errors import ChainDataError
from cryptoscope.sources.chain.replay import BitcoinReplay

pytestmark = needs_data


def answers(replay: BitcoinReplay, heights: range, verbosity: int) -> list[dict[str, object]]:
    """What ``bitcoin-cli getblock <hash> <verbosity>`` prints, wrapped as JSON-RPC responses."""
    return [{"result": json.loads(orjson.dumps(replay("getblock", [replay.best[h], verbosity]))), "error": None,
             "id": h} for h in heights]


@pytest.fixture(scope="module")
def replay(btc_blocks: dict[int, bytes]) -> BitcoinReplay:
    return BitcoinReplay(btc_blocks)


def test_every_verbosity_gives_verified_rows_at_the_stated_height(replay: BitcoinReplay, btc_blocks: dict[int, bytes],
                                                                   tmp_path: Path) -> None:
    lines = tmp_path / "blocks-170-175.jsonl"  # JSON lines of verbosity 2: pre-BIP-34 blocks with no ancestors
    lines.write_text("".join(json.dumps(a) + "\n" for a in answers(replay, range(170, 176), 2)))
    batch = tmp_path / "headers-1-3.json"  # one batch of verbosity 1: headers and txids only
    batch.write_text(json.dumps(answers(replay, range(1, 4), 1)))
    hexed = tmp_path / "block-574200.json"  # verbosity 0: the height comes from the coinbase (BIP-34)
    hexed.write_text(json.dumps(answers(replay, range(574_200, 574_201), 0)[0]))
    lake = Lake(tmp_path / "lake")
    result = ingest_bitcoin(lake, [lines, batch, hexed])
    assert heights(lake) == [1, 2, 3, *range(170, 176), 574_200]
    assert result.rows_added["chain_transactions"] == 7 + 3_315  # block 170 has two transactions, 1-3 none here
    raw = tmp_path / "raw.hex"  # the same blocks as hex lines give the same rows
    raw.write_text("\n".join(btc_blocks[h].hex() for h in range(170, 176)))
    reference = Lake(tmp_path / "reference")
    ingest_bitcoin(reference, [raw], first_height=170)
    for table in ("chain_transactions", "chain_inputs", "chain_outputs"):
        assert rows(lake, table, "event_time < '2010-01-01'") == rows(reference, table), table
    assert rows(lake, "chain_blocks", "height = 2")[0][9] == 1  # tx_count of a header-only row


def test_bad_answers_name_the_line_and_field(replay: BitcoinReplay, tmp_path: Path) -> None:
    good = answers(replay, range(170, 172), 2)
    no_hex = json.loads(json.dumps(good))
    del no_hex[1]["result"]["tx"][0]["hex"]
    assert _error(tmp_path, no_hex).field == "result.tx[0].hex" and _error(tmp_path, no_hex).line == 2
    nonce = json.loads(json.dumps(good))
    nonce[0]["result"]["nonce"] += 1
    assert "do not hash to the answer's hash" in _error(tmp_path, nonce).reason
    txids = answers(replay, range(1, 2), 1)
    txids[0]["result"]["tx"] = ["00" * 32]  # type: ignore[index]
    assert "merkle root of the txids" in _error(tmp_path, txids).reason
    wrong = json.loads(json.dumps(good))
    wrong[1]["result"]["height"] = 999
    assert "says block" in _error(tmp_path, wrong).reason and "puts it at 171" in _error(tmp_path, wrong).reason


def _error(tmp_path: Path, docs: list[dict[str, object]]) -> ChainDataError:
    path = tmp_path / "answers.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    with pytest.raises(ChainDataError) as caught:
        ingest_bitcoin(Lake(tmp_path / "lake"), [path])
    assert caught.value.file == str(path)
    return caught.value
