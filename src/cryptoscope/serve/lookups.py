"""Look-ups the API and the console share: recommendations, chain exposure, a user's 360 view.

Each reads a part of cryptoscope that may not be built or trained on this lake; then the answer is
a 503 that says what is missing and how to make it, never an empty or invented result.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import HTTPException

from cryptoscope.errors import CryptoscopeError
from cryptoscope.serve.masking import mask_row
from cryptoscope.serve.service import Service

DEFAULT_RECO = Path("reco-model/recommender.pkl")
TIMELINE = (
    ("sessions", "login", "CASE WHEN success THEN 'ok' ELSE 'failed' END || ' from ' || ip_country || "
                          "' on ' || device_id", "ip"),
    ("account_changes", "change", "change_type", None),
    ("payments", "payment", "direction || ' ' || method || ' $' || round(amount_usd, 2) || ' ' || status", None),
    ("chain_transfers", "chain", "direction || ' ' || asset || ' $' || round(amount_usd, 2) || ' ' || address", None),
    ("kyc_submissions", "kyc", "'level ' || level || ' ' || document_type || ' ' || decision", "document_number"),
    ("loans", "loan", "product || ' $' || round(principal_usd, 2) || ' ltv ' || round(ltv, 2)", None),
)


def _cache(svc: Service) -> dict[str, Any]:
    cache: dict[str, Any] | None = getattr(svc, "lookup_cache", None)
    if cache is None:
        cache = {}
        svc.lookup_cache = cache  # type: ignore[attr-defined]
    return cache


def lake_sql(svc: Service) -> Any:
    """One DuckDB connection over the lake's tables per server (views over the Parquet files)."""
    cache = _cache(svc)
    if "lake" not in cache:
        from cryptoscope.lake import connect

        cache["lake"] = connect(svc.config.lake).con
    return cache["lake"]


def recommend(svc: Service, user_id: int, k: int = 10) -> dict[str, Any]:
    """The recommender's top ``k`` for a user (503 when no recommender is trained)."""
    try:
        from cryptoscope.reco.model import Recommender
    except ImportError as exc:
        raise HTTPException(503, f"recommendations are not available in this build ({exc})") from None
    path = svc.config.reco_model or DEFAULT_RECO
    cache = _cache(svc)
    if "reco" not in cache:
        if not Path(path).exists():
            raise HTTPException(503, f"no trained recommender at {path}: run `cryptoscope reco train --model {path}` "
                                     "or start the server with --reco-model")
        try:
            cache["reco"] = Recommender.load(Path(path))
        except CryptoscopeError as exc:
            raise HTTPException(503, str(exc)) from None
    try:
        recs = cache["reco"].recommend(int(user_id), k)
    except CryptoscopeError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"user_id": user_id, "items": [dataclasses.asdict(r) for r in recs]}


def exposure(svc: Service, address: str, chain: str | None, direction: str) -> dict[str, Any]:
    """Upstream and/or downstream exposure of an address, with evidence paths and the flow-graph image."""
    if len(address) > 128 or not address.replace("_", "").isalnum():
        raise HTTPException(422, "address: up to 128 letters and digits")
    if direction not in ("upstream", "downstream", "both"):
        raise HTTPException(422, "direction must be upstream, downstream or both")
    try:
        from cryptoscope.chain.exposure import DOWNSTREAM, UPSTREAM, trace
        from cryptoscope.chain.scoring import ChainTracer
    except ImportError as exc:
        raise HTTPException(503, f"chain exposure is not available in this build ({exc})") from None
    name = chain or ("ethereum" if address.startswith("0x") else "tron" if address.startswith("T") else "bitcoin")
    if name not in ("bitcoin", "ethereum", "tron"):
        raise HTTPException(422, "chain must be bitcoin, ethereum or tron")
    cache = _cache(svc)
    key = f"tracer:{name}"
    if key not in cache:
        try:
            cache[key] = ChainTracer.from_lake(svc.config.lake, name)
        except (CryptoscopeError, OSError, ValueError, KeyError) as exc:
            raise HTTPException(503, f"no {name} flows in lake {svc.config.lake} to trace: {exc}") from None
    tracer = cache[key]
    directions = (UPSTREAM, DOWNSTREAM) if direction == "both" else (direction,)
    out = []
    for d in directions:
        exp = trace(tracer.graph, tracer.labels, address, direction=d)
        out.append({"direction": d, "haircut": exp.haircut, "poison": exp.poison, "hops": exp.hops,
                    "category": exp.category, "by_category": exp.by_category,
                    "paths": [p.to_dict() for p in exp.paths], "_exposure": exp})
    return {"address": address, "chain": name, "known": tracer.graph.node(address) is not None,
            "results": [{k: v for k, v in r.items() if k != "_exposure"} for r in out],
            "_objects": [r["_exposure"] for r in out]}


def user_360(svc: Service, user_id: int, may_see_pii: bool, limit: int = 200) -> dict[str, Any]:
    """Account, recent timeline, served decisions and batch risk scores of one user (personal data masked)."""
    con = lake_sql(svc)
    present = {str(r[0]) for r in con.sql("SHOW TABLES").fetchall()}
    acct = con.execute("SELECT * FROM accounts WHERE user_id = ?", [int(user_id)]).fetch_df() \
        if "accounts" in present else pd.DataFrame()
    account = mask_row({str(k): v for k, v in acct.iloc[0].to_dict().items()}, may_see_pii) if len(acct) else None
    parts = []
    for table, kind, text, _ in TIMELINE:
        if table not in present:
            continue
        parts.append(con.execute(f"SELECT event_time AS at, '{kind}' AS kind, {text} AS what FROM {table} "
                                 "WHERE user_id = ? ORDER BY event_time DESC LIMIT ?",
                                 [int(user_id), limit]).fetch_df())
    timeline = pd.concat(parts).sort_values("at", ascending=False).head(limit) if parts else pd.DataFrame()
    if not may_see_pii and len(timeline):
        timeline["what"] = timeline["what"].astype(str).str.replace(r"\b(\d+\.\d+\.\d+)\.\d+\b", r"\1.x", regex=True)
    served = svc.journal.query("SELECT kind, entity_id, event_time, score, decision, reasons, model_version "
                               "FROM scored WHERE user_id = ? ORDER BY seq DESC LIMIT 50", (int(user_id),))
    batch = con.execute("SELECT kind, entity_id, event_time, score, decision, reasons, model_version FROM risk_scores "
                        "WHERE user_id = ? ORDER BY event_time DESC LIMIT 50", [int(user_id)]).fetchall() \
        if "risk_scores" in present else []
    return {"user_id": int(user_id), "account": account,
            "timeline": [{"at": _iso(r.at), "kind": r.kind, "what": r.what} for r in timeline.itertuples()],
            "served": [dict(zip(("kind", "entity_id", "at", "score", "decision", "reasons", "model_version"), r,
                                strict=True)) for r in served],
            "batch_scores": [dict(zip(("kind", "entity_id", "at", "score", "decision", "reasons", "model_version"),
                                      (*r[:2], _iso(r[2]), *r[3:]), strict=True)) for r in batch]}


def _iso(t: Any) -> str:
    if isinstance(t, pd.Timestamp | dt.datetime):
        return t.isoformat()
    return str(t)
