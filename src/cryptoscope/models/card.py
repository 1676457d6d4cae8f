"""``ModelCard``: what a registered model is, what it was trained on, and how well it did, as JSON.

The card is for people (and audits) as much as for code: it records the data window of each period,
the features, the metrics on valid and test, the thresholds and the costs they were chosen for, the
decisions' cost against the rules baseline, where the report and plots are, how the training rows were
sampled when they exceeded a row budget, what scoring one row cost when it was measured, and the figures a
product judges its models by beyond the standard metrics (``figures``: the mule model's precision at the top
100 and ring recall, say), which MLflow gets as metrics too.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models.costs import Costs
from cryptoscope.models.decisions import DecisionOutcome, Policy, policy_from_dict
from cryptoscope.models.metrics import Metrics
from cryptoscope.models.split import Period


@dataclass(frozen=True)
class ModelCard:
    """A model's identity, data, quality and decisions. ``version`` is 0 until the registry assigns one."""

    name: str
    label: str
    time_col: str
    features: tuple[str, ...]
    periods: tuple[Period, ...]
    metrics_valid: Metrics
    metrics_test: Metrics | None = None
    thresholds: Policy | None = None
    costs: Costs | None = None
    guardrail: str = ""
    decisions_test: tuple[DecisionOutcome, ...] = ()
    estimator: str = ""
    calibration: str = ""
    version: int = 0
    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    artifacts: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    #: how the training period was sampled to a row budget (budget, rate, rows before and after), if it was
    sampling: dict[str, Any] = field(default_factory=dict)
    #: the measured cost of scoring and explaining one row as a server does (``serving_p99_ms`` ...) and the budget
    #: it was judged against, when it was measured (``risk/latency.py``); a timing, so not part of the identity
    serving: dict[str, float] = field(default_factory=dict)
    #: the product's own figures by name (``test_precision_at_100`` ...), beside ``metrics_valid``/``metrics_test``
    figures: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "version": self.version, "created": self.created, "label": self.label,
            "time_col": self.time_col, "features": list(self.features),
            "periods": [{"name": p.name, "start": _iso(p.start), "end": _iso(p.end), "rows": p.rows}
                        for p in self.periods],
            "metrics_valid": self.metrics_valid.to_dict(),
            "metrics_test": None if self.metrics_test is None else self.metrics_test.to_dict(),
            "thresholds": None if self.thresholds is None else self.thresholds.to_dict(),
            "costs": None if self.costs is None else self.costs.to_dict(), "guardrail": self.guardrail,
            "decisions_test": [vars(o) for o in self.decisions_test],
            "estimator": self.estimator, "calibration": self.calibration,
            "artifacts": dict(self.artifacts), "notes": self.notes, "sampling": dict(self.sampling),
            "serving": dict(self.serving), "figures": dict(self.figures),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        try:
            return cls(
                name=data["name"], version=int(data["version"]), created=data["created"], label=data["label"],
                time_col=data["time_col"], features=tuple(data["features"]),
                periods=tuple(Period(p["name"], _time(p["start"]), _time(p["end"]), int(p["rows"]))
                              for p in data["periods"]),
                metrics_valid=Metrics.from_dict(data["metrics_valid"]),
                metrics_test=None if data["metrics_test"] is None else Metrics.from_dict(data["metrics_test"]),
                thresholds=None if data["thresholds"] is None else policy_from_dict(data["thresholds"]),
                costs=None if data["costs"] is None else Costs(**data["costs"]), guardrail=data.get("guardrail", ""),
                decisions_test=tuple(DecisionOutcome(**o) for o in data["decisions_test"]),
                estimator=data["estimator"], calibration=data["calibration"],
                artifacts=dict(data["artifacts"]), notes=data.get("notes", ""),
                sampling=dict(data.get("sampling") or {}),
                serving={k: float(v) for k, v in (data.get("serving") or {}).items()},
                figures={k: float(v) for k, v in (data.get("figures") or {}).items()})
        except (KeyError, TypeError, ValueError) as exc:
            raise CryptoscopeError(f"not a model card: {exc!r}") from exc

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CryptoscopeError(f"a model card is not valid JSON: {exc}") from exc
        return cls.from_dict(data)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)
