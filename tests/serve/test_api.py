"""The scoring API on a warmed server over the small world: auth, scoring, validation, idempotency, roles.

One service is warmed for the whole session (starting one replays the lake); each test sends events
just after the newest event it has seen, so the tests do not depend on one another's order.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from cryptoscope.risk.fastscore import FastModel
from cryptoscope.risk.frames import rows_frame
from cryptoscope.serve.service import Service
from serve.fixtures import bearer, login
from serve.world import ServeWorld

_IDS = itertools.count(9_000_000_000)


def withdrawal(service: Service, user: int, amount: float = 2_500.0, **extra: Any) -> dict[str, Any]:
    clock = service.scorer.clock
    assert clock is not None
    at = clock + dt.timedelta(seconds=1)
    return {"user_id": user, "event_time": at.isoformat(), "transfer_id": next(_IDS), "address": "bc1qserveexample0",
            "amount_usd": amount} | extra


def test_requests_without_valid_credentials_get_401(client: TestClient, live: tuple[Service, dict[str, str]],
                                                    serve_world: ServeWorld) -> None:
    service, _ = live
    body = withdrawal(service, serve_world.pii_user)
    assert client.post("/v1/score/withdrawal", json=body).status_code == 401
    assert client.post("/v1/score/withdrawal", json=body, headers=bearer("cs_0123456789ab.not-a-real-secret-at-all"))\
        .status_code == 401
    for path in ("/v1/cases", "/v1/audit", "/metrics", f"/v1/users/{serve_world.pii_user}", "/v1/monitoring/drift"):
        r = client.get(path)
        assert r.status_code == 401 and "authentication required" in r.json()["detail"], path
    assert client.get("/healthz").status_code == 200  # liveness only: no data behind it


def test_a_withdrawal_is_scored_decided_explained_and_added_to_the_state(
        client: TestClient, live: tuple[Service, dict[str, str]], serve_world: ServeWorld) -> None:
    service, keys = live
    user = serve_world.pii_user
    body = withdrawal(service, user, amount=40_000.0)
    before = service.scorer.state.get("user_chain", user, dt.datetime.fromisoformat(body["event_time"])
                                      + dt.timedelta(seconds=1))["withdrawals_24h"] or 0
    r = client.post("/v1/score/withdrawal", json=body, headers=bearer(keys["service"]))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["entity_id"] == str(body["transfer_id"]) and out["model"] == "risk_withdrawal"
    assert 0.0 <= out["score"] <= 1.0 and out["decision"] in {"approve", "review", "block"}
    assert 1 <= len(out["reasons"]) <= 3 and all(" " in r and "_" not in r for r in out["reasons"])
    after = service.scorer.state.get("user_chain", user, dt.datetime.fromisoformat(body["event_time"])
                                     + dt.timedelta(seconds=1))["withdrawals_24h"]
    assert after == before + 1  # read strictly before the event, then the event joined the window


def test_the_fast_path_gives_the_general_path_answers(live: tuple[Service, dict[str, str]]) -> None:
    """The served path (``prepare`` on dict rows, the booster's flat trees and TreeSHAP tables, Platt applied fast)
    gives what the batch path gives: ``prepare`` on a frame, bundle.score, the SHAP explainer, decide_scored."""
    service, _ = live
    model = service.scorer.models["withdrawal"]
    fast = model.fast_
    assert fast is not None, model.fast_note_
    assert fast.api == "flat trees and TreeSHAP tables (Numba)"
    rows = [dict(r) for r in service._background["withdrawal"][:200]]
    served = model.finish(model.prepare_rows(rows))
    try:
        model.fast_ = None  # all batch: a frame, bundle.score, the SHAP explainer, bundle.decide_scored
        general = model.score_many(rows_frame([dict(r) for r in rows]))
    finally:
        model.fast_ = fast
    assert [a.score for a in served] == pytest.approx([b.score for b in general], rel=1e-12, abs=0.0)
    assert [(a.decision, a.reasons, a.features) for a in served] == [(b.decision, b.reasons, b.features)
                                                                     for b in general]
    assert len({a.decision for a in served}) >= 2 and any(a.reasons for a in served)
    one_by_one = [model.score_one(r) for r in rows[:20]]
    assert [(a.score, a.decision, a.reasons) for a in one_by_one] == [(a.score, a.decision, a.reasons)
                                                                     for a in served[:20]]


def test_a_row_and_a_frame_get_the_same_derived_columns_and_rule_decisions(live: tuple[Service, dict[str, str]]
                                                                           ) -> None:
    """``Product.prepare`` on one dict row (the served path) equals it on the frame, column by column, on every
    served product's reference rows: one implementation of derive, rules and guardrail."""
    service, _ = live
    checked = 0
    for kind, rows in service._background.items():
        product = service.scorer.live(kind).product
        frame = product.prepare(rows_frame([dict(r) for r in rows]))
        one = [product.prepare(dict(r)) for r in rows]
        for column in [c for c in frame.columns if c not in rows[0]]:
            batch = frame[column].tolist()
            mine = [r[column] for r in one]
            assert all(a == b or (a != a and b != b) for a, b in zip(mine, batch, strict=True)), (kind, column)
            checked += 1
    assert checked >= 4


def test_a_withdrawal_of_an_account_with_no_record_is_held_for_review_saying_why(
        client: TestClient, live: tuple[Service, dict[str, str]]) -> None:
    """Fail closed: user 99999999 has no account on record, so however small the amount the model's approval
    becomes a review, and the first reason says why (``risk/scorer.py``)."""
    service, keys = live
    r = client.post("/v1/score/withdrawal", json=withdrawal(service, 99_999_999, amount=1_000.0),
                    headers=bearer(keys["service"]))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["decision"] == "review"
    assert out["reasons"][0] == "no account on record for user 99999999: held for review"


@pytest.mark.parametrize("kind", ["payment", "kyc", "credit"])
def test_products_without_a_promoted_model_answer_503_saying_so(client: TestClient, kind: str,
                                                                live: tuple[Service, dict[str, str]]) -> None:
    service, keys = live
    at = (service.scorer.clock or dt.datetime.now(dt.UTC)).isoformat()
    bodies = {
        "payment": {"user_id": 7, "event_time": at, "payment_id": 1, "amount_usd": 50.0, "instrument_hash": "c1",
                    "instrument_country": "DE", "device_id": "d1", "ip": "10.0.0.1"},
        "kyc": {"user_id": 7, "event_time": at, "submission_id": 1, "document_type": "passport",
                "document_country": "DE", "document_hash": "h1", "selfie_hash": "h2", "ip_country": "DE"},
        "credit": {"user_id": 7, "event_time": at, "loan_id": 1, "collateral_asset": "BTC", "principal_usd": 1000.0,
                   "collateral_usd": 2000.0, "ltv": 0.5, "term_days": 30, "interest_rate": 0.1}}
    r = client.post(f"/v1/score/{kind}", json=bodies[kind], headers=bearer(keys["service"]))
    assert r.status_code == 503 and f"risk_{kind}" in r.json()["detail"] and "promoted" in r.json()["detail"]


@pytest.mark.parametrize(("change", "field"), [
    ({"amount_usd": "a lot"}, "amount_usd"),
    ({"amount_usd": -5.0}, "amount_usd"),
    ({"user_id": None}, "user_id"),
    ({"event_time": "2025-04-01T00:00:00"}, "event_time"),  # no time zone
    ({"address": "x'; DROP TABLE events; --"}, "address"),
    ({"address": "<script>alert(1)</script>"}, "address"),
    ({"is_admin": True}, "is_admin"),
    ({"transfer_id": 2**70}, "transfer_id"),
])
def test_malformed_and_hostile_events_are_refused_naming_the_field(
        client: TestClient, live: tuple[Service, dict[str, str]], serve_world: ServeWorld,
        change: dict[str, Any], field: str) -> None:
    service, keys = live
    seq = service.journal.last_seq()
    r = client.post("/v1/score/withdrawal", json=withdrawal(service, serve_world.pii_user) | change,
                    headers=bearer(keys["service"]))
    assert r.status_code == 422, r.text
    assert any(e["field"].endswith(field) for e in r.json()["errors"]), r.json()
    assert service.journal.last_seq() == seq  # nothing was recorded


def test_bodies_that_are_not_events_are_refused(client: TestClient, live: tuple[Service, dict[str, str]]) -> None:
    service, keys = live
    h = bearer(keys["service"])
    huge = b'{"user_id": 1, "address": "' + b"a" * 200_000 + b'"}'
    assert client.post("/v1/score/withdrawal", content=huge, headers=h | {"content-type": "application/json"}
                       ).status_code == 413

    def chunks() -> Any:  # no Content-Length: counted while streaming
        for _ in range(100):
            yield b"x" * 10_000

    assert client.post("/v1/score/withdrawal", content=chunks(), headers=h).status_code == 413
    assert client.post("/v1/score/withdrawal", content=b"{not json", headers=h | {"content-type": "application/json"}
                       ).status_code == 422
    assert client.post("/v1/score/withdrawal", json=[1, 2, 3], headers=h).status_code == 422
    r = client.post("/v1/score/lottery", json={}, headers=h)
    assert r.status_code == 404 and "known: kyc, payment, withdrawal, credit" in r.json()["detail"]
    far = withdrawal(service, 1) | {"event_time": "9999-01-01T00:00:00Z"}
    assert "future" in client.post("/v1/score/withdrawal", json=far, headers=h).json()["detail"]


def test_an_idempotency_key_makes_a_retry_return_the_first_answer(
        client: TestClient, live: tuple[Service, dict[str, str]], serve_world: ServeWorld) -> None:
    service, keys = live
    body = withdrawal(service, serve_world.pii_user)
    h = bearer(keys["service"]) | {"Idempotency-Key": f"retry-{body['transfer_id']}"}
    first = client.post("/v1/score/withdrawal", json=body, headers=h)
    seq = service.journal.last_seq()
    again = client.post("/v1/score/withdrawal", json=body, headers=h)
    assert first.status_code == again.status_code == 200
    assert again.json()["replayed"] is True and not first.json()["replayed"]
    strip = {"latency_ms", "replayed"}
    assert {k: v for k, v in again.json().items() if k not in strip} == \
        {k: v for k, v in first.json().items() if k not in strip}
    assert service.journal.last_seq() == seq  # the retry added no event to the state
    other = client.post("/v1/score/withdrawal", json=body | {"amount_usd": 1.0}, headers=h)
    assert other.status_code == 409


def test_each_role_reaches_only_its_endpoints(client: TestClient, live: tuple[Service, dict[str, str]],
                                              serve_world: ServeWorld) -> None:
    service, keys = live
    assert client.get("/v1/cases", headers=bearer(keys["service"])).status_code == 403
    assert client.get("/metrics", headers=bearer(keys["service"])).status_code == 200
    csrf = login(client, "junior")
    assert client.get("/v1/cases").status_code == 200
    assert client.post("/v1/score/withdrawal", json=withdrawal(service, 1), headers=csrf).status_code == 403
    assert client.post("/v1/admin/snapshot", headers=csrf).status_code == 403
    client.cookies.clear()


def test_personal_data_is_masked_unless_the_role_may_see_it(client: TestClient, serve_world: ServeWorld,
                                                            live: tuple[Service, dict[str, str]]) -> None:
    path = f"/v1/users/{serve_world.pii_user}"
    login(client, "senior")
    full = client.get(path).json()["account"]
    login(client, "junior")
    masked = client.get(path).json()["account"]
    login(client, "admin")
    assert client.get(path).json()["account"]["full_name"] == full["full_name"]
    client.cookies.clear()
    assert full["full_name"] and " " in full["full_name"]
    assert masked["full_name"] != full["full_name"] and masked["full_name"].endswith(".")
    assert masked["address"] == "[hidden]" and masked["address"] != full["address"]
    assert masked["country"] == full["country"]  # not personal on its own
    assert masked["signup_ip"].endswith(".x") or masked["signup_ip"] == "[hidden]"


def test_the_openapi_document_describes_the_scoring_endpoints(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    for kind in ("withdrawal", "payment", "kyc", "credit"):
        op = doc["paths"][f"/v1/score/{kind}"]["post"]
        assert {"401", "409", "413", "422", "503"} <= set(op["responses"])
        assert any(p["name"] == "Idempotency-Key" for p in op["parameters"])
    assert "WithdrawalEvent" in doc["components"]["schemas"]


def test_lookups_answer_or_say_what_is_missing(client: TestClient, live: tuple[Service, dict[str, str]]) -> None:
    _, keys = live
    h = bearer(keys["service"])
    reco = client.get("/v1/recommendations/42", headers=h)
    assert reco.status_code == 503 and "no trained recommender" in reco.json()["detail"]
    exp = client.get("/v1/chain/exposure/1BoatSLRHtKNngkdXEeobR76b53LETtpyT", headers=h)
    assert exp.status_code == 200, exp.text
    assert [r["direction"] for r in exp.json()["results"]] == ["upstream", "downstream"]
    assert client.get("/v1/chain/exposure/bad'addr", headers=h).status_code == 422


def test_a_booster_the_tables_cannot_hold_is_served_by_lightgbms_c_api(live: tuple[Service, dict[str, str]],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback (categorical splits, deep trees, other objectives): LightGBM's single-row C API gives the
    tables' probabilities and TreeSHAP values on the served rows."""
    service, _ = live
    model = service.scorer.models["withdrawal"]
    tables = model.fast_
    assert isinstance(tables, FastModel)

    def refuse(booster: Any) -> None:
        raise TypeError("a categorical split: no TreeSHAP tables")

    monkeypatch.setattr("cryptoscope.risk.fastscore.TreeShap", refuse)
    c_api = FastModel(model.model_.bundle, model.product.catalog, top_k=model.top_k)
    assert c_api.api == "single-row C API (not the tables: a categorical split: no TreeSHAP tables)"
    x = model.prepare_rows([dict(r) for r in service._background["withdrawal"][:200]]).values
    assert np.allclose(c_api.score(x), tables.score(x), rtol=1e-14, atol=0.0)
    assert np.allclose(c_api.contributions(x), tables.contributions(x), rtol=0.0, atol=1e-12)
    one = np.vstack([c_api.contributions(x[i:i + 1]) for i in range(20)])  # the single-row call
    assert np.allclose(one, tables.contributions(x[:20]), rtol=0.0, atol=1e-12)
    assert c_api.texts(x, c_api.contributions(x)) == tables.texts(x, tables.contributions(x))
