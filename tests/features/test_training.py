"""Training sets hold only what was known on the cut-off day."""

from __future__ import annotations

import datetime as dt

import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.engines import connect
from cryptoscope.features.training import label_spine, training_set
from cryptoscope.features.views import VIEWS
from cryptoscope.lake import Lake
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary

World = tuple[Lake, SimConfig, SimSummary]


def test_only_labels_known_by_the_cutoff_make_it_in(small_world: World) -> None:
    lake, cfg, _ = small_world
    con = connect(lake)
    cutoff = cfg.start + dt.timedelta(days=60)
    rows = label_spine(con, "card_fraud", cutoff).to_pyarrow().to_pylist()
    everything = con.table("labels").filter(lambda t: t.label_type == "card_fraud").count().execute()
    positives = [r for r in rows if r["label"] == 1]
    assert 0 < len(positives) < everything  # chargebacks still on their way are not positives yet
    assert all(r["label_time"] <= cutoff for r in positives)
    assert all(r["decision_time"] < cutoff for r in rows)
    # every other card deposit before the cut-off is a negative: chargebacks are the only labels there are
    negatives = [r for r in rows if r["label"] == 0]
    assert len(negatives) > 10 * len(positives) and all(r["label_time"] is None for r in negatives)


def test_training_set_has_every_user_view_and_past_only_features(small_world: World) -> None:
    lake, cfg, _ = small_world
    con = connect(lake)
    cutoff = cfg.start + dt.timedelta(days=80)
    frame = training_set(con, list(VIEWS.values()), "account_takeover", cutoff).to_pyarrow()
    assert frame.num_rows > 0
    for view in VIEWS.values():
        if view.key == "user_id":
            assert set(view.feature_names()) <= set(frame.column_names), view.name
    # takeover withdrawals follow a login from a new device: that login is in the past of the decision
    taken_over = [row for row in frame.select(["label", "logins_24h"]).to_pylist() if row["label"] == 1]
    assert taken_over and sum(1 for r in taken_over if r["logins_24h"]) / len(taken_over) > 0.9


def test_a_naive_cutoff_is_refused(small_world: World) -> None:
    with pytest.raises(CryptoscopeError, match="UTC"):
        label_spine(connect(small_world[0]), "card_fraud", dt.datetime(2025, 3, 1))
