"""The abnormal line's batch stage: decisions taken anywhere in the case queue reach the lake before it learns."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from cryptoscope.anomaly.line import detect_into_cases
from cryptoscope.cases import LABEL_TYPE, CaseStore, default_url
from cryptoscope.cases.grouping import UserAlert, file_alerts
from cryptoscope.lake import Lake, connect
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary


def test_cases_closed_in_the_console_become_labels_before_the_run(
        small_world: tuple[Lake, SimConfig, SimSummary], tmp_path: Path) -> None:
    world, cfg, _ = small_world
    root = tmp_path / "lake"
    shutil.copytree(world.root, root)  # the run writes labels: never into the shared world
    work = tmp_path / "work"
    store = CaseStore(default_url(work))
    # an earlier run's case, closed the way the console does it (assign, then decide; no `cases decide`)
    user = int(connect(root).table("accounts").user_id.min().execute())
    file_alerts(store, "earlier", cfg.start + dt.timedelta(days=30), [UserAlert(user, 0.99, "earlier")], [], 1)
    case = store.list_cases("open")[0].id
    store.assign(case, "alice", actor="alice")
    store.transition(case, "closed_fraud", actor="alice", note="same card as a known ring")
    run = detect_into_cases(root, work)
    labels = connect(root).table("labels").to_pyarrow().to_pandas()
    mine = labels[(labels["label_type"] == LABEL_TYPE) & (labels["user_id"] == user)]
    assert mine["label"].tolist() == [1] and run.run.alerts > 0
    places = [q for _, q in store.queue() if q is not None]
    assert places and [q.position for q in places] == list(range(1, len(places) + 1))
    assert len({q.rank for q in places}) == len(places)  # the top cases are told apart
