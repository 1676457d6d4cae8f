"""What a decision needs besides the feature views: the account, earlier KYC images, login novelty.

The batch spines (``risk/spines.py``) read these from whole tables; online they are kept event by
event, with the same rules:

* the account's residence country and sign-up time (``account_age_days``);
* ``document_other_accounts`` / ``selfie_other_accounts``: distinct *other* accounts that submitted
  the same image strictly before the decision;
* login novelty (``risk/novelty.py``): a device or IP country is new at the instant of its first
  login for the account, provided the account had logged in before; counted over the last 24 hours,
  or seconds since the latest one in the last week.

A `Context` is plain dicts and lists, so it pickles beside the feature state's snapshot.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptoscope.features.online_window import to_micros

DAY_US = 86_400_000_000
WEEK_US = 7 * DAY_US


@dataclass
class _Logins:
    """One account's login history as far as novelty needs it."""

    first: int
    devices: set[str] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)
    new_device: list[int] = field(default_factory=list)
    new_country: list[int] = field(default_factory=list)
    new_both: list[int] = field(default_factory=list)


@dataclass
class Context:
    """Accounts, KYC image use and login novelty, fed by the same events as the feature state."""

    accounts: dict[int, tuple[str | None, int]] = field(default_factory=dict)  # user -> (country, signup µs)
    images: dict[str, dict[int, int]] = field(default_factory=dict)  # image hash -> user -> first use µs
    logins: dict[int, _Logins] = field(default_factory=dict)
    #: state a product line keeps beside these, to be snapshotted with them (e.g. the withdrawal model's recent
    #: account events, ``risk/sequences.py``), by name; fed by its owner, not by ``update``
    extra: dict[str, Any] = field(default_factory=dict)

    def update(self, table: str, row: Mapping[str, Any]) -> None:
        """Take one canonical-table event (the tables other than these three are ignored)."""
        if table == "sessions":
            self._login(int(row["user_id"]), to_micros(row["event_time"]), str(row["device_id"]),
                        str(row["ip_country"]))
        elif table == "kyc_submissions":
            t, user = to_micros(row["event_time"]), int(row["user_id"])
            for column in ("document_hash", "selfie_hash"):
                users = self.images.setdefault(str(row[column]), {})
                if users.get(user, t + 1) > t:
                    users[user] = t
        elif table == "accounts":
            self.accounts[int(row["user_id"])] = (row.get("country"), to_micros(row["event_time"]))

    def _login(self, user: int, t: int, device: str, country: str) -> None:
        seen = self.logins.get(user)
        if seen is None:
            self.logins[user] = _Logins(first=t, devices={device}, countries={country})
            return
        new_device = device not in seen.devices and t > seen.first
        new_country = country not in seen.countries and t > seen.first
        seen.devices.add(device)
        seen.countries.add(country)
        for flag, times in ((new_device, seen.new_device), (new_country, seen.new_country),
                            (new_device and new_country, seen.new_both)):
            if flag:
                bisect.insort(times, t)
                del times[:bisect.bisect_left(times, t - WEEK_US)]  # nothing older than a week is ever asked

    def spine(self, user: int, at: Any) -> dict[str, Any]:
        """``account_country`` and ``account_age_days`` at ``at`` (None when the account is unknown)."""
        country, signup = self.accounts.get(user, (None, None))
        # whole seconds, as the batch spine counts them (`risk.spines._account`)
        age = None if signup is None else float(to_micros(at) // 1_000_000 - signup // 1_000_000) / (DAY_US // 10**6)
        return {"account_country": country, "account_age_days": age}

    def other_accounts(self, image: str, user: int, at: Any) -> int:
        """Distinct other accounts that submitted ``image`` strictly before ``at``."""
        t = to_micros(at)
        return sum(1 for u, first in self.images.get(image, {}).items() if u != user and first < t)

    def novelty(self, user: int, at: Any) -> dict[str, Any]:
        """The four features of ``risk/novelty.py`` for ``user`` at ``at``."""
        t = to_micros(at)
        seen = self.logins.get(user)
        if seen is None:
            return {"new_devices_24h": 0, "new_countries_24h": 0, "since_new_device_7d": None,
                    "since_new_device_country_7d": None}
        return {"new_devices_24h": _count(seen.new_device, t - DAY_US, t),
                "new_countries_24h": _count(seen.new_country, t - DAY_US, t),
                "since_new_device_7d": _since(seen.new_device, t),
                "since_new_device_country_7d": _since(seen.new_both, t)}


def _count(times: list[int], lo: int, hi: int) -> int:
    return bisect.bisect_left(times, hi) - bisect.bisect_left(times, lo)


def _since(times: list[int], t: int) -> int | None:
    i = bisect.bisect_left(times, t)
    if i == 0 or times[i - 1] < t - WEEK_US:
        return None
    return t // 1_000_000 - times[i - 1] // 1_000_000
