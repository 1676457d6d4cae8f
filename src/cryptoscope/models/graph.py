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

Example::

    model = GraphClassifier(epochs=100).fit(earlier, y_earlier, sample_weight=targets)
    scores = model.predict_proba(later)[:, 1]
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

        check_is_fitted(self, "net_")
        if graph.feature_names != self.feature_names_in_ or graph.kinds != self.kinds_:
            raise CryptoscopeError("the graph's user features or entity kinds differ from those the model was "
                                   f"fitted on: {graph.feature_names[:3]}..., {graph.kinds} vs "
                                   f"{self.feature_names_in_[:3]}..., {self.kinds_}")
        with torch_settings(self.threads), torch.no_grad():
            x, edges = self._tensors(torch, graph)
            return np.asarray(self.net_(x, edges).numpy(), dtype=float)

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
