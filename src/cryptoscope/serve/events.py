"""The events the scoring API accepts, validated by pydantic before anything reads them.

Each model forbids unknown fields and bounds every number and string, so a wrong type, a missing
field, a negative amount or a 10 MB "name" is refused with a 422 that names the field, before the
online state or a model sees it. Times must carry a time zone (they are stored in UTC).

``to_row`` turns an event into the canonical-table row the online feature state reads (the same
columns as the lake's table), with the fields an API caller does not send set to None.
"""

from __future__ import annotations

import datetime as dt
from abc import abstractmethod
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Id = Annotated[int, Field(ge=0, le=2**63 - 1)]
Code = Annotated[str, Field(min_length=2, max_length=3, pattern=r"^[A-Z]{2,3}$")]
Token = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Usd = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]


def _aware(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is None:
        raise ValueError("event_time needs a time zone, e.g. 2025-03-01T12:00:00Z")
    return t.astimezone(dt.UTC)


When = Annotated[dt.datetime, AfterValidator(_aware)]


class Event(BaseModel):
    """Fields every scored event has."""

    model_config = ConfigDict(extra="forbid", str_max_length=256)

    user_id: Id
    event_time: When

    @abstractmethod
    def entity_id(self) -> str:
        """The id the product's decisions carry (the withdrawal's transfer id, the payment id, ...)."""

    @abstractmethod
    def to_row(self) -> dict[str, Any]:
        """The event as a row of its lake table, as the online state and the spines read it."""


class WithdrawalEvent(Event):
    """A crypto withdrawal about to be sent on chain."""

    transfer_id: Id
    address: Token
    amount_usd: Usd
    chain: Literal["bitcoin", "ethereum", "tron"] = "bitcoin"
    asset: Token = "BTC"
    amount: Usd | None = None

    def entity_id(self) -> str:
        return str(self.transfer_id)

    def to_row(self) -> dict[str, Any]:
        return {"transfer_id": self.transfer_id, "user_id": self.user_id, "event_time": self.event_time,
                "direction": "withdrawal", "chain": self.chain, "asset": self.asset, "address": self.address,
                "exchange_address": None, "tx_hash": None, "amount": self.amount, "amount_usd": self.amount_usd,
                "fee": None, "status": "pending"}


class PaymentEvent(Event):
    """A card deposit the issuer authorised."""

    payment_id: Id
    amount_usd: Usd
    instrument_hash: Token
    instrument_country: Code
    device_id: Token
    ip: Annotated[str, Field(min_length=3, max_length=45, pattern=r"^[0-9A-Fa-f.:]+$")]
    currency: Code = "USD"

    def entity_id(self) -> str:
        return str(self.payment_id)

    def to_row(self) -> dict[str, Any]:
        return {"payment_id": self.payment_id, "user_id": self.user_id, "event_time": self.event_time,
                "direction": "deposit", "method": "card", "status": "completed", "amount_usd": self.amount_usd,
                "currency": self.currency, "instrument_hash": self.instrument_hash,
                "instrument_country": self.instrument_country, "device_id": self.device_id, "ip": self.ip}


class KycEvent(Event):
    """An identity-verification submission (the document number is personal data: stored, never logged)."""

    submission_id: Id
    level: Annotated[int, Field(ge=1, le=3)] = 1
    document_type: Literal["passport", "id_card", "driving_licence", "residence_permit"]
    document_country: Code
    document_number: Annotated[str, Field(max_length=64)] | None = None
    document_hash: Token
    selfie_hash: Token
    ip_country: Code

    def entity_id(self) -> str:
        return str(self.submission_id)

    def to_row(self) -> dict[str, Any]:
        return {"submission_id": self.submission_id, "user_id": self.user_id, "event_time": self.event_time,
                "level": self.level, "document_type": self.document_type, "document_country": self.document_country,
                "document_number": None, "document_hash": self.document_hash, "selfie_hash": self.selfie_hash,
                "ip_country": self.ip_country, "decision": None, "decision_time": None, "reject_reason": None}


class CreditEvent(Event):
    """A margin or crypto-backed loan about to open."""

    loan_id: Id
    product: Literal["margin", "crypto_loan"] = "crypto_loan"
    collateral_asset: Annotated[str, Field(min_length=2, max_length=10, pattern=r"^[A-Z0-9]+$")]
    principal_usd: Usd
    collateral_usd: Usd
    ltv: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)]
    leverage: Annotated[float, Field(ge=0, le=200, allow_inf_nan=False)] = 1.0
    term_days: Annotated[int, Field(ge=1, le=3650)]
    interest_rate: Annotated[float, Field(ge=0, le=5, allow_inf_nan=False)]

    def entity_id(self) -> str:
        return str(self.loan_id)

    def to_row(self) -> dict[str, Any]:
        return {"loan_id": self.loan_id, "user_id": self.user_id, "event_time": self.event_time,
                "product": self.product, "collateral_asset": self.collateral_asset,
                "principal_usd": self.principal_usd, "collateral_usd": self.collateral_usd, "ltv": self.ltv,
                "leverage": self.leverage, "term_days": self.term_days, "interest_rate": self.interest_rate}


class LoginEvent(Event):
    """A login attempt: not scored, but it feeds the login, device, IP and novelty features."""

    session_id: Id
    device_id: Token
    ip: Annotated[str, Field(min_length=3, max_length=45, pattern=r"^[0-9A-Fa-f.:]+$")]
    ip_country: Code
    success: bool = True
    used_2fa: bool = False
    channel: Literal["web", "ios", "android", "api"] = "web"

    def entity_id(self) -> str:
        return str(self.session_id)

    def to_row(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "user_id": self.user_id, "event_time": self.event_time,
                "device_id": self.device_id, "ip": self.ip, "ip_country": self.ip_country, "user_agent": "",
                "channel": self.channel, "success": self.success, "used_2fa": self.used_2fa}


#: the request body of each online product's scoring route (``/v1/score/<kind>``); the product registry
#: (``cryptoscope.products.online``) says which products are served and which lake table each event joins
EVENTS: dict[str, type[Event]] = {"withdrawal": WithdrawalEvent, "payment": PaymentEvent, "kyc": KycEvent,
                                  "credit": CreditEvent}


class ScoreResponse(BaseModel):
    """What a scoring call returns."""

    kind: str
    entity_id: str
    user_id: int
    score: float = Field(description="Calibrated probability that the event is bad.")
    decision: Literal["approve", "review", "block"]
    reasons: list[str] = Field(description="Up to three reasons in words, strongest first.")
    model: str
    model_version: int
    latency_ms: float
    replayed: bool = Field(False, description="True when an earlier call with the same Idempotency-Key answered.")
