"""Prometheus metrics of one server process (its own registry, so several apps in one test run stay apart).

Scraped at ``GET /metrics`` (admin or service credentials). Drift gauges are refreshed from the
journal on each scrape (at most once a minute).

Several server processes (``serve --workers N``) write their values to files in ``PROMETHEUS_MULTIPROC_DIR``
(prometheus_client's multiprocess mode, set by ``workers.py`` before a worker starts), and a scrape of any
worker answers the sum over all of them: counters and histograms add up, gauges give the latest value set.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """The counters, histograms and gauges the server updates."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("cryptoscope_score_requests", "Scoring requests answered, by product and decision.",
                                ["kind", "decision"], registry=r)
        self.latency = Histogram("cryptoscope_score_latency_seconds", "Time to answer a scoring request.", ["kind"],
                                 buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0), registry=r)
        self.batch_size = Histogram("cryptoscope_score_batch_size", "Requests scored together in one batch.",
                                    buckets=(1, 2, 4, 8, 16, 32, 64), registry=r)
        self.rejected = Counter("cryptoscope_rejected_requests", "Requests refused, by HTTP status.", ["status"],
                                registry=r)
        self.events = Counter("cryptoscope_online_events", "Events fed to the online feature state, by table.",
                              ["table"], registry=r)
        self.score_psi = Gauge("cryptoscope_score_psi", "PSI of the latest served day's scores vs the reference.",
                               ["model"], registry=r, multiprocess_mode="mostrecent")
        self.feature_psi = Gauge("cryptoscope_feature_psi_max", "Largest feature PSI of the latest served day.",
                                 ["model"], registry=r, multiprocess_mode="mostrecent")
        self.drift_alerts = Counter("cryptoscope_drift_alerts", "Days on which drift passed the threshold.",
                                    ["model"], registry=r)
        self.flagged = Counter("cryptoscope_alerts", "Decisions sent to review or block (alert volume).", ["kind"],
                               registry=r)
        self.fast_lane = Counter("cryptoscope_score_fast_lane", "Scoring requests answered by the fast lane "
                                 "(lane.py); the others took the FastAPI route.", registry=r)
        self.open_cases = Gauge("cryptoscope_open_cases", "Open cases in the queue.", registry=r,
                                multiprocess_mode="mostrecent")

        # labelled children, looked up once: ``labels()`` costs ~10 µs a call, several times per request
        self._children: dict[tuple[str, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (str(id(metric)), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def decision(self, kind: str, decision: str) -> None:
        self._child(self.requests, kind, decision).inc()
        if decision != "approve":
            self._child(self.flagged, kind).inc()

    def latency_of(self, kind: str, seconds: float) -> None:
        """A scoring request's time to answer."""
        self._child(self.latency, kind).observe(seconds)

    def batch(self, size: int) -> None:
        self.batch_size.observe(size)

    def render(self) -> bytes:
        """This process's metrics, or every server process's when several share the multiprocess folder."""
        if not os.environ.get(MULTIPROC_DIR):
            return generate_latest(self.registry)
        every = CollectorRegistry()
        multiprocess.MultiProcessCollector(every)
        return generate_latest(every)
