"""Precision and recall per typology against the simulated worlds' ground truth: the shared one and a fresh seed."""

from __future__ import annotations

import pytest
from surveillance_world import tiny_world

from cryptoscope.lake import Lake
from cryptoscope.lake.engine import connect
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary
from cryptoscope.surveillance import evaluate
from cryptoscope.surveillance.batch import detect
from cryptoscope.surveillance.params import TYPOLOGIES

pytestmark = pytest.mark.slow


def scores(lake: Lake) -> dict[str, dict[str, float]]:
    con = connect(lake)
    return evaluate.score(detect(con), con)["typologies"]  # type: ignore[no-any-return]


def test_every_typology_at_least_0_9_on_the_shared_world(small_world: tuple[Lake, SimConfig, SimSummary]) -> None:
    result = scores(small_world[0])
    for typology in TYPOLOGIES:
        m = result[typology]
        assert m["abusive"] > 0, f"the world plants no {typology}"
        assert m["precision"] >= 0.9 and m["recall"] >= 0.9, f"{typology}: {m}"


def test_every_typology_at_least_0_9_on_another_seed(tmp_path_factory: pytest.TempPathFactory) -> None:
    result = scores(tiny_world(tmp_path_factory))
    for typology in TYPOLOGIES:
        m = result[typology]
        assert m["abusive"] > 0 and m["precision"] >= 0.9 and m["recall"] >= 0.9, f"{typology}: {m}"


def test_an_empty_alert_table_has_no_precision_and_no_recall(small_world: tuple[Lake, SimConfig, SimSummary]) -> None:
    from cryptoscope.surveillance.alerts import to_table

    con = connect(small_world[0])
    result = evaluate.score(to_table([], evaluate.dt.datetime.now(evaluate.dt.UTC)), con)["typologies"]
    assert all(result[t]["recall"] == 0.0 and result[t]["precision"] == 0.0 for t in TYPOLOGIES)
