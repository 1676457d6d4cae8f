"""Prometheus metrics of one stream consumer (its own registry; ``--metrics-port`` serves them)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, start_http_server


class StreamMetrics:
    """Events taken, decisions and alerts sent, and messages sent to the dead-letter subject (by reason)."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.events = Counter("cryptoscope_stream_events", "Events applied, by table.", ["table"], registry=r)
        self.decisions = Counter("cryptoscope_stream_decisions", "Decisions scored, by product and decision.",
                                 ["kind", "decision"], registry=r)
        self.alerts = Counter("cryptoscope_stream_alerts", "Surveillance alerts sent, by typology.", ["typology"],
                              registry=r)
        self.dead = Counter("cryptoscope_stream_dead_letters", "Messages sent to dead.<table>, by table and reason.",
                            ["table", "reason"], registry=r)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        start_http_server(port, host, registry=self.registry)
