"""The cost model, outcome by outcome, with fixed costs and with per-row amounts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import Costs, decision_costs


def test_each_outcome_costs_what_the_table_says() -> None:
    costs = Costs(missed_fraud=100.0, review=5.0, friction=2.0, block_good=30.0)
    y = [1, 0, 1, 0, 1, 0]
    decisions = ["approve", "approve", "review", "review", "block", "block"]
    # missed fraud, nothing, analyst time, analyst time + a good customer kept waiting, nothing, a lost customer
    np.testing.assert_array_equal(decision_costs(y, decisions, costs), [100, 0, 5, 7, 0, 30])


def test_costs_can_come_from_columns_of_the_scored_rows() -> None:
    frame = pd.DataFrame({"amount_usd": [250.0, 40.0, 80.0], "margin": [1.0, 2.0, 8.0]})
    costs = Costs(missed_fraud="amount_usd", review=4.0, block_good="margin")
    np.testing.assert_array_equal(decision_costs([1, 1, 0], ["approve", "block", "block"], costs, frame), [250, 0, 8])
    assert costs.columns == ("amount_usd", "margin")


def test_unusable_costs_are_refused() -> None:
    with pytest.raises(CryptoscopeError, match="must not be negative"):
        Costs(missed_fraud=-1.0)
    with pytest.raises(CryptoscopeError, match="pass the frame that holds it"):
        decision_costs([1], ["approve"], Costs(missed_fraud="amount_usd"))
    with pytest.raises(CryptoscopeError, match=r"unknown decisions \['hold'\]"):
        decision_costs([1], ["hold"], Costs(missed_fraud=1.0))
