"""Following a node's tip, for any chain: load to the tip, then look at the tip every few seconds and load again.

The loop is the same for Bitcoin and Ethereum; what differs is how a chain tells that its tip moved (Bitcoin's
best block hash, Ethereum's latest block hash) and what one pass does (`bitcoin/node_ingest.py`,
`ethereum/node_ingest.py`). Each pass after the first starts `REORG_WINDOW` heights below the last tip, so the
blocks a re-organisation replaced are checked again; a pass finds deeper ones by walking down the lake's blocks,
at most `MAX_REORG_DEPTH` of them, and beyond that stops with an error that removes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

REORG_WINDOW = 6  # heights below the last tip that each follow pass checks again
#: deeper than any re-organisation Bitcoin has had since 2013 (24 blocks), and than Ethereum's finality (two
#: epochs, 64 blocks): beyond it the node is taken to be behind (still syncing) or on another chain, and nothing
#: is removed
MAX_REORG_DEPTH = 100


def follow_tip(lo: int, *, stop: threading.Event, poll: float, tip: Callable[[], Hashable],
               load: Callable[[int], int | None], on_pass: Callable[[], None] | None = None) -> None:
    """``load(lo)``, then every ``poll`` seconds, when ``tip()`` (the node's tip, as anything comparable) has
    changed, ``load`` again from `REORG_WINDOW` below the tip it last returned, until ``stop`` is set."""
    start, seen = lo, None
    while not stop.is_set():
        now = tip()
        if now != seen:
            top = load(start)
            seen = now
            start = max(lo, (top or lo) - REORG_WINDOW)
            if on_pass:
                on_pass()
        stop.wait(poll)
