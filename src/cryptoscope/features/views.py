"""The feature views the product lines use, written once for every engine and the online state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptoscope.features.spec import Agg, Cond, Derived, FeatureView, Source, eq, isin, ratio

SECURITY_CHANGES = ("password", "email", "phone", "2fa_disabled", "withdrawal_whitelist_added")
W_SHORT = ("1h", "24h", "7d", "30d")


def _share(a: object, b: object) -> object:
    return ratio(a, b)


USER_LOGINS = FeatureView(
    name="user_logins", entity="user", key="user_id", sources=(Source("sessions"),), windows=W_SHORT,
    aggs=(Agg("logins", "count"), Agg("failed_logins", "count", where=(eq("success", False),)),
          Agg("devices", "nunique", "device_id"), Agg("ips", "nunique", "ip"),
          Agg("countries", "nunique", "ip_country"), Agg("no_2fa_share", "share", where=(eq("used_2fa", False),)),
          Agg("since_login", "since_last", where=(eq("success", True),))),
    derived=(Derived("device_novelty", ("devices_24h", "devices_30d"), _share,
                     "devices of the last day among those of the month: 1.0 = all new or a new user"),
             Derived("country_novelty", ("countries_24h", "countries_30d"), _share)),
    doc="Login activity and novelty of devices, IPs and countries per user.")

DEVICE_ACTIVITY = FeatureView(
    name="device_activity", entity="device", key="device_id", sources=(Source("sessions"),),
    windows=("24h", "7d", "30d"),
    aggs=(Agg("device_users", "nunique", "user_id"), Agg("device_logins", "count"),
          Agg("device_failed", "count", where=(eq("success", False),))),
    doc="How many accounts use a device: shared devices link multi-accounting rings.")

IP_ACTIVITY = FeatureView(
    name="ip_activity", entity="ip", key="ip", sources=(Source("sessions"),), windows=("1h", "24h", "7d"),
    aggs=(Agg("ip_users", "nunique", "user_id"), Agg("ip_logins", "count"),
          Agg("ip_failed", "count", where=(eq("success", False),))),
    doc="Accounts and failed logins behind an IP: credential stuffing, rings, households.")

ACCOUNT_SECURITY = FeatureView(
    name="account_security", entity="user", key="user_id", sources=(Source("account_changes"),),
    windows=("24h", "7d", "30d"),
    aggs=(Agg("changes", "count"), Agg("security_changes", "count", where=(isin("change_type", SECURITY_CHANGES),)),
          Agg("since_security_change", "since_last", where=(isin("change_type", SECURITY_CHANGES),)),
          Agg("change_kinds", "nunique", "change_type")),
    doc="Credential and security changes; a takeover changes them right before cashing out.")

USER_PAYMENTS = FeatureView(
    name="user_payments", entity="user", key="user_id", sources=(Source("payments"),), windows=W_SHORT,
    aggs=(Agg("payments", "count"), Agg("declines", "count", where=(eq("status", "declined"),)),
          Agg("decline_share", "share", where=(eq("status", "declined"),)),
          Agg("deposit_usd", "sum", "amount_usd", where=(eq("direction", "deposit"),)),
          Agg("mean_usd", "mean", "amount_usd"), Agg("max_usd", "max", "amount_usd"),
          Agg("std_usd", "std", "amount_usd"), Agg("instruments", "nunique", "instrument_hash"),
          Agg("card_countries", "nunique", "instrument_country", where=(eq("method", "card"),))),
    derived=(Derived("amount_vs_history", ("mean_usd_24h", "mean_usd_30d"), _share,
                     "mean payment of the last day over the user's own 30-day mean"),),
    doc="Payment velocity, declines, amounts against the user's own history, instruments used.")

INSTRUMENT_SHARING = FeatureView(
    name="instrument_sharing", entity="instrument", key="instrument_hash", sources=(Source("payments"),),
    windows=("24h", "7d", "30d"),
    aggs=(Agg("instrument_users", "nunique", "user_id"), Agg("instrument_payments", "count"),
          Agg("instrument_declines", "count", where=(eq("status", "declined"),))),
    doc="How many accounts use one card or bank account.")

USER_CHAIN = FeatureView(
    name="user_chain", entity="user", key="user_id", sources=(Source("chain_transfers"),),
    windows=("24h", "7d", "30d"),
    aggs=(Agg("deposits", "count", where=(eq("direction", "deposit"),)),
          Agg("deposit_usd", "sum", "amount_usd", where=(eq("direction", "deposit"),)),
          Agg("withdrawals", "count", where=(eq("direction", "withdrawal"),)),
          Agg("withdrawal_usd", "sum", "amount_usd", where=(eq("direction", "withdrawal"),)),
          Agg("withdrawal_addresses", "nunique", "address", where=(eq("direction", "withdrawal"),)),
          Agg("since_deposit", "since_last", where=(eq("direction", "deposit"),))),
    derived=(Derived("fresh_address_share_30d", ("withdrawal_addresses_30d", "withdrawals_30d"), _share,
                     "distinct withdrawal addresses per withdrawal: 1.0 = a new address every time"),
             Derived("pass_through_7d", ("withdrawal_usd_7d", "deposit_usd_7d"), _share,
                     "withdrawn over deposited: mules pass almost everything through")),
    doc="On-chain deposits and withdrawals, fresh addresses, time since the last deposit.")

_BUYER: dict[str, str | Callable[[Any], Any]] = {"user_id": "buyer_user_id", "counterparty_id": "seller_user_id",
          "self_match": lambda t: t["buyer_user_id"] == t["seller_user_id"]}
_SELLER: dict[str, str | Callable[[Any], Any]] = {"user_id": "seller_user_id", "counterparty_id": "buyer_user_id",
           "self_match": lambda t: t["buyer_user_id"] == t["seller_user_id"]}

USER_TRADING = FeatureView(
    name="user_trading", entity="user", key="user_id",
    sources=(Source("trades", columns=_BUYER), Source("trades", columns=_SELLER)), windows=("24h", "7d", "30d"),
    aggs=(Agg("trades", "count"), Agg("volume_usd", "sum", "amount_usd"),
          Agg("counterparties", "nunique", "counterparty_id"),
          Agg("self_match_share", "share", where=(eq("self_match", True),)), Agg("symbols", "nunique", "symbol")),
    derived=(Derived("counterparty_concentration_7d", ("trades_7d", "counterparties_7d"), _share,
                     "trades per distinct counterparty: wash traders trade with few"),),
    doc="Trading volume, counterparties and self-matching, from both sides of every trade.")

USER_ORDERS = FeatureView(
    name="user_orders", entity="user", key="user_id",
    sources=(Source("orders", columns={"notional": lambda t: t["price"] * t["quantity"]}),),
    windows=("1h", "24h", "7d"),
    aggs=(Agg("orders", "count"), Agg("cancel_ratio", "share", where=(eq("status", "cancelled"),)),
          Agg("order_notional", "sum", "notional"), Agg("max_order_notional", "max", "notional")),
    doc="Order flow and cancel ratio: spoofers cancel large orders, market makers cancel many small ones.")

KYC_DOCUMENT_REUSE = FeatureView(
    name="kyc_document_reuse", entity="document", key="document_hash", sources=(Source("kyc_submissions"),),
    windows=("30d", "365d"),
    aggs=(Agg("document_users", "nunique", "user_id"), Agg("document_submissions", "count"),
          Agg("document_countries", "nunique", "ip_country")),
    doc="How many accounts submitted the same document image.")

KYC_SELFIE_REUSE = FeatureView(
    name="kyc_selfie_reuse", entity="document", key="selfie_hash", sources=(Source("kyc_submissions"),),
    windows=("30d", "365d"),
    aggs=(Agg("selfie_users", "nunique", "user_id"), Agg("selfie_submissions", "count"),
          Agg("selfie_countries", "nunique", "ip_country")),
    doc="How many accounts submitted the same selfie (an identity image, hence the document entity): "
        "synthetic identities re-use a few stolen faces.")

SYMBOL_ACTIVITY = FeatureView(
    name="symbol_activity", entity="symbol", key="symbol", sources=(Source("trades"),), windows=("1h", "24h"),
    aggs=(Agg("symbol_trades", "count"), Agg("symbol_volume_usd", "sum", "amount_usd"),
          Agg("symbol_buyers", "nunique", "buyer_user_id"), Agg("symbol_max_price", "max", "price"),
          Agg("symbol_min_price", "min", "price")),
    derived=(Derived("symbol_range_1h", ("symbol_max_price_1h", "symbol_min_price_1h"), _share,
                     "high over low in the last hour: pumps stretch it"),),
    doc="Market activity per symbol, for pump-and-dump and market-abuse context.")

ADDRESS_ACTIVITY = FeatureView(
    name="address_activity", entity="address", key="address", sources=(Source("chain_transfers"),),
    windows=("7d", "30d"),
    aggs=(Agg("address_users", "nunique", "user_id"), Agg("address_transfers", "count"),
          Agg("address_usd", "sum", "amount_usd")),
    doc="How many accounts send to or receive from one external address.")

#: an exposure score counts only when it was known by its own transfer's time (``known_at <= event_time``,
#: true of every ``point_in_time`` score): rows sit in the windows at ``event_time``, so one known later
#: could otherwise be seen at a decision before it was known. Conservative: such a row is left out.
_KNOWN = eq("known_by_transfer", True)
_EXPOSED = Cond("poison", ">", 0.0)

USER_EXPOSURE = FeatureView(
    name="user_exposure", entity="user", key="user_id",
    sources=(Source("chain_exposure", where=(eq("mode", "point_in_time"),),
                    columns={"known_by_transfer": lambda t: t["known_at"] <= t["event_time"]}),),
    windows=("7d", "30d"),
    aggs=(Agg("exposed_deposits", "count", where=(eq("direction", "deposit"), _EXPOSED, _KNOWN)),
          Agg("exposed_withdrawals", "count", where=(eq("direction", "withdrawal"), _EXPOSED, _KNOWN)),
          Agg("max_haircut", "max", "haircut", where=(_KNOWN,)),
          Agg("max_poison", "max", "poison", where=(_KNOWN,)),
          Agg("exposed_share", "share", where=(_EXPOSED, _KNOWN)),
          Agg("exposure_categories", "nunique", "category", where=(_KNOWN,)),
          Agg("since_exposed", "since_last", where=(_EXPOSED, _KNOWN))),
    doc="The user's earlier deposits and withdrawals traced to illicit sources (chain_exposure, point in "
        "time): an output of the chain stage, so not in VIEWS (the online state and the event-table "
        "consumers never see it).")

VIEWS: dict[str, FeatureView] = {v.name: v for v in (
    USER_LOGINS, DEVICE_ACTIVITY, IP_ACTIVITY, ACCOUNT_SECURITY, USER_PAYMENTS, INSTRUMENT_SHARING, USER_CHAIN,
    USER_TRADING, USER_ORDERS, KYC_DOCUMENT_REUSE, KYC_SELFIE_REUSE, SYMBOL_ACTIVITY, ADDRESS_ACTIVITY)}

__all__ = ["USER_EXPOSURE", "VIEWS", "Cond"]
