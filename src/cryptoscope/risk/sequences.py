"""The account's events before each withdrawal, as a fixed-length sequence for a sequence model.

An account takeover has an order: a login from a new device or country, a password or 2FA change, then a
withdrawal to an address the account never used. Counts over windows (the product's views) keep each
ingredient but lose the order and the gaps between them; a GRU reading the events one by one keeps both.

For a withdrawal at ``t`` by user ``u`` the sequence is ``u``'s ``steps - 1`` latest events with
``event_time < t`` (strictly before: the withdrawal itself and anything at or after ``t`` never enter,
`cryptoscope.features.last_events`), oldest first, left-padded with zeros, then the withdrawal itself as
the last step (its amount and whether its address is new: what the decision knows). Events, from the lake:

* ``sessions``: each login attempt, succeeded or failed, whether it brought a device or an IP country the
  account had never used (``novelty.first_appearances``, the same rule as the product's novelty features),
  and a successful login without a second factor;
* ``account_changes``: credentials (password, e-mail, phone), 2FA turned off or on, other security
  settings (API keys, withdrawal whitelist);
* ``payments``: fiat deposits and withdrawals, with their amount;
* ``chain_transfers``: crypto deposits and withdrawals, with their amount, and for a withdrawal whether
  its address is one the account had never withdrawn to.

Each step holds `EVENT_FEATURES`; ``log_hours_before`` is log(1 + hours from the event to ``t``).

>>> history = AccountHistory.load(con)                               # doctest: +SKIP
>>> frame = history.with_sequences(decisions, steps=16)             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.last_events import latest_before
from cryptoscope.features.online_window import to_micros
from cryptoscope.risk.novelty import first_appearances

EVENT_FEATURES = ("present", "log_hours_before", "login_ok", "login_failed", "new_device", "new_country",
                  "no_2fa", "credential_change", "twofa_off", "twofa_on", "security_other", "fiat_deposit",
                  "fiat_withdrawal", "chain_deposit", "chain_withdrawal", "new_address", "log_amount_usd")
#: the one-hot event columns of ``account_events`` (all but present, the time gap and the amount)
FLAGS = EVENT_FEATURES[2:-1]
DECISION_COLUMNS = ("user_id", "decision_time", "address", "amount_usd")
PREFIX = "seq_"
#: the products with an event sequence, and its length (the decision included) per model, chosen on the validation
#: period of the demo world (``benchmarks/deep.py --parts world-withdrawal --steps 8 16 32``)
SEQUENCE_PRODUCTS = {"withdrawal": {"sequence": 16, "hybrid": 8}}
_ONLINE_TABLES = ("sessions", "account_changes", "payments", "chain_transfers")
_CHANGES = {"password": "credential_change", "email": "credential_change", "phone": "credential_change",
            "2fa_disabled": "twofa_off", "2fa_enabled": "twofa_on", "api_key_created": "security_other",
            "withdrawal_whitelist_added": "security_other"}


def sequence_columns(steps: int) -> list[str]:
    """The flattened sequence's column names, step by step (oldest first), e.g. ``seq_15_new_device``."""
    return [f"{PREFIX}{step:02d}_{name}" for step in range(steps) for name in EVENT_FEATURES]


def steps_of(features: Sequence[str]) -> int:
    """How many steps of sequence a model's feature list reads (0: none, a model on the tabular features only)."""
    return sum(1 for f in features if f.startswith(PREFIX)) // len(EVENT_FEATURES)


def with_model_sequences(frame: pd.DataFrame, features: Sequence[str],
                         history: Callable[[], AccountHistory]) -> pd.DataFrame:
    """``frame`` with the sequence columns a model's ``features`` read, if any (``history`` is only loaded then)."""
    steps = steps_of(features)
    return frame if steps == 0 or frame.empty else history().with_sequences(frame, steps)


def account_events(con: Any) -> pd.DataFrame:
    """Every account event of the lake, one row each: ``user_id``, ``event_time`` (UTC microseconds),
    ``amount_usd`` and the 0/1 `FLAGS`, in no particular order."""
    parts = [_logins(con), _changes(con), _payments(con), _transfers(con)]
    out = pd.concat(parts, ignore_index=True)
    for flag in FLAGS:
        out[flag] = out[flag].fillna(0).astype(np.int8) if flag in out.columns else np.int8(0)
    out["amount_usd"] = out["amount_usd"].astype(float).fillna(0.0)
    return out[["user_id", "event_time", "amount_usd", *FLAGS]]


def event_sequences(history: pd.DataFrame, decisions: pd.DataFrame, steps: int = 16) -> np.ndarray:
    """(len(decisions), steps, len(EVENT_FEATURES)) float32: per the module doc.

    ``history`` is ``account_events``; ``decisions`` has `DECISION_COLUMNS` and ``new_address`` (0/1)."""
    if steps < 2:
        raise CryptoscopeError(f"steps must be 2 or more (the withdrawal is the last), got {steps}")
    missing = [c for c in (*DECISION_COLUMNS, "new_address") if c not in decisions.columns]
    if missing:
        raise CryptoscopeError(f"decisions lack columns {', '.join(missing)}")
    n = len(decisions)
    out = np.zeros((n, steps, len(EVENT_FEATURES)), dtype=np.float32)
    d_t = _micros(decisions.decision_time)
    users = decisions.user_id.to_numpy(dtype=np.int64)
    take, present = latest_before(history.user_id.to_numpy(dtype=np.int64),
                                  history.event_time.to_numpy(dtype=np.int64), users, d_t, steps - 1)
    when = history.event_time.to_numpy(dtype=np.int64)[take]
    columns = {"present": np.ones(take.shape), "log_hours_before": np.log1p(np.maximum(d_t[:, None] - when, 0) / 3.6e9),
               "log_amount_usd": np.log1p(np.maximum(history.amount_usd.to_numpy(dtype=np.float64)[take], 0.0))}
    columns |= {flag: history[flag].to_numpy(dtype=np.float32)[take] for flag in FLAGS}
    for i, name in enumerate(EVENT_FEATURES):
        out[:, : steps - 1, i] = np.where(present, columns[name], 0.0)
    out[:, -1, :] = _decision_step(decisions)
    return out


@dataclass(frozen=True, eq=False)
class AccountHistory:
    """What the sequences are read from: every account event (`account_events`) and the first time each
    account withdrew to each address (whether a decision's address is new)."""

    events: pd.DataFrame
    first_withdrawal: pd.DataFrame  # user_id, address, first (UTC microseconds)

    @classmethod
    def load(cls, con: Any) -> AccountHistory:
        c = con.table("chain_transfers")
        c = c.filter(c.direction == "withdrawal")
        first = c.group_by("user_id", "address").aggregate(first=c.event_time.min()).to_pandas()
        return cls(events=account_events(con), first_withdrawal=_timed(first, "first"))

    def new_address(self, decisions: pd.DataFrame) -> np.ndarray:
        """1 where the decision's account had not withdrawn to its address strictly before the decision."""
        keys = decisions[["user_id", "address"]].reset_index(drop=True)
        first = keys.merge(self.first_withdrawal, on=["user_id", "address"], how="left")["first"]
        before = first.notna().to_numpy() & (first.fillna(np.inf).to_numpy() < _micros(decisions.decision_time))
        return (~before).astype(np.int8)

    def with_sequences(self, frame: pd.DataFrame, steps: int) -> pd.DataFrame:
        """``frame`` (withdrawal decisions) with the flattened sequence as `sequence_columns` after its own."""
        decisions = frame.assign(new_address=self.new_address(frame))
        seq = event_sequences(self.events, decisions, steps).reshape(len(frame), -1)
        return pd.concat([frame, pd.DataFrame(seq, columns=sequence_columns(steps), index=frame.index)], axis=1)


def _new_address(con: Any, transfers: Any) -> Any:
    """``transfers`` with ``new_address``: 1 when the account had not withdrawn to that address before."""
    c = con.table("chain_transfers")
    c = c.filter(c.direction == "withdrawal")
    first = c.group_by(_u="user_id", _a="address").aggregate(_first=c.event_time.min())
    j = transfers.left_join(first, [transfers.user_id == first._u, transfers.address == first._a])
    seen_before = j._first.notnull() & (j._first < j.event_time)
    return j.mutate(new_address=(~seen_before).cast("int8")).drop("_u", "_a", "_first")


def _logins(con: Any) -> pd.DataFrame:
    s = con.table("sessions")
    seen = first_appearances(con)
    for name in ("device", "country"):
        first = seen[name].distinct().rename(**{f"_u_{name}": "user_id", f"_t_{name}": "t"})
        s = s.left_join(first, [s.user_id == first[f"_u_{name}"], s.event_time == first[f"_t_{name}"]])
    rows = s.select(user_id=s.user_id, event_time=s.event_time, login_ok=s.success.cast("int8"),
                    login_failed=(~s.success).cast("int8"),
                    new_device=s._u_device.notnull().cast("int8"), new_country=s._u_country.notnull().cast("int8"),
                    no_2fa=(s.success & ~s.used_2fa).cast("int8")).to_pandas()
    return _timed(rows)


def _changes(con: Any) -> pd.DataFrame:
    a = con.table("account_changes")
    rows = a.select("user_id", "event_time", "change_type").to_pandas()
    kind = rows.pop("change_type").map(_CHANGES).fillna("security_other")
    return _timed(pd.concat([rows, pd.get_dummies(kind).astype(np.int8)], axis=1))


def _payments(con: Any) -> pd.DataFrame:
    p = con.table("payments")
    rows = p.select("user_id", "event_time", "amount_usd", deposit=(p.direction == "deposit").cast("int8")).to_pandas()
    deposit = rows.pop("deposit")
    return _timed(rows.assign(fiat_deposit=deposit, fiat_withdrawal=(1 - deposit).astype(np.int8)))


def _transfers(con: Any) -> pd.DataFrame:
    c = con.table("chain_transfers")
    rows = _new_address(con, c)
    rows = rows.select("user_id", "event_time", "amount_usd", deposit=(rows.direction == "deposit").cast("int8"),
                       new_address=rows.new_address).to_pandas()
    deposit = rows.pop("deposit")
    withdrawal = (1 - deposit).astype(np.int8)
    return _timed(rows.assign(chain_deposit=deposit, chain_withdrawal=withdrawal,
                              new_address=(rows.new_address * withdrawal).astype(np.int8)))


def _decision_step(decisions: pd.DataFrame) -> np.ndarray:
    """The withdrawal being decided as one step: its amount and address novelty, at no time gap."""
    n = len(decisions)
    step = {name: np.zeros(n) for name in EVENT_FEATURES}
    step |= {"present": np.ones(n), "chain_withdrawal": np.ones(n),
             "new_address": decisions.new_address.to_numpy(dtype=np.float64),
             "log_amount_usd": np.log1p(np.maximum(decisions.amount_usd.to_numpy(dtype=np.float64), 0.0))}
    return np.column_stack([step[name] for name in EVENT_FEATURES]).astype(np.float32)


def _timed(rows: pd.DataFrame, column: str = "event_time") -> pd.DataFrame:
    return rows.assign(**{column: _micros(rows[column])})


def _micros(values: pd.Series) -> np.ndarray:
    times = pd.to_datetime(values, utc=True)
    if times.isna().any():
        raise CryptoscopeError("every event and decision needs a time")
    return times.to_numpy(dtype="datetime64[us]").astype(np.int64)


@dataclass
class OnlineEvents:
    """The same sequences for one decision at a time, kept event by event (serving).

    Fed every canonical event in time order (``update``), as the online feature state is; ``columns`` gives a
    withdrawal's `sequence_columns` from the events fed so far, which are all strictly before it when it is
    read before its own event is fed. Each account keeps its ``keep`` latest events (the longest sequence a
    model may read). The encoding repeats the batch one row by row; ``tests/risk/test_sequences.py`` holds the
    two equal on the same events.
    """

    keep: int = 64
    recent: dict[int, list[tuple[int, float, tuple[int, ...]]]] = field(default_factory=dict)
    logins: dict[int, tuple[int, set[str], set[str]]] = field(default_factory=dict)  # first, devices, countries
    addresses: dict[int, dict[str, int]] = field(default_factory=dict)  # user -> address -> first withdrawal µs

    def update(self, table: str, row: Mapping[str, Any]) -> None:
        """Take one canonical-table event (tables without account events are ignored)."""
        if table not in _ONLINE_TABLES:
            return
        user, t = int(row["user_id"]), to_micros(row["event_time"])
        if table == "sessions":
            flags = self._login(user, t, row)
        elif table == "account_changes":
            flags = {_CHANGES.get(str(row["change_type"]), "security_other"): 1}
        elif table == "payments":
            flags = {"fiat_deposit" if row["direction"] == "deposit" else "fiat_withdrawal": 1}
        elif table == "chain_transfers":
            flags = self._transfer(user, t, row)
        amount = float(row.get("amount_usd") or 0.0) if table in ("payments", "chain_transfers") else 0.0
        events = self.recent.setdefault(user, [])
        events.append((t, amount, tuple(int(flags.get(f, 0)) for f in FLAGS)))
        if len(events) > 2 * self.keep:  # trimmed in bulk: appends stay cheap
            events.sort(key=lambda e: e[0])
            del events[: len(events) - self.keep]

    def columns(self, user: int, at: Any, address: str, amount_usd: float, steps: int) -> dict[str, float]:
        """The `sequence_columns` of a withdrawal by ``user`` at ``at`` to ``address`` of ``amount_usd``."""
        t = to_micros(at)
        past = sorted(e for e in self.recent.get(user, []) if e[0] < t)[-(steps - 1):]
        seq = np.zeros((steps, len(EVENT_FEATURES)), dtype=np.float32)
        for i, (when, amount, flags) in enumerate(past, start=steps - 1 - len(past)):
            seq[i, 0], seq[i, 1], seq[i, -1] = 1.0, np.log1p(max(t - when, 0) / 3.6e9), np.log1p(max(amount, 0.0))
            seq[i, 2:-1] = flags
        first = self.addresses.get(user, {}).get(address)
        decision = pd.DataFrame({"new_address": [int(first is None or first >= t)], "amount_usd": [amount_usd]})
        seq[-1] = _decision_step(decision)[0]
        return dict(zip(sequence_columns(steps), seq.ravel().tolist(), strict=True))

    def _login(self, user: int, t: int, row: Mapping[str, Any]) -> dict[str, int]:
        device, country, ok = str(row["device_id"]), str(row["ip_country"]), bool(row["success"])
        seen = self.logins.get(user)
        if seen is None:
            self.logins[user] = (t, {device}, {country})
            new_device = new_country = False
        else:
            new_device, new_country = (device not in seen[1] and t > seen[0]), (country not in seen[2] and t > seen[0])
            seen[1].add(device)
            seen[2].add(country)
        return {"login_ok": int(ok), "login_failed": int(not ok), "new_device": int(new_device),
                "new_country": int(new_country), "no_2fa": int(ok and not bool(row["used_2fa"]))}

    def _transfer(self, user: int, t: int, row: Mapping[str, Any]) -> dict[str, int]:
        if row["direction"] == "deposit":
            return {"chain_deposit": 1}
        first = self.addresses.setdefault(user, {})
        address = str(row["address"])
        new = address not in first or first[address] >= t
        first[address] = min(first.get(address, t), t)
        return {"chain_withdrawal": 1, "new_address": int(new)}
