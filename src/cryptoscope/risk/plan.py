"""When a risk model is built, and which decisions and labels each period may use.

The window of decisions is cut by time, never at random::

    start ──── train ────┤── valid ──┤░ maturity ░┤──── test ────┤░ horizon ░┤ end
                     train_end   valid_end   build_date      test_end

* ``build_date`` (the start of the last ``test_share`` of the window) is the day the model is
  built: training and validation rows carry only the labels known by then
  (``labels.event_time <= build_date``);
* decisions in the ``maturity`` before the build date are left out: their chargebacks and reports
  have not arrived yet, so they would teach the model that fresh fraud is good;
* the rest before it is split ``1 - valid_share`` / ``valid_share`` into train and valid: the
  validation period sets the decision thresholds, and late labels leave it few bad rows, hence 40 %;
* the test period, from the build date on, is judged with every label the lake knows (the end of
  the world): chargebacks and reports that came later than the model;
* it stops a ``horizon`` before the end when a product's outcomes take longer than a test period
  to arrive (KYC findings, loan repayments): decisions younger than that would be judged as good
  only because their outcome is not known yet. ``build_date`` then starts the last ``test_share``
  of ``[start, end - horizon]``.

>>> import datetime as dt
>>> b = TimePlan().boundaries(dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 4, 1, tzinfo=dt.UTC),
...                           maturity=dt.timedelta(days=7))
>>> f"{b.train_end:%m-%d %H:%M} {b.valid_end:%m-%d %H:%M} {b.build_date:%m-%d %H:%M}"
'02-15 13:30 03-02 12:00 03-09 12:00'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import SplitSpec


@dataclass(frozen=True)
class Boundaries:
    """The instants that cut one window: see the module doc."""

    start: dt.datetime
    train_end: dt.datetime
    valid_end: dt.datetime
    build_date: dt.datetime
    end: dt.datetime
    test_end: dt.datetime | None = None

    @property
    def last_decision(self) -> dt.datetime:
        """The last decision the test period judges (``test_end``, or the end of the data)."""
        return self.test_end or self.end

    def split_spec(self) -> SplitSpec:
        """The harness's split: train before ``train_end``, valid to ``valid_end``, test after (the
        decisions between ``valid_end`` and the build date are dropped from the frame beforehand)."""
        return SplitSpec(train_end=self.train_end, valid_end=self.valid_end)


@dataclass(frozen=True)
class TimePlan:
    """Shares of the window; ``maturity`` (None: the product's own) is the label wait before the build."""

    test_share: float = 0.25
    valid_share: float = 0.4
    maturity: dt.timedelta | None = None

    def __post_init__(self) -> None:
        if not (0 < self.test_share < 1 and 0 < self.valid_share < 1):
            raise CryptoscopeError(f"test_share ({self.test_share}) and valid_share ({self.valid_share}) must be "
                                   "between 0 and 1")
        if self.maturity is not None and self.maturity < dt.timedelta(0):
            raise CryptoscopeError(f"the maturity must not be negative, got {self.maturity}")

    def boundaries(self, start: dt.datetime, end: dt.datetime, *, maturity: dt.timedelta = dt.timedelta(0),
                   horizon: dt.timedelta = dt.timedelta(0)) -> Boundaries:
        """Cut ``[start, end]``; the plan's own ``maturity`` wins over the one given."""
        wait = self.maturity if self.maturity is not None else maturity
        test_end = end - horizon
        if test_end <= start:
            raise CryptoscopeError(f"an outcome horizon of {horizon} leaves no decision that can be judged between "
                                   f"{start:%Y-%m-%d} and {end:%Y-%m-%d}; use a longer window")
        build = start + (test_end - start) * (1 - self.test_share)
        valid_end = build - wait
        if valid_end <= start:
            raise CryptoscopeError(f"a maturity of {wait} leaves no labelled decisions before the build date "
                                   f"{build:%Y-%m-%d}; use a longer window or a shorter maturity")
        train_end = start + (valid_end - start) * (1 - self.valid_share)
        return Boundaries(start=start, train_end=train_end, valid_end=valid_end, build_date=build, end=end,
                          test_end=test_end if horizon > dt.timedelta(0) else None)


def activity_window(con: Any) -> tuple[dt.datetime, dt.datetime]:
    """First and last login in the lake: the span in which behaviour features exist at all."""
    s = con.table("sessions")
    row = s.aggregate(first=s.event_time.min(), last=s.event_time.max()).to_pyarrow().to_pylist()[0]
    if row["first"] is None:
        raise CryptoscopeError("the lake has no sessions: risk models need the logins behind their features")
    return row["first"], row["last"]
