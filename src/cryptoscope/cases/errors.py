"""Errors of the case queue, each a `CryptoscopeError` so the CLI prints one line and exits 2."""

from __future__ import annotations

from cryptoscope.errors import CryptoscopeError


class CaseError(CryptoscopeError):
    """Anything wrong with a case-queue request."""


class UnknownCaseError(CaseError):
    """A case id that the store does not hold."""

    def __init__(self, case_id: int) -> None:
        self.case_id = case_id
        super().__init__(f"unknown case {case_id}; `cryptoscope cases list` shows the open ones")


class IllegalTransitionError(CaseError):
    """A state change the case workflow does not allow (e.g. reopening a closed case)."""

    def __init__(self, case_id: int, current: str, wanted: str, allowed: tuple[str, ...]) -> None:
        self.case_id, self.current, self.wanted = case_id, current, wanted
        nxt = ", ".join(allowed) if allowed else "none: the case is closed"
        super().__init__(f"case {case_id} is {current}; it cannot move to {wanted} (allowed next: {nxt})")


class AuditLogError(CaseError):
    """An attempt to change or delete an audit-log entry, which the database itself refuses."""
