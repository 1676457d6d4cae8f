"""Real-time scoring: an event in, the promoted model's score, decision and reasons out, state updated.

`OnlineScorer` holds the online feature state (``features/online.py``) for the views the risk
products read, plus the `Context` the spines need, and one loaded model per product. For a decision
it builds the product's row exactly as the batch decision frame does (spine, each view's features at
the decision time with its prefix, login novelty, then ``product.derive``, the rules and the
guardrail), scores it with ``bundle.score``, decides with ``bundle.decide_scored`` and explains it
with SHAP reason codes; then it feeds the event into the state, so the next decision sees it.

Features are read strictly before the event is added: the same "events before the decision" rule
as the offline point-in-time join. ``score_batch`` takes several events of one product in arrival
order and gives the same answers as one call each, but pays pandas, LightGBM and SHAP once per batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.online import OnlineFeatureState
from cryptoscope.features.online_window import to_micros
from cryptoscope.features.spec import FeatureView
from cryptoscope.models import ReasonExplainer, Registry
from cryptoscope.models.registry import RegisteredModel
from cryptoscope.risk.products import GUARD_COLUMN, KINDS, PRODUCTS, RULE_COLUMN, Product
from cryptoscope.risk.reasons import distinct_reasons
from cryptoscope.serve.context import Context
from cryptoscope.serve.fastpath import FastModel, unique_texts

#: canonical table of each product's decisions
DECISION_TABLE = {"kyc": "kyc_submissions", "payment": "payments", "withdrawal": "chain_transfers", "credit": "loans"}
_ID = {"kyc": "submission_id", "payment": "payment_id", "withdrawal": "transfer_id", "credit": "loan_id"}


def product_views() -> list[FeatureView]:
    """Every feature view some risk product reads (the order views are first met)."""
    seen: dict[str, FeatureView] = {}
    for product in PRODUCTS.values():
        for view, _ in product.views:
            seen.setdefault(view.name, view)
    return list(seen.values())


def is_decision(kind: str, row: Mapping[str, Any]) -> bool:
    """Whether a lake row of the product's table is one of its decisions (see ``risk/spines.py``)."""
    if kind == "payment":
        return row.get("method") == "card" and row.get("direction") == "deposit" and row.get("status") != "declined"
    if kind == "withdrawal":
        return row.get("direction") == "withdrawal"
    return True


@dataclass(frozen=True)
class Scored:
    """One decision: what the API returns plus the model's inputs (kept for drift monitoring)."""

    kind: str
    entity_id: str
    user_id: int
    event_time: dt.datetime
    score: float
    decision: str
    reasons: tuple[str, ...]
    model: str
    model_version: int
    features: dict[str, float]


@dataclass
class LiveModel:
    """A product's promoted model with its fitted reason explainer."""

    product: Product
    model: RegisteredModel
    explainer: ReasonExplainer | None = None
    fast: FastModel | None = None  # set when it matched the general path on the reference rows
    fast_note: str = ""


class OnlineScorer:
    """Feature state + context + promoted models; see the module doc. One instance is used by one thread."""

    def __init__(self, registry: Registry | None, kinds: Iterable[str] = KINDS) -> None:
        self.state = OnlineFeatureState(product_views())
        self.context = Context()
        self.models: dict[str, LiveModel] = {}
        self.missing: dict[str, str] = {}
        for kind in kinds:
            product = PRODUCTS[kind]
            try:
                if registry is None:
                    raise CryptoscopeError("no model registry configured")
                self.models[kind] = LiveModel(product, registry.load(product.model_name))
            except CryptoscopeError as exc:
                self.missing[kind] = str(exc)

    # -- events --------------------------------------------------------------------------------------
    def feed(self, table: str, row: Mapping[str, Any]) -> None:
        """Add one canonical-table event to the state and the context (no scoring)."""
        self.state.update(table, row)
        self.context.update(table, row)

    def decision_row(self, kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """The product's decision-frame row for ``row`` (a canonical row of its table), before derive."""
        product = PRODUCTS[kind]
        at = row["event_time"]
        spine = _spine(kind, row, self.context)
        out = dict(spine)
        for view, prefix in product.views:
            feats = self.state.get(view.name, spine[view.key], at)
            out.update({f"{prefix}{k}": (np.nan if v is None else v) for k, v in feats.items()})
        if product.novelty:
            out.update({k: (np.nan if v is None else v) for k, v in self.context.novelty(spine["user_id"], at).items()})
        return out

    # -- scoring -------------------------------------------------------------------------------------
    def live(self, kind: str) -> LiveModel:
        """The product's model, or a clear error saying why there is none."""
        if kind not in PRODUCTS:
            raise CryptoscopeError(f"unknown risk product {kind!r}; known: {', '.join(PRODUCTS)}")
        live = self.models.get(kind)
        if live is None:
            raise CryptoscopeError(f"no model serves {kind}: {self.missing.get(kind, 'not loaded')}")
        return live

    def score_batch(self, kind: str, rows: list[Mapping[str, Any]]) -> list[Scored]:
        """Score ``rows`` (canonical rows of the product's table, in arrival order), feeding each after reading."""
        live = self.live(kind)
        table = DECISION_TABLE[kind]
        built = []
        for row in rows:
            built.append(self.decision_row(kind, row))
            self.feed(table, row)
        return self.score_rows(live, built)

    def score_rows(self, live: LiveModel, built: list[dict[str, Any]]) -> list[Scored]:
        """Derive, rule, score, decide and explain rows made by ``decision_row``."""
        product, bundle = live.product, live.model.bundle
        frame = product.derive(decision_frame(built))
        frame[RULE_COLUMN] = np.asarray(product.rules(frame), dtype=object)  # object: no Arrow strings to build
        if product.guardrail is not None:
            frame[GUARD_COLUMN] = np.asarray(product.guardrail(frame), dtype=object)
        names = list(bundle.features)
        if live.fast is not None:
            values = live.fast.matrix(frame)
            p = live.fast.score(values)
            texts = live.fast.reasons(values)
        else:
            features = frame[names].astype(float)
            p = bundle.score(features)
            if live.explainer is None:
                live.explainer = ReasonExplainer(product.catalog, top_k=9).fit(bundle.estimator, features)
            texts = [unique_texts(distinct_reasons(r, 3)) for r in live.explainer.reasons(features)]
            values = features.to_numpy(dtype=float, na_value=np.nan)
        decisions = bundle.decide_scored(p, frame)
        return [Scored(product.kind, str(b["entity_id"]), int(b["user_id"]), b["decision_time"], float(p[i]),
                       str(decisions[i]), texts[i], live.model.name, live.model.version,
                       {n: float(v) for n, v in zip(names, values[i], strict=True) if v == v})
                for i, b in enumerate(built)]

    def fit_explainers(self, background: Mapping[str, list[dict[str, Any]]]) -> None:
        """Fit each model's reason explainer on decisions the lake already held (its reference rows)."""
        for kind, live in self.models.items():
            rows = background.get(kind) or []
            if not rows:
                continue
            frame = live.product.derive(decision_frame(rows))
            bundle = live.model.bundle
            features = frame[list(bundle.features)].astype(float)
            live.explainer = ReasonExplainer(live.product.catalog, top_k=9).fit(bundle.estimator, features)
            try:
                fast = FastModel(bundle, live.product.catalog)
            except TypeError as exc:
                live.fast_note = str(exc)
                continue
            live.fast_note = fast.check(bundle, live.explainer, frame)
            live.fast = None if live.fast_note else fast

    @property
    def clock(self) -> dt.datetime | None:
        return self.state.clock


def decision_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows made by ``decision_row`` as a frame: the numbers in one float block, the few texts and times as
    objects (one block instead of a hundred columns built one by one: most of a one-row request's time)."""
    first = rows[0]  # every row has the same keys and kinds: None only ever stands for a missing text
    text = [c for c, v in first.items() if v is None or isinstance(v, str | dt.datetime)]
    numeric = [c for c in first if c not in set(text)]
    frame = pd.DataFrame(np.array([[r[c] for c in numeric] for r in rows], dtype=float), columns=numeric)
    for c in text:
        frame[c] = pd.Series([r[c] for r in rows], dtype=object)
    return frame


def _mismatch(a: Any, b: Any) -> float:
    """1/0 when the two countries differ/agree; NaN when one is unknown (SQL's null comparison)."""
    return np.nan if a is None or b is None else float(a != b)


def _spine(kind: str, row: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    user, at = int(row["user_id"]), row["event_time"]
    account = ctx.spine(user, at)
    age = account["account_age_days"]
    base = {"entity_id": str(row[_ID[kind]]), "user_id": user, "decision_time": at,
            "account_country": account["account_country"], "account_age_days": np.nan if age is None else age}
    country = account["account_country"]
    if kind == "kyc":
        doc, ip = row["document_country"], row["ip_country"]
        return base | {
            "document_hash": row["document_hash"], "selfie_hash": row["selfie_hash"], "document_country": doc,
            "ip_country": ip, "kyc_level": float(row["level"]), "document_country_mismatch": _mismatch(doc, country),
            "ip_country_mismatch": _mismatch(ip, country), "document_ip_mismatch": _mismatch(doc, ip),
            "document_other_accounts": ctx.other_accounts(row["document_hash"], user, at),
            "selfie_other_accounts": ctx.other_accounts(row["selfie_hash"], user, at)}
    if kind == "payment":
        card = row["instrument_country"]
        return base | {"instrument_hash": row["instrument_hash"], "device_id": row["device_id"], "ip": row["ip"],
                       "amount_usd": float(row["amount_usd"]), "card_country": card,
                       "card_country_mismatch": _mismatch(card, country)}
    if kind == "withdrawal":
        return base | {"address": row["address"], "amount_usd": float(row["amount_usd"])}
    return base | {
        "symbol": f"{row['collateral_asset']}-USDT", "principal_usd": float(row["principal_usd"]),
        "collateral_usd": float(row["collateral_usd"]), "ltv": float(row["ltv"]), "leverage": float(row["leverage"]),
        "term_days": float(row["term_days"]), "interest_rate": float(row["interest_rate"]),
        "is_margin": float(row["product"] == "margin")}


def event_micros(row: Mapping[str, Any]) -> int:
    return to_micros(row["event_time"])
