"""Sharing a stream among N consumers: each owns a slice of the users, by a stable hash of the user id.

A partition scores the decisions of the users it owns and appends the raw rows whose first account it owns
(a trade: the buyer's), so every decision is scored once and every row written once. Its online state takes
*every* event, not only its users': many views are keyed by what accounts share (a device's or an IP's
users, a card, a KYC document, a chain address's users), and a partition holding only its own users'
events would undercount exactly the cross-account signals. So partitions divide the scoring, the model's
explanations and the lake writes, while each still decodes and counts every event (docs/stream.md). Market
surveillance is not split either: the wash-trading rule weighs a pair's trades against each account's
trades on every market, so partition 0 runs every detector over the whole book.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptoscope.errors import CryptoscopeError

#: the account columns of each table's rows, first the one whose owner writes the raw row
ACCOUNTS = {"trades": ("buyer_user_id", "seller_user_id")}


@dataclass(frozen=True)
class Partition:
    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Partition:
        """``"I/N"`` (0 <= I < N), as ``--partition`` takes it."""
        try:
            i, n = (int(x) for x in text.split("/"))
        except ValueError:
            raise CryptoscopeError(f"--partition {text!r}: expected I/N, e.g. 0/2") from None
        if not 0 <= i < n:
            raise CryptoscopeError(f"--partition {text!r}: I must be in 0..N-1")
        return cls(i, n)

    @property
    def name(self) -> str:
        return "all" if self.count == 1 else f"p{self.index}of{self.count}"

    def owns_user(self, user: Any) -> bool:
        return self.count == 1 or zlib.crc32(str(user).encode()) % self.count == self.index

    @property
    def surveils(self) -> bool:
        return self.index == 0

    def accounts(self, table: str, row: Mapping[str, Any]) -> tuple[Any, ...]:
        columns = ACCOUNTS.get(table, ("user_id",))
        return tuple(row[c] for c in columns if row.get(c) is not None)

    def writes(self, table: str, row: Mapping[str, Any]) -> bool:
        """Whether this partition appends the raw row to the lake (exactly one partition does)."""
        if self.count == 1:
            return True  # the only one: every event passes here, so no account look-up
        accounts = self.accounts(table, row)
        return self.owns_user(accounts[0]) if accounts else self.index == 0
