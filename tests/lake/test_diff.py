"""Two lakes compared row by row: what the engine-parity test and `cryptoscope lake diff` rely on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from cryptoscope.lake import Lake
from cryptoscope.lake.diff import diff_table
from cryptoscope.schema import get_table

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def scores(keys: list[str], score: list[float], decision: list[str], scored_at: dt.datetime) -> pa.Table:
    n = len(keys)
    return pa.Table.from_pydict({
        "score_id": keys, "kind": ["payment"] * n, "entity_type": ["payment"] * n, "entity_id": keys,
        "user_id": [int(k.split(":")[1]) for k in keys], "event_time": [T0] * n, "score": score, "decision": decision,
        "reasons": [""] * n, "model_name": ["risk_payment"] * n, "model_version": [1] * n, "scored_at": [scored_at] * n,
    }, schema=get_table("risk_scores").arrow_schema)


def lake_with(path: Path, rows: pa.Table) -> Lake:
    lake = Lake(path)
    with lake.transaction() as tx:
        tx.append("risk_scores", rows)
    return lake


def test_rows_equal_but_for_when_they_were_computed_are_the_same(tmp_path: Path) -> None:
    a = lake_with(tmp_path / "a", scores(["p:1", "p:2"], [0.1, 0.2], ["approve", "review"], T0))
    later = T0 + dt.timedelta(days=1)
    b = lake_with(tmp_path / "b", scores(["p:2", "p:1"], [0.2 + 1e-9, 0.1], ["review", "approve"], later))
    assert diff_table(a, b, "risk_scores").same


@pytest.mark.parametrize(("score", "decision", "keys", "says"), [
    ([0.1, 0.2001], ["approve", "review"], ["p:1", "p:2"], "score: 1 rows differ"),
    ([0.1, 0.2], ["approve", "decline"], ["p:1", "p:2"], "decision: 1 rows differ, e.g. p:2: 'review' vs 'decline'"),
    ([0.1, 0.2], ["approve", "review"], ["p:1", "p:3"], "1 keys only left (e.g. ['p:2'])"),
])
def test_a_different_number_decision_or_key_is_named(tmp_path: Path, score: list[float], decision: list[str],
                                                    keys: list[str], says: str) -> None:
    a = lake_with(tmp_path / "a", scores(["p:1", "p:2"], [0.1, 0.2], ["approve", "review"], T0))
    b = lake_with(tmp_path / "b", scores(keys, score, decision, T0))
    diff = diff_table(a, b, "risk_scores")
    assert not diff.same and says in diff.text()
