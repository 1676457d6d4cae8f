"""The risk products: what each decides on, from which features, against which rules and costs.

========== ====================== ============================================ =====================
kind       decision (spine)       label (1 = bad)                              rules baseline
========== ====================== ============================================ =====================
kyc        each KYC submission    ``kyc_fraud`` on the submission              image re-use, countries
payment    each card deposit      ``card_fraud`` chargeback on the payment     declines, cards, first payment
withdrawal each crypto withdrawal ``account_takeover`` / ``money_mule``        security change, amount
credit     each loan opening      ``loan_default`` (only known outcomes)       leverage, loan-to-value
deposit    each crypto deposit    ``illicit_exposure`` on the transfer         point-in-time exposure
========== ====================== ============================================ =====================

The first four (``PRODUCTS``, ``KINDS``) decide on events as they arrive, batch or online. ``deposit``
(``CHAIN_PRODUCTS``) reads ``chain_exposure``, which the chain stage writes by tracing each deposit on
chain: it is trained and scored in batch after that stage, and the online state does not hold it.

Costs, in US dollars (``models/costs.py`` explains the table; a review is taken to stop the loss):

* kyc: a synthetic identity let in costs $1,000 (the card fraud, mule flows and bonus abuse such
  accounts go on to), a manual review $10 of analyst time, $5 of friction for a good applicant
  (a delayed onboarding, some give up), a rejected good applicant $150 of lifetime value;
* payment: a missed fraud costs the amount plus a $15 chargeback fee; review $5, friction $2; a
  blocked good payment $20 (support, churn) plus the 2 % deposit fee it would have paid;
* withdrawal: a missed takeover or mule cash-out costs the amount (refunded to the victim, or
  forfeited); review $10 (a hold and a call), friction $5, blocking a good customer's money $50;
* credit: a missed default costs the principal times a 25 % loss given default (the loans are
  over-collateralised: the liquidated collateral covers the rest); underwriting review $25,
  friction $10; refusing a good borrower loses the interest of the term plus $20 of trading fees
  and relationship;
* deposit: crediting a deposit whose funds come from an illicit source costs its amount (the funds
  are traded and withdrawn before the finding, and the exchange makes the victim or the authorities
  whole) plus $100 of after-the-fact investigation; review $15 (an analyst reads the trace), $5 of
  friction (the deposit is credited hours late), refusing a clean deposit $50 (support and churn).

Each product waits ``maturity`` for its labels before the build date (``plan.py``): 21 days for
KYC findings and chargebacks (they take 1-8 weeks), 7 for takeover reports and mule findings, 14 for
loan outcomes, 21 for exposure findings on deposits (1-20 days after the source is labelled). Its
model reads a chosen few of its views' features (a few dozen bad rows cannot support hundreds), with
the small boosted trees or, for KYC, the logistic regression of ``estimators.py``, calibrated with
two parameters (``sigmoid``) on a validation period of few bad rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import ibis.expr.types as ir
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.spec import FeatureView
from cryptoscope.features.views import (
    ACCOUNT_SECURITY,
    ADDRESS_ACTIVITY,
    DEVICE_ACTIVITY,
    INSTRUMENT_SHARING,
    IP_ACTIVITY,
    KYC_DOCUMENT_REUSE,
    KYC_SELFIE_REUSE,
    SYMBOL_ACTIVITY,
    USER_CHAIN,
    USER_EXPOSURE,
    USER_LOGINS,
    USER_PAYMENTS,
    USER_TRADING,
)
from cryptoscope.models import Costs, ReasonCatalog, RiskClassifier
from cryptoscope.risk import estimators, reasons, rules, spines
from cryptoscope.risk.columns import Columns, Data, FrameColumns, RowColumns, Value, fill, flag, floor, positive
from cryptoscope.risk.rules import Rules
from cryptoscope.schema.scores import EXPOSURE_MAX_HOPS

RULE_COLUMN = "rule_decision"
GUARD_COLUMN = "guardrail_decision"
KINDS = ("kyc", "payment", "withdrawal", "credit")  # decided as events arrive (batch and online)
ALL_KINDS = (*KINDS, "deposit")  # and those that need the chain stage's chain_exposure first
CREDIT_LGD = 0.25
DEPOSIT_INVESTIGATION_USD = 100.0


@dataclass(frozen=True)
class Product:
    """One risk product: see the module doc.

    ``views`` are joined at each decision (each with a prefix for its feature names); ``derive`` adds
    columns computed from the joined row (ratios, cost columns); ``features`` are the columns the
    model reads: a chosen few of all these, since a few dozen bad rows cannot support hundreds.
    """

    kind: str
    entity_type: str
    table: str  # the lake table its decisions are rows of
    id_column: str  # that table's id of a decision (``entity_id`` in the frame)
    label_types: tuple[str, ...]
    spine: Callable[[Any, dt.datetime | None], ir.Table]
    views: tuple[tuple[FeatureView, str], ...]
    features: tuple[str, ...]
    derive: Callable[[Columns], dict[str, Value]]
    rules: rules.Rules
    costs: Costs
    catalog: ReasonCatalog
    estimator: Callable[[int], RiskClassifier] = estimators.boosted_trees
    calibration: Literal["isotonic", "sigmoid"] = "sigmoid"  # two parameters: the valid period has few bad rows
    maturity: dt.timedelta = dt.timedelta(0)  # how long its labels take to mostly arrive (see plan.py)
    horizon: dt.timedelta = dt.timedelta(0)  # how long before a test decision's outcome can be judged
    novelty: bool = False
    outcome_required: bool = False
    decision: Literal["thresholds", "expected_cost"] = "thresholds"  # see models/decisions.py
    guardrail: Rules | None = None  # hard rules the model's decision never goes below
    doc: str = ""

    @property
    def model_name(self) -> str:
        return f"risk_{self.kind}"

    @property
    def online(self) -> bool:
        """Decided as its events arrive (the chain products need the chain stage's exposure first)."""
        return self.kind in PRODUCTS

    def is_decision(self, row: Mapping[str, Any]) -> bool:
        """Whether a row of ``table`` is one of this product's decisions."""
        return spines.is_decision(self.kind, row)

    def prepare(self, data: Data) -> Data:
        """The derived columns, the rules' and the guardrail's decisions added to a decision frame or to one
        decision row (a dict): one implementation for batch, training and online scoring."""
        if isinstance(data, pd.DataFrame):
            out = data.assign(**self.derive(FrameColumns(data)))
            decided = {RULE_COLUMN: self.rules(out)}
            if self.guardrail is not None:
                decided[GUARD_COLUMN] = self.guardrail(out)
            return out.assign(**decided)
        row = dict(data)  # one copy, filled in place: this is the per-request path
        cells = RowColumns(row)
        row.update(self.derive(cells))
        row[RULE_COLUMN] = self.rules(cells)
        if self.guardrail is not None:
            row[GUARD_COLUMN] = self.guardrail(cells)
        return row


def _kyc(c: Columns) -> dict[str, Value]:
    """Nothing to add: the spine already holds the country mismatches and image re-use."""
    return {}


def _payment(c: Columns) -> dict[str, Value]:
    """The amount against the month's largest payment; the cost of a chargeback and of a lost deposit."""
    amount = c["amount_usd"]
    return {"amount_over_max_30d": amount / positive(c["max_usd_30d"]),
            "chargeback_loss_usd": amount + 15.0, "block_good_usd": 20.0 + 0.02 * amount}


def _withdrawal(c: Columns) -> dict[str, Value]:
    """Fiat and crypto deposits together, and the amount against them (a floor of $1 keeps it finite)."""
    deposits = fill(c["deposit_usd_30d"]) + fill(c["chain_deposit_usd_30d"])
    deposits_7d = fill(c["deposit_usd_7d"]) + fill(c["chain_deposit_usd_7d"])
    return {"deposits_usd_30d": deposits, "amount_over_deposits_30d": c["amount_usd"] / floor(deposits, 1.0),
            "amount_over_deposits_7d": c["amount_usd"] / floor(deposits_7d, 1.0)}


def _credit(c: Columns) -> dict[str, Value]:
    """The collateral market's 24-hour swing; the loss of a default and the revenue of a good loan."""
    principal = c["principal_usd"]
    revenue = principal * c["interest_rate"] * c["term_days"] / 365.0 + 20.0
    return {"symbol_range_24h": c["symbol_max_price_24h"] / positive(c["symbol_min_price_24h"]),
            "default_loss_usd": principal * CREDIT_LGD, "refused_revenue_usd": revenue}


def _deposit(c: Columns) -> dict[str, Value]:
    """Exposure columns a linear model can read without imputation, and the loss of a missed deposit.

    ``hops`` is null when no illicit source lies within the tracing limit: a median would impute a
    near source there, so ``hops_to_source`` reads it as one hop beyond the limit. No exposed transfer in
    the month is a 0 haircut, not a missing one. A missed deposit costs its amount plus the investigation.
    """
    return {"exposed": flag(fill(c["poison"]) > 0),
            "hops_to_source": fill(c["hops"], float(EXPOSURE_MAX_HOPS + 1)),
            "prior_max_haircut_30d": fill(c["max_haircut_30d"]),
            "missed_deposit_usd": c["amount_usd"] + DEPOSIT_INVESTIGATION_USD}


_LOGINS = ("logins_24h", "failed_logins_24h", "devices_24h", "countries_24h")
_NOVELTY = ("new_devices_24h", "new_countries_24h", "since_new_device_7d", "since_new_device_country_7d")

PRODUCTS: dict[str, Product] = {p.kind: p for p in (
    Product(
        kind="kyc", table="kyc_submissions", id_column="submission_id",
        entity_type="kyc_submission", label_types=("kyc_fraud",), spine=spines.kyc_spine,
        views=((KYC_DOCUMENT_REUSE, ""), (KYC_SELFIE_REUSE, ""), (USER_LOGINS, "")),
        features=("document_other_accounts", "selfie_other_accounts", "document_users_365d", "selfie_users_365d",
                  "document_country_mismatch", "ip_country_mismatch", "document_ip_mismatch", "account_age_days",
                  *_LOGINS),
        derive=_kyc, rules=rules.kyc_rules, estimator=estimators.logistic, maturity=dt.timedelta(days=21),
        horizon=dt.timedelta(days=40), guardrail=rules.kyc_guardrail,
        costs=Costs(missed_fraud=1000.0, review=10.0, friction=5.0, block_good=150.0), catalog=reasons.KYC,
        doc="Synthetic identities at KYC: re-used document and face images, countries that disagree."),
    Product(
        kind="payment", table="payments", id_column="payment_id",
        entity_type="payment", label_types=("card_fraud",), spine=spines.payment_spine,
        views=((USER_PAYMENTS, ""), (USER_LOGINS, ""), (ACCOUNT_SECURITY, ""), (INSTRUMENT_SHARING, ""),
               (DEVICE_ACTIVITY, ""), (IP_ACTIVITY, "")),
        features=("amount_usd", "card_country_mismatch", "account_age_days", "declines_1h", "declines_24h",
                  "instruments_1h", "instruments_24h", "payments_1h", "payments_24h", "payments_30d",
                  "card_countries_24h", "amount_over_max_30d", "max_usd_30d", "instrument_users_30d",
                  "instrument_declines_24h", "device_users_30d", "ip_users_7d", "failed_logins_24h",
                  "security_changes_7d"),
        derive=_payment, rules=rules.payment_rules, maturity=dt.timedelta(days=21),
        costs=Costs(missed_fraud="chargeback_loss_usd", review=5.0, friction=2.0, block_good="block_good_usd"),
        catalog=reasons.PAYMENT,
        doc="Stolen cards at deposit: card testing, many cards, foreign cards on young accounts."),
    Product(
        kind="withdrawal", table="chain_transfers", id_column="transfer_id",
        entity_type="transfer", label_types=("account_takeover", "money_mule"),
        spine=spines.withdrawal_spine,
        views=((USER_CHAIN, "chain_"), (USER_LOGINS, ""), (ACCOUNT_SECURITY, ""), (USER_PAYMENTS, ""),
               (ADDRESS_ACTIVITY, "")),
        features=("amount_usd", "account_age_days", "amount_over_deposits_30d", "amount_over_deposits_7d",
                  "chain_deposits_7d", "chain_deposit_usd_7d", "chain_withdrawals_24h", "chain_withdrawals_7d",
                  "chain_withdrawal_usd_7d", "chain_withdrawal_addresses_7d", "chain_fresh_address_share_30d",
                  "chain_pass_through_7d", "chain_since_deposit_30d", "deposit_usd_24h", "deposit_usd_7d",
                  "deposit_usd_30d", "payments_7d", "instruments_7d", "instruments_30d", "mean_usd_7d", "max_usd_7d",
                  *_LOGINS, "logins_30d", "devices_30d", "countries_30d", "ips_30d", "no_2fa_share_30d",
                  "since_login_24h", "since_login_30d", "device_novelty", "country_novelty",
                  "security_changes_24h", "security_changes_7d", "since_security_change_7d", *_NOVELTY,
                  "address_users_30d", "address_transfers_30d"),
        derive=_withdrawal, rules=rules.withdrawal_rules, novelty=True, maturity=dt.timedelta(days=7),
        costs=Costs(missed_fraud="amount_usd", review=10.0, friction=5.0, block_good=50.0),
        catalog=reasons.WITHDRAWAL,
        doc="Account takeovers and money mules cashing out on chain."),
    Product(
        kind="credit", table="loans", id_column="loan_id",
        entity_type="loan", label_types=("loan_default",), spine=spines.credit_spine,
        views=((USER_TRADING, ""), (USER_PAYMENTS, ""), (USER_CHAIN, "chain_"), (SYMBOL_ACTIVITY, "")),
        features=("principal_usd", "ltv", "leverage", "term_days", "interest_rate", "is_margin", "account_age_days",
                  "symbol_range_1h", "symbol_range_24h", "symbol_trades_24h", "trades_30d", "volume_usd_7d",
                  "volume_usd_30d", "counterparties_30d", "symbols_30d", "payments_30d", "deposit_usd_30d",
                  "chain_deposit_usd_30d", "chain_withdrawal_usd_30d", "chain_pass_through_7d"),
        derive=_credit, rules=rules.credit_rules, outcome_required=True, maturity=dt.timedelta(days=14),
        horizon=dt.timedelta(days=30), decision="expected_cost",
        costs=Costs(missed_fraud="default_loss_usd", review=25.0, friction=10.0, block_good="refused_revenue_usd"),
        catalog=reasons.CREDIT,
        doc="Margin and crypto-backed loans that default."),
)}


#: products that need ``chain_exposure`` (the chain stage) before they can build a decision
CHAIN_PRODUCTS: dict[str, Product] = {p.kind: p for p in (
    Product(
        kind="deposit", table="chain_transfers", id_column="transfer_id",
        entity_type="transfer", label_types=("illicit_exposure",), spine=spines.deposit_spine,
        # logins were tried too: they made the cost worse and took half of the demo stage's time to join
        views=((USER_EXPOSURE, ""), (USER_CHAIN, "chain_"), (ADDRESS_ACTIVITY, "")),
        # the deposit's own exposure and the user's exposure history; the categories and the user context
        # (amount, age, chain activity, the sending address) stay in the frame for the rules and analysts, but
        # with ~30 exposed training deposits each made the test cost worse on the worlds tried (docs/risk.md)
        features=("haircut", "poison", "exposed", "hops_to_source", "exposed_deposits_30d", "exposed_withdrawals_30d",
                  "prior_max_haircut_30d"),
        derive=_deposit, rules=rules.deposit_rules, estimator=estimators.logistic, maturity=dt.timedelta(days=21),
        horizon=dt.timedelta(days=20), guardrail=rules.deposit_rules,  # exposure alerts are always looked at
        costs=Costs(missed_fraud="missed_deposit_usd", review=15.0, friction=5.0, block_good=50.0),
        catalog=reasons.DEPOSIT,
        doc="Crypto deposits whose funds come from illicit sources (sanctioned, mixers, scams, ...), 0-3 hops "
            "away: hold for review or refuse before crediting."),
)}


def get_product(kind: str) -> Product:
    """The product called ``kind`` (event or chain product); a clear error naming the known ones otherwise."""
    try:
        return PRODUCTS[kind] if kind in PRODUCTS else CHAIN_PRODUCTS[kind]
    except KeyError:
        raise CryptoscopeError(f"unknown risk product {kind!r}; known: {', '.join(ALL_KINDS)}") from None
