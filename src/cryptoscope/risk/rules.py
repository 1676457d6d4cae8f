"""The rules an exchange runs today: the baseline every risk model must beat on cost.

Each rule set reads columns of a product's decision frame (see ``frames.py``) and returns one of
``approve`` / ``review`` / ``block`` per row. They are deliberately what a risk team writes first:
a handful of thresholds on the strongest single signals, no learning.

>>> import pandas as pd
>>> credit_rules(pd.DataFrame({"leverage": [2.0, 5.0, 10.0], "ltv": [0.5, 0.5, 0.75]})).tolist()
['approve', 'review', 'block']
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cryptoscope.models import APPROVE, BLOCK, REVIEW

Rules = Callable[[pd.DataFrame], np.ndarray]

LARGE_FIRST_PAYMENT_USD = 500.0
YOUNG_ACCOUNT_DAYS = 7.0
EXPOSURE_REVIEW = 0.10  # haircut from which a deposit is held: a clean 3-hop path (0.5^3) still reaches it


def _decide(frame: pd.DataFrame, block: pd.Series, review: pd.Series) -> np.ndarray:
    out = np.full(len(frame), APPROVE, dtype=object)
    out[review.fillna(False).to_numpy(dtype=bool)] = REVIEW
    out[block.fillna(False).to_numpy(dtype=bool)] = BLOCK
    return out.astype(str)


def kyc_rules(frame: pd.DataFrame) -> np.ndarray:
    """Block a document or selfie another account already used; review when the countries disagree."""
    reused = (frame["document_other_accounts"] >= 1) | (frame["selfie_other_accounts"] >= 1)
    mismatch = (frame["document_country_mismatch"] == 1) | (frame["ip_country_mismatch"] == 1)
    return _decide(frame, reused, mismatch)


def kyc_guardrail(frame: pd.DataFrame) -> np.ndarray:
    """The KYC rule no model overrides: a document or selfie another account already used is blocked."""
    reused = (frame["document_other_accounts"] >= 1) | (frame["selfie_other_accounts"] >= 1)
    return _decide(frame, reused, pd.Series(False, index=frame.index))


def payment_rules(frame: pd.DataFrame) -> np.ndarray:
    """Block after 3+ declines in the hour or 3+ payment instruments in a day; review a young
    account's large first payment."""
    block = (frame["declines_1h"] >= 3) | (frame["instruments_24h"] >= 3)
    review = ((frame["account_age_days"] < YOUNG_ACCOUNT_DAYS) & (frame["payments_30d"] == 0)
              & (frame["amount_usd"] >= LARGE_FIRST_PAYMENT_USD))
    return _decide(frame, block, review)


def withdrawal_rules(frame: pd.DataFrame) -> np.ndarray:
    """Review after a security change in the last 24 hours or above the 30-day deposits; block when
    both happen and the account logged in from a new device in the last 24 hours."""
    security = frame["security_changes_24h"] >= 1
    above = frame["amount_usd"] > frame["deposits_usd_30d"]
    new_device = frame["new_devices_24h"] >= 1
    return _decide(frame, security & above & new_device, security | above)


def credit_rules(frame: pd.DataFrame) -> np.ndarray:
    """Review leverage 5x and more; block 10x and more with a loan-to-value above 0.7."""
    return _decide(frame, (frame["leverage"] >= 10) & (frame["ltv"] > 0.7), frame["leverage"] >= 5)


def deposit_rules(frame: pd.DataFrame) -> np.ndarray:
    """Block a deposit sent straight from a sanctioned address; review one whose point-in-time exposure
    (haircut: the hop-decayed share of its funds traced to illicit sources) reaches 10 %.

    Also the deposit model's guardrail: an exposure alert is a compliance obligation, so the model may
    turn a review into a block or hold more deposits, never wave an alerted one through.
    """
    direct_sanctioned = (frame["hops"] == 0) & (frame["category_sanctioned"] == 1)
    return _decide(frame, direct_sanctioned, frame["haircut"] >= EXPOSURE_REVIEW)


RULES: dict[str, Rules] = {"kyc": kyc_rules, "payment": payment_rules, "withdrawal": withdrawal_rules,
                           "credit": credit_rules, "deposit": deposit_rules}
