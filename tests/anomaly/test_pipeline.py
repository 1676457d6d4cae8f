"""Detection runs on a simulated world: alerts with reasons, grouped into cases, never duplicated across runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from cryptoscope.anomaly.pipeline import DetectionConfig, RunResult, detect
from cryptoscope.cases import CaseStore
from cryptoscope.cases.models import Alert
from cryptoscope.lake import Lake, connect
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary

#: Typologies whose accounts behave abnormally (friendly fraud is label noise, defaults are credit risk).
NOT_ABNORMAL = ("loan_default", "friendly_fraud")


def _alerts(store: CaseStore) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(Alert)) or 0)


@pytest.fixture(scope="module")
def runs(small_world: tuple[Lake, SimConfig, SimSummary], tmp_path_factory: pytest.TempPathFactory
         ) -> tuple[Lake, CaseStore, list[RunResult], list[int], list[int]]:
    """Week 8, week 8 again (a repeated run), then week 11: the queue after each."""
    lake, cfg, _ = small_world
    store = CaseStore(f"sqlite:///{tmp_path_factory.mktemp('cases') / 'cases.db'}")
    results, cases, alerts = [], [], []
    scored = None
    for day in (56, 56, 77):
        # the repeated run re-files the same scores (graph and features of the same time are the same)
        reuse: dict[str, Any] = ({"graph": scored.graph, "features": scored.features}
                                 if scored is not None and day == 56 else {})
        run, scored = detect(lake, store, cfg.start + dt.timedelta(days=day), DetectionConfig(alert_rate=0.004),
                             **reuse)
        results.append(run)
        cases.append(len(store.list_cases(include_merged=True)))
        alerts.append(_alerts(store))
    return lake, store, results, cases, alerts


def test_a_repeated_run_adds_no_case_and_no_alert(runs) -> None:  # type: ignore[no-untyped-def]
    _, _, results, cases, alerts = runs
    first, again, _ = results
    assert first.new_cases == cases[0] > 0 and first.alerts > 0
    assert again.run_key == first.run_key
    assert again.new_cases == 0 and cases[1] == cases[0] and alerts[1] == alerts[0]


def test_a_later_run_merges_into_existing_cases(runs) -> None:  # type: ignore[no-untyped-def]
    _, store, results, cases, alerts = runs
    later = results[2]
    assert alerts[2] > alerts[1]
    assert later.updated_cases > 0, "users and rings seen again go to their existing cases"
    assert cases[2] - cases[1] == later.new_cases < later.alerts + later.ring_alerts
    held: dict[int, int] = {}
    for case in store.list_cases():
        for user in store.member_ids(case.id):
            held[user] = held.get(user, 0) + 1
    assert max(held.values()) == 1, "a user is in one case at a time"


def test_cases_carry_reasons_and_find_real_abuse(runs) -> None:  # type: ignore[no-untyped-def]
    lake, store, _, _, _ = runs
    bad = set(connect(lake).con.sql(
        f"SELECT DISTINCT user_id FROM ground_truth WHERE typology NOT IN {NOT_ABNORMAL}").df()["user_id"])
    top = store.list_cases(limit=10)
    assert all(c.reasons for c in top)
    assert any(" = " in c.reasons and "% of" in c.reasons for c in top), "features against peers"
    assert any(c.kind == "ring" and "accounts sharing" in c.reasons for c in top), "links"
    hits = sum(len(set(store.member_ids(c.id)) & bad) * 2 > c.members for c in top)
    print(f"top-10 cases holding mostly abnormal users: {hits}")
    # 2 % of the world is abnormal: picking 10 cases at random would find almost none
    assert hits >= 3


def test_the_queue_is_usable_from_the_cli(runs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from cryptoscope.cli import app

    _, store, _, _, _ = runs
    url = store.engine.url.render_as_string(hide_password=False)
    case = store.list_cases(limit=1)[0].id
    lake = tmp_path / "labels-lake"  # decisions write labels here, not into the shared world
    cli = CliRunner()
    common = ["--lake", str(lake), "--db", url]
    res = cli.invoke(app, ["cases", "list", *common, "--limit", "5"])
    assert res.exit_code == 0 and str(case) in res.output
    res = cli.invoke(app, ["cases", "assign", str(case), "alice", *common, "--by", "lead"])
    assert res.exit_code == 0, res.output
    res = cli.invoke(app, ["cases", "decide", str(case), "closed_fraud", *common, "--by", "alice", "--note", "ok"])
    assert res.exit_code == 0 and "labels written to the lake" in res.output
    res = cli.invoke(app, ["cases", "show", str(case), *common])
    assert res.exit_code == 0 and "closed_fraud" in res.output and "alice" in res.output
    assert connect(Lake(lake)).con.sql("SELECT count(*) FROM labels WHERE label = 1").fetchall()[0][0] > 0


def test_supervised_risk_scores_count_when_they_exist(tmp_path: Path) -> None:
    import pyarrow as pa

    from cryptoscope.anomaly.pipeline import risk_signal
    from cryptoscope.schema import get_table

    lake = Lake(tmp_path / "lake")
    at = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    rows = [{"score_id": f"withdrawal:{i}:1", "kind": "withdrawal", "entity_type": "transfer", "entity_id": str(i),
             "user_id": user, "event_time": at - dt.timedelta(days=age), "score": score, "decision": "review",
             "reasons": "", "model_name": "risk_withdrawal", "model_version": 1, "scored_at": at}
            for i, (user, age, score) in enumerate([(1, 2, 0.9), (1, 5, 0.2), (2, 40, 0.99), (3, -1, 0.8)])]
    with lake.transaction() as tx:
        tx.append("risk_scores", pa.Table.from_pylist(rows, schema=get_table("risk_scores").arrow_schema))
    risk = risk_signal(connect(lake), at)
    # user 2's score is older than 30 days, user 3's is after the run: neither counts
    assert risk.to_dict() == {1: 0.9}


def _decisions_lake(path: Path, at: dt.datetime, rows: list[tuple[int, int, str, float]]) -> Lake:
    """A lake holding label rows (user, label, label type, days before ``at`` the decision was taken)."""
    import pyarrow as pa

    from cryptoscope.schema import get_table

    lake = Lake(path)
    table = [{"label_id": i, "entity_type": "user", "entity_id": str(user), "user_id": user, "label_type": kind,
              "label": label, "decision_time": at - dt.timedelta(days=30), "event_time": at - dt.timedelta(days=age),
              "source": "investigation"} for i, (user, label, kind, age) in enumerate(rows)]
    with lake.transaction() as tx:
        tx.append("labels", pa.Table.from_pylist(table, schema=get_table("labels").arrow_schema))
    return lake


def test_analyst_decisions_are_read_point_in_time(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    from cryptoscope.anomaly.pipeline import analyst_decisions

    at = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    lake = _decisions_lake(tmp_path / "lake", at, [
        (1, 1, "abnormal_user", 3),                                # closed as fraud before the run
        (2, 0, "abnormal_user", 10), (2, 1, "abnormal_user", -1),  # the later decision comes after the run
        (3, 1, "chargeback", 5),                                   # not a decision on this queue
        (4, 0, "abnormal_user", 5), (4, 1, "abnormal_user", 2),    # re-opened and closed again: the latest counts
    ])
    got = analyst_decisions(connect(lake), at, pd.Index([1, 2, 3, 4, 5]))
    np.testing.assert_array_equal(got, [1.0, 0.0, np.nan, 1.0, np.nan])


def test_decided_cases_weight_the_next_run(small_world: tuple[Lake, SimConfig, SimSummary], tmp_path: Path) -> None:
    from cryptoscope.anomaly.features import behaviour_features
    from cryptoscope.anomaly.pipeline import score_users

    world, cfg, _ = small_world
    at = cfg.start + dt.timedelta(days=56)
    feats = behaviour_features(connect(world), at)
    config = DetectionConfig(use_graph=False)
    # the analysts' earlier queue: the 40 users the plain ensemble put on top; the first 10 were fraud
    plain = score_users(connect(world), at, config, None, feats)
    assert plain.decisions == 0 and len(set(plain.weights.values())) == 1
    top = plain.users["behaviour"].sort_values(ascending=False).index[:40]
    rows = [(int(u), int(i < 10), "abnormal_user", 1.0) for i, u in enumerate(top)]
    lake = _decisions_lake(tmp_path / "lake", at, rows)
    fed = score_users(connect(lake), at, config, None, feats)
    assert fed.decisions == 40
    assert sum(fed.weights.values()) == pytest.approx(1.0) and len(set(fed.weights.values())) > 1


def test_label_ids_come_from_content_not_from_the_queue_s_case_ids(tmp_path: Path) -> None:
    """Two queues that filed the same run (one holding an older case, so its case ids are shifted) write the
    same label ids for the same decisions, and a second sync adds nothing."""
    import pandas as pd

    from cryptoscope.cases import sync_labels
    from cryptoscope.cases.grouping import UserAlert, file_alerts

    at = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    labels, case_ids = {}, {}
    for name, older in (("a", False), ("b", True)):
        store = CaseStore(f"sqlite:///{tmp_path / name}.db")
        if older:
            file_alerts(store, "older", at - dt.timedelta(days=7), [UserAlert(99, 0.5, "older")], [], 100)
        file_alerts(store, "run", at, [UserAlert(7, 0.9, "odd"), UserAlert(8, 0.8, "odd")], [], 100)
        for case in store.list_cases():
            if case.title in ("user 7", "user 8"):
                store.assign(case.id, "alice", actor="lead")
                store.transition(case.id, "closed_fraud" if case.title == "user 7" else "closed_legit", actor="alice")
        case_ids[name] = sorted(c.id for c in store.list_cases(include_merged=True) if c.title != "user 99")
        lake = Lake(tmp_path / name / "lake")
        assert sync_labels(store, lake) == 2 and sync_labels(store, lake) == 0
        frame: pd.DataFrame = connect(lake).table("labels").to_pandas()
        labels[name] = frame.sort_values("user_id")[["label_id", "user_id", "label"]].reset_index(drop=True)
    assert case_ids["a"] != case_ids["b"]
    pd.testing.assert_frame_equal(labels["a"], labels["b"])
