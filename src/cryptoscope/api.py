"""The public Python API: what a data scientist needs in a notebook, re-exported as ``cryptoscope.<name>``.

Everything here is stable; everything else in the package is implementation and may change. Each function is a
thin, documented door onto the module that does the work (named in its docstring), so the notebook and the CLI
run the same code. Models go to MLflow's registry (``$MLFLOW_TRACKING_URI``, else a SQLite store inside the
``registry`` folder), as they do from ``cryptoscope risk train``.

>>> import tempfile, pathlib
>>> import cryptoscope as cs
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> lake = cs.open_lake(tmp / "lake")               # an empty lake: every canonical table, no rows
>>> lake.table("payments").count().execute()
0
>>> "user_logins" in cs.feature_views()
True
>>> cs.product_lines()[:5]
['kyc', 'payment', 'withdrawal', 'credit', 'chain']
>>> cs.list_models(tmp / "registry")                 # MLflow's registry, a SQLite store in that folder
[]
>>> cs.promote("risk_kyc", 3, tmp / "registry")   # doctest: +ELLIPSIS
Traceback (most recent call last):
...
cryptoscope.errors.CryptoscopeError: no model 'risk_kyc' version 3 in sqlite:///...; known versions: none registered

On a world (``cryptoscope simulate`` or ``make demo``), the notebooks in ``docs/notebooks/`` go further::

    lake = cs.open_lake("demo-lake")
    trained, evaluation = cs.fit("withdrawal", lake)     # in memory
    cs.log_fit(trained)                                   # an MLflow run to compare
    result = cs.train("withdrawal", lake)                 # registered; champion if it beats the rules
    frame = cs.decisions("withdrawal", lake)             # decision rows with their features and rules
    scored = cs.score("withdrawal", frame.tail(100))      # probability, decision, reasons per row
    queue = cs.case_queue(lake)                           # the analysts' cases
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cryptoscope.errors import CryptoscopeError, UnknownTableError
from cryptoscope.features.engines import Engine, engine_name
from cryptoscope.features.engines import connect as _connect
from cryptoscope.lake import Lake
from cryptoscope.models import ModelVersion, RegisteredModel, Registry, TrainedModel
from cryptoscope.productline import RunContext, StageResult
from cryptoscope.risk.evaluation import Evaluation
from cryptoscope.risk.training import TrainResult
from cryptoscope.schema import TABLES

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from cryptoscope.cases import CaseStore
    from cryptoscope.features.spec import FeatureView
    from cryptoscope.feedback.drivers import DriverResult
    from cryptoscope.graph.pipeline import GraphResult
    from cryptoscope.graph.show import Neighbourhood

PathLike = str | os.PathLike[str]
REGISTRY = Path("./models-registry")

__all__ = [
    "CryptoscopeError", "Evaluation", "LakeHandle", "ModelVersion", "RegisteredModel", "TrainResult", "TrainedModel",
    "build_features", "case_queue", "decisions", "entity_graph", "evaluate", "feature_views", "feedback_drivers",
    "fit", "list_models", "load_model", "log_fit", "neighbourhood", "open_lake", "product_lines", "promote",
    "register", "run_product", "score", "train", "training_set",
]


@dataclass(frozen=True, eq=False)
class LakeHandle:
    """An opened lake: its folder, the engine's Ibis connection, and every canonical table by name.

    It reads the lake's files as they were committed when it was opened (a reader never sees half a commit):
    open the lake again to read what was written since, e.g. by ``run_product``.

    >>> import tempfile, cryptoscope as cs
    >>> lake = cs.open_lake(tempfile.mkdtemp())
    >>> lake.engine, "payments" in lake.tables
    ('duckdb', True)
    >>> lake.table("no_such_table")   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cryptoscope.errors.UnknownTableError: unknown table 'no_such_table'; see `cryptoscope schema` for ...
    """

    lake: Lake
    engine: Engine
    con: Any

    @property
    def root(self) -> Path:
        return self.lake.root

    @property
    def tables(self) -> list[str]:
        """The canonical table names (``docs/schema.md``), each readable with ``table``."""
        return sorted(TABLES)

    def table(self, name: str) -> ir.Table:
        """The canonical table ``name`` as an Ibis expression on this lake's engine (nothing is read yet)."""
        if name not in TABLES:
            raise UnknownTableError(f"unknown table {name!r}; see `cryptoscope schema` for the canonical tables")
        return self.con.table(name)


def open_lake(path: PathLike, engine: str = "duckdb") -> LakeHandle:
    """Open the lake folder ``path`` on ``engine``: "duckdb" in process, or "spark" (local, or the cluster of
    ``$CRYPTOSCOPE_SPARK_MASTER``).

    The folder is created when missing, as the CLI's loaders do (an empty lake has every table, no rows)."""
    lake = Lake(path)
    chosen = engine_name(engine)
    return LakeHandle(lake=lake, engine=chosen, con=_connect(lake, chosen))


def feature_views() -> dict[str, FeatureView]:
    """Every feature view by name (``features/views.py``): written once, run on DuckDB, Spark and online."""
    from cryptoscope.features.views import VIEWS

    return dict(VIEWS)


def build_features(lake: LakeHandle, view: str, points: ir.Table) -> ir.Table:
    """The features of ``view`` for each row of ``points`` (its entity key and ``decision_time``), computed from
    the events strictly before each row's time (``features/offline.py``)."""
    from cryptoscope.features.offline import view_features

    return view_features(lake.con, _view(view), points)


def training_set(lake: LakeHandle, label: str, cutoff: dt.datetime, views: Sequence[str] | None = None) -> ir.Table:
    """A point-in-time training set (``features/training.py``): the ``label`` decisions made and judged by
    ``cutoff``, each with the features of ``views`` (all when None) as they were just before it."""
    from cryptoscope.features.training import training_set as build

    chosen = [_view(v) for v in views] if views is not None else list(feature_views().values())
    return build(lake.con, chosen, label, cutoff)


def fit(kind: str, lake: LakeHandle, *, random_state: int = 0) -> tuple[TrainedModel, Evaluation]:
    """Fit and evaluate the risk model of ``kind`` in memory, as ``train`` would, writing nothing
    (``risk/training.py``); log it with ``log_fit`` to compare it with the registered ones in MLflow."""
    from cryptoscope.risk.training import fit as _fit

    trained, evaluation, _ = _fit(kind, lake.lake, backend=lake.con, random_state=random_state)
    return trained, evaluation


def log_fit(trained: TrainedModel, registry: PathLike = REGISTRY) -> str:
    """Log a fit (parameters, validation and test metrics, card, calibration and cost plots) as an MLflow run
    without registering it; returns the run id."""
    return Registry(registry).log_run(trained.card, figures=trained.figures())


def train(kind: str, lake: LakeHandle, registry: PathLike = REGISTRY, *, report_dir: PathLike = "./reports",
          random_state: int = 0) -> TrainResult:
    """``cryptoscope risk train``: fit, write the report, log the run, register a version of ``risk_<kind>``,
    and promote it (alias ``champion``) when its decisions cost less than the rules' on the test period."""
    from cryptoscope.risk.training import train as _train

    return _train(kind, lake.lake, registry, report_dir=report_dir, backend=lake.con, random_state=random_state)


def evaluate(kind: str, lake: LakeHandle, registry: PathLike | None = None, *,
             version: int | None = None) -> Evaluation:
    """The model against the rules on the test period: a registered ``version`` (the champion by default) when
    ``registry`` is given, else a fresh in-memory fit."""
    from cryptoscope.risk.training import evaluate as _evaluate

    return _evaluate(kind, lake.lake, registry_root=registry, version=version, backend=lake.con)


def register(trained: TrainedModel, registry: PathLike = REGISTRY, *, evaluation: Evaluation | None = None) -> int:
    """Register a fit as the next version of its model (the version already holding it when re-registered).
    With its ``evaluation``, the version records whether it beat the rules: one that did not is promoted only
    when forced."""
    verdict = "not judged" if evaluation is None else ("passed" if evaluation.saving > 0 else "failed")
    return Registry(registry).register(trained.card.name, trained.bundle, trained.card, figures=trained.figures(),
                                       evaluation=verdict)  # type: ignore[arg-type]


def promote(name: str, version: int, registry: PathLike = REGISTRY, *, force: bool = False) -> None:
    """Make ``version`` of ``name`` the champion (what ``serve``, the stream and ``score`` load)."""
    Registry(registry).promote(name, version, force=force)


def list_models(registry: PathLike = REGISTRY) -> list[ModelVersion]:
    """Every registered version; ``promoted`` marks each model's champion."""
    return Registry(registry).list()


def load_model(name: str, registry: PathLike = REGISTRY, version: int | None = None) -> RegisteredModel:
    """A registered model's bundle (to score with) and card; the champion by default."""
    return Registry(registry).load(name, version)


def decisions(kind: str, lake: LakeHandle, since: dt.datetime | None = None) -> pd.DataFrame:
    """Every ``kind`` decision (from ``since`` on) with its features and the rules' decision: what ``score``
    and the models read (``risk/frames.py``)."""
    from cryptoscope.risk.frames import decision_frame
    from cryptoscope.risk.products import get_product

    return decision_frame(lake.con, get_product(kind), since=since)


def score(kind: str, frame: pd.DataFrame, registry: PathLike = REGISTRY, *, top_k: int = 3) -> pd.DataFrame:
    """Score a frame of ``kind`` decision rows with the champion: one row per decision with its probability,
    decision and reasons, as ``serve`` answers (``risk/scorer.py``). Reasons are explained against the frame."""
    from cryptoscope.risk.scorer import RiskScorer

    if frame.empty:
        raise CryptoscopeError(f"no {kind} decision rows to score")
    scorer = RiskScorer(kind, top_k=top_k).load(Registry(registry))
    scorer.fit_reasons(frame.to_dict("records"))  # type: ignore[arg-type]
    rows = [{k: v for k, v in dataclasses.asdict(d).items() if k != "features"} for d in scorer.score_many(frame)]
    return pd.DataFrame(rows)


def entity_graph(lake: LakeHandle, as_of: dt.datetime | None = None) -> GraphResult:
    """The entity graph of users linked by shared devices, IPs, cards, bank accounts, addresses, documents and
    referrers, with its communities (rings) and per-user graph features, from what the lake saw before ``as_of``
    (``graph/pipeline.py``). Without ``as_of``, the graph the abnormal-users line saved in ``LAKE/_abnormal/graph``
    when there is one (building it takes a while), else one built up to the lake's last event."""
    from cryptoscope.graph.pipeline import build_graph, load_graph

    saved = lake.root / "_abnormal" / "graph"
    if as_of is None and saved.is_dir():
        return load_graph(saved)
    return build_graph(lake.lake, as_of, backend=lake.con)


def neighbourhood(graph: GraphResult, users: int | list[int], hops: int = 1) -> Neighbourhood:
    """The users, their neighbours within ``hops`` and what links them (``.text()``, ``.shared``, ``.subgraph``)."""
    from cryptoscope.graph.show import neighbourhood as around

    return around(graph, users, hops=hops)


def feedback_drivers(lake: LakeHandle, outcome: str = "csat", *, reps: int = 300) -> DriverResult:
    """What drives satisfaction: each experience's effect on CSAT (tickets) or NPS (surveys) with a robust 95%
    interval and a bootstrap one over users, and a verdict on the evidence (``feedback/drivers.py``)."""
    from cryptoscope.feedback.drivers import csat_drivers, nps_drivers
    from cryptoscope.feedback.experience import survey_experience, ticket_experience

    if outcome == "csat":
        return csat_drivers(ticket_experience(lake.lake, backend=lake.con), reps=reps)
    if outcome == "nps":
        return nps_drivers(survey_experience(lake.lake, backend=lake.con), reps=reps)
    raise CryptoscopeError(f"unknown feedback outcome {outcome!r}; expected csat or nps")


def case_queue(lake: LakeHandle, db: str | None = None) -> CaseStore:
    """The case queue of the abnormal-user and surveillance lines (``cases/``): SQLite in the lake's
    ``_abnormal`` folder unless ``db`` names another store (e.g. PostgreSQL)."""
    from cryptoscope.cases import CaseStore, default_url

    return CaseStore(db or default_url(lake.root / "_abnormal"))


def product_lines() -> list[str]:
    """The product lines in the order ``run_product`` can run them one after another (``products.py``)."""
    from cryptoscope.products import ordered

    return [line.name for line in ordered()]


def run_product(name: str, lake: LakeHandle, registry: PathLike = REGISTRY, *,
                report_dir: PathLike = "./reports") -> StageResult:
    """Run one product line's batch stage on ``lake``'s engine, as ``cryptoscope run --stages NAME`` does; open
    the lake again to read the tables it wrote."""
    from cryptoscope.products import get

    return get(name).run(RunContext(lake.lake, Path(registry), Path(report_dir), lake.engine))


def _view(name: str) -> FeatureView:
    views = feature_views()
    if name not in views:
        raise CryptoscopeError(f"unknown feature view {name!r}; known: {', '.join(views)}")
    return views[name]
