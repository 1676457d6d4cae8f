"""One tiny simulated world shared by the stream and engine-parity tests (built once per session)."""

from __future__ import annotations

import pytest

from cryptoscope.lake import Lake
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate

_CACHE: dict[str, Lake] = {}


def tiny_world(factory: pytest.TempPathFactory) -> Lake:
    """1,500 users over 21 days, abuse four times as common: every typology, in seconds."""
    if "lake" not in _CACHE:
        lake = Lake(factory.mktemp("surveillance-world") / "lake")
        simulate(SimConfig(users=1_500, days=21, seed=41, chunk_users=1_500, fraud_scale=4.0), lake)
        _CACHE["lake"] = lake
    return _CACHE["lake"]
