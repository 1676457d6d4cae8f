"""The registry of product lines: the one list that ``demo``, ``run``, ``serve``, the CLI and the tests loop over.

Adding a product line is one module in its package (a class following ``productline.ProductLine``) and one
line here. ``ordered`` runs them in dependency order (each after the lines it names in ``after``), in the
order listed where nothing constrains it.

>>> [line.name for line in ordered()][:5]
['kyc', 'payment', 'withdrawal', 'credit', 'chain']
>>> sorted(online())
['credit', 'kyc', 'payment', 'withdrawal']
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptoscope.anomaly.line import AbnormalLine
from cryptoscope.behaviour.line import BehaviourLine
from cryptoscope.chain.line import ChainLine
from cryptoscope.errors import CryptoscopeError
from cryptoscope.feedback.line import FeedbackLine
from cryptoscope.productline import OnlineProduct, ProductLine
from cryptoscope.reco.line import RecommendationsLine
from cryptoscope.risk.line import RiskLine
from cryptoscope.surveillance.line import SurveillanceLine

LINES: dict[str, ProductLine] = {line.name: line for line in (
    RiskLine("kyc"), RiskLine("payment"), RiskLine("withdrawal"), RiskLine("credit"),
    AbnormalLine(), SurveillanceLine(), ChainLine(), RiskLine("deposit"),
    RecommendationsLine(), FeedbackLine(), BehaviourLine(),
)}


def get(name: str) -> ProductLine:
    """The line called ``name``; a clear error naming the known ones otherwise."""
    try:
        return LINES[name]
    except KeyError:
        raise CryptoscopeError(f"unknown product line {name!r}; known: {', '.join(LINES)}") from None


def online() -> dict[str, OnlineProduct]:
    """The lines decided event by event as well as in batch (``serve`` and ``stream`` score these)."""
    return {name: line for name, line in LINES.items()
            if isinstance(line, OnlineProduct) and line.online}


def ordered(names: Iterable[str] | None = None) -> list[ProductLine]:
    """``names`` (all lines when None) in an order where each runs after the lines it names in ``after``.

    A line's ``after`` names outside ``names`` are not added: the caller chose to skip them."""
    chosen = [get(n) for n in names] if names is not None else list(LINES.values())
    wanted = {line.name for line in chosen}
    done: list[ProductLine] = []
    placed: set[str] = set()
    while len(done) < len(chosen):
        ready = [line for line in chosen if line.name not in placed
                 and all(a in placed or a not in wanted for a in line.after)]
        if not ready:
            raise CryptoscopeError(f"product lines wait for each other: {', '.join(sorted(wanted - placed))}")
        done.append(ready[0])
        placed.add(ready[0].name)
    return done
