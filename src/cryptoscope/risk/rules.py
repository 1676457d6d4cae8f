"""The rules an exchange runs today: the baseline every risk model must beat on cost.

Each rule set reads columns of a product's decision frame (see ``frames.py``), or of one decision row
online, and returns one of ``approve`` / ``review`` / ``block`` per row: written once over `Columns`
(``columns.py``), so the batch frame and the online row get the same decisions. They are deliberately
what a risk team writes first: a handful of thresholds on the strongest single signals, no learning.

>>> import pandas as pd
>>> credit_rules(pd.DataFrame({"leverage": [2.0, 5.0, 10.0], "ltv": [0.5, 0.5, 0.75]})).tolist()
['approve', 'review', 'block']
>>> credit_rules({"leverage": 12.0, "ltv": None})
'review'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptoscope.risk.columns import Readable, Value, columns, decide

Rules = Callable[[Readable], Value]

LARGE_FIRST_PAYMENT_USD = 500.0
YOUNG_ACCOUNT_DAYS = 7.0
EXPOSURE_REVIEW = 0.10  # haircut from which a deposit is held: a clean 3-hop path (0.5^3) still reaches it


def _reused(c: Any) -> Value:
    return (c["document_other_accounts"] >= 1) | (c["selfie_other_accounts"] >= 1)


def kyc_rules(data: Readable) -> Value:
    """Block a document or selfie another account already used; review when the countries disagree."""
    c = columns(data)
    mismatch = (c["document_country_mismatch"] == 1) | (c["ip_country_mismatch"] == 1)
    return decide(_reused(c), mismatch)


def kyc_guardrail(data: Readable) -> Value:
    """The KYC rule no model overrides: a document or selfie another account already used is blocked."""
    return decide(_reused(columns(data)), False)


def payment_rules(data: Readable) -> Value:
    """Block after 3+ declines in the hour or 3+ payment instruments in a day; review a young
    account's large first payment."""
    c = columns(data)
    block = (c["declines_1h"] >= 3) | (c["instruments_24h"] >= 3)
    review = ((c["account_age_days"] < YOUNG_ACCOUNT_DAYS) & (c["payments_30d"] == 0)
              & (c["amount_usd"] >= LARGE_FIRST_PAYMENT_USD))
    return decide(block, review)


def withdrawal_rules(data: Readable) -> Value:
    """Review after a security change in the last 24 hours or above the 30-day deposits; block when
    both happen and the account logged in from a new device in the last 24 hours."""
    c = columns(data)
    security = c["security_changes_24h"] >= 1
    above = c["amount_usd"] > c["deposits_usd_30d"]
    new_device = c["new_devices_24h"] >= 1
    return decide(security & above & new_device, security | above)


def credit_rules(data: Readable) -> Value:
    """Review leverage 5x and more; block 10x and more with a loan-to-value above 0.7."""
    c = columns(data)
    return decide((c["leverage"] >= 10) & (c["ltv"] > 0.7), c["leverage"] >= 5)


def deposit_rules(data: Readable) -> Value:
    """Block a deposit sent straight from a sanctioned address; review one whose point-in-time exposure
    (haircut: the hop-decayed share of its funds traced to illicit sources) reaches 10 %.

    Also the deposit model's guardrail: an exposure alert is a compliance obligation, so the model may
    turn a review into a block or hold more deposits, never wave an alerted one through.
    """
    c = columns(data)
    direct_sanctioned = (c["hops"] == 0) & (c["category_sanctioned"] == 1)
    return decide(direct_sanctioned, c["haircut"] >= EXPOSURE_REVIEW)
