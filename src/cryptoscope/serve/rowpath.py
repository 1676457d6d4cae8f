"""Each product's ``derive``, rules and guardrail on one decision row as a plain dict, without pandas.

Why: ``product.derive`` and the rules are written for the batch decision frame (pandas), and on a
frame of one to a few rows pandas' per-call overhead (column inserts, index checks, option look-ups)
was most of a scoring request's time: ~2 ms of the ~4 ms a one-row batch took. Online, the same
arithmetic on a dict costs microseconds.

The batch code stays the reference. Each function here restates one of ``risk/products.py``'s derive
functions or ``risk/rules.py``'s rule sets in scalar form, with pandas' semantics (a missing value is
NaN; a comparison with NaN is false; ``fillna(0)``; ``where(x > 0)``). `RowPath.check` runs both on
the reference rows at start-up and the server uses this path for a product only where every derived
column, rule and guardrail decision agrees exactly; a product without a restatement here (one added to
``risk/`` later) or one that disagrees takes the pandas path. ``tests/serve/test_rowpath.py`` compares
the two on random rows of all four products.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from cryptoscope.models import APPROVE, BLOCK, REVIEW
from cryptoscope.risk.products import CREDIT_LGD, GUARD_COLUMN, RULE_COLUMN, Product
from cryptoscope.risk.rules import LARGE_FIRST_PAYMENT_USD, YOUNG_ACCOUNT_DAYS

Row = dict[str, Any]
NAN = math.nan


def _f(value: Any) -> float:
    """A frame cell as the float64 the batch frame holds (None is NaN)."""
    return NAN if value is None else float(value)


def _fill0(value: Any) -> float:
    v = _f(value)
    return 0.0 if v != v else v


def _positive(value: Any) -> float:
    """``series.where(series > 0)``: the value when above zero, else NaN."""
    v = _f(value)
    return v if v > 0 else NAN


def _decide(block: bool, review: bool) -> str:
    return BLOCK if block else REVIEW if review else APPROVE


# -- derive (risk/products.py) -----------------------------------------------------------------------
def _derive_kyc(row: Mapping[str, Any]) -> Row:
    return {}


def _derive_payment(row: Mapping[str, Any]) -> Row:
    amount, largest = _f(row["amount_usd"]), _positive(row["max_usd_30d"])
    return {"amount_over_max_30d": amount / largest if largest == largest else NAN,
            "chargeback_loss_usd": amount + 15.0, "block_good_usd": 20.0 + 0.02 * amount}


def _derive_withdrawal(row: Mapping[str, Any]) -> Row:
    amount = _f(row["amount_usd"])
    deposits = _fill0(row["deposit_usd_30d"]) + _fill0(row["chain_deposit_usd_30d"])
    deposits_7d = _fill0(row["deposit_usd_7d"]) + _fill0(row["chain_deposit_usd_7d"])
    return {"deposits_usd_30d": deposits, "amount_over_deposits_30d": amount / max(deposits, 1.0),
            "amount_over_deposits_7d": amount / max(deposits_7d, 1.0)}


def _derive_credit(row: Mapping[str, Any]) -> Row:
    principal = _f(row["principal_usd"])
    revenue = principal * _f(row["interest_rate"]) * _f(row["term_days"]) / 365.0 + 20.0
    low = _positive(row["symbol_min_price_24h"])
    return {"symbol_range_24h": _f(row["symbol_max_price_24h"]) / low if low == low else NAN,
            "default_loss_usd": principal * CREDIT_LGD, "refused_revenue_usd": revenue}


# -- rules and guardrails (risk/rules.py) ------------------------------------------------------------
def _kyc_reused(row: Mapping[str, Any]) -> bool:
    return _f(row["document_other_accounts"]) >= 1 or _f(row["selfie_other_accounts"]) >= 1


def _kyc_rules(row: Mapping[str, Any]) -> str:
    mismatch = _f(row["document_country_mismatch"]) == 1 or _f(row["ip_country_mismatch"]) == 1
    return _decide(_kyc_reused(row), mismatch)


def _kyc_guardrail(row: Mapping[str, Any]) -> str:
    return _decide(_kyc_reused(row), False)


def _payment_rules(row: Mapping[str, Any]) -> str:
    block = _f(row["declines_1h"]) >= 3 or _f(row["instruments_24h"]) >= 3
    review = (_f(row["account_age_days"]) < YOUNG_ACCOUNT_DAYS and _f(row["payments_30d"]) == 0
              and _f(row["amount_usd"]) >= LARGE_FIRST_PAYMENT_USD)
    return _decide(block, review)


def _withdrawal_rules(row: Mapping[str, Any]) -> str:
    security = _f(row["security_changes_24h"]) >= 1
    above = _f(row["amount_usd"]) > _f(row["deposits_usd_30d"])
    new_device = _f(row["new_devices_24h"]) >= 1
    return _decide(security and above and new_device, security or above)


def _credit_rules(row: Mapping[str, Any]) -> str:
    leverage = _f(row["leverage"])
    return _decide(leverage >= 10 and _f(row["ltv"]) > 0.7, leverage >= 5)


Derive = Callable[[Mapping[str, Any]], Row]
Decide = Callable[[Mapping[str, Any]], str]
#: kind -> (derive, rules, guardrail): the scalar restatements of the batch functions
SCALAR: dict[str, tuple[Derive, Decide, Decide | None]] = {
    "kyc": (_derive_kyc, _kyc_rules, _kyc_guardrail),
    "payment": (_derive_payment, _payment_rules, None),
    "withdrawal": (_derive_withdrawal, _withdrawal_rules, None),
    "credit": (_derive_credit, _credit_rules, None),
}


class RowPath:
    """One product's derive + rules + guardrail on dict rows; see the module doc."""

    def __init__(self, product: Product) -> None:
        if product.kind not in SCALAR:
            raise KeyError(f"no scalar restatement of {product.kind!r}'s derive and rules")
        self.product = product
        self.derive, self.rules, self.guardrail = SCALAR[product.kind]
        if (self.guardrail is None) != (product.guardrail is None):
            raise KeyError(f"{product.kind!r}'s guardrail is not restated here")

    def __call__(self, row: Mapping[str, Any]) -> Row:
        """``row`` (from ``decision_row``) with the derived columns, the rule and the guardrail decisions."""
        out = dict(row)
        out.update(self.derive(out))
        out[RULE_COLUMN] = self.rules(out)
        if self.guardrail is not None:
            out[GUARD_COLUMN] = self.guardrail(out)
        return out

    def check(self, rows: list[Row]) -> str:
        """'' when this path gives the batch functions' values on ``rows``; else the first column that differs."""
        from cryptoscope.serve.online import decision_frame

        if not rows:
            return "no reference rows to check against"
        product = self.product
        frame = product.derive(decision_frame([dict(r) for r in rows]))
        frame[RULE_COLUMN] = np.asarray(product.rules(frame), dtype=object)
        if product.guardrail is not None:
            frame[GUARD_COLUMN] = np.asarray(product.guardrail(frame), dtype=object)
        try:
            mine = [self(r) for r in rows]
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            return f"the scalar path fails on a reference row: {exc!r}"
        for column in [c for c in frame.columns if c not in rows[0]]:
            batch = frame[column].tolist()
            if any(column not in m for m in mine):
                return f"{column} is derived in batch but not here"
            if not all(_same(m[column], b) for m, b in zip(mine, batch, strict=True)):
                return f"{column} differs from the batch frame"
        return ""


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    x, y = _f(a), _f(b)
    return x == y or (x != x and y != y)
