"""Shared fixtures: a small simulated world, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptoscope.lake import Lake
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary, simulate

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, SimConfig, SimSummary]:
    """8,000 users over 90 days with fraud three times as common, so every typology shows up."""
    cfg = SimConfig(users=8_000, days=90, seed=11, chunk_users=4_000, fraud_scale=3.0)
    lake = Lake(tmp_path_factory.mktemp("world") / "lake")
    return lake, cfg, simulate(cfg, lake)
