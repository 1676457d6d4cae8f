"""Fixtures for the chain analytics: a real Bitcoin block (the scored simulated world, `scored_world`, is in
the top conftest: the CLI tests use it too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptoscope.lake import Lake

BITCOIN = Path(__file__).resolve().parents[3] / "shared" / "data" / "bitcoin"


@pytest.fixture(scope="session")
def real_block(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """Real block 277,647 with the outputs it spends (its UTXO store), through the chain ingest."""
    from cryptoscope.sources.chain.bitcoin.ingest import ingest_bitcoin

    lake = Lake(tmp_path_factory.mktemp("btc") / "lake")
    ingest_bitcoin(lake, [BITCOIN / "block-277647.dat.bz2"], utxo_stores=[BITCOIN / "block-277647.utxostore.bz2"])
    return lake
