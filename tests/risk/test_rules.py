"""The rules baselines, read as the policies a risk team writes down."""

from __future__ import annotations

import pandas as pd

from cryptoscope.risk.rules import credit_rules, deposit_rules, kyc_rules, payment_rules, withdrawal_rules


def test_kyc_blocks_reused_images_and_reviews_country_mismatches() -> None:
    frame = pd.DataFrame({"document_other_accounts": [0, 2, 0, 0], "selfie_other_accounts": [0, 0, 1, 0],
                          "document_country_mismatch": [0, 0, 0, 1], "ip_country_mismatch": [0, 1, 0, 0]})
    assert kyc_rules(frame).tolist() == ["approve", "block", "block", "review"]


def test_payment_blocks_card_testing_and_reviews_a_young_accounts_large_first_payment() -> None:
    frame = pd.DataFrame({"declines_1h": [0, 3, 0, 0, 0], "instruments_24h": [1, 1, 3, 0, 0],
                          "account_age_days": [400, 400, 400, 2, 2], "payments_30d": [5, 5, 5, 0, 0],
                          "amount_usd": [900, 10, 10, 800, 80]})
    assert payment_rules(frame).tolist() == ["approve", "block", "block", "review", "approve"]


def test_withdrawal_reviews_a_security_change_or_more_than_deposited_and_blocks_both_on_a_new_device() -> None:
    frame = pd.DataFrame({"security_changes_24h": [0, 1, 0, 1, 1], "amount_usd": [50, 50, 900, 900, 900],
                          "deposits_usd_30d": [100, 100, 100, 100, 100], "new_devices_24h": [0, 0, 0, 0, 1]})
    assert withdrawal_rules(frame).tolist() == ["approve", "review", "review", "review", "block"]


def test_credit_reviews_high_leverage_and_blocks_it_with_a_high_loan_to_value() -> None:
    frame = pd.DataFrame({"leverage": [3.0, 5.0, 10.0, 10.0], "ltv": [0.75, 0.75, 0.5, 0.75]})
    assert credit_rules(frame).tolist() == ["approve", "review", "review", "block"]


def test_deposit_blocks_funds_straight_from_a_sanctioned_address_and_reviews_exposure_from_ten_percent() -> None:
    # point-in-time exposure of the deposit: none; 3 hops away (0.5^3); just under 10 %; direct sanctioned;
    # direct mixer; sanctioned 1 hop away; not scored yet (missing: nothing known, nothing flagged)
    frame = pd.DataFrame({"haircut": [0.0, 0.125, 0.09, 1.0, 1.0, 0.5, None],
                          "hops": [None, 3, 1, 0, 0, 1, None],
                          "category_sanctioned": [0, 0, 0, 1, 0, 1, 0]})
    assert deposit_rules(frame).tolist() == ["approve", "review", "approve", "block", "review", "review", "approve"]
