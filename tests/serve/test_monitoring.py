"""Monitoring: PSI itself, a drift alert when served withdrawals shift, Prometheus metrics, performance."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from cryptoscope.serve.monitoring import psi
from cryptoscope.serve.service import Service
from serve.fixtures import bearer, login
from serve.test_api import withdrawal
from serve.world import ServeWorld


def test_psi_is_near_zero_for_the_same_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(3)
    ref = rng.lognormal(5, 1, 5_000)
    assert psi(ref, rng.lognormal(5, 1, 2_000)) < 0.02
    assert psi(ref, rng.lognormal(6.5, 1, 2_000)) > 0.25
    with_missing = np.where(rng.random(2_000) < 0.5, np.nan, rng.lognormal(5, 1, 2_000))
    assert psi(ref, with_missing) > 0.25  # half missing where none were is a shift too


def test_shifted_withdrawals_raise_a_drift_alert_and_show_in_prometheus(
        client: TestClient, live: tuple[Service, dict[str, str]], serve_world: ServeWorld) -> None:
    service, keys = live
    h = bearer(keys["service"])
    users = serve_world.case_users
    for i in range(service.config.drift_min_rows + 10):  # cash-outs far above anything in the reference
        r = client.post("/v1/score/withdrawal", json=withdrawal(service, users[i % len(users)], 3e6 + i), headers=h)
        assert r.status_code == 200
    login(client, "admin")
    drift = client.get("/v1/monitoring/drift").json()
    client.cookies.clear()
    days = drift["models"]["risk_withdrawal"]
    assert days and days[-1]["rows"] >= service.config.drift_min_rows
    assert days[-1]["features"]["amount_usd"] > service.config.drift_threshold
    alerts = [a for a in drift["alerts"] if a["model"] == "risk_withdrawal"]
    assert any(a["what"] == "amount_usd" for a in alerts)
    assert all(a["psi"] > service.config.drift_threshold for a in alerts)
    metrics = client.get("/metrics", headers=h).text
    assert 'cryptoscope_drift_alerts_total{model="risk_withdrawal"}' in metrics
    assert 'cryptoscope_score_requests_total{decision=' in metrics
    assert "cryptoscope_score_latency_seconds_bucket" in metrics
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(metrics) for s in family.samples}
    flagged = sum(v for (name, labels), v in samples.items() if name == "cryptoscope_score_requests_total"
                  and ("kind", "withdrawal") in labels and dict(labels)["decision"] != "approve")
    assert samples.get(("cryptoscope_alerts_total", (("kind", "withdrawal"),)), 0.0) == flagged


def test_performance_joins_served_decisions_to_the_labels_known_now(
        client: TestClient, live: tuple[Service, dict[str, str]]) -> None:
    service, _ = live
    client.post("/v1/score/withdrawal", json=withdrawal(service, 1), headers=bearer(live[1]["service"]))
    login(client, "senior")
    days = client.get("/v1/monitoring/performance/withdrawal").json()["days"]
    client.cookies.clear()
    assert days and sum(d["decisions"] for d in days) >= 1
    assert all(d["flagged"] <= d["decisions"] and d["bad_flagged"] <= d["bad_known"] for d in days)
