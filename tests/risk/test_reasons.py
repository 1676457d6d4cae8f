"""Reason catalogs: every product's features read as words, one reason per signal."""

from __future__ import annotations

import math

from cryptoscope.models import Reason
from cryptoscope.risk.products import PRODUCTS
from cryptoscope.risk.reasons import PAYMENT, WITHDRAWAL, distinct_reasons, duration


def test_durations_read_in_the_largest_sensible_unit() -> None:
    assert [duration(s) for s in (45, 4000, 3 * 3600, 3 * 86_400)] == ["45 seconds", "67 minutes", "3 hours",
                                                                       "3 days"]


def test_a_new_device_and_country_read_as_one_reason() -> None:
    assert WITHDRAWAL.describe("since_new_device_country_7d", 3 * 3600) == (
        "new device and new country 3 hours before the withdrawal")
    assert WITHDRAWAL.describe("address_transfers_30d", 0) == "a destination address never seen in the last 30 days"
    assert PAYMENT.describe("declines_1h", 5) == "5 declined payments in the last hour"
    assert PAYMENT.describe("card_country_mismatch", 1) == "card issued outside the account's country"
    assert PAYMENT.describe("max_usd_30d", math.nan) == "no fiat payment in the last 30 days"


def test_a_sum_a_last_bit_either_side_of_a_rounding_edge_reads_the_same() -> None:
    """Spark and DuckDB add a week's deposits in different orders: the words must not depend on it."""
    below, above = 1862.4999999999, 1862.5000000001
    assert f"{below:,.0f}" != f"{above:,.0f}"
    assert WITHDRAWAL.describe("deposit_usd_7d", below) == WITHDRAWAL.describe("deposit_usd_7d", above)


def test_every_feature_of_every_product_reads_as_words() -> None:
    for product in PRODUCTS.values():
        for feature in product.features:
            for value in (0.0, 1.0, 7200.0, math.nan):
                text = product.catalog.describe(feature, value)
                assert text and "_" not in text, (product.kind, feature, value, text)


def test_one_reason_per_signal() -> None:
    reasons = [Reason(f, 1.0, 1.0, f) for f in ("declines_1h", "declines_24h", "amount_usd", "instruments_24h")]
    assert [r.feature for r in distinct_reasons(reasons, 3)] == ["declines_1h", "amount_usd", "instruments_24h"]
