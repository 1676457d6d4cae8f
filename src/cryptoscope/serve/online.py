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
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.online import OnlineFeatureState
from cryptoscope.features.online_window import to_micros
from cryptoscope.features.spec import FeatureView
from cryptoscope.models import ReasonExplainer, Registry
from cryptoscope.models.decisions import ExpectedCost, decide
from cryptoscope.models.registry import RegisteredModel
from cryptoscope.risk.products import GUARD_COLUMN, PRODUCTS, RULE_COLUMN, Product
from cryptoscope.risk.reasons import distinct_reasons
from cryptoscope.serve.context import Context
from cryptoscope.serve.fastpath import FastModel, unique_texts
from cryptoscope.serve.rowpath import RowPath

#: canonical table of each product's decisions
DECISION_TABLE = {"kyc": "kyc_submissions", "payment": "payments", "withdrawal": "chain_transfers", "credit": "loans"}
#: the products served online: their decisions arrive as events (risk's batch-only products, such as
#: deposits, which need the chain stage's exposure first, are not among them even when trained)
SERVED = tuple(DECISION_TABLE)
_ID = {"kyc": "submission_id", "payment": "payment_id", "withdrawal": "transfer_id", "credit": "loan_id"}


def product_views() -> list[FeatureView]:
    """Every feature view some served risk product reads (the order views are first met)."""
    seen: dict[str, FeatureView] = {}
    for kind in SERVED:
        for view, _ in PRODUCTS[kind].views:
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
    rows: RowPath | None = None  # derive/rules on dicts: set when it matched the batch functions too
    rows_note: str = ""


@dataclass
class Prepared:
    """A batch scored and decided but not yet explained: the TreeSHAP step left (LightGBM's C code, which
    releases the GIL, so the server runs it on a worker thread while the event loop goes on)."""

    live: LiveModel
    built: list[dict[str, Any]]
    values: np.ndarray
    p: np.ndarray
    decisions: np.ndarray
    texts: list[tuple[str, ...]] | None = None  # set when the general path explained the batch already
    events: list[Mapping[str, Any]] = field(default_factory=list)  # the canonical rows, for the journal

    def contributions(self) -> np.ndarray | None:
        """The TreeSHAP values the reasons need (None when explained already). Safe on another thread."""
        fast = self.live.fast
        return None if self.texts is not None or fast is None else fast.contributions(self.values)


class OnlineScorer:
    """Feature state + context + promoted models; see the module doc. One instance is used by one thread."""

    def __init__(self, registry: Registry | None, kinds: Iterable[str] = SERVED) -> None:
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
        return self.finish(self.prepare(kind, rows))

    def prepare(self, kind: str, rows: list[Mapping[str, Any]]) -> Prepared:
        """Everything of ``score_batch`` but the reasons: rows built and fed, scored, decided."""
        live = self.live(kind)
        table = DECISION_TABLE[kind]
        built = []
        for row in rows:
            built.append(self.decision_row(kind, row))
            self.feed(table, row)
        prepared = self._prepare_rows(live, built)
        prepared.events = list(rows)
        return prepared

    def finish(self, prepared: Prepared, contributions: np.ndarray | None = None) -> list[Scored]:
        """The decisions with their reasons (from ``contributions`` when computed elsewhere)."""
        texts = prepared.texts
        if texts is None:
            fast = prepared.live.fast
            assert fast is not None  # a batch without texts came from the booster path
            raw = fast.contributions(prepared.values) if contributions is None else contributions
            texts = fast.texts(prepared.values, raw)
        return self._results(prepared.live, prepared.built, prepared.p, prepared.decisions, texts, prepared.values)

    def score_rows(self, live: LiveModel, built: list[dict[str, Any]]) -> list[Scored]:
        """Derive, rule, score, decide and explain rows made by ``decision_row``."""
        return self.finish(self._prepare_rows(live, built))

    def _prepare_rows(self, live: LiveModel, built: list[dict[str, Any]]) -> Prepared:
        """With a LightGBM model and a checked `RowPath` no pandas is touched (``_prepare_plain``); otherwise
        the batch functions run on a frame of the rows (the reference path)."""
        if live.fast is not None and live.rows is not None:
            return self._prepare_plain(live, live.fast, live.rows, built)
        product, bundle = live.product, live.model.bundle
        frame = product.derive(decision_frame(built))
        frame[RULE_COLUMN] = np.asarray(product.rules(frame), dtype=object)  # object: no Arrow strings to build
        if product.guardrail is not None:
            frame[GUARD_COLUMN] = np.asarray(product.guardrail(frame), dtype=object)
        names = list(bundle.features)
        texts: list[tuple[str, ...]] | None = None
        if live.fast is not None:
            values = live.fast.matrix(frame)
            p = live.fast.score(values)
        else:
            features = frame[names].astype(float)
            p = bundle.score(features)
            if live.explainer is None:
                live.explainer = ReasonExplainer(product.catalog, top_k=9).fit(bundle.estimator, features)
            texts = [unique_texts(distinct_reasons(r, 3)) for r in live.explainer.reasons(features)]
            values = features.to_numpy(dtype=float, na_value=np.nan)
        return Prepared(live, built, values, p, bundle.decide_scored(p, frame), texts)

    def _prepare_plain(self, live: LiveModel, fast: FastModel, path: RowPath,
                       built: list[dict[str, Any]]) -> Prepared:
        bundle = live.model.bundle
        if bundle.thresholds is None:
            raise CryptoscopeError("this model has no decision policy; train it with costs to get decisions")
        rows = [path(r) for r in built]
        values = fast.rows_matrix(rows)
        p = fast.score(values)
        costs = None
        if isinstance(bundle.thresholds, ExpectedCost):  # the cost columns it prices, as bundle.decide_scored reads
            named = [c for c in asdict(bundle.thresholds.costs).values() if isinstance(c, str)]
            costs = pd.DataFrame({c: np.array([r[c] for r in rows], dtype=float) for c in named})
        guard = np.array([r[bundle.guardrail] for r in rows], dtype=object) if bundle.guardrail else None
        return Prepared(live, built, values, p, decide(p, bundle.thresholds, costs, guardrail=guard))

    @staticmethod
    def _results(live: LiveModel, built: list[dict[str, Any]], p: np.ndarray, decisions: np.ndarray,
                 texts: list[tuple[str, ...]], values: np.ndarray) -> list[Scored]:
        names = list(live.model.bundle.features)
        return [Scored(live.product.kind, str(b["entity_id"]), int(b["user_id"]), b["decision_time"], float(p[i]),
                       str(decisions[i]), texts[i], live.model.name, live.model.version,
                       {n: v for n, v in zip(names, values[i].tolist(), strict=True) if v == v})
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
            try:
                path = RowPath(live.product)
            except KeyError as exc:
                live.rows_note = str(exc)
                continue
            live.rows_note = path.check(rows)
            live.rows = None if live.rows_note else path

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
