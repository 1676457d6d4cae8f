"""The knobs of a simulated world. Same config and seed, same world, byte for byte."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptoscope.errors import CryptoscopeError

US = 1_000_000  # microseconds per second
HOUR = 3600 * US
DAY = 24 * HOUR


@dataclass(frozen=True)
class SimConfig:
    """What to simulate.

    ``chunk_users`` bounds memory: users are simulated in independent chunks (rings, wash
    trading groups and counterparties stay inside one chunk), each with its own random stream.
    Changing it changes the world, so it is part of the config, not a tuning knob.
    """

    users: int = 20_000
    days: int = 90
    seed: int = 7
    start: dt.datetime = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    chunk_users: int = 25_000
    fraud_scale: float = 1.0  # multiplies every typology's prevalence

    def __post_init__(self) -> None:
        if self.users < 100:
            raise CryptoscopeError(f"--users must be at least 100 (got {self.users})")
        if not 7 <= self.days <= 3650:
            raise CryptoscopeError(f"--days must be between 7 and 3650 (got {self.days})")
        if self.start.tzinfo is None:
            raise CryptoscopeError("start must be a UTC datetime")

    @property
    def t0(self) -> int:
        """Start of the world in microseconds since the epoch."""
        return int(self.start.timestamp() * US)

    @property
    def t1(self) -> int:
        return self.t0 + self.days * DAY

    @property
    def n_chunks(self) -> int:
        return -(-self.users // self.chunk_users)
