"""A risk product's decisions, one event or many at a time, with its promoted model.

After ``load(registry)`` (the promoted model in ``model_``) a `RiskScorer` scores decisions:
``score_one(row)`` for one decision row (spine and features, as ``frames.decision_row`` builds it online)
and ``score_many(frame)`` for a decision frame (batch scoring into ``risk_scores``).

Both go through ``Product.prepare``, one implementation of the derived columns, the rules and the guardrail
(``columns.py``): on a row it is plain float arithmetic, on a frame array arithmetic. A LightGBM model is
scored and explained on rows through ``fastscore.FastModel`` (its trees as flat arrays with TreeSHAP tables, or
LightGBM's single-row C API), a linear one through ``fastscore.FastLinear`` (numpy), once ``fit_reasons`` has
checked on reference rows that it gives the general path's numbers; otherwise, and for other estimators, through
the bundle and the SHAP explainer on a frame. Serving splits scoring in two (``prepare_rows`` then ``finish``) so
the TreeSHAP step can run on another thread.

Fail closed: a decision of an account with no record (no ``accounts`` row before the decision: an unknown
or mistyped user id, or an account the server has not been told of yet) is never approved. Whatever the
model says, it is held for ``review`` at least, and its first reason says why in words. A 4xx would leave
the decision to the caller's error handling, which is too often "approve on error".

>>> scorer = RiskScorer("withdrawal").load(Registry(Path("models-registry")))  # doctest: +SKIP
>>> scorer.score_one(decision_row(scorer.product, event, state, context)).decision  # doctest: +SKIP
'review'
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import APPROVE, REVIEW, ReasonExplainer, Registry
from cryptoscope.models.decisions import decide_one
from cryptoscope.models.registry import RegisteredModel
from cryptoscope.productline import Decision
from cryptoscope.risk.columns import ReadColumns
from cryptoscope.risk.fastscore import FastPath, fast_path, unique_texts
from cryptoscope.risk.frames import rows_frame
from cryptoscope.risk.products import RULE_COLUMN, Product, get_product
from cryptoscope.risk.reasons import distinct_reasons

KEYS = ("entity_id", "user_id", "decision_time", "account_age_days")  # what a decision carries from its row


@dataclass
class Prepared:
    """Rows scored and decided but not yet explained: the TreeSHAP step is left (LightGBM's C code, which
    releases the GIL, so a server may run it on a worker thread)."""

    rows: list[dict[str, Any]]
    values: np.ndarray
    p: np.ndarray
    decisions: np.ndarray
    texts: list[tuple[str, ...]] | None = None  # set when the general path explained the rows already
    events: list[Mapping[str, Any]] = field(default_factory=list)  # the canonical rows, for a journal


class RiskScorer:
    """One risk product's scoring (``kyc``, ``payment``, ``withdrawal``, ``credit``, ``deposit``); see the module
    doc. Parameters in ``__init__``; what ``load`` and ``fit_reasons`` set ends with an underscore."""

    def __init__(self, kind: str, *, top_k: int = 3) -> None:
        self.kind = kind
        self.top_k = top_k

    @functools.cached_property
    def product(self) -> Product:
        """The product ``kind`` names (looked up once: it is read on every request)."""
        return get_product(self.kind)

    @property
    def table(self) -> str:
        return self.product.table

    def is_decision(self, row: Mapping[str, Any]) -> bool:
        return self.product.is_decision(row)

    # -- the model -----------------------------------------------------------------------------------
    def load(self, registry: Registry) -> Self:
        """Load the promoted version of the product's model (a clear error when there is none)."""
        self.model_: RegisteredModel = registry.load(self.product.model_name)
        self.explainer_: ReasonExplainer | None = None
        self.fast_: FastPath | None = None
        self.fast_note_ = "reasons not fitted yet"
        self.reads_ = self._reads()
        return self

    def _reads(self) -> frozenset[str]:
        """The columns of a decision row that scoring reads: the model's inputs, what the derived columns, the rules
        and the guardrail are computed from, and the policy's cost columns. ``frames.decision_row`` reads only these
        of the views' features online (the spine, with the account's age that fail-closed needs, is always whole)."""
        product, bundle = self.product, self.model_.bundle
        seen = ReadColumns()
        product.derive(seen)
        product.rules(seen)
        if product.guardrail is not None:
            product.guardrail(seen)
        costs = getattr(bundle.thresholds, "costs", None)
        priced = {v for v in dataclasses.astuple(costs) if isinstance(v, str)} if costs is not None else set()
        return frozenset({*bundle.features, *seen.read, *priced})

    def fit_reasons(self, reference: list[dict[str, Any]]) -> Self:
        """Fit the reason explainer on reference decision rows, and take the row path (LightGBM's single-row API, a
        linear model's numpy) when it gives the same probabilities and reasons on them (``fast_note_`` says why not
        otherwise)."""
        bundle = self.model_.bundle
        frame = self.product.prepare(rows_frame(reference))
        features = frame[list(bundle.features)].astype(float)
        self.explainer_ = ReasonExplainer(self.product.catalog, top_k=3 * self.top_k).fit(bundle.estimator, features)
        try:
            fast = fast_path(bundle, self.explainer_, self.product.catalog, top_k=self.top_k)
        except TypeError as exc:
            self.fast_, self.fast_note_ = None, str(exc)
            return self
        self.fast_note_ = fast.check(bundle, self.explainer_, frame)
        self.fast_ = None if self.fast_note_ else fast
        return self

    # -- decisions -----------------------------------------------------------------------------------
    def score_one(self, row: Mapping[str, Any]) -> Decision:
        """One decision row, prepared, scored, decided and explained."""
        return self.finish(self.prepare_rows([dict(row)]))[0]

    def score_many(self, frame: pd.DataFrame) -> list[Decision]:
        """A decision frame (before ``prepare``): the answers ``score_one`` gives each of its rows."""
        prepared = frame if RULE_COLUMN in frame else self.product.prepare(frame)
        texts, values, p = self._frame_scores(prepared)
        keys: list[dict[str, Any]] = prepared[list(KEYS)].to_dict("records")  # type: ignore[assignment]
        return self._decisions(keys, p, self._decide(p, prepared), texts, values)

    def prepare_rows(self, rows: list[dict[str, Any]]) -> Prepared:
        """Everything but the reasons, for decision rows. On a checked row path no pandas is touched."""
        fast = self.fast_
        if fast is None:
            frame = self.product.prepare(rows_frame(rows))
            texts, values, p = self._frame_scores(frame)
            return Prepared(rows, values, p, self._decide(p, frame), texts)
        ready = [self.product.prepare(r) for r in rows]
        values = fast.rows_matrix(ready)
        p = fast.score(values)
        return Prepared(ready, values, p, self._decide(p, ready))

    def finish(self, prepared: Prepared, contributions: np.ndarray | None = None) -> list[Decision]:
        """The decisions with their reasons (from ``contributions`` when computed elsewhere)."""
        texts = prepared.texts
        if texts is None:
            fast = self.fast_
            if fast is None:
                raise CryptoscopeError(f"{self.kind}: rows prepared on the fast path, but it is switched off")
            raw = fast.contributions(prepared.values) if contributions is None else contributions
            texts = fast.texts(prepared.values, raw)
        return self._decisions(prepared.rows, prepared.p, prepared.decisions, texts, prepared.values)

    def contributions(self, prepared: Prepared) -> np.ndarray | None:
        """The SHAP values ``finish`` needs (None when explained already). Safe on another thread."""
        fast = self.fast_
        return None if prepared.texts is not None or fast is None else fast.contributions(prepared.values)

    def _frame_scores(self, frame: pd.DataFrame) -> tuple[list[tuple[str, ...]], np.ndarray, np.ndarray]:
        bundle = self.model_.bundle
        features = frame[list(bundle.features)].astype(float)
        values = features.to_numpy(dtype=float, na_value=np.nan)
        if self.fast_ is not None:
            p = self.fast_.score(values)
            return self.fast_.reasons(values), values, p
        if self.explainer_ is None:  # batch scoring without reference rows: the frame is its own background
            self.explainer_ = ReasonExplainer(self.product.catalog, top_k=3 * self.top_k).fit(bundle.estimator,
                                                                                            features)
        texts = [unique_texts(distinct_reasons(r, self.top_k)) for r in self.explainer_.reasons(features)]
        return texts, values, bundle.score(features)

    def _decide(self, p: np.ndarray, data: pd.DataFrame | list[dict[str, Any]]) -> np.ndarray:
        """The bundle's policy on the probabilities, reading cost and guardrail columns from a frame or rows."""
        bundle = self.model_.bundle
        if bundle.thresholds is None:
            raise CryptoscopeError(f"{self.model_.name} v{self.model_.version} has no decision policy; "
                                   "retrain it with costs")
        if isinstance(data, pd.DataFrame):
            return _fail_closed(bundle.decide_scored(p, data), data["account_age_days"].to_numpy(dtype=float))
        policy, guard = bundle.thresholds, bundle.guardrail or None  # decide_scored's rule, a row at a time
        decisions = np.array([decide_one(float(q), policy, r, guardrail=guard) for q, r in zip(p, data, strict=True)])
        if all(_known(r) for r in data):  # the usual case, without numpy's per-call cost
            return decisions
        return _fail_closed(decisions, np.array([r["account_age_days"] for r in data], dtype=float))

    def _unknown_first(self, row: Mapping[str, Any], reasons: tuple[str, ...]) -> tuple[str, ...]:
        """The reason an account with no record was held, first (still ``top_k`` reasons at most)."""
        if not _known(row):
            return (f"no account on record for user {int(row['user_id'])}: held for review", *reasons)[:self.top_k]
        return reasons

    def _decisions(self, rows: list[dict[str, Any]], p: np.ndarray, decisions: np.ndarray,
                   texts: list[tuple[str, ...]], values: np.ndarray) -> list[Decision]:
        names, model = list(self.model_.bundle.features), self.model_
        return [Decision(self.kind, str(r["entity_id"]), int(r["user_id"]), r["decision_time"], float(p[i]),
                         str(decisions[i]), self._unknown_first(r, texts[i]), model.name, model.version,
                         {n: v for n, v in zip(names, values[i].tolist(), strict=True) if v == v})
                for i, r in enumerate(rows)]


def _known(row: Mapping[str, Any]) -> bool:
    """Whether the decision's account has a record (an age)."""
    age = row["account_age_days"]
    return age is not None and age == age


def _fail_closed(decisions: np.ndarray, account_age_days: np.ndarray) -> np.ndarray:
    """Approvals of accounts with no record become reviews (see the module doc)."""
    unknown = np.isnan(account_age_days) & (decisions == APPROVE)
    return np.where(unknown, REVIEW, decisions) if unknown.any() else decisions
