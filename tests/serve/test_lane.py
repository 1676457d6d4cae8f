"""The scoring fast lane answers ordinary requests itself and leaves everything else to the FastAPI route,
with the same answers and the same errors either way."""

from __future__ import annotations

import dataclasses
import json

from fastapi.testclient import TestClient

from cryptoscope.serve.app import create_app
from cryptoscope.serve.service import Service
from serve.fixtures import bearer, lane_count, login, withdrawal
from serve.world import ServeWorld


def test_a_known_service_key_takes_the_lane_and_a_console_session_the_route(
        client: TestClient, live: tuple[Service, dict[str, str]], serve_world: ServeWorld) -> None:
    service, keys = live
    client.post("/v1/score/withdrawal", json=withdrawal(service, serve_world.pii_user), headers=bearer(keys["service"]))
    before, seq = lane_count(service), service.journal.last_seq()
    by_key = client.post("/v1/score/withdrawal", json=withdrawal(service, serve_world.pii_user),
                         headers=bearer(keys["service"]))
    assert by_key.status_code == 200 and lane_count(service) == before + 1
    csrf = login(client, "admin")  # an admin's console session: cookie auth is the route's business
    by_cookie = client.post("/v1/score/withdrawal", json=withdrawal(service, serve_world.pii_user), headers=csrf)
    client.cookies.clear()
    assert by_cookie.status_code == 200, by_cookie.text
    assert lane_count(service) == before + 1
    assert service.journal.last_seq() == seq + 2  # both were journalled
    assert set(by_key.json()) == set(by_cookie.json())
    for answer in (by_key.json(), by_cookie.json()):
        assert answer["model"] == "risk_withdrawal" and answer["decision"] in {"approve", "review", "block"}


def test_the_lane_refuses_like_the_route(client: TestClient, live: tuple[Service, dict[str, str]],
                                         serve_world: ServeWorld) -> None:
    """Bad bodies and headers reach the route (its 422 names the field); the lane's own errors read alike."""
    service, keys = live
    h = bearer(keys["service"])
    before = lane_count(service)
    bad = client.post("/v1/score/withdrawal", json=withdrawal(service, 1, amount_usd="lots"), headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("amount_usd")
    wrong_key = client.post("/v1/score/withdrawal", json=withdrawal(service, 1), headers=h | {"Idempotency-Key": "a b"})
    assert wrong_key.status_code == 422
    as_text = client.post("/v1/score/withdrawal", content=json.dumps(withdrawal(service, 1)),
                          headers=h | {"content-type": "text/plain"})
    assert as_text.status_code != 200  # not JSON by its content type: the route refuses it, not the lane
    late = client.post("/v1/score/withdrawal", json=withdrawal(service, 1, event_time="2020-01-01T00:00:00Z"),
                       headers=h)
    assert late.status_code == 422 and "too late to score" in late.json()["detail"]  # refused in the lane
    body = withdrawal(service, serve_world.pii_user)
    k = h | {"Idempotency-Key": "lane-k1"}
    first = client.post("/v1/score/withdrawal", json=body, headers=k)
    again = client.post("/v1/score/withdrawal", json=body, headers=k)
    other = client.post("/v1/score/withdrawal", json=body | {"amount_usd": 1.0}, headers=k)
    assert first.status_code == 200 and again.json()["replayed"] and again.json()["score"] == first.json()["score"]
    assert other.status_code == 409 and "different request" in other.json()["detail"]
    assert lane_count(service) == before + 4  # late, first, again, other: the lane answered (or refused) them


def test_the_lane_applies_the_callers_rate_limit(live: tuple[Service, dict[str, str]],
                                                 serve_world: ServeWorld) -> None:
    service, keys = live
    config = dataclasses.replace(service.config, service_rate="3/minute")
    with TestClient(create_app(config, service)) as slow:
        h = bearer(keys["service"])
        codes = [slow.post("/v1/score/withdrawal", json=withdrawal(service, serve_world.pii_user), headers=h)
                 for _ in range(5)]
    assert [c.status_code for c in codes] == [200, 200, 200, 429, 429]
    assert codes[-1].json()["detail"] == "rate limit exceeded: slow down" and codes[-1].headers["retry-after"] == "1"
