"""The withdrawal product's event sequences: the account's events strictly before the decision, then itself."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.last_events import latest_before
from cryptoscope.risk.products import PRODUCTS
from cryptoscope.risk.sequences import EVENT_FEATURES, AccountHistory, OnlineEvents, sequence_columns, steps_of
from cryptoscope.risk.training import model_inputs

T = pd.Timestamp("2025-03-10 12:00", tz="UTC")
F = {name: i for i, name in enumerate(EVENT_FEATURES)}


def at(hours: float) -> pd.Timestamp:
    return T + pd.Timedelta(hours=hours)


def lake_tables() -> dict[str, pd.DataFrame]:
    """User 1: a usual login (10 h before T), a login from a new device and country (2 h before), a 2FA switch-off
    (1 h before), a crypto withdrawal at T (the decision) and events after T; user 2: a fiat deposit before T."""
    sessions = pd.DataFrame({
        "session_id": [1, 2, 3, 4], "user_id": [1, 1, 1, 1], "event_time": [at(-10), at(-2), T, at(1)],
        "device_id": ["d1", "d2", "d3", "d4"], "ip_country": ["FR", "RU", "BR", "CN"],
        "success": [True, True, False, True], "used_2fa": [True, False, False, False]})
    changes = pd.DataFrame({"change_id": [1, 2], "user_id": [1, 1], "event_time": [at(-1), at(0.5)],
                            "change_type": ["2fa_disabled", "password"]})
    payments = pd.DataFrame({"payment_id": [1], "user_id": [2], "event_time": [at(-3)], "amount_usd": [100.0],
                             "direction": ["deposit"]})
    transfers = pd.DataFrame({
        "transfer_id": [1, 2, 3], "user_id": [1, 1, 1], "event_time": [at(-30), T, at(2)],
        "direction": ["withdrawal", "withdrawal", "withdrawal"], "address": ["a_old", "a_new", "a_new"],
        "amount_usd": [50.0, 5000.0, 7000.0]})
    return {"sessions": sessions, "account_changes": changes, "payments": payments, "chain_transfers": transfers}


def connect(tables: dict[str, pd.DataFrame]) -> ibis.BaseBackend:
    con = ibis.duckdb.connect()
    for name, frame in tables.items():
        con.create_table(name, frame)
    return con


def decisions() -> pd.DataFrame:
    return pd.DataFrame({"entity_id": ["2"], "user_id": [1], "decision_time": [T], "address": ["a_new"],
                         "amount_usd": [5000.0]})


def test_a_sequence_is_the_accounts_earlier_events_oldest_first_then_the_withdrawal() -> None:
    frame = AccountHistory.load(connect(lake_tables())).with_sequences(decisions(), steps=6)
    seq = frame[sequence_columns(6)].to_numpy().reshape(6, len(EVENT_FEATURES))
    assert seq[:, F["present"]].tolist() == [0, 1, 1, 1, 1, 1]  # four earlier events, one padding step
    earlier = seq[1:5]
    assert earlier[:, F["chain_withdrawal"]].tolist() == [1, 0, 0, 0]  # 30 h before: the old address
    assert earlier[:, F["login_ok"]].tolist() == [0, 1, 1, 0]
    assert earlier[:, F["new_device"]].tolist() == [0, 0, 1, 0]  # the first login's device is not a novelty
    assert earlier[:, F["new_country"]].tolist() == [0, 0, 1, 0]
    assert earlier[:, F["no_2fa"]].tolist() == [0, 0, 1, 0]
    assert earlier[:, F["twofa_off"]].tolist() == [0, 0, 0, 1]
    assert np.expm1(earlier[:, F["log_hours_before"]]).tolist() == pytest.approx([30, 10, 2, 1], rel=1e-5)
    last = seq[-1]  # the withdrawal being decided: its amount and its (new) address, no time gap
    assert (last[F["chain_withdrawal"]], last[F["new_address"]], last[F["log_hours_before"]]) == (1, 1, 0)
    assert np.expm1(last[F["log_amount_usd"]]) == pytest.approx(5000.0, rel=1e-5)


def test_nothing_at_or_after_the_decision_leaks_in() -> None:
    """Adding, changing or removing any event at or after T leaves every sequence at T as it was."""
    before = AccountHistory.load(connect(lake_tables())).with_sequences(decisions(), steps=8)
    tables = lake_tables()
    for frame in tables.values():
        late = frame.event_time >= T
        frame.loc[late, "user_id"] = 1  # every late event now belongs to the decision's account
    extra = pd.DataFrame({"change_id": [9, 10], "user_id": [1, 1], "event_time": [T, at(0.001)],
                          "change_type": ["email", "2fa_disabled"]})
    tables["account_changes"] = pd.concat([tables["account_changes"], extra], ignore_index=True)
    tables["sessions"].loc[tables["sessions"].event_time >= T, "success"] = True
    after = AccountHistory.load(connect(tables)).with_sequences(decisions(), steps=8)
    pd.testing.assert_frame_equal(before, after)
    dropped = {name: frame[frame.event_time < T] for name, frame in lake_tables().items()}
    pd.testing.assert_frame_equal(before, AccountHistory.load(connect(dropped)).with_sequences(decisions(), steps=8))


def test_an_address_first_used_at_the_decision_is_new() -> None:
    history = AccountHistory.load(connect(lake_tables()))
    later = decisions().assign(decision_time=at(2))  # a_new was first used at T, before this one
    assert history.new_address(pd.concat([decisions(), later], ignore_index=True)).tolist() == [1, 0]


def test_latest_before_takes_only_strictly_earlier_events_of_the_same_entity() -> None:
    take, present = latest_before(np.array([0, 0, 1, 0]), np.array([5, 10, 1, 10]), np.array([0, 0]),
                                  np.array([10, 11]), steps=3)
    assert present.tolist() == [[False, False, True], [True, True, True]]
    assert take[0, -1] == 0  # at 10 only the event at 5 is earlier: the two at 10 are not
    assert sorted(take[1].tolist()) == [0, 1, 3]


def test_too_short_a_sequence_is_refused() -> None:
    with pytest.raises(CryptoscopeError, match="steps"):
        AccountHistory.load(connect(lake_tables())).with_sequences(decisions(), steps=1)


def test_online_sequences_equal_the_batch_ones() -> None:
    """Fed every event (those after the decision too) in time order, the online history gives the batch sequence."""
    tables = lake_tables()
    events = OnlineEvents()
    stream = sorted(((row["event_time"], name, row) for name, frame in tables.items()
                     for row in frame.to_dict("records")), key=lambda e: e[0])
    for _, name, row in stream:
        events.update(name, row)
    later = decisions().assign(decision_time=at(2.5), amount_usd=70.0)  # after a_new's first use at T
    frame = pd.concat([decisions(), later], ignore_index=True)
    batch = AccountHistory.load(connect(tables)).with_sequences(frame, steps=6)[sequence_columns(6)]
    online = pd.DataFrame([events.columns(1, r.decision_time, r.address, r.amount_usd, 6) for r in frame.itertuples()])
    pd.testing.assert_frame_equal(online.astype("float32"), batch.reset_index(drop=True), check_dtype=False)


def test_only_products_with_a_sequence_take_a_sequence_model() -> None:
    def no_history() -> AccountHistory:
        raise AssertionError("not read for these")

    frame = decisions()
    with pytest.raises(CryptoscopeError, match="no event sequence"):
        model_inputs(PRODUCTS["payment"], frame, "hybrid", 0, no_history)
    with pytest.raises(CryptoscopeError, match="unknown model"):
        model_inputs(PRODUCTS["withdrawal"], frame, "transformer", 0, no_history)
    same, features, _ = model_inputs(PRODUCTS["withdrawal"], frame, "lightgbm", 0, no_history)
    assert same is frame and features == list(PRODUCTS["withdrawal"].features)  # the default is untouched


def test_a_sequence_model_reads_the_products_features_then_the_sequence() -> None:
    history = AccountHistory.load(connect(lake_tables()))
    frame, features, estimator = model_inputs(PRODUCTS["withdrawal"], decisions(), "sequence", 0, lambda: history,
                                              steps=4)
    assert features == [*PRODUCTS["withdrawal"].features, *sequence_columns(4)]
    assert set(sequence_columns(4)) <= set(frame.columns)
    assert steps_of(features) == 4 and estimator.estimator.steps == 4
