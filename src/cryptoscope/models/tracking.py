"""Where runs and models go: the MLflow tracking URI, a store ready to use, and one MLflow run per fit.

The URI is ``MLFLOW_TRACKING_URI`` when set (a team's ``mlflow server``), else a SQLite file inside the
registry folder (``<root>/mlflow.db``, artifacts in ``<root>/mlartifacts``), so nothing else needs to run.
A new SQLite store is a copy of an empty one built once per MLflow version (creating MLflow's tables runs
its schema migrations, seconds each time). A server is asked for ``/health`` before anything is sent, so
an unreachable one fails at once with a line saying where, instead of after MLflow's minutes of retries.

Each fit is one run in the experiment named after the model: its parameters (data window, features,
estimator, calibration, policy, costs, sampling), its metrics on validation and test (``valid_roc_auc``,
``test_cost`` ...), the model card, and whatever files and figures come with it (the evaluation report,
the calibration and cost plots). A run without metrics is refused before anything is sent, and a run that
fails halfway is marked FAILED and deleted: nothing half-logged stays visible.

``mlflow`` is imported only when a store is opened: importing it takes seconds, and most commands never do.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models.card import ModelCard

if TYPE_CHECKING:
    from mlflow import MlflowClient

ENV = "MLFLOW_TRACKING_URI"
DB, ARTIFACT_ROOT = "mlflow.db", "mlartifacts"
_PARAM_CHARS = 500  # MLflow caps a parameter's value; ours stay readable in the UI's table
_NOTE_CHARS = 5000  # the run's description (the card's notes), under MLflow's cap on a tag


def tracking_uri(root: str | os.PathLike[str], uri: str | None = None) -> str:
    """``uri``, else ``$MLFLOW_TRACKING_URI``, else the SQLite store inside the registry folder ``root``."""
    chosen = uri or os.environ.get(ENV, "").strip()
    return chosen or f"sqlite:///{(Path(root) / DB).resolve()}"


def ui_command(root: str | os.PathLike[str], uri: str | None = None) -> str:
    """The command that opens MLflow's UI on the runs and models of the registry ``root``."""
    chosen = tracking_uri(root, uri)
    if is_server(chosen):
        return f"open {chosen} in a browser (the tracking server's UI)"
    return f"mlflow ui --backend-store-uri {chosen}   # then open http://127.0.0.1:5000"


def is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def open_client(root: str | os.PathLike[str], uri: str) -> MlflowClient:
    """A client for ``uri``: a new local SQLite store is created (from the template), a server must answer."""
    if uri.startswith("sqlite:///"):
        db = Path(uri.removeprefix("sqlite:///"))
        if not db.exists():
            _fresh_store(db)
    elif is_server(uri):
        check_reachable(uri)
    from mlflow import MlflowClient

    # a model folder is a few files: MLflow's download progress bar would only clutter our own progress output
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def check_reachable(uri: str, timeout: float = 5.0) -> None:
    """Raise a clear error unless the tracking server at ``uri`` answers its health check."""
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            if response.status != 200:
                raise CryptoscopeError(f"the MLflow tracking server at {uri} answers {response.status} to /health")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CryptoscopeError(
            f"the MLflow tracking server at {uri} is unreachable ({reason}); start it, fix {ENV}, or unset {ENV} "
            "to use the local registry") from exc


@contextmanager
def mlflow_errors(uri: str, doing: str) -> Iterator[None]:
    """MLflow's exceptions as one clear ``CryptoscopeError`` line that says what was being done where."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        first = str(exc.message).strip().splitlines()[0] if str(exc.message).strip() else repr(exc)
        raise CryptoscopeError(f"MLflow at {uri}: could not {doing}: {first}") from exc


def experiment_id(client: MlflowClient, name: str, root: str | os.PathLike[str], uri: str) -> str:
    """The experiment named ``name``, created on first use (local stores keep artifacts beside the database)."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = None if is_server(uri) else (Path(root) / ARTIFACT_ROOT).resolve().as_uri()
    try:
        return str(client.create_experiment(name, artifact_location=location))
    except MlflowException:  # another process created it meanwhile
        again = client.get_experiment_by_name(name)
        if again is None:
            raise
        return str(again.experiment_id)


def require_metrics(card: ModelCard) -> None:
    """Refuse a card that cannot be judged: a run is logged with its validation and test metrics, or not at all."""
    if card.metrics_test is None or not metrics(card):
        raise CryptoscopeError(f"{card.name or 'the model'}: the card has no validation and test metrics, so there "
                               "is nothing to judge it by; nothing was logged or registered")


def params(card: ModelCard) -> dict[str, str]:
    """The run's parameters: what the model was trained on and how."""
    out: dict[str, Any] = {"model": card.name, "label": card.label, "time_col": card.time_col,
                           "estimator": card.estimator, "calibration": card.calibration,
                           "guardrail": card.guardrail or "none", "n_features": len(card.features),
                           "features": ",".join(card.features)}
    for period in card.periods:
        out |= {f"{period.name}_start": period.start, f"{period.name}_end": period.end,
                f"{period.name}_rows": period.rows}
    for prefix, part in (("policy", card.thresholds and card.thresholds.to_dict()),
                         ("costs", card.costs and card.costs.to_dict()), ("sampling", card.sampling)):
        for key, value in (part or {}).items():
            out[f"{prefix}_{key}"] = json.dumps(value, default=str) if isinstance(value, dict | list) else value
    return {k: _short(str(v)) for k, v in out.items()}


def metrics(card: ModelCard) -> dict[str, float]:
    """The run's metrics: each number of the card's validation and test metrics, each decision's test cost, the
    measured single-row serving cost when there is one (``serving_p99_ms`` ...) and the product's own figures."""
    out: dict[str, float] = {}
    for prefix, values in (("valid", card.metrics_valid), ("test", card.metrics_test)):
        for key, value in (values.to_dict() if values is not None else {}).items():
            if isinstance(value, int | float) and math.isfinite(value):
                out[f"{prefix}_{key}"] = float(value)
    for outcome in card.decisions_test:
        out[f"test_decision_cost_{outcome.name.replace(' ', '_')}"] = float(outcome.cost)
    out |= {key: float(value) for key, value in card.serving.items() if math.isfinite(value)}
    out |= {key: float(value) for key, value in card.figures.items() if math.isfinite(value)}
    return out


def log_run(client: MlflowClient, experiment: str, uri: str, card: ModelCard, *, folder: Path | None = None,
            figures: Mapping[str, bytes] | None = None, tags: Mapping[str, str] | None = None) -> str:
    """Log one finished run of ``card`` (its ``folder`` under ``model/``, ``figures`` under ``plots/``); its id.

    Everything is sent before the run is marked FINISHED; a failure marks it FAILED, deletes it and raises."""
    from mlflow.entities import Metric, Param, RunTag

    require_metrics(card)
    with mlflow_errors(uri, f"start a run of {card.name}"):
        run = client.create_run(experiment, run_name=f"{card.name} {card.created}",
                                tags={"cryptoscope.model": card.name, **(tags or {})})
    run_id = run.info.run_id
    try:
        with mlflow_errors(uri, f"log the run of {card.name}"), tempfile.TemporaryDirectory() as tmp:
            stamp = 0  # one time stamp for the whole batch: the metrics of one evaluation
            client.log_batch(run_id, metrics=[Metric(k, v, stamp, 0) for k, v in metrics(card).items()],
                             params=[Param(k, v) for k, v in params(card).items()],
                             tags=[RunTag("mlflow.note.content", card.notes[:_NOTE_CHARS])])
            (Path(tmp) / "card.json").write_text(card.to_json(), encoding="utf-8")
            client.log_artifact(run_id, str(Path(tmp) / "card.json"))
            for key, data in (figures or {}).items():
                (Path(tmp) / f"{key}.png").write_bytes(data)
                client.log_artifact(run_id, str(Path(tmp) / f"{key}.png"), "plots")
            if folder is not None:
                client.log_artifacts(run_id, str(folder), "model")
            client.set_terminated(run_id, "FINISHED")
    except BaseException:
        _discard(client, run_id)
        raise
    return str(run_id)


def log_benchmark(client: MlflowClient, experiment: str, uri: str, name: str, figures: Mapping[str, Any], *,
                  params: Mapping[str, object], files: tuple[Path, ...] = ()) -> str:
    """Log a benchmark's result as one finished run: ``params`` as they are, every number in ``figures`` (nested
    mappings flattened with ``_``) as a metric, ``files`` as artifacts. Refused without a number: a run without
    metrics judges nothing."""
    from mlflow.entities import Metric, Param

    numbers = _numbers(figures)
    if not numbers:
        raise CryptoscopeError(f"{name}: the benchmark's figures hold no number; nothing was logged")
    with mlflow_errors(uri, f"start a run of {name}"):
        run = client.create_run(experiment, run_name=name, tags={"cryptoscope.benchmark": name})
    run_id = run.info.run_id
    try:
        with mlflow_errors(uri, f"log the run of {name}"):
            client.log_batch(run_id, metrics=[Metric(k, v, 0, 0) for k, v in numbers.items()],
                             params=[Param(k, _short(str(v))) for k, v in params.items()])
            for path in files:
                client.log_artifact(run_id, str(path))
            client.set_terminated(run_id, "FINISHED")
    except BaseException:
        _discard(client, run_id)
        raise
    return str(run_id)


def _numbers(values: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= _numbers(value, f"{name}_")
        elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


def _discard(client: MlflowClient, run_id: str) -> None:
    """Mark a half-logged run FAILED and delete it (best effort: the store may be what failed)."""
    for step in (lambda: client.set_terminated(run_id, "FAILED"), lambda: client.delete_run(run_id)):
        with contextlib.suppress(Exception):  # the original error is the one to report
            step()


def _fresh_store(db: Path) -> None:
    """Create the SQLite store ``db`` as a copy of an empty store with MLflow's current schema."""
    import mlflow

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cryptoscope"
    template = cache / f"mlflow-{mlflow.__version__}-empty.db"
    if not template.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        building = cache / f".{template.name}.{os.getpid()}.tmp"
        building.unlink(missing_ok=True)
        from mlflow import MlflowClient

        MlflowClient(tracking_uri=f"sqlite:///{building}").search_experiments()  # creates the tables
        os.replace(building, template)
    db.parent.mkdir(parents=True, exist_ok=True)
    copy = db.with_name(f".{db.name}.{os.getpid()}.tmp")
    shutil.copyfile(template, copy)
    os.replace(copy, db)


def _short(text: str) -> str:
    return text if len(text) <= _PARAM_CHARS else text[:_PARAM_CHARS - 1] + "…"
