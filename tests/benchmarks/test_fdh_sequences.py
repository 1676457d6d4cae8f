"""The card sequences a sequence model reads: only payments strictly before the decision, labels only once known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoscope.benchmarks.fdh_sequences import EVENT_FEATURES, event_sequences
from cryptoscope.errors import CryptoscopeError

T = pd.Timestamp("2018-08-10 12:00", tz="UTC")
F = {name: i for i, name in enumerate(EVENT_FEATURES)}


def hours(h: float) -> pd.Timestamp:
    return T + pd.Timedelta(hours=h)


def history() -> pd.DataFrame:
    """Card a: payments 5 h and 1 h before T, one exactly at T (the decision's own), one after; card b before T."""
    return pd.DataFrame({
        "card": ["a", "a", "a", "a", "b"],
        "event_time": [hours(-5), hours(-1), T, hours(2), hours(-2)],
        "amount": [10.0, 20.0, 999.0, 888.0, 50.0],
        "merchant_id": ["m1", "m2", "m1", "m1", "m1"],
        # the 5-h-old payment's label was known 2 h before T; the 1-h-old one's only after T
        "known_time": [hours(-2), hours(3), hours(100), hours(100), pd.NaT],
        "label": [1.0, 1.0, 0.0, 0.0, np.nan],
    })


def decision(card: str = "a", merchant: str = "m1", mean: float = 15.0) -> pd.DataFrame:
    return pd.DataFrame({"card": [card], "decision_time": [T], "merchant_id": [merchant], "amount": [999.0],
                         "customer_mean_amount_30d": [mean]})


def test_a_sequence_holds_the_cards_earlier_payments_oldest_first_left_padded() -> None:
    seq = event_sequences(history(), decision(), steps=4)[0]
    assert seq.shape == (4, len(EVENT_FEATURES))
    assert (seq[:2] == 0).all()  # two padding steps: card a has only two payments before T
    assert seq[2:, F["present"]].tolist() == [1, 1]
    assert np.expm1(seq[2:, F["log_amount"]]).tolist() == pytest.approx([10.0, 20.0])
    assert np.expm1(seq[2:, F["log_hours_before"]]).tolist() == pytest.approx([5.0, 1.0])
    assert np.expm1(seq[2:, F["log_amount_over_mean"]]).tolist() == pytest.approx([10 / 15, 20 / 15])
    assert seq[2:, F["same_terminal"]].tolist() == [1, 0]
    # the label of the 5-h-old payment was known before T; the 1-h-old one's was not, so it stays hidden
    assert seq[2:, F["label_known"]].tolist() == [1, 0]
    assert seq[2:, F["known_fraud"]].tolist() == [1, 0]


def test_nothing_at_or_after_the_decision_leaks_in() -> None:
    """Rewriting every payment at or after T, and every label known at or after T, changes nothing at T."""
    before = event_sequences(history(), decision(), steps=6)
    changed = history()
    late = changed.event_time >= T
    changed.loc[late, "amount"] = 1e6
    changed.loc[late, "merchant_id"] = "m1"
    changed.loc[changed.known_time >= T, ["known_time", "label"]] = [T, 1.0]  # known exactly at T: still too late
    extra = pd.DataFrame({"card": ["a"] * 3, "event_time": [T, T, hours(0.001)], "amount": [7.0] * 3,
                          "merchant_id": ["m1"] * 3, "known_time": [hours(-3)] * 3, "label": [1.0] * 3})
    after = event_sequences(pd.concat([changed, extra], ignore_index=True), decision(), steps=6)
    np.testing.assert_array_equal(before, after)
    # the same history, decided one microsecond later, does see the payment at T: the cut is exactly at T
    later = decision().assign(decision_time=T + pd.Timedelta(microseconds=1))
    assert event_sequences(history(), later, steps=6)[0, -1, F["log_amount"]] == pytest.approx(np.log1p(999.0))


def test_the_decisions_own_payment_can_close_the_sequence_without_its_label() -> None:
    seq = event_sequences(history(), decision(), steps=3, with_decision=True)[0]
    assert np.expm1(seq[:, F["log_amount"]]).tolist() == pytest.approx([10.0, 20.0, 999.0])
    assert seq[-1, F["log_hours_before"]] == 0 and seq[-1, F["label_known"]] == 0 and seq[-1, F["known_fraud"]] == 0


def test_cards_do_not_mix_and_an_unknown_card_is_all_padding() -> None:
    frame = pd.concat([decision("b"), decision("zz")], ignore_index=True)
    seq = event_sequences(history(), frame, steps=3)
    assert seq[0, :, F["present"]].tolist() == [0, 0, 1]
    assert np.expm1(seq[0, -1, F["log_amount"]]) == pytest.approx(50.0)
    assert (seq[1] == 0).all()


def test_bad_inputs_are_one_clear_error() -> None:
    with pytest.raises(CryptoscopeError, match="steps must be positive"):
        event_sequences(history(), decision(), steps=0)
    with pytest.raises(CryptoscopeError, match="decisions lacks columns merchant_id"):
        event_sequences(history(), decision().drop(columns="merchant_id"))
