"""Fixtures for the chain analytics: a private copy of the simulated world, scored once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cryptoscope.chain.report import write_demo_report
from cryptoscope.lake import Lake
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary

BITCOIN = Path(__file__).resolve().parents[3] / "shared" / "data" / "bitcoin"


@pytest.fixture(scope="session")
def real_block(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """Real block 277,647 with the outputs it spends (its UTXO store), through the chain ingest."""
    from cryptoscope.sources.chain.bitcoin.ingest import ingest_bitcoin

    lake = Lake(tmp_path_factory.mktemp("btc") / "lake")
    ingest_bitcoin(lake, [BITCOIN / "block-277647.dat.bz2"], utxo_stores=[BITCOIN / "block-277647.utxostore.bz2"])
    return lake


@pytest.fixture(scope="session")
def scored_world(small_world: tuple[Lake, SimConfig, SimSummary], tmp_path_factory: pytest.TempPathFactory
                 ) -> tuple[Lake, Path]:
    """A copy of ``small_world`` (these tests write to it) after `write_demo_report`: scores in
    `chain_exposure`, the report at the returned path."""
    lake, _, _ = small_world
    root = tmp_path_factory.mktemp("chain") / "lake"
    shutil.copytree(lake.root, root)
    copy = Lake(root)
    report = write_demo_report(copy, root.parent / "reports")
    return copy, report
