"""The scalar derive/rules/guardrail (``serve/rowpath.py``) give the batch functions' values on real decision
rows of all four products, including the edge cases their thresholds and divisions turn on."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from cryptoscope.lake import connect
from cryptoscope.risk.products import PRODUCTS, RULE_COLUMN
from cryptoscope.serve import rowpath
from cryptoscope.serve.online import DECISION_TABLE, is_decision
from cryptoscope.serve.rowpath import RowPath
from cryptoscope.serve.service import Service
from serve.world import ServeWorld

# values that sit on the rules' thresholds and the derive functions' guards
EDGES: dict[str, list[Any]] = {
    "max_usd_30d": [0.0, -1.0, math.nan], "deposit_usd_30d": [math.nan, 0.0], "chain_deposit_usd_30d": [0.5, 0.0],
    "deposit_usd_7d": [math.nan], "chain_deposit_usd_7d": [math.nan], "symbol_min_price_24h": [0.0, math.nan],
    "symbol_max_price_24h": [math.nan], "security_changes_24h": [1, 0, math.nan], "new_devices_24h": [1, math.nan],
    "amount_usd": [0.0, 1.0, 500.0], "declines_1h": [3, 2, math.nan], "instruments_24h": [3, math.nan],
    "account_age_days": [6.9, 7.0, math.nan], "payments_30d": [0, math.nan], "leverage": [10.0, 5.0, 4.99],
    "ltv": [0.7, 0.71, math.nan], "document_other_accounts": [1, 0], "selfie_other_accounts": [1, 0],
    "document_country_mismatch": [1.0, math.nan], "ip_country_mismatch": [1.0, 0.0],
}


def _rows(service: Service, world: ServeWorld, kind: str, n: int = 150) -> list[dict[str, Any]]:
    """Decision rows of the product built by the server from the lake's last events, then edge cases."""
    table = connect(world.lake).table(DECISION_TABLE[kind])
    lake_rows = table.order_by(table.event_time.desc()).limit(n * 4).to_pyarrow().to_pylist()
    built = [service.scorer.decision_row(kind, r) for r in lake_rows if is_decision(kind, r)][:n]
    assert len(built) >= 20, kind
    rng = np.random.default_rng(3)
    edged = []
    for row in built[:60]:
        row = dict(row)
        for column, values in EDGES.items():
            if column in row and rng.random() < 0.4:
                row[column] = values[int(rng.integers(len(values)))]
        edged.append(row)
    return built + edged


@pytest.mark.parametrize("kind", ["kyc", "payment", "withdrawal", "credit"])
def test_the_scalar_path_gives_the_batch_frame_values(kind: str, live: tuple[Service, dict[str, str]],
                                                      serve_world: ServeWorld) -> None:
    service, _ = live
    path = RowPath(PRODUCTS[kind])
    rows = _rows(service, serve_world, kind)
    assert path.check(rows) == ""
    decisions = {path(r)[RULE_COLUMN] for r in rows}
    assert len(decisions) >= 2, decisions  # the rules fire both ways on these rows: the comparison has teeth


def test_a_restatement_that_drifts_from_the_batch_code_is_not_used(live: tuple[Service, dict[str, str]],
                                                                  serve_world: ServeWorld,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    service, _ = live
    rows = _rows(service, serve_world, "withdrawal", 40)
    derive, rules, guard = rowpath.SCALAR["withdrawal"]
    monkeypatch.setitem(rowpath.SCALAR, "withdrawal",
                        (lambda r: derive(r) | {"amount_over_deposits_7d": 1.0}, rules, guard))
    assert "amount_over_deposits_7d differs" in RowPath(PRODUCTS["withdrawal"]).check(rows)
    monkeypatch.setitem(rowpath.SCALAR, "withdrawal",
                        (lambda r: {k: v for k, v in derive(r).items() if k != "deposits_usd_30d"}, rules, guard))
    assert "fails on a reference row: KeyError('deposits_usd_30d')" in RowPath(PRODUCTS["withdrawal"]).check(rows)
    monkeypatch.setitem(rowpath.SCALAR, "withdrawal", (lambda r: {
        k: v for k, v in derive(r).items() if k != "amount_over_deposits_7d"}, rules, guard))
    assert "amount_over_deposits_7d is derived in batch but not here" in RowPath(PRODUCTS["withdrawal"]).check(rows)
    monkeypatch.delitem(rowpath.SCALAR, "withdrawal")
    with pytest.raises(KeyError, match="no scalar restatement"):
        RowPath(PRODUCTS["withdrawal"])


def test_the_served_model_uses_the_scalar_path(live: tuple[Service, dict[str, str]]) -> None:
    service, _ = live
    model = service.scorer.models["withdrawal"]
    assert model.rows is not None, model.rows_note
    assert model.fast is not None and model.fast.api == "single-row C API", model.fast_note
