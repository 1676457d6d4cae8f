"""The per-caller moving-window rate limit: at most N hits in any window of the limit's length."""

from __future__ import annotations

from cryptoscope.serve.auth import Principal
from cryptoscope.serve.security import MovingWindow, RateLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_gets_n_hits_in_any_window_and_more_as_old_ones_leave_it() -> None:
    clock = Clock()
    limit = MovingWindow(3, 1.0, clock)
    assert [limit.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limit.hit("b")  # another caller has a window of its own
    clock.now += 0.5
    assert not limit.hit("a")  # a refused hit is not counted, but the three are still in the window
    clock.now += 0.5  # the first three hits are exactly one second old: still inside (the window is closed)
    assert not limit.hit("a")
    clock.now += 0.001
    assert [limit.hit("a") for _ in range(4)] == [True, True, True, False]


def test_callers_gone_quiet_are_forgotten() -> None:
    clock = Clock()
    limit = MovingWindow(1, 1.0, clock)
    for i in range(1023):
        limit.hit(f"caller-{i}")
    clock.now += 2.0
    limit.hit("one-more")  # the 1,024th new caller sweeps the table
    assert list(limit.hits) == ["one-more"]


def test_services_and_people_have_their_own_limits() -> None:
    limits = RateLimits("2/second", "1/second", "1/minute")
    service, analyst = Principal("svc", "service", False, "key"), Principal("ann", "analyst", False, "session")
    assert [limits.allow(service) for _ in range(3)] == [True, True, False]
    assert [limits.allow(analyst) for _ in range(2)] == [True, False]
    assert [limits.allow_login("10.0.0.1:ann") for _ in range(2)] == [True, False]
