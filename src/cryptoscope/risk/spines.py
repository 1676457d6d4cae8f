"""Decision spines: one row per decision a risk product makes, with what the decision itself shows.

Every spine has ``entity_id`` (text), ``user_id`` and ``decision_time``, the key columns of the
feature views its product joins, and the facts of the row being decided (amounts, countries, loan
terms) next to the account's age and country. Only facts known at the decision are used: the
account row (opened before), the event itself, and for KYC the earlier submissions of other accounts.

Online, the same spine row is built for one event (``spine_one``) from a `Context` kept event by
event; which rows of a table are decisions is declared once (``DECISIONS``) for both.

>>> from cryptoscope.lake import connect                      # doctest: +SKIP
>>> payment_spine(connect(lake)).to_pandas()                  # doctest: +SKIP
>>> is_decision("payment", {"method": "card", "direction": "deposit", "status": "declined"})
False
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.online_context import Context
from cryptoscope.schema import ILLICIT_CATEGORIES

DAY_S = 86_400.0


@dataclass(frozen=True)
class Where:
    """``column = value`` (or ``<>`` when not ``equal``), with SQL's nulls: a null cell never matches."""

    column: str
    value: str
    equal: bool = True

    def expr(self, t: ir.Table) -> ir.BooleanValue:
        return t[self.column] == self.value if self.equal else t[self.column] != self.value

    def holds(self, row: Mapping[str, Any]) -> bool:
        cell = row.get(self.column)
        return cell is not None and (cell == self.value) == self.equal


#: which rows of a product's table are its decisions (all rows where a product is not listed)
DECISIONS: dict[str, tuple[Where, ...]] = {
    "payment": (Where("method", "card"), Where("direction", "deposit"), Where("status", "declined", equal=False)),
    "withdrawal": (Where("direction", "withdrawal"),),
    "deposit": (Where("direction", "deposit"),),
}


def is_decision(kind: str, row: Mapping[str, Any]) -> bool:
    """Whether a lake row of the product's table is one of its decisions (the spine's filter, on one row)."""
    return all(w.holds(row) for w in DECISIONS.get(kind, ()))


def _decisions(kind: str, t: ir.Table) -> ir.Table:
    where = DECISIONS.get(kind, ())
    return t.filter(*[w.expr(t) for w in where]) if where else t


def _account(rows: ir.Table, time: ir.TimestampValue) -> dict[str, ir.Value]:
    """Columns the accounts table gives a decision: its residence country and the account's age in days.

    Whole seconds on both sides: Spark's epoch seconds drop the fraction that DuckDB's keep, and a second's
    difference moves a row across a tree split (the online context counts the same way)."""
    age_s = time.epoch_seconds().floor() - rows.signup.epoch_seconds().floor()
    return {"account_country": rows.country, "account_age_days": age_s.cast("float64") / DAY_S}


def _accounts(con: Any) -> ir.Table:
    a = con.table("accounts")
    return a.select(_uid="user_id", country=a.country, signup=a.event_time)


def _since(t: ir.Table, since: dt.datetime | None) -> ir.Table:
    return t if since is None else t.filter(t.event_time >= ibis.literal(since.astimezone(dt.UTC)))


def kyc_spine(con: Any, since: dt.datetime | None = None) -> ir.Table:
    """Each KYC submission, with its country mismatches and how many other accounts used its images before."""
    k = _since(con.table("kyc_submissions"), since)
    a = _accounts(con)
    j = k.left_join(a, k.user_id == a._uid)
    rows = j.select(
        entity_id=j.submission_id.cast("string"), submission_id=j.submission_id, user_id=j.user_id,
        decision_time=j.event_time, document_hash=j.document_hash, selfie_hash=j.selfie_hash,
        document_country=j.document_country, ip_country=j.ip_country, kyc_level=j.level.cast("float64"),
        **_account(j, j.event_time))
    rows = rows.mutate(
        document_country_mismatch=(rows.document_country != rows.account_country).cast("int8"),
        ip_country_mismatch=(rows.ip_country != rows.account_country).cast("int8"),
        document_ip_mismatch=(rows.document_country != rows.ip_country).cast("int8"))
    for image in ("document_hash", "selfie_hash"):
        rows = _other_accounts(con, rows, image, f"{image.removesuffix('_hash')}_other_accounts")
    return rows.drop("submission_id")


def _other_accounts(con: Any, rows: ir.Table, column: str, name: str) -> ir.Table:
    """``name``: distinct other accounts that submitted the same image strictly before the decision."""
    prior = con.table("kyc_submissions").select(_img=column, _puser="user_id", _pt="event_time")
    pts = rows.select("submission_id", "user_id", "decision_time", _key=rows[column])
    j = pts.left_join(prior, [pts._key == prior._img, prior._pt < pts.decision_time, prior._puser != pts.user_id])
    counts = j.group_by(_sid="submission_id").aggregate(**{name: j._puser.nunique()})
    out = rows.left_join(counts, rows.submission_id == counts._sid).drop("_sid")
    return out.mutate(**{name: out[name].coalesce(0)})


def payment_spine(con: Any, since: dt.datetime | None = None) -> ir.Table:
    """Card deposits the issuer did not decline, with the amount and whether the card is foreign.

    A declined payment moved no money and can never be charged back: whatever the exchange decides
    on it costs nothing, so it is left out rather than counted as a good payment.
    """
    p = _decisions("payment", _since(con.table("payments"), since))
    a = _accounts(con)
    j = p.left_join(a, p.user_id == a._uid)
    rows = j.select(
        entity_id=j.payment_id.cast("string"), user_id=j.user_id, decision_time=j.event_time,
        instrument_hash=j.instrument_hash, device_id=j.device_id, ip=j.ip, amount_usd=j.amount_usd,
        card_country=j.instrument_country, **_account(j, j.event_time))
    return rows.mutate(card_country_mismatch=(rows.card_country != rows.account_country).cast("int8"))


def withdrawal_spine(con: Any, since: dt.datetime | None = None) -> ir.Table:
    """On-chain withdrawals with their amount and destination address."""
    c = _decisions("withdrawal", _since(con.table("chain_transfers"), since))
    a = _accounts(con)
    j = c.left_join(a, c.user_id == a._uid)
    return j.select(entity_id=j.transfer_id.cast("string"), user_id=j.user_id, decision_time=j.event_time,
                    address=j.address, amount_usd=j.amount_usd, **_account(j, j.event_time))


def deposit_spine(con: Any, since: dt.datetime | None = None) -> ir.Table:
    """On-chain deposits with the deposit's own point-in-time exposure, as the exchange traced it on arrival.

    The exposure is the ``chain_exposure`` row of the deposit in mode ``point_in_time`` (labels and
    payments known by the deposit's time), joined only when ``known_at <= decision_time``: haircut and
    poison scores (0 when nothing illicit was found), hops to the nearest labelled source (null when
    none) and one 0/1 column per illicit category. Refuses a lake whose deposits were never scored:
    ``cryptoscope chain score-transfers`` (the demo's chain stage) writes ``chain_exposure`` first.
    """
    c = _decisions("deposit", _since(con.table("chain_transfers"), since))
    _require_exposure(con)
    e = con.table("chain_exposure")
    e = e.filter(e.mode == "point_in_time", e.direction == "deposit").select(
        _tid="transfer_id", _known="known_at", _haircut="haircut", _poison="poison", _hops="hops",
        _category="category")
    a = _accounts(con)
    j = c.left_join(a, c.user_id == a._uid)
    j = j.left_join(e, [j.transfer_id == e._tid, e._known <= j.event_time])
    exposure = {  # all null where no score was known in time (or none was written): nothing known, not clean
        "exposure_scored": j._known.notnull().cast("int8"), "haircut": j._haircut, "poison": j._poison,
        "hops": j._hops.cast("float64"),
        **{f"category_{cat}": (j._category == cat).coalesce(False).cast("int8") for cat in ILLICIT_CATEGORIES}}
    return j.select(entity_id=j.transfer_id.cast("string"), user_id=j.user_id, decision_time=j.event_time,
                    address=j.address, chain=j.chain, asset=j.asset, amount_usd=j.amount_usd, **exposure,
                    **_account(j, j.event_time))


def _require_exposure(con: Any) -> None:
    """A clear error when no deposit has a point-in-time exposure score: the chain stage has not run."""
    e = con.table("chain_exposure")
    n = e.filter(e.mode == "point_in_time", e.direction == "deposit").count().to_pyarrow().as_py()
    if not n:
        raise CryptoscopeError("chain_exposure holds no point-in-time scores of deposits: run `cryptoscope chain "
                               "score-transfers --lake LAKE` (the demo's chain stage) before the deposit risk model")


def credit_spine(con: Any, since: dt.datetime | None = None) -> ir.Table:
    """Loan openings with their terms; ``symbol`` is the collateral's USDT market, for market context."""
    loans = _since(con.table("loans"), since)
    a = _accounts(con)
    j = loans.left_join(a, loans.user_id == a._uid)
    return j.select(
        entity_id=j.loan_id.cast("string"), user_id=j.user_id, decision_time=j.event_time,
        symbol=j.collateral_asset.concat("-USDT"), principal_usd=j.principal_usd, collateral_usd=j.collateral_usd,
        ltv=j.ltv, leverage=j.leverage, term_days=j.term_days.cast("float64"), interest_rate=j.interest_rate,
        is_margin=(j["product"] == "margin").cast("int8"), **_account(j, j.event_time))


# -- one event at a time (online) ---------------------------------------------------------------------
def _mismatch(a: Any, b: Any) -> float:
    """1/0 when the two countries differ/agree; NaN when one is unknown (SQL's null comparison)."""
    return np.nan if a is None or b is None else float(a != b)


def _kyc_one(row: Mapping[str, Any], base: dict[str, Any], ctx: Context) -> dict[str, Any]:
    user, at, country = base["user_id"], base["decision_time"], base["account_country"]
    doc, ip = row["document_country"], row["ip_country"]
    return base | {
        "document_hash": row["document_hash"], "selfie_hash": row["selfie_hash"], "document_country": doc,
        "ip_country": ip, "kyc_level": float(row["level"]), "document_country_mismatch": _mismatch(doc, country),
        "ip_country_mismatch": _mismatch(ip, country), "document_ip_mismatch": _mismatch(doc, ip),
        "document_other_accounts": ctx.other_accounts(row["document_hash"], user, at),
        "selfie_other_accounts": ctx.other_accounts(row["selfie_hash"], user, at)}


def _payment_one(row: Mapping[str, Any], base: dict[str, Any], ctx: Context) -> dict[str, Any]:
    card = row["instrument_country"]
    return base | {"instrument_hash": row["instrument_hash"], "device_id": row["device_id"], "ip": row["ip"],
                   "amount_usd": float(row["amount_usd"]), "card_country": card,
                   "card_country_mismatch": _mismatch(card, base["account_country"])}


def _withdrawal_one(row: Mapping[str, Any], base: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return base | {"address": row["address"], "amount_usd": float(row["amount_usd"])}


def _credit_one(row: Mapping[str, Any], base: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return base | {
        "symbol": f"{row['collateral_asset']}-USDT", "principal_usd": float(row["principal_usd"]),
        "collateral_usd": float(row["collateral_usd"]), "ltv": float(row["ltv"]), "leverage": float(row["leverage"]),
        "term_days": float(row["term_days"]), "interest_rate": float(row["interest_rate"]),
        "is_margin": float(row["product"] == "margin")}


ONLINE_SPINES: dict[str, Callable[[Mapping[str, Any], dict[str, Any], Context], dict[str, Any]]] = {
    "kyc": _kyc_one, "payment": _payment_one, "withdrawal": _withdrawal_one, "credit": _credit_one}


def spine_one(kind: str, entity_id: str, row: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """The spine row of one event of ``kind``'s table, as the batch spine would hold it (see the module doc)."""
    user, at = int(row["user_id"]), row["event_time"]
    account = ctx.spine(user, at)
    age = account["account_age_days"]
    base = {"entity_id": entity_id, "user_id": user, "decision_time": at,
            "account_country": account["account_country"], "account_age_days": np.nan if age is None else age}
    return ONLINE_SPINES[kind](row, base, ctx)
