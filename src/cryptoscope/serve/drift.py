"""Drift and performance of the served models, from the journal: for the API, the console and Prometheus.

``refresh`` recomputes at most once a minute: PSI per model, day and feature (``monitoring.py``),
the Prometheus gauges of the latest day, and a drift alert per (model, day) over the threshold,
logged once and remembered in the journal's ``drift_alerts`` table.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import pandas as pd

from cryptoscope.serve.monitoring import DayDrift, drift_by_day, performance_by_day
from cryptoscope.serve.service import Service

log = logging.getLogger("cryptoscope.serve.drift")
EVERY_S = 60.0


@dataclass
class DriftState:
    at: float = 0.0
    days: dict[str, list[DayDrift]] = field(default_factory=dict)
    alerts: list[tuple[str, str, str, float]] = field(default_factory=list)  # model, day, what, psi


def _state(svc: Service) -> DriftState:
    state: DriftState | None = getattr(svc, "drift_state", None)
    if state is None:
        state = DriftState()
        svc.drift_state = state  # type: ignore[attr-defined]
    return state


def refresh(svc: Service, *, force: bool = False) -> DriftState:
    """Drift of every served model (cached for a minute unless ``force``); raises alerts past the threshold."""
    state = _state(svc)
    if not force and time.monotonic() - state.at < EVERY_S:
        return state
    svc.journal.query("SELECT 1")  # the journal is open
    _ensure_table(svc)
    cfg = svc.config
    for kind, live in svc.scorer.models.items():
        ref = svc.reference.inputs.get(kind)
        if ref is None:
            continue
        served = svc.served(kind)
        days = drift_by_day(ref, svc.reference.scores[kind], served, live.model_.name) if len(served) else []
        state.days[live.model_.name] = days
        if days:
            last = days[-1]
            svc.metrics.score_psi.labels(live.model_.name).set(last.score_psi)
            svc.metrics.feature_psi.labels(live.model_.name).set(last.worst[1])
        for day in days:
            for what, value in day.alerting(cfg.drift_threshold, cfg.drift_min_rows):
                if _raise(svc, day.model, day.day, what, value):
                    svc.metrics.drift_alerts.labels(day.model).inc()
                    log.warning("drift alert: %s on %s, %s PSI %.3f > %.2f", day.model, day.day, what, value,
                                cfg.drift_threshold)
    state.alerts = [(str(m), str(d), str(w), float(v)) for m, d, w, v in svc.journal.query(
        "SELECT model, day, what, psi FROM drift_alerts ORDER BY day DESC, psi DESC LIMIT 200")]
    state.at = time.monotonic()
    return state


def _ensure_table(svc: Service) -> None:
    svc.journal.query("CREATE TABLE IF NOT EXISTS drift_alerts (model TEXT NOT NULL, day TEXT NOT NULL, "
                      "what TEXT NOT NULL, psi REAL NOT NULL, PRIMARY KEY (model, day, what))")


def _raise(svc: Service, model: str, day: str, what: str, value: float) -> bool:
    """Remember an alert; True when it is new."""
    before = svc.journal.query("SELECT count(*) FROM drift_alerts WHERE model = ? AND day = ? AND what = ?",
                               (model, day, what))[0][0]
    if before:
        return False
    svc.journal.query("INSERT INTO drift_alerts VALUES (?, ?, ?, ?)", (model, day, what, value))
    return True


def drift_table(days: list[DayDrift], top: int = 5) -> pd.DataFrame:
    """One row per day: rows, score PSI, the ``top`` features by PSI."""
    rows = []
    for d in days:
        worst = sorted(((k, v) for k, v in d.features.items() if v == v), key=lambda kv: -kv[1])[:top]
        rows.append({"day": d.day, "decisions": d.rows, "score_psi": round(d.score_psi, 4),
                     "top_features": ", ".join(f"{k} {v:.3f}" for k, v in worst)})
    return pd.DataFrame(rows)


def performance(svc: Service, kind: str) -> pd.DataFrame:
    """Served decisions per day against the lake's labels as they stand now (see ``monitoring.py``)."""
    from cryptoscope.lake import connect
    from cryptoscope.risk.labels import label_events

    live = svc.scorer.models.get(kind)
    served = svc.served(kind)
    if live is None or served.empty:
        return pd.DataFrame()
    labels = label_events(connect(svc.config.lake), live.product.entity_type, live.product.label_types)
    return performance_by_day(served, labels)
