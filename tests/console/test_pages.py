"""Console pages over HTTP: login required, every page renders, missing parts say so plainly."""

from __future__ import annotations

from fastapi.testclient import TestClient

from serve.fixtures import login
from serve.world import ServeWorld


def test_pages_need_a_login_and_wrong_passwords_are_refused(client: TestClient) -> None:
    client.cookies.clear()
    r = client.get("/console/models", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    bad = client.post("/console/login", data={"username": "junior", "password": "wrong password!"})
    assert bad.status_code == 401 and "Wrong user name or password" in bad.text
    assert client.post("/console/login", data={"username": "junior", "password": "x",
                                               "next": "https://evil.example/"}).status_code == 401


def test_every_page_renders_for_an_analyst(client: TestClient, serve_world: ServeWorld) -> None:
    login(client, "senior")
    queue = client.get("/console/")
    assert queue.status_code == 200 and "Case queue" in queue.text
    models = client.get("/console/models")
    assert models.status_code == 200 and "risk_withdrawal v1" in models.text and "risk_payment" in models.text
    report = client.get("/console/models/withdrawal/report")
    assert report.status_code == 200 and report.text.lstrip().lower().startswith("<!doctype html")
    assert client.get(f"/console/users/{serve_world.pii_user}").status_code == 200
    chain = client.get("/console/chain", params={"address": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"})
    assert chain.status_code in (200, 503)
    assert ("never moved funds" in chain.text or "haircut" in chain.text) if chain.status_code == 200 \
        else "no bitcoin flows" in chain.text
    reco = client.get("/console/reco", params={"user": serve_world.pii_user})
    assert reco.status_code == 503 and "no trained recommender" in reco.text
    feedback = client.get("/console/feedback")
    assert feedback.status_code == 503 and "no feedback report" in feedback.text
    graph = client.get(f"/console/cases/{_case_of(client, serve_world.case_users[0])}/graph.png")
    assert graph.status_code == 200 and graph.content[:8] == b"\x89PNG\r\n\x1a\n"
    client.cookies.clear()


def _case_of(client: TestClient, user: int) -> int:
    for case in client.get("/v1/cases", params={"limit": 1000}).json()["cases"]:
        detail = client.get(f"/v1/cases/{case['id']}").json()
        if any(m[0] == user for m in detail["members"]):
            return int(case["id"])
    raise AssertionError(f"no case holds user {user}")


def test_the_queue_shows_the_review_order_rank_and_expected_loss(client: TestClient, serve_world: ServeWorld) -> None:
    import datetime as dt

    from cryptoscope.cases import CaseStore, QueuePlace, default_url
    from cryptoscope.cases.grouping import UserAlert, file_alerts

    store = CaseStore(default_url(serve_world.abnormal))
    # two open cases of its own: other tests sharing the world close and merge the ones it came with
    users = [u for u in range(100, 200) if not store.cases_of([u])][:2]
    file_alerts(store, "console-queue-test", dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                [UserAlert(u, 0.5, "withdrawals_7d = 3") for u in users], [], scored=2)
    first, second = (store.cases_of([u])[u][0] for u in users)
    # what `anomaly run` stores after ordering the queue: the second case first, for its expected loss
    store.set_queue("test-run", [QueuePlace(second, 1, 4, 8_000, 0.42, 12_000.0, 5_040.0, False),
                                 QueuePlace(first, 2, 1, 8_000, None, 300.0, None, True)])
    login(client, "senior")
    page = client.get("/console/").text
    assert page.index(f"#{second}<") < page.index(f"#{first}<")
    assert "4 of 8,000 (top 0.05 %)" in page and "0.42" in page and "$5,040" in page
    assert "not yet calibrated" in page and "<em>teaches</em>" in page
    client.cookies.clear()
