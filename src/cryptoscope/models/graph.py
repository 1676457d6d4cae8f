"""``GraphClassifier``: a heterogeneous GraphSAGE over users and the entities they share, full batch, on CPU.

Why a graph network at all: mules and ring members are often unremarkable one by one; what gives them
away is whom they share devices, IPs, cards and addresses with. Hand-built graph features (degrees, the
known-bad share of neighbours, community statistics) summarise that neighbourhood; a graph network learns
its own summary. Users and each kind of entity are node types of their own; a user is joined to every
entity it used (both directions), and each layer passes messages along every edge type with a SAGE
convolution of its own (mean of the neighbours beside the node's own state, `torch_geometric.nn.SAGEConv`),
summed over the edge types a node receives. Two layers carry a user's features to its entities and back
to the users who share them. The whole graph is one batch: tens of thousands of users fit in memory, and
full batch needs neither pyg-lib nor torch-sparse (whose wheels are not available here).

The scikit-learn contract, with a graph in place of a table: ``fit(graph, y, sample_weight)`` learns from
the users of one `HeteroGraph` (``sample_weight`` 0 leaves a user out of the loss, e.g. a user already
known bad) and ``predict_proba(graph)`` scores every user of any graph built the same way (SAGE is
inductive: fit on an earlier snapshot, score a later one). Deterministic for a ``random_state``: one torch
thread by default and deterministic algorithms, the caller's settings restored afterwards.

Reasons: ``explain(graph, users)`` gives each user's gradient x input over every input its logit reads (its
own features, the users it shares an entity with, the entities in between), as the sequence model does over
its events. A user's logit reads only the nodes within ``layers`` hops (`HeteroGraph.around`), so it is
computed, exactly, on that neighbourhood alone, one user at a time: one backward pass per user, so an
explanation is for the users someone will read (those flagged), not for a whole snapshot.

Why no single-request scoring: a user's score reads its neighbours' features and, through them, theirs; a
request carrying one user's row cannot give it. Scores are batch-computed per snapshot (``predict_proba``
of a whole graph), and a table in place of a graph is refused with `NOT_PER_REQUEST` saying so.

Example::

    model = GraphClassifier(epochs=100).fit(earlier, y_earlier, sample_weight=targets)
    scores = model.predict_proba(later)[:, 1]
    why = model.explain(later, [int(scores.argmax())])[0]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models._torch import TorchWeights, scale, torch_settings

USER = "user"
#: What scoring anything but a whole graph says (a request's row, a feature table).
NOT_PER_REQUEST = ("a graph network scores the users of a whole graph snapshot (a HeteroGraph): a user's score reads "
                   "the accounts it shares devices, IPs, cards and addresses with, and theirs, which one request's "
                   "row does not hold; score a snapshot in batch (`cryptoscope anomaly mules score`) and read the "
                   "batch scores (risk_scores) instead")


@dataclass(frozen=True)
class HeteroGraph:
    """Users and the entities they share, as arrays a graph network reads (built by `cryptoscope.graph.hetero`).

    ``user_features`` is one row per user (in ``user_ids`` order; missing values allowed); ``edges`` maps an
    entity kind to a ``(2, m)`` array of (user index, entity index) pairs and ``entity_features`` maps it to
    one row per entity of that kind. Kinds absent from a snapshot still appear, with no entities, so two
    snapshots always have the same node and edge types.
    """

    user_ids: np.ndarray
    user_features: np.ndarray
    feature_names: tuple[str, ...]
    edges: dict[str, np.ndarray] = field(repr=False)
    entity_features: dict[str, np.ndarray] = field(repr=False)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self.edges))

    def __post_init__(self) -> None:
        n = len(self.user_ids)
        if self.user_features.shape != (n, len(self.feature_names)):
            raise CryptoscopeError(f"user_features has shape {self.user_features.shape}; expected "
                                   f"({n}, {len(self.feature_names)}): one row per user, one column per name")
        for kind, pairs in self.edges.items():
            ents = len(self.entity_features[kind])
            if pairs.shape[0] != 2 or (pairs.size and (pairs[0].max() >= n or pairs[1].max() >= ents)):
                raise CryptoscopeError(f"edges of {kind!r} must be a (2, m) array of user and entity indices")

    def around(self, user: int, hops: int) -> Neighbourhood:
        """The nodes within ``hops`` hops of user index ``user`` and every edge between them: all that a network of
        ``hops`` layers reads to score that user (a node ``d`` hops away is read at layer ``hops - d``, whose
        inputs are its neighbours, all within ``hops``), so the user's logit on it equals its logit on the whole
        graph. Every kind stays, with no entities where none is near."""
        users = np.array([user])
        found_users = {user}
        entities: dict[str, np.ndarray] = {k: np.zeros(0, dtype=np.int64) for k in self.kinds}
        frontier_users, frontier_ents = users, dict(entities)
        for hop in range(1, hops + 1):
            if hop % 2:  # users -> the entities they use
                near = {k: np.unique(self.edges[k][1][np.isin(self.edges[k][0], frontier_users)]) for k in self.kinds}
                frontier_ents = {k: np.setdiff1d(v, entities[k]) for k, v in near.items()}
                entities = {k: np.union1d(entities[k], frontier_ents[k]) for k in self.kinds}
            else:  # entities -> their users
                near_users = np.unique(np.concatenate(
                    [self.edges[k][0][np.isin(self.edges[k][1], frontier_ents[k])] for k in self.kinds]))
                frontier_users = np.array(sorted(set(near_users.tolist()) - found_users), dtype=np.int64)
                found_users |= set(frontier_users.tolist())
        kept = np.array(sorted(found_users), dtype=np.int64)
        edges, entity_features = {}, {}
        for kind in self.kinds:
            pairs = self.edges[kind]
            inside = np.isin(pairs[0], kept) & np.isin(pairs[1], entities[kind])
            edges[kind] = np.vstack([np.searchsorted(kept, pairs[0][inside]),
                                     np.searchsorted(entities[kind], pairs[1][inside])]).astype(np.int64).reshape(2, -1)
            entity_features[kind] = self.entity_features[kind][entities[kind]]
        graph = HeteroGraph(self.user_ids[kept], self.user_features[kept], self.feature_names, edges, entity_features)
        return Neighbourhood(graph, int(np.searchsorted(kept, user)), kept, entities)


@dataclass(frozen=True)
class Neighbourhood:
    """A user's neighbourhood as a graph of its own (`HeteroGraph.around`): ``center`` is the user's index in
    ``graph``; ``users`` and ``entities`` the indices of its nodes in the whole graph."""

    graph: HeteroGraph
    center: int
    users: np.ndarray
    entities: dict[str, np.ndarray] = field(repr=False)


@dataclass(frozen=True)
class Attribution:
    """Why a graph network scored one user as it did: gradient x input of its logit, from the training mean of
    each user feature (the standardised zero) and from degree 1 of each entity.

    ``own`` and ``linked`` hold one push per user feature: the user's own value, and the sum over the other users
    of its neighbourhood (``linked_users`` of them: with two or three layers, those it shares an entity with;
    ``linked_sum`` holds the sum of their values, NaN skipped).
    ``entities`` is the push of each kind's entities in its neighbourhood, summed; ``shared`` counts the entities
    of each kind it uses that someone else uses too."""

    user_id: int
    own: np.ndarray
    linked: np.ndarray
    entities: dict[str, float]
    linked_users: int
    linked_sum: np.ndarray
    shared: dict[str, int]


class GraphClassifier(TorchWeights, ClassifierMixin, BaseEstimator):
    """Heterogeneous GraphSAGE (``layers`` layers of width ``hidden``) and a linear head on the user nodes.

    ``epochs`` full-batch steps of Adam at ``learning_rate``; bad users weigh (good / bad) in the loss, as
    `RiskClassifier` weighs them; ``dropout`` between layers; ``threads`` torch threads.
    """

    def __init__(self, *, hidden: int = 32, layers: int = 2, epochs: int = 100, learning_rate: float = 0.01,
                 weight_decay: float = 1e-4, dropout: float = 0.2, random_state: int = 0, threads: int = 1) -> None:
        self.hidden = hidden
        self.layers = layers
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.random_state = random_state
        self.threads = threads

    def fit(self, graph: HeteroGraph, y: Any, sample_weight: Any = None) -> Self:
        """Learn from the users of ``graph``: ``y`` 1 = bad, 0 = good; users of ``sample_weight`` 0 left out."""
        import torch

        target, weight = _targets(graph, y, sample_weight)
        self.feature_names_in_ = graph.feature_names
        self.kinds_ = graph.kinds
        self.entity_width_ = {k: int(v.shape[1]) for k, v in graph.entity_features.items()}
        squashed = _squash(graph.user_features)
        self.user_mean_ = np.nan_to_num(np.nanmean(squashed, axis=0)) if len(graph.user_ids) else 0.0
        self.user_scale_ = scale(np.nanstd(squashed, axis=0))
        self.classes_ = np.array([0, 1])
        used = weight > 0
        pos = float((weight * target)[used].sum())
        weight = weight * np.where(target == 1, float((weight * (1 - target))[used].sum()) / pos, 1.0)
        with torch_settings(self.threads), torch.random.fork_rng():
            torch.manual_seed(self.random_state)
            net = self._network(torch)
            x, edges = self._tensors(torch, graph)
            yt, wt = (torch.as_tensor(a, dtype=torch.float32) for a in (target, weight / weight.sum()))
            opt = torch.optim.Adam(net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
            loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
            self.loss_curve_: list[float] = []
            net.train()
            for _ in range(self.epochs):
                opt.zero_grad()
                loss = (loss_fn(net(x, edges), yt) * wt).sum()
                loss.backward()
                opt.step()
                self.loss_curve_.append(float(loss.detach()))
            net.eval()
        self.net_ = net
        return self

    def decision_function(self, graph: HeteroGraph) -> np.ndarray:
        """The logit of every user of ``graph``, in ``graph.user_ids`` order."""
        import torch

        self._check(graph)
        with torch_settings(self.threads), torch.no_grad():
            x, edges = self._tensors(torch, graph)
            return np.asarray(self.net_(x, edges).numpy(), dtype=float)

    def explain(self, graph: HeteroGraph, users: Any) -> list[Attribution]:
        """The `Attribution` of each user index in ``users`` (see the module doc: exact, one backward pass on
        each user's ``layers``-hop neighbourhood)."""
        import torch

        self._check(graph)
        out = []
        with torch_settings(self.threads):
            for user in np.asarray(users, dtype=np.int64).ravel():
                hood = graph.around(int(user), self.layers)
                x, edges = self._tensors(torch, hood.graph)
                for tensor in x.values():
                    tensor.requires_grad_(True)
                self.net_(x, edges)[hood.center].backward()
                push = {t: (v.grad * v).detach().numpy().astype(float) if v.grad is not None
                        else np.zeros(tuple(v.shape)) for t, v in x.items()}
                others = np.arange(len(hood.users)) != hood.center
                linked = hood.graph.user_features[others]
                out.append(Attribution(
                    user_id=int(graph.user_ids[user]), own=push[USER][hood.center],
                    linked=push[USER][others].sum(axis=0),
                    entities={k: float(push[k].sum()) for k in self.kinds_}, linked_users=int(others.sum()),
                    linked_sum=np.nansum(linked, axis=0) if len(linked) else np.zeros(len(self.feature_names_in_)),
                    shared={k: int((hood.graph.edges[k][0] == hood.center).sum()) for k in self.kinds_}))
        return out

    def _check(self, graph: Any) -> None:
        """A fitted model and a graph of the fitted shape, or a clear error (a table or a request's row says why)."""
        check_is_fitted(self, "net_")
        if not isinstance(graph, HeteroGraph):
            raise CryptoscopeError(f"{type(graph).__name__} given: {NOT_PER_REQUEST}")
        if graph.feature_names != self.feature_names_in_ or graph.kinds != self.kinds_:
            raise CryptoscopeError("the graph's user features or entity kinds differ from those the model was "
                                   f"fitted on: {graph.feature_names[:3]}..., {graph.kinds} vs "
                                   f"{self.feature_names_in_[:3]}..., {self.kinds_}")

    def predict_proba(self, graph: HeteroGraph) -> np.ndarray:
        """Columns: probability of good, probability of bad (uncalibrated: bad users were up-weighted)."""
        bad = expit(self.decision_function(graph))
        return np.column_stack([1.0 - bad, bad])

    def predict(self, graph: HeteroGraph) -> np.ndarray:
        return (self.predict_proba(graph)[:, 1] >= 0.5).astype(int)

    # -- helpers ---------------------------------------------------------------------------------------
    def _network(self, torch: Any) -> Any:
        from cryptoscope.models._graph_net import build

        widths = {USER: len(self.feature_names_in_), **self.entity_width_}
        return build(torch, widths, self.kinds_, hidden=self.hidden, layers=self.layers, dropout=self.dropout)

    def _tensors(self, torch: Any, graph: HeteroGraph) -> tuple[dict[str, Any], dict[tuple[str, str, str], Any]]:
        users = np.nan_to_num((_squash(graph.user_features) - self.user_mean_) / self.user_scale_)
        x = {USER: torch.as_tensor(users, dtype=torch.float32)}
        edges = {}
        for kind in self.kinds_:
            x[kind] = torch.as_tensor(graph.entity_features[kind], dtype=torch.float32)
            pairs = torch.as_tensor(graph.edges[kind], dtype=torch.long).reshape(2, -1)
            edges[(USER, "uses", kind)] = pairs
            edges[(kind, "used_by", USER)] = pairs.flip(0)
        return x, edges


def _squash(x: np.ndarray) -> np.ndarray:
    """sign(x) log(1 + |x|): money and counts span orders of magnitude, and one whale's deposits, hundreds of
    standard deviations out, would otherwise saturate the network (trees need no such care)."""
    return np.sign(x) * np.log1p(np.abs(x))


def _targets(graph: HeteroGraph, y: Any, sample_weight: Any) -> tuple[np.ndarray, np.ndarray]:
    """``y`` and the weights as floats, checked: one per user, both classes among the weighted users."""
    n = len(graph.user_ids)
    target = np.asarray(y, dtype=float)
    weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if target.shape != (n,) or weight.shape != (n,):
        raise CryptoscopeError(f"y and sample_weight need one value per user of the graph ({n}); got "
                               f"{target.shape} and {weight.shape}")
    used = target[weight > 0]
    if not np.isin(used, (0.0, 1.0)).all() or not len(used) or used.min() == used.max():
        raise CryptoscopeError("the weighted users' labels must be 0 (good) or 1 (bad), with both present")
    return target, weight
