"""Which past events make each decision's sequence: the ``steps`` latest of its entity strictly before it.

One rule for every sequence builder (the card benchmark's payments, the withdrawal product's account
events): an event enters a decision's sequence only if it belongs to the decision's entity and happened
strictly before the decision time. An event at the decision's own instant (the decision itself, or
anything logged with it) is left out, as is everything later.

>>> import numpy as np
>>> take, present = latest_before(np.array([1, 1, 1]), np.array([10, 20, 30]), np.array([1]), np.array([30]), 3)
>>> take.tolist(), present.tolist()
([[0, 0, 1]], [[False, True, True]])
"""

from __future__ import annotations

import numpy as np

from cryptoscope.errors import CryptoscopeError


def latest_before(h_entity: np.ndarray, h_time: np.ndarray, d_entity: np.ndarray, d_time: np.ndarray,
                  steps: int) -> tuple[np.ndarray, np.ndarray]:
    """For each decision, the history rows of its ``steps`` latest events strictly before its time.

    Entities are non-negative integer codes shared by history and decisions; times are int64 (e.g. UTC
    microseconds). Returns ``take`` (decisions x steps history row numbers, oldest first) and ``present``
    (False where the entity has fewer events: a padding step, whose ``take`` is meaningless).
    """
    if steps <= 0:
        raise CryptoscopeError(f"steps must be positive, got {steps}")
    n = len(d_entity)
    if n == 0 or len(h_entity) == 0:
        return np.zeros((n, steps), dtype=np.int64), np.zeros((n, steps), dtype=bool)
    h_entity, d_entity = np.asarray(h_entity, np.int64), np.asarray(d_entity, np.int64)
    h_time, d_time = np.asarray(h_time, np.int64), np.asarray(d_time, np.int64)
    t0 = min(int(h_time.min()), int(d_time.min()))
    span = max(int(h_time.max()), int(d_time.max())) - t0 + 1
    if (int(max(h_entity.max(), d_entity.max())) + 1) * span >= 2**62:
        raise CryptoscopeError("too many entities over too long a time to index in one pass; build by period")
    # one sort key per (entity, time): a decision's past is the run of history keys just below its own key
    h_key = h_entity * span + (h_time - t0)
    order = np.argsort(h_key, kind="stable")
    h_key = h_key[order]
    end = np.searchsorted(h_key, d_entity * span + (d_time - t0), side="left")  # first event at or after t
    first = np.searchsorted(h_key, d_entity * span, side="left")  # the entity's first event
    idx = end[:, None] - steps + np.arange(steps)[None, :]
    present = idx >= first[:, None]
    return order[np.clip(idx, 0, len(order) - 1)], present
