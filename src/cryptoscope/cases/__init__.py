"""The case queue: cases per ring or user, analyst workflow, an append-only audit log, labels back to the lake.

>>> from cryptoscope.cases import CaseStore
>>> store = CaseStore("sqlite:///demo-lake/_abnormal/cases.db")   # doctest: +SKIP
>>> [c.title for c in store.list_cases("open", limit=3)]           # doctest: +SKIP
"""

from cryptoscope.cases.errors import AuditLogError, CaseError, IllegalTransitionError, UnknownCaseError
from cryptoscope.cases.labels import LABEL_TYPE, sync_labels
from cryptoscope.cases.models import CLOSED, STATES, TRANSITIONS
from cryptoscope.cases.store import CaseDetail, CaseStore, CaseSummary, QueuePlace, default_url

__all__ = ["CLOSED", "LABEL_TYPE", "STATES", "TRANSITIONS", "AuditLogError", "CaseDetail", "CaseError", "CaseStore",
           "CaseSummary", "IllegalTransitionError", "QueuePlace", "UnknownCaseError", "default_url", "sync_labels"]
