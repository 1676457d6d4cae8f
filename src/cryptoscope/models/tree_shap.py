"""Exact TreeSHAP for a LightGBM booster at O(trees x leaves x depth) per row, from tables built once per model.

Why: LightGBM's own TreeSHAP (``pred_contrib``; Lundberg et al. 2020, Algorithm 2) walks every path with its
EXTEND/UNWIND recurrences for every row, O(T L D^2): ~110-160 µs for the withdrawal model's 200 trees of 7 leaves,
the largest part of a served decision's CPU. FastTreeSHAP v2 (Yang 2021, arXiv:2109.09847) moves the part that does
not depend on the row into a table per leaf. Its library (``fasttreeshap`` 0.1.6, 2023) no longer imports with
NumPy 2, so the same algorithm is here, in Numba, held equal to LightGBM's ``pred_contrib`` by the tests and by the
serving path's start-up check (``risk.fastscore.FastPath.check``).

The formula. A leaf with value ``v`` whose path splits on ``k`` distinct features ``P``; for each, ``z_j`` is the
share of the training rows that take the path's way at every split on ``j`` (the product of child/parent counts)
and ``o_j`` is 1 when the row does (0 otherwise). The leaf adds, for every ``i`` in ``P``,

    phi_i += v (o_i - z_i) sum over S in P - {i} of  |S|! (k - 1 - |S|)! / k!  prod_{j in S} o_j  prod_{j not in S} z_j

(``j`` ranging over ``P - {i}``), and ``v`` times its share of the training rows to the bias. The ``o_j`` are 0 or 1,
so the sum depends on the row only through the set ``A`` of path features with ``o_j = 1``: a table of ``2^k`` rows
of ``k`` numbers per leaf holds every answer, and a row costs its node decisions plus one table row per leaf.

Only numerical splits are handled (LightGBM's rule for missing values and zeros included); a booster with
categorical splits, linear trees, several trees per iteration, or tables over ``MAX_TABLE`` numbers raises
``TypeError``, and the caller keeps LightGBM's own TreeSHAP.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

#: the most numbers all tables of one model may hold (8 bytes each): a model of deep trees keeps LightGBM's TreeSHAP
MAX_TABLE = 8_000_000
_MISSING = {"None": 0, "Zero": 1, "NaN": 2}
_ZERO = float(np.float32(1e-35))  # LightGBM's kZeroThreshold (a float constant), as its IsZero compares
_STACK = 64  # the walk's stack: a tree's depth + 1


class TreeShap:
    """A LightGBM booster's trees as flat arrays and per-leaf tables; ``values(x)`` is ``pred_contrib``'s layout."""

    def __init__(self, booster: Any) -> None:
        model = booster.dump_model()  # the best iteration's trees, as predict uses by default
        if model.get("num_tree_per_iteration", 1) != 1:
            raise TypeError("several trees per iteration (multiclass): no TreeSHAP tables")
        self.width = int(booster.num_feature())
        trees = _Flat()
        for info in model["tree_info"]:
            trees.add(info["tree_structure"])
        if trees.depth >= _STACK:
            raise TypeError(f"a tree {trees.depth} splits deep (the walk holds {_STACK - 1})")
        if trees.table_size > MAX_TABLE:
            raise TypeError(f"TreeSHAP tables would hold {trees.table_size:,} numbers (limit {MAX_TABLE:,})")
        self.nodes, self.thresholds, self.trees, self.leaves, self.leaf_features = trees.arrays()
        self.leaf_values = np.array(trees.leaf["value"], dtype=np.float64)
        self.constant = np.array(trees.constant, dtype=np.float64)  # per tree: a one-leaf tree's value, else 0
        self.bias = trees.bias
        self.objective = str(model.get("objective", ""))
        kind, _, sigmoid = self.objective.partition(" sigmoid:")
        #: LightGBM's sigmoid parameter of a binary objective (None for another objective: no probabilities)
        self.sigmoid = float(sigmoid) if kind == "binary" and sigmoid else None
        self.table = _tables(self.leaves, np.array(trees.z), self.leaf_values, trees.table_size)

    def values(self, x: np.ndarray) -> np.ndarray:
        """SHAP values on the log-odds: one column per feature, then the bias (its expected value)."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.width:
            raise ValueError(f"expected rows of {self.width} features, got shape {x.shape}")
        out = np.zeros((x.shape[0], self.width + 1), dtype=np.float64)
        _contributions(x, out, self.nodes, self.thresholds, self.trees, self.leaves, self.leaf_features, self.table)
        out[:, -1] += self.bias
        return out

    def margins(self, x: np.ndarray) -> np.ndarray:
        """The raw scores (the sum of each tree's leaf, tree by tree from 0.0, as LightGBM's ``PredictRaw`` adds)."""
        return self._predict(x, 0.0)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """``predict``'s probabilities for a binary objective (``1 / (1 + exp(-sigmoid * margin))``, as LightGBM's
        ``BinaryLogloss::ConvertOutput``); ``TypeError`` for another objective."""
        if self.sigmoid is None:
            raise TypeError(f"objective {self.objective!r}: no probabilities from the tables")
        return self._predict(x, self.sigmoid)

    def _predict(self, x: np.ndarray, sigmoid: float) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        out = np.empty(x.shape[0], dtype=np.float64)
        _predict(x, out, self.nodes, self.thresholds, self.trees, self.leaf_values, self.constant, sigmoid)
        return out


class _Flat:
    """Trees of ``dump_model`` as flat arrays: nodes (per tree, in order), leaves with their paths and features."""

    def __init__(self) -> None:
        self.node: dict[str, list[Any]] = {"feature": [], "threshold": [], "missing": [], "default_left": [],
                                           "slot": [], "left": [], "right": []}
        self.tree_node_start = [0]
        self.leaf: dict[str, list[Any]] = {"value": [], "k": [], "feature_start": [0], "table_start": [],
                                           "z_start": [0]}
        self.features: list[int] = []
        self.z: list[float] = []
        self.table_size = 0
        self.bias = 0.0
        self.constant: list[float] = []
        self.depth = 0

    def add(self, root: dict[str, Any]) -> None:
        if "split_feature" not in root:  # a one-leaf tree: its value is the bias
            self.bias += float(root["leaf_value"])
            self.constant.append(float(root["leaf_value"]))
        else:
            self.constant.append(0.0)
            self._walk(root, [], float(root["internal_count"]))
        self.tree_node_start.append(len(self.node["feature"]))

    def _walk(self, node: dict[str, Any], path: list[tuple[int, float]], total: float) -> int:
        """Depth first; ``path`` holds (feature, child/parent count share) from the root. Returns the node's
        reference: its index among the nodes, or ``-1 - leaf`` for a leaf."""
        if "split_feature" not in node:
            self.depth = max(self.depth, len(path))
            return self._leaf(node, path, total)
        if node.get("decision_type", "<=") != "<=":
            raise TypeError("a categorical split: no TreeSHAP tables")
        index, feature = len(self.node["feature"]), int(node["split_feature"])
        features = list(dict.fromkeys(f for f, _ in path))
        self.node["feature"].append(feature)
        self.node["slot"].append(features.index(feature) if feature in features else len(features))
        self.node["threshold"].append(float(node["threshold"]))
        self.node["missing"].append(_MISSING[str(node.get("missing_type", "None"))])
        self.node["default_left"].append(bool(node.get("default_left", True)))
        self.node["left"].append(0)
        self.node["right"].append(0)
        count = float(node["internal_count"])
        for side in ("left", "right"):
            child = node[f"{side}_child"]
            self.node[side][index] = self._walk(child, [*path, (feature, _count(child) / count)], total)
        return index

    def _leaf(self, node: dict[str, Any], path: list[tuple[int, float]], total: float) -> int:
        """A leaf's distinct path features (in order of first split, the slots its nodes were given) and z."""
        shares: dict[int, float] = {}
        for feature, share in path:
            shares[feature] = shares.get(feature, 1.0) * share
        k, value = len(shares), float(node["leaf_value"])
        self.features.extend(shares)
        self.z.extend(shares.values())
        self.leaf["value"].append(value)
        self.leaf["k"].append(k)
        self.leaf["feature_start"].append(len(self.features))
        self.leaf["z_start"].append(len(self.z))
        self.leaf["table_start"].append(self.table_size)
        self.table_size += (1 << k) * k
        self.bias += _count(node) / total * value  # LightGBM's ExpectedValue: leaf counts over the root's
        return -len(self.leaf["value"])

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Nodes (feature, missing rule, default left, slot, left, right; a child below 0 is leaf ``-1 - child``),
        thresholds, each tree's first node, leaves (k, first feature, first table number, first z), and the
        leaves' features: few arrays of small rows, so one row's walk touches few cache lines."""
        n = self.node
        nodes = np.array([n["feature"], n["missing"], n["default_left"], n["slot"], n["left"], n["right"]],
                         dtype=np.int32).T.copy()
        leaf = self.leaf
        leaves = np.array([leaf["k"], leaf["feature_start"][:-1], leaf["table_start"], leaf["z_start"][:-1]],
                          dtype=np.int32).T.copy()
        return (nodes.reshape(-1, 6), np.array(n["threshold"], np.float64), np.array(self.tree_node_start, np.int32),
                leaves.reshape(-1, 4), np.array(self.features, np.int32))


def _count(node: dict[str, Any]) -> float:
    return float(node["internal_count"] if "split_feature" in node else node["leaf_count"])


@njit(cache=True)
def _tables(leaves: np.ndarray, z_all: np.ndarray, value: np.ndarray, size: int) -> np.ndarray:  # pragma: no cover
    """Every leaf's ``2^k x k`` table: row ``A`` (the path features the row follows, as bits), column ``i``."""
    table = np.zeros(size, dtype=np.float64)
    for leaf in range(leaves.shape[0]):
        k, v, start = leaves[leaf, 0], value[leaf], leaves[leaf, 2]
        z = z_all[leaves[leaf, 3]:leaves[leaf, 3] + k]
        weight = np.empty(max(k, 1), dtype=np.float64)  # |S|! (k - 1 - |S|)! / k! = 1 / (k C(k - 1, |S|))
        choose = 1.0
        for s in range(k):
            weight[s] = 1.0 / (k * choose)
            choose = choose * (k - 1 - s) / (s + 1)
        for a in range(1 << k):
            for i in range(k):
                rest = a & ~(1 << i)
                total = 0.0
                s = rest
                while True:  # every subset S of the followed features but i
                    term, size_s = 1.0, 0
                    for j in range(k):
                        if j == i:
                            continue
                        if s >> j & 1:
                            size_s += 1
                        else:
                            term *= z[j]
                    total += weight[size_s] * term
                    if s == 0:
                        break
                    s = (s - 1) & rest
                o = 1.0 if a >> i & 1 else 0.0
                table[start + a * k + i] = v * (o - z[i]) * total
    return table


@njit(cache=True, nogil=True)
def _goes_left(value: float, threshold: float, missing: int, default_left: bool) -> bool:  # pragma: no cover
    """LightGBM's ``NumericalDecision``: NaN is 0 unless missing values have their own way; then the default."""
    if math.isnan(value) and missing != 2:
        value = 0.0
    if (missing == 1 and -_ZERO <= value <= _ZERO) or (missing == 2 and math.isnan(value)):
        return default_left
    return value <= threshold


@njit(cache=True, nogil=True)
def _contributions(x: np.ndarray, out: np.ndarray, nodes: np.ndarray, thresholds: np.ndarray, trees: np.ndarray,
                   leaves: np.ndarray, leaf_features: np.ndarray, table: np.ndarray) -> None:  # pragma: no cover
    """Walks each tree once per row, carrying the path features the row follows (bits, by slot) down to every
    leaf, and adds the leaf's table row for them to ``out``'s feature columns."""
    stack = np.empty(_STACK, dtype=np.int64)
    masks = np.empty(_STACK, dtype=np.int64)
    for r in range(x.shape[0]):
        row, phi = x[r], out[r]
        for t in range(trees.shape[0] - 1):
            if trees[t] == trees[t + 1]:
                continue  # a one-leaf tree: only the bias
            stack[0], masks[0], top = trees[t], -1, 1
            while top:
                top -= 1
                node, mask = stack[top], masks[top]
                if node < 0:  # a leaf
                    leaf = -1 - node
                    k, features = leaves[leaf, 0], leaves[leaf, 1]
                    base = leaves[leaf, 2] + (mask & ((1 << k) - 1)) * k
                    for i in range(k):
                        phi[leaf_features[features + i]] += table[base + i]
                    continue
                off = mask & ~(1 << nodes[node, 3])
                left = _goes_left(row[nodes[node, 0]], thresholds[node], nodes[node, 1], nodes[node, 2] != 0)
                stack[top], stack[top + 1] = nodes[node, 4], nodes[node, 5]
                masks[top], masks[top + 1] = (mask, off) if left else (off, mask)
                top += 2


@njit(cache=True, nogil=True)
def _predict(x: np.ndarray, out: np.ndarray, nodes: np.ndarray, thresholds: np.ndarray, trees: np.ndarray,
             leaf_values: np.ndarray, constant: np.ndarray, sigmoid: float) -> None:  # pragma: no cover - compiled
    """Each row's leaf in each tree, their values added in tree order; through the sigmoid when ``sigmoid > 0``."""
    for r in range(x.shape[0]):
        row, total = x[r], 0.0
        for t in range(trees.shape[0] - 1):
            if trees[t] == trees[t + 1]:
                total += constant[t]
                continue
            node = trees[t]
            while node >= 0:
                left = _goes_left(row[nodes[node, 0]], thresholds[node], nodes[node, 1], nodes[node, 2] != 0)
                node = nodes[node, 4] if left else nodes[node, 5]
            total += leaf_values[-1 - node]
        out[r] = 1.0 / (1.0 + math.exp(-sigmoid * total)) if sigmoid > 0.0 else total
