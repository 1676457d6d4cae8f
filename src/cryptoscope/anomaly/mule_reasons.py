"""Why the mule model scored a user as it did, in words an analyst can check against the graph.

The trees' reasons are TreeSHAP contributions (`cryptoscope.models.ReasonExplainer`) of the behaviour and graph
features, worded by `CATALOG`. The graph network's are gradient x input (`GraphClassifier.explain`) over every
input its score reads: the user's own features (the same words), the accounts it shares an entity with (their
known-bad count, the mean of a feature) and the shared entities of each kind. Either way a row's reasons are its
``top_k`` largest pushes up.

Explaining the network costs one backward pass over each user's neighbourhood, so batch scoring explains the
users it flags (and, for the trees as for the network, at most ``limit`` of them, highest scores first).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cryptoscope.graph.hetero import GraphSnapshot
from cryptoscope.models import ModelBundle, ReasonCatalog, ReasonExplainer
from cryptoscope.models.bundle import GraphBundle
from cryptoscope.models.graph import Attribution, GraphClassifier

#: The entity kinds of the graph (`cryptoscope.graph.links.LINK_KINDS`) in words.
KIND_WORDS = {"device": "devices", "ip": "IP addresses (same week)", "card": "cards",
              "bank": "bank or P2P instruments", "address": "chain addresses", "document": "identity documents",
              "referrer": "referrers"}


def shared_words(kind: str, count: float) -> str:
    """``shared_device`` at 2 reads "devices it shares with other accounts: 2" (the network's entity pushes too)."""
    return f"{KIND_WORDS.get(kind, kind)} it shares with other accounts: {count:.0f}"


class MuleCatalog(ReasonCatalog):
    """A `ReasonCatalog` whose sentences never show a feature's underscores (the behaviour features, worded from
    their names, come from several views: ``user_chain.deposit_usd_7d``)."""

    def describe(self, feature: str, value: float) -> str:
        return super().describe(feature, value).replace("_", " ")


#: The graph features' and the dollar amounts' words; other behaviour features read from their names
#: (``withdrawals in the last 7 days: 3``).
CATALOG = MuleCatalog({
    "degree": "linked to {value:.0f} accounts through shared devices, IPs, cards or addresses",
    "strength": "strongly linked to other accounts (link weight {value:.1f})",
    "component_size": "in a connected group of {value:.0f} accounts",
    "ring_size": "in a ring of {value:.0f} accounts",
    "ring_density": "in a dense ring ({value:.0%} of its pairs linked)",
    "ring_shared_kinds": "its ring shares {value:.0f} kinds of entity",
    "ring_shared_entities": "its ring shares {value:.0f} entities",
    "ring_known_bad": "{value:.0f} known-bad accounts in its ring",
    "ring_known_bad_share": "{value:.0%} of its ring known bad",
    "known_bad_neighbours": "shares an entity with {value:.0f} known-bad accounts",
    "known_bad_share": "{value:.0%} of the accounts it is linked to are known bad",
    "propagation": "close to known fraud in the graph (propagation {value:.2f})",
    "shared_kinds": "shares {value:.0f} kinds of entity with other accounts",
    "known_bad": "known bad already",
    "account_age_days": "account opened {value:.0f} days earlier",
    **{f"shared_{k}": shared_words(k, 0).replace(": 0", ": {value:.0f}") for k in KIND_WORDS},
    "deposit_usd_*": "card and bank deposits of ${value:,.0f} in the last {window}",
    "user_chain.deposit_usd_*": "chain deposits of ${value:,.0f} in the last {window}",
    "withdrawal_usd_*": "chain withdrawals of ${value:,.0f} in the last {window}",
    "mean_usd_*": "payments of ${value:,.0f} on average in the last {window}",
    "max_usd_*": "a payment of ${value:,.0f} in the last {window}",
    "std_usd_*": "payment amounts spread by ${value:,.0f} in the last {window}",
    "volume_usd_*": "traded ${value:,.0f} in the last {window}",
    re.compile(r"(?:\w+\.)?(?P<what>[a-z_]+?)_usd_\d+[mhdw]"): "{what} ${value:,.0f} in the last {window}",
})


def explain(bundle: ModelBundle, snap: GraphSnapshot, rows: np.ndarray, *, top_k: int = 3) -> list[tuple[str, ...]]:
    """The reasons of the users at positions ``rows`` of ``snap`` (in that order), each at most ``top_k``."""
    if not len(rows):
        return []
    if isinstance(bundle, GraphBundle) and isinstance(bundle.estimator, GraphClassifier):
        names = bundle.estimator.feature_names_in_
        x = snap.hetero.user_features
        return [graph_words(a, names, x[r], top_k) for a, r in zip(bundle.estimator.explain(snap.hetero, rows),
                                                                     rows, strict=True)]
    table = snap.table.iloc[rows][list(bundle.features)]
    explainer = ReasonExplainer(CATALOG, top_k=top_k).fit(bundle.estimator, table)
    return [tuple(r.text for r in found) for found in explainer.reasons(table)]


def importance(bundle: ModelBundle, snap: GraphSnapshot, rows: np.ndarray) -> tuple[pd.Series, str]:
    """Mean absolute push of each input over the users at ``rows``, largest first, and what it measures."""
    if isinstance(bundle, GraphBundle) and isinstance(bundle.estimator, GraphClassifier):
        found = bundle.estimator.explain(snap.hetero, rows)
        names = bundle.estimator.feature_names_in_
        frame = pd.DataFrame([{**dict(zip(names, np.abs(a.own), strict=True)),
                               **{f"linked {n}": v for n, v in zip(names, np.abs(a.linked), strict=True)},
                               **{f"shared {k}": abs(v) for k, v in a.entities.items()}} for a in found])
        return frame.mean().sort_values(ascending=False), "mean |gradient x input| on the top-scored test users"
    table = snap.table.iloc[rows][list(bundle.features)]
    explainer = ReasonExplainer(CATALOG).fit(bundle.estimator, table)
    return explainer.importance(table), "mean |SHAP| on the top-scored test users"


def graph_words(a: Attribution, names: tuple[str, ...], own: np.ndarray, top_k: int) -> tuple[str, ...]:
    """One user's largest pushes up, worded: its own features, its linked accounts', its shared entities' (pushes
    that read alike, a ``shared_card`` count and the cards' own push, are added up)."""
    pushes: dict[str, float] = {}

    def add(push: float, text: str) -> None:
        pushes[text] = pushes.get(text, 0.0) + push

    for j, name in enumerate(names):
        if name != "known_bad":  # always 0 for a user scored: an input for its neighbours, never its own reason
            add(float(a.own[j]), CATALOG.describe(name, float(own[j])))
        if a.linked_users and (name == "known_bad" or a.linked_sum[j] != 0):
            add(float(a.linked[j]), _linked(name, float(a.linked_sum[j]), a.linked_users))
    for kind, push in a.entities.items():
        if a.shared.get(kind):
            add(push, shared_words(kind, a.shared[kind]))
    ranked = sorted((item for item in pushes.items() if item[1] > 0), key=lambda item: -item[1])
    return tuple(text for text, _ in ranked[:top_k])


def _linked(name: str, total: float, users: int) -> str:
    """What the accounts a user shares an entity with say about one feature (their values added up)."""
    if users == 1:
        whom = "the one account it shares an entity with"
        return f"{whom} is {'' if total else 'not '}known bad" if name == "known_bad" else \
            f"{whom}: {CATALOG.describe(name, total)}"
    whom = f"the {users} accounts it shares an entity with"
    if name == "known_bad":
        return f"{total:.0f} of {whom} are known bad"
    return f"{whom}, together: {CATALOG.describe(name, total)}"
