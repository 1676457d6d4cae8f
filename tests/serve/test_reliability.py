"""Reliability: analyst decisions reach the append-only audit log, a flood of concurrent requests keeps the
state exact, a restart loses nothing (snapshot + journal replay), and rate limits hold."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from cryptoscope.errors import CryptoscopeError
from cryptoscope.serve import service as service_module
from cryptoscope.serve.app import create_app
from cryptoscope.serve.service import Service
from serve.fixtures import bearer, login
from serve.test_api import withdrawal
from serve.world import ServeWorld, add_people

_IDS = itertools.count(9_100_000_000)


def test_an_analyst_decision_goes_to_the_append_only_audit_log(client: TestClient, serve_world: ServeWorld) -> None:
    csrf = login(client, "junior")
    cases = client.get("/v1/cases").json()["cases"]
    case = next(c for c in cases if c["state"] in ("open", "in_review"))
    note = "same device as ring 1'); DELETE FROM audit_log; --"
    r = client.post(f"/v1/cases/{case['id']}/decide", json={"state": "closed_fraud", "note": note}, headers=csrf)
    assert r.status_code == 200, r.text
    entries = client.get("/v1/audit", params={"case_id": case["id"]}).json()["entries"]
    decided = [e for e in entries if e["action"] == "decide"]
    assert decided and decided[0]["actor"] == "junior" and decided[0]["detail"] == note
    assert decided[0]["to_state"] == "closed_fraud"
    again = client.post(f"/v1/cases/{case['id']}/decide", json={"state": "closed_legit", "note": "changed my mind"},
                        headers=csrf)
    assert again.status_code == 409  # closed is final
    assert client.post(f"/v1/cases/{case['id']}/decide", json={"state": "closed_fraud", "note": "x"}).status_code \
        == 403  # a session without its CSRF token
    client.cookies.clear()
    from cryptoscope.cases.store import CaseStore, default_url

    store = CaseStore(default_url(serve_world.abnormal))
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET detail = 'nothing happened'"))


def test_a_flood_of_concurrent_requests_keeps_the_state_exact(live: tuple[Service, dict[str, str]],
                                                              serve_world: ServeWorld) -> None:
    service, keys = live
    users = serve_world.case_users[:3]
    app = create_app(service.config, service)
    start = service.scorer.clock
    assert start is not None
    counts_before = {u: service.scorer.state.get("user_chain", u, start + dt.timedelta(hours=1))["withdrawals_24h"] or 0
                     for u in users}
    seq, batches = service.journal.last_seq(), service.batcher.batches

    async def flood() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            calls = [c.post("/v1/score/withdrawal", headers=bearer(keys["service"]),
                            json=withdrawal(service, users[i % 3]) | {"transfer_id": next(_IDS),
                                                                     "amount_usd": 10.0 + i})
                     for i in range(150)]
            return list(await asyncio.gather(*calls))

    answers = asyncio.run(flood())
    assert [r.status_code for r in answers] == [200] * 150
    assert service.journal.last_seq() == seq + 150
    assert service.batcher.batches - batches < 150  # requests that came together were scored together
    for u in users:
        now = service.scorer.state.get("user_chain", u, start + dt.timedelta(hours=1))["withdrawals_24h"]
        assert now == counts_before[u] + 50


def test_a_restart_restores_the_online_state_cases_and_audit(serve_world: ServeWorld, tmp_path: Path) -> None:
    work = tmp_path / "work"
    keys = add_people(work)
    first = Service(serve_world.config(work))
    user = serve_world.case_users[0]
    with TestClient(create_app(first.config, first)) as c:
        for _ in range(3):
            assert c.post("/v1/score/withdrawal", json=withdrawal(first, user),
                          headers=bearer(keys["service"])).status_code == 200
    at = (first.scorer.clock or dt.datetime.now(dt.UTC)) + dt.timedelta(minutes=1)
    expected = first.scorer.state.get("user_chain", user, at)
    audit_before = _audit_count(serve_world)
    # a crash: no snapshot since start-up, so the three events exist only in the journal
    first.journal.close()
    second = Service(serve_world.config(work))
    assert second.scorer.state.get("user_chain", user, at) == expected
    assert second.scorer.clock == first.scorer.clock
    second.close()  # a clean stop snapshots
    third = Service(serve_world.config(work))
    assert third.snapshot_seq == second.snapshot_seq and third.scorer.state.get("user_chain", user, at) == expected
    assert _audit_count(serve_world) == audit_before
    with TestClient(create_app(third.config, third)) as c:  # keys survive too
        assert c.get("/metrics", headers=bearer(keys["admin"])).status_code == 200
    third.close()


def test_a_new_server_starts_from_another_holders_snapshot(serve_world: ServeWorld, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream consumer writes the same snapshot format: a new server starts from it without replaying the
    lake (here the other holder is a server whose snapshot the new one has never seen)."""
    holder = Service(serve_world.config(tmp_path / "holder"))
    user = serve_world.case_users[1]
    at = (holder.scorer.clock or dt.datetime.now(dt.UTC)) + dt.timedelta(minutes=1)
    expected = holder.scorer.state.get("user_chain", user, at)
    holder.close()

    def no_replay(*args: object, **kwargs: object) -> None:
        raise AssertionError("replayed the lake")

    monkeypatch.setattr(service_module, "warm", no_replay)
    keys = add_people(tmp_path / "new")
    seeded = Service(serve_world.config(tmp_path / "new", from_snapshot=tmp_path / "holder"))
    assert seeded.scorer.state.get("user_chain", user, at) == expected and seeded.snapshot_seq == 0
    with TestClient(create_app(seeded.config, seeded)) as c:
        assert c.post("/v1/score/withdrawal", json=withdrawal(seeded, user),
                      headers=bearer(keys["service"])).status_code == 200
    seeded.close()
    for own in [*(tmp_path / "new").glob("side-*"), *(tmp_path / "new").glob("state-*")]:
        own.unlink()  # its snapshot lost, its journal kept: seeding would now miss the journalled withdrawal
    with pytest.raises(CryptoscopeError, match="journalled events already"):
        Service(serve_world.config(tmp_path / "new", from_snapshot=tmp_path / "holder"))
    with pytest.raises(CryptoscopeError, match="no snapshot to start from"):
        Service(serve_world.config(tmp_path / "empty", from_snapshot=tmp_path / "nowhere"))


def _audit_count(world: ServeWorld) -> int:
    from cryptoscope.cases.store import CaseStore, default_url

    return CaseStore(default_url(world.abnormal)).audit_count()


def test_rate_limits_answer_429(live: tuple[Service, dict[str, str]]) -> None:
    service, keys = live
    tight = create_app(service.config.__class__(**{**service.config.__dict__, "service_rate": "3/minute"}), service)
    with TestClient(tight) as c:
        codes = [c.get("/metrics", headers=bearer(keys["service"])).status_code for _ in range(5)]
    assert codes[:3] == [200] * 3 and codes[3:] == [429, 429]
