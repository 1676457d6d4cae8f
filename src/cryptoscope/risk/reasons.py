"""Reason catalogs: each product's features in plain words, for analysts and customer letters.

``RiskCatalog`` is the harness's ``ReasonCatalog`` (templates by exact name or glob) with three
kinds of entry it cannot express with one template:

* ``durations``: seconds (``since_*`` features) read as "3 hours" or "40 minutes" through ``{ago}``;
* ``days``: the same for a value in days (the account's age);
* ``flags``: a 0/1 feature, one sentence for each value;
* ``zeros`` / ``missing``: the sentence when a count is 0 or a value is missing ("an IP no account
  logged in from in the last 7 days" reads better than "accounts behind this IP: 0").

Where two signals only mean something together (a new device *and* a new country just before a
withdrawal), the product computes them as one feature (``since_new_device_country_7d``) so that a
single reason says both. ``distinct_reasons`` keeps one reason per signal: "declines in the last
hour" and "declines in the last day" are one reason, not two.

>>> KYC.describe("selfie_other_accounts", 2.0)
'selfie already used by 2 other accounts'
>>> WITHDRAWAL.describe("since_new_device_country_7d", 10800.0)
'new device and new country 3 hours before the withdrawal'
"""

from __future__ import annotations

import fnmatch
import functools
import math
import re
from collections.abc import Iterable, Mapping

from cryptoscope.models import Reason, ReasonCatalog
from cryptoscope.models.explain import steady
from cryptoscope.schema import ILLICIT_CATEGORIES

_WINDOW = re.compile(r"_(\d+)([mhdw])$")
_UNITS = {"m": "minute", "h": "hour", "d": "day", "w": "week"}
_STEP = re.compile(r"^seq_\d+_")  # a sequence model's step: the same signal at every step


class RiskCatalog(ReasonCatalog):
    """``ReasonCatalog`` plus duration, day, flag, zero and missing-value entries (see the module doc)."""

    def __init__(self, templates: Mapping[str, str] | None = None, *, durations: Mapping[str, str] | None = None,
                 days: Mapping[str, str] | None = None, flags: Mapping[str, tuple[str, str]] | None = None,
                 zeros: Mapping[str, str] | None = None, missing: Mapping[str, str] | None = None) -> None:
        entries: dict[str | re.Pattern[str], str] = {key: text for key, text in (templates or {}).items()}
        super().__init__(entries)
        self.durations = dict(durations or {})
        self.days = dict(days or {})
        self.flags = dict(flags or {})
        self.zeros = dict(zeros or {})
        self.missing = dict(missing or {})
        # feature -> its entries (missing, zero, duration, day template; window words), matched once per feature
        self._entries: dict[str, tuple[str | None, str | None, str | None, str | None, str]] = {}

    def _entry(self, feature: str) -> tuple[str | None, str | None, str | None, str | None, str]:
        found = self._entries.get(feature)
        if found is None:
            found = self._entries[feature] = (_match(self.missing, feature), _match(self.zeros, feature),
                                              _match(self.durations, feature), _match(self.days, feature),
                                              _window_words(feature))
        return found

    def describe(self, feature: str, value: float) -> str:
        value = steady(value)  # the same words whichever engine summed it
        missing, zero, durations, days, window = self._entry(feature)
        if value is None or math.isnan(value):
            return super().describe(feature, value) if missing is None else missing.format(window=window)
        if feature in self.flags:
            yes, no = self.flags[feature]
            return yes if value >= 0.5 else no
        if zero is not None and value == 0:
            return zero.format(window=window)
        for template, seconds in ((durations, value), (days, value * 86_400.0)):
            if template is not None:
                return template.format(ago=duration(seconds), value=value, window=window)
        return super().describe(feature, value)


def _window_words(feature: str) -> str:
    """``_24h`` -> "24 hours", ``_1h`` -> "hour", no window -> ""."""
    match = _WINDOW.search(feature)
    if not match:
        return ""
    count, unit = match.group(1), _UNITS[match.group(2)]
    return unit if count == "1" else f"{count} {unit}s"


def _match(table: Mapping[str, str], feature: str) -> str | None:
    if feature in table:
        return table[feature]
    for pattern in sorted(table, key=len, reverse=True):
        if fnmatch.fnmatchcase(feature, pattern):
            return table[pattern]
    return None


def duration(seconds: float) -> str:
    """90 -> "90 seconds", 4000 -> "67 minutes", 10800 -> "3 hours", 259200 -> "3 days"."""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}s"
    return f"{seconds:.0f} seconds"


def distinct_reasons(reasons: Iterable[Reason], k: int) -> list[Reason]:
    """The first ``k`` reasons, one per signal (the feature name without its window, or its sequence step)."""
    seen: set[str] = set()
    out: list[Reason] = []
    for reason in reasons:
        family = _family(reason.feature)
        if family not in seen:
            seen.add(family)
            out.append(reason)
        if len(out) == k:
            break
    return out


@functools.cache
def _family(feature: str) -> str:
    """A feature's signal: its name without the window or the sequence step (worked out once per name)."""
    family = _WINDOW.sub("", feature)
    return _STEP.sub("seq_", family) if family.startswith("seq_") else family


_LOGINS = {
    "logins_*": "{value:.0f} logins in the last {window}",
    "failed_logins_*": "{value:.0f} failed logins in the last {window}",
    "devices_*": "{value:.0f} devices used in the last {window}",
    "ips_*": "{value:.0f} IP addresses used in the last {window}",
    "countries_*": "logins from {value:.0f} countries in the last {window}",
    "no_2fa_share_*": "{value:.0%} of logins without a second factor in the last {window}",
    "device_novelty": "{value:.0%} of the month's devices first used in the last day",
    "country_novelty": "{value:.0%} of the month's login countries first seen in the last day",
}
_LOGIN_TIMES = {"since_login_*": "last successful login {ago} earlier"}
_SECURITY = {
    "security_changes_*": "{value:.0f} security changes (password, e-mail, 2FA, whitelist) in the last {window}",
    "changes_*": "{value:.0f} account changes in the last {window}",
    "change_kinds_*": "{value:.0f} kinds of account change in the last {window}",
}
_SECURITY_TIMES = {"since_security_change_*": "security settings changed {ago} earlier"}
_PAYMENTS = {
    "payments_*": "{value:.0f} fiat payments in the last {window}",
    "declines_*": "{value:.0f} declined payments in the last {window}",
    "decline_share_*": "{value:.0%} of payments declined in the last {window}",
    "deposit_usd_*": "${value:,.0f} deposited in fiat in the last {window}",
    "mean_usd_*": "average payment ${value:,.0f} in the last {window}",
    "max_usd_*": "largest payment ${value:,.0f} in the last {window}",
    "std_usd_*": "payment amounts varying by ${value:,.0f} in the last {window}",
    "instruments_*": "{value:.0f} different cards or bank accounts used in the last {window}",
    "card_countries_*": "cards from {value:.0f} countries used in the last {window}",
    "amount_vs_history": "the day's payments {value:.1f}x the month's average",
}
_AGE = {"account_age_days": "account opened {ago} earlier"}
_NOVELTY = {
    "new_devices_24h": "{value:.0f} never-seen device(s) in the last 24 hours",
    "new_countries_24h": "logins from {value:.0f} never-seen country(ies) in the last 24 hours",
}

_ZEROS = {
    "logins_*": "no login in the last {window}",
    "payments_*": "no fiat payment in the last {window}",
    "deposit_usd_*": "no fiat deposit in the last {window}",
    "instrument_users_*": "a card no account used here in the last {window}",
    "device_users_*": "a device no account logged in from in the last {window}",
    "ip_users_*": "an IP no account logged in from in the last {window}",
    "address_users_*": "a destination address no account used in the last {window}",
    "address_transfers_*": "a destination address never seen in the last {window}",
    "chain_deposit_usd_*": "no crypto deposit in the last {window}",
    "volume_usd_*": "no trading in the last {window}",
    "trades_*": "no trade in the last {window}",
}
_MISSING = {
    "mean_usd_*": "no fiat payment in the last {window}",
    "max_usd_*": "no fiat payment in the last {window}",
    "amount_over_max_30d": "no earlier payment in the last 30 days",
    "amount_vs_history": "no payment history to compare with",
    "device_novelty": "no login in the last 30 days",
    "country_novelty": "no login in the last 30 days",
    "no_2fa_share_*": "no login in the last {window}",
    "chain_fresh_address_share_30d": "no crypto withdrawal in the last 30 days",
    "chain_pass_through_7d": "no crypto deposit in the last 7 days",
}

KYC = RiskCatalog(
    {**_LOGINS,
     "document_other_accounts": "document image already used by {value:.0f} other accounts",
     "selfie_other_accounts": "selfie already used by {value:.0f} other accounts",
     "document_users_*": "document image submitted by {value:.0f} accounts in the last {window}",
     "selfie_users_*": "selfie submitted by {value:.0f} accounts in the last {window}",
     "document_submissions_*": "document image submitted {value:.0f} times in the last {window}",
     "selfie_submissions_*": "selfie submitted {value:.0f} times in the last {window}",
     "document_countries_*": "document image submitted from {value:.0f} countries in the last {window}",
     "selfie_countries_*": "selfie submitted from {value:.0f} countries in the last {window}",
     "kyc_level": "applying for KYC level {value:.0f}"},
    durations=_LOGIN_TIMES, days=_AGE, zeros=_ZEROS, missing=_MISSING,
    flags={"document_country_mismatch": ("document issued outside the country of residence",
                                         "document from the country of residence"),
           "ip_country_mismatch": ("submitted from an IP outside the country of residence",
                                   "submitted from the country of residence"),
           "document_ip_mismatch": ("document country differs from the IP's country",
                                    "document country matches the IP's country")})

PAYMENT = RiskCatalog(
    {**_LOGINS, **_SECURITY, **_PAYMENTS,
     "amount_usd": "payment of ${value:,.0f}",
     "amount_over_max_30d": "amount {value:.1f}x the largest payment of the last 30 days",
     "instrument_users_*": "card used by {value:.0f} accounts in the last {window}",
     "instrument_payments_*": "card used {value:.0f} times in the last {window}",
     "instrument_declines_*": "{value:.0f} declines on this card in the last {window}",
     "device_users_*": "device shared by {value:.0f} accounts in the last {window}",
     "device_logins_*": "{value:.0f} logins from this device in the last {window}",
     "device_failed_*": "{value:.0f} failed logins from this device in the last {window}",
     "ip_users_*": "{value:.0f} accounts behind this IP in the last {window}",
     "ip_logins_*": "{value:.0f} logins from this IP in the last {window}",
     "ip_failed_*": "{value:.0f} failed logins from this IP in the last {window}"},
    durations={**_LOGIN_TIMES, **_SECURITY_TIMES}, days=_AGE, zeros=_ZEROS, missing=_MISSING,
    flags={"card_country_mismatch": ("card issued outside the account's country",
                                     "card from the account's country")})

#: The withdrawal sequence models' columns (``risk/sequences.py``: ``seq_<step>_<event feature>``), in words. A
#: step's flag is one event; gradient x input says which earlier events pushed the score, not when exactly.
_SEQUENCE_FLAGS = {
    "login_ok": ("a login among the account's last events", "no login among the account's last events"),
    "login_failed": ("a failed login among the account's last events", "no failed login among the last events"),
    "new_device": ("a login from a new device among the account's last events", "no new device lately"),
    "new_country": ("a login from a new country among the account's last events", "no new country lately"),
    "no_2fa": ("a login without 2FA among the account's last events", "recent logins used 2FA"),
    "credential_change": ("password, e-mail or phone changed among the account's last events",
                          "no credential change lately"),
    "twofa_off": ("2FA turned off among the account's last events", "2FA not turned off lately"),
    "twofa_on": ("2FA turned on among the account's last events", "2FA not turned on lately"),
    "security_other": ("API key or withdrawal whitelist changed among the account's last events",
                       "no other security change lately"),
    "fiat_deposit": ("a fiat deposit among the account's last events", "no fiat deposit among the last events"),
    "fiat_withdrawal": ("a fiat withdrawal among the account's last events", "no fiat withdrawal lately"),
    "chain_deposit": ("a crypto deposit among the account's last events", "no crypto deposit among the last events"),
    "chain_withdrawal": ("a crypto withdrawal among the account's last events", "no crypto withdrawal lately"),
    "new_address": ("a withdrawal to an address the account never used", "withdrawals to known addresses"),
    "present": ("the account's recent activity", "few events before the withdrawal"),
}
SEQUENCE_STEPS_MAX = 64
_SEQUENCE_TEMPLATES = {"seq_*_log_hours_before": "how close together the account's last events came",
                       "seq_*_log_amount_usd": "the amounts of the account's last events"}

WITHDRAWAL = RiskCatalog(
    {**_LOGINS, **_SECURITY, **_PAYMENTS, **_NOVELTY, **_SEQUENCE_TEMPLATES,
     "amount_usd": "withdrawal of ${value:,.0f}",
     "amount_over_deposits_30d": "amount {value:.1f}x the deposits of the last 30 days",
     "amount_over_deposits_7d": "amount {value:.1f}x the deposits of the last 7 days",
     "chain_deposits_*": "{value:.0f} crypto deposits in the last {window}",
     "chain_deposit_usd_*": "${value:,.0f} deposited in crypto in the last {window}",
     "chain_withdrawals_*": "{value:.0f} crypto withdrawals in the last {window}",
     "chain_withdrawal_usd_*": "${value:,.0f} withdrawn in crypto in the last {window}",
     "chain_withdrawal_addresses_*": "{value:.0f} different withdrawal addresses in the last {window}",
     "chain_fresh_address_share_30d": "{value:.0%} of the month's withdrawals went to a new address",
     "chain_pass_through_7d": "{value:.0%} of the week's crypto deposits withdrawn again",
     "address_users_*": "destination address used by {value:.0f} accounts in the last {window}",
     "address_transfers_*": "destination address seen in {value:.0f} transfers in the last {window}",
     "address_usd_*": "${value:,.0f} moved through the destination address in the last {window}"},
    durations={**_LOGIN_TIMES, **_SECURITY_TIMES,
               "chain_since_deposit_*": "last crypto deposit {ago} earlier",
               "since_new_device_7d": "new device {ago} before the withdrawal",
               "since_new_device_country_7d": "new device and new country {ago} before the withdrawal"},
    days=_AGE, zeros=_ZEROS, missing=_MISSING,
    flags={f"seq_{step:02d}_{name}": words for step in range(SEQUENCE_STEPS_MAX)
           for name, words in _SEQUENCE_FLAGS.items()})

CREDIT = RiskCatalog(
    {**_PAYMENTS,
     "principal_usd": "loan of ${value:,.0f}",
     "ltv": "loan-to-value {value:.0%}",
     "leverage": "leverage {value:.0f}x",
     "term_days": "term of {value:.0f} days",
     "interest_rate": "interest rate {value:.1%}",
     "trades_*": "{value:.0f} trades in the last {window}",
     "volume_usd_*": "${value:,.0f} traded in the last {window}",
     "counterparties_*": "{value:.0f} trading counterparties in the last {window}",
     "self_match_share_*": "{value:.0%} of trades against itself in the last {window}",
     "symbols_*": "{value:.0f} markets traded in the last {window}",
     "counterparty_concentration_7d": "{value:.1f} trades per counterparty in the last 7 days",
     "chain_deposit_usd_*": "${value:,.0f} deposited in crypto in the last {window}",
     "chain_withdrawal_usd_*": "${value:,.0f} withdrawn in crypto in the last {window}",
     "chain_pass_through_7d": "{value:.0%} of the week's crypto deposits withdrawn again",
     "symbol_range_1h": "collateral market swung to {value:.3f}x its low in the last hour",
     "symbol_range_24h": "collateral market swung to {value:.3f}x its low in the last 24 hours",
     "symbol_trades_*": "{value:.0f} trades in the collateral market in the last {window}"},
    durations={"chain_since_deposit_*": "last crypto deposit {ago} earlier"}, days=_AGE, zeros=_ZEROS,
    missing=_MISSING, flags={"is_margin": ("a margin position", "a crypto-backed loan")})

DEPOSIT = RiskCatalog(
    {**_LOGINS,
     "amount_usd": "deposit of ${value:,.0f}",
     "haircut": "{value:.0%} of the deposit's funds traced to illicit sources (hop-decayed)",
     "poison": "an illicit source upstream of the deposit (poison score {value:.2f})",
     "hops": "{value:.0f} transaction(s) from a labelled illicit source",
     "hops_to_source": "{value:.0f} hop(s) from a labelled illicit source (0: the sender itself)",
     "prior_max_haircut_30d": "up to {value:.0%} illicit funds in the user's transfers of the last 30 days",
     "exposed_deposits_*": "{value:.0f} earlier deposits traced to illicit sources in the last {window}",
     "exposed_withdrawals_*": "{value:.0f} earlier withdrawals to illicit destinations in the last {window}",
     "max_haircut_*": "up to {value:.0%} illicit funds in the user's transfers of the last {window}",
     "max_poison_*": "an illicit source near the user's transfers of the last {window} (poison {value:.2f})",
     "exposed_share_*": "{value:.0%} of the user's transfers of the last {window} exposed to illicit funds",
     "exposure_categories_*": "{value:.0f} kinds of illicit source in the user's transfers of the last {window}",
     "chain_deposits_*": "{value:.0f} crypto deposits in the last {window}",
     "chain_deposit_usd_*": "${value:,.0f} deposited in crypto in the last {window}",
     "chain_withdrawals_*": "{value:.0f} crypto withdrawals in the last {window}",
     "chain_pass_through_7d": "{value:.0%} of the week's crypto deposits withdrawn again",
     "address_users_*": "sending address used by {value:.0f} accounts in the last {window}",
     "address_transfers_*": "sending address seen in {value:.0f} transfers in the last {window}"},
    durations={**_LOGIN_TIMES, "chain_since_deposit_*": "last crypto deposit {ago} earlier",
               "since_exposed_*": "an earlier transfer exposed to illicit funds {ago} before"},
    days=_AGE, missing={**_MISSING, "hops": "no illicit source within 3 hops", "haircut": "deposit not traced",
                        "since_exposed_*": "no exposed transfer in the last {window}"},
    zeros={**_ZEROS, "haircut": "no illicit funds traced upstream of the deposit",
           "poison": "no illicit source within 3 hops upstream",
           "exposed_*": "no exposed transfer in the last {window}",
           "prior_max_haircut_30d": "no exposed transfer in the last 30 days",
           "address_users_*": "a sending address no account used in the last {window}",
           "address_transfers_*": "a sending address never seen in the last {window}"},
    flags={"exposed": ("funds traced to a labelled illicit source", "no illicit source traced"),
           **{f"category_{c}": (f"funds traced to a {c.replace('_', ' ')} source", f"no {c.replace('_', ' ')} source")
              for c in ILLICIT_CATEGORIES}})
