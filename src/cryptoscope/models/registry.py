"""The model registry of record: MLflow's, under the names models have always had (``risk_withdrawal`` ...).

``Registry(root)`` talks to the tracking URI of ``tracking.py`` (``$MLFLOW_TRACKING_URI``, else a SQLite store
inside the folder ``root``). Registering logs one run (parameters, validation and test metrics, the card, the
report and plots, and the bundle under ``model/``) and then creates the model version from that run, so a
version exists only once all of it is stored: a failure before that deletes the run, a failure creating the
version deletes the run and a registered model it had just created. Promoting sets the alias ``champion``;
``load(name)`` returns the champion, which is what ``serve``, the stream and batch scoring use. A version whose
evaluation failed (its decisions cost more than the rules' on the test period, or whatever reason the
registration recorded: a serving cost over budget ...) is promoted only when forced.

Registering a card that says what a registered version's card says (``_identity.py``: the same model fitted
again on the same data) returns that version, so re-running a stage adds nothing. Loading downloads a version's
``model/`` folder once into ``<root>/.cache/<run id>`` (a run's artifacts never change), renamed into place
whole. Bundles are pickles: load only registries you trust. Folder registries of the former format are read
by ``folder_registry.py`` and copied in by ``migrate.py`` (``cryptoscope models migrate``).

Example::

    registry = Registry("./models-registry")
    version = registry.register("card_fraud", bundle, card, files={"report": "report.html"})
    registry.promote("card_fraud", version)
    model = registry.load("card_fraud")          # the champion
    model.bundle.decide(frame)
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import joblib

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import tracking
from cryptoscope.models._identity import ModelVersion, RegisteredModel, checked_name, comparable, listing, same
from cryptoscope.models.bundle import ModelBundle
from cryptoscope.models.card import ModelCard

if TYPE_CHECKING:
    from mlflow import MlflowClient

CARD, BUNDLE, ARTIFACTS, MODEL = "card.json", "bundle.joblib", "artifacts", "model"
CHAMPION = "champion"
#: model-version tags: the card's time stamp, the verdict of the evaluation that registered it, and why it failed
CREATED, EVALUATION, REASON = "cryptoscope.created", "cryptoscope.evaluation", "cryptoscope.evaluation_reason"
#: why a failed version failed when its registration did not say (the risk products' first gate)
COST_REASON = "its decisions cost more than the rules' on the test period"
Verdict = Literal["passed", "failed", "not judged"]


class Registry:
    """Versioned models in MLflow's registry; see the module doc for what a registration guarantees."""

    def __init__(self, root: str | os.PathLike[str] = "./models-registry", *, tracking_uri: str | None = None) -> None:
        self.root = Path(root)
        self.tracking_uri = tracking.tracking_uri(self.root, tracking_uri)

    @classmethod
    def configured(cls, root: str | os.PathLike[str]) -> Registry | None:
        """The registry when there is one to read: ``$MLFLOW_TRACKING_URI`` names a store, or the folder exists."""
        return cls(root) if os.environ.get(tracking.ENV, "").strip() or Path(root).is_dir() else None

    @cached_property
    def client(self) -> MlflowClient:
        """The MLflow client (opened on first use: a local store is created, a server must answer)."""
        return tracking.open_client(self.root, self.tracking_uri)

    def register(self, name: str, bundle: ModelBundle, card: ModelCard, *,
                 files: Mapping[str, str | os.PathLike[str]] | None = None,
                 figures: Mapping[str, bytes] | None = None, evaluation: Verdict = "not judged",
                 reason: str = "") -> int:
        """Log a run of ``card`` with ``bundle``, ``files`` (under ``model/artifacts/``) and ``figures`` (PNG bytes,
        under ``plots/``), and register it as the next version of ``name``; the version already holding this
        very model when there is one. ``evaluation`` is recorded on the version: a "failed" one is not promoted
        unless forced, and ``reason`` (why it failed) is what the refusal says."""
        checked_name(name)
        tracking.require_metrics(card)
        known = self._versions(name)
        held = self._holding(name, card, known)
        if held is not None:
            return held
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / MODEL
            stamped = self._write(folder, name, bundle, card, files or {})
            with self._errors(f"open the experiment {name}"):
                experiment = tracking.experiment_id(self.client, name, self.root, self.tracking_uri)
            run_id = tracking.log_run(self.client, experiment, self.tracking_uri, stamped, folder=folder,
                                      figures=figures, tags={EVALUATION: evaluation})
        tags = {EVALUATION: evaluation} | ({REASON: reason} if reason else {})
        return self._create_version(name, run_id, stamped, tags, new_model=not known)

    def log_run(self, card: ModelCard, *, figures: Mapping[str, bytes] | None = None) -> str:
        """Log a fit that is not registered (a benchmark's, a notebook's): its run id."""
        with self._errors(f"open the experiment {card.name}"):
            experiment = tracking.experiment_id(self.client, card.name, self.root, self.tracking_uri)
        return tracking.log_run(self.client, experiment, self.tracking_uri, card, figures=figures)

    def log_benchmark(self, name: str, figures: Mapping[str, Any], *, params: Mapping[str, object],
                      files: tuple[Path, ...] = ()) -> str:
        """Log a benchmark's figures (every number, as metrics), parameters and files as a run of the experiment
        ``name``; its run id."""
        with self._errors(f"open the experiment {name}"):
            experiment = tracking.experiment_id(self.client, checked_name(name), self.root, self.tracking_uri)
        return tracking.log_benchmark(self.client, experiment, self.tracking_uri, name, figures, params=params,
                                      files=files)

    def list(self) -> list[ModelVersion]:
        """Every registered version, by name then version."""
        out = []
        with self._errors("list the registered models"):
            models = _all_pages(lambda token: self.client.search_registered_models(page_token=token))
        for model in sorted(models, key=lambda m: m.name):
            champion = _champion(model.aliases)
            for number, version in sorted(self._versions(model.name).items()):
                created = version.tags.get(CREATED) or str(version.creation_timestamp)
                out.append(ModelVersion(model.name, number, created, number == champion))
        return out

    def show(self, name: str, version: int | None = None) -> ModelCard:
        """The card of ``version`` (the champion by default)."""
        number, found = self._resolve(name, version)
        return self._card(name, number, self._download(found.run_id))

    def promote(self, name: str, version: int, *, force: bool = False) -> None:
        """Make ``version`` the champion, the one ``load(name)`` returns. Refuses an unknown version, and one
        whose evaluation failed unless ``force``."""
        known = self._versions(checked_name(name))
        if version not in known:
            raise CryptoscopeError(f"no model {name!r} version {version} in {self.tracking_uri}; known versions: "
                                   f"{listing(set(known))}{self._legacy_hint(name)}")
        tags = known[version].tags
        if tags.get(EVALUATION) == "failed" and not force:
            raise CryptoscopeError(f"{name} v{version} failed its evaluation ({tags.get(REASON) or COST_REASON}), so "
                                   "it is not promoted; promote it with --force to override")
        with self._errors(f"promote {name} v{version}"):
            self.client.set_registered_model_alias(name, CHAMPION, str(version))

    def promoted(self, name: str) -> int | None:
        """The champion version of ``name``, or None."""
        from mlflow.exceptions import MlflowException

        try:
            return int(self.client.get_model_version_by_alias(checked_name(name), CHAMPION).version)
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
                return None
            raise CryptoscopeError(f"MLflow at {self.tracking_uri}: could not read {name}'s champion: {exc}") from exc

    def load(self, name: str, version: int | None = None) -> RegisteredModel:
        """The bundle and card of ``version``, by default the champion."""
        number, found = self._resolve(name, version)
        path = self._download(found.run_id)
        card = self._card(name, number, path)
        try:
            bundle = joblib.load(path / BUNDLE)
        except (OSError, EOFError, ValueError) as exc:
            raise CryptoscopeError(f"{path / BUNDLE} cannot be loaded: {exc}") from exc
        if not isinstance(bundle, ModelBundle):
            raise CryptoscopeError(f"{path / BUNDLE} holds a {type(bundle).__name__}, not a ModelBundle")
        return RegisteredModel(name=name, version=card.version, bundle=bundle, card=card, path=path)

    def path(self, name: str, version: int | None = None) -> Path:
        """The local folder of a version's ``model/`` artifacts (the champion by default), downloaded once."""
        return self._download(self._resolve(name, version)[1].run_id)

    def _resolve(self, name: str, version: int | None) -> tuple[int, Any]:
        """The number and MLflow entity of ``version`` of ``name`` (the champion by default), or a clear error."""
        known = self._versions(checked_name(name))
        if version is None:
            version = self.promoted(name)
            if version is None:
                raise CryptoscopeError(f"no version of {name!r} is promoted in {self.tracking_uri}; promote one of "
                                       f"{listing(set(known))} or ask for a version{self._legacy_hint(name)}")
        if version not in known:
            raise CryptoscopeError(f"no model {name!r} version {version} in {self.tracking_uri}; known versions: "
                                   f"{listing(set(known))}{self._legacy_hint(name)}")
        return version, known[version]

    def _create_version(self, name: str, run_id: str, card: ModelCard, tags: Mapping[str, str], *,
                        new_model: bool) -> int:
        from mlflow.exceptions import MlflowException

        created_model = False
        try:
            with self._errors(f"register {name}"):
                if new_model and self.client.search_model_versions(f"name='{name}'") == []:
                    try:
                        self.client.create_registered_model(name, description=card.notes or None)
                        created_model = True
                    except MlflowException as exc:
                        if exc.error_code != "RESOURCE_ALREADY_EXISTS":  # another process registered it meanwhile
                            raise
                source = f"{self.client.get_run(run_id).info.artifact_uri}/{MODEL}"
                version = self.client.create_model_version(name, source, run_id, tags={CREATED: card.created, **tags})
            return int(version.version)
        except BaseException:
            tracking._discard(self.client, run_id)
            if created_model:
                with contextlib.suppress(MlflowException):
                    self.client.delete_registered_model(name)
            raise

    def _write(self, folder: Path, name: str, bundle: ModelBundle, card: ModelCard,
               files: Mapping[str, str | os.PathLike[str]]) -> ModelCard:
        """The ``model/`` folder: bundle, card (version 0: MLflow numbers it) and the files it points at."""
        try:
            folder.mkdir()
            artifacts = dict(card.artifacts)
            for key, source in files.items():
                src = Path(source)
                if not src.is_file():
                    raise CryptoscopeError(f"artifact {key!r}: no file at {src}")
                (folder / ARTIFACTS).mkdir(exist_ok=True)
                shutil.copy2(src, folder / ARTIFACTS / src.name)
                artifacts[key] = f"{ARTIFACTS}/{src.name}"
            stamped = dataclasses.replace(card, name=name, version=0, artifacts=artifacts)
            joblib.dump(bundle, folder / BUNDLE)
            (folder / CARD).write_text(stamped.to_json(), encoding="utf-8")
        except OSError as exc:
            raise CryptoscopeError(f"could not register {name!r} in {self.tracking_uri}: {exc}") from exc
        return stamped

    def _versions(self, name: str) -> dict[int, Any]:
        """The registered versions of ``name`` (MLflow's ModelVersion entities) by number."""
        with self._errors(f"list the versions of {name}"):
            found = _all_pages(lambda token: self.client.search_model_versions(f"name='{name}'", page_token=token))
        return {int(v.version): v for v in found}

    def _holding(self, name: str, card: ModelCard, known: Mapping[int, Any]) -> int | None:
        """The newest version whose card says the same as ``card`` (``_identity.py``)."""
        new = comparable(card)
        for number in sorted(known, reverse=True):
            if same(comparable(self._card(name, number, self._download(known[number].run_id))), new):
                return number
        return None

    def _card(self, name: str, number: int, path: Path) -> ModelCard:
        """The card in ``path``, stamped with the name and the number MLflow gave its version."""
        card = ModelCard.from_json((path / CARD).read_text(encoding="utf-8"))
        return dataclasses.replace(card, name=name, version=number)

    def _download(self, run_id: str) -> Path:
        target = self.root / ".cache" / run_id
        if (target / CARD).is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".tmp-{uuid.uuid4().hex}"
        try:
            tmp.mkdir()
            with self._errors(f"download the model of run {run_id}"):
                self.client.download_artifacts(run_id, MODEL, str(tmp))
            try:
                os.rename(tmp / MODEL, target)
            except OSError:
                if not (target / CARD).is_file():  # not another loader winning the same rename
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target

    def _legacy_hint(self, name: str) -> str:
        folder = self.root / name
        if folder.is_dir() and any((p / CARD).is_file() for p in folder.glob("v[0-9]*")):
            return (f"; {folder} holds versions in the former folder format: copy them in with "
                    f"`cryptoscope models migrate --registry {self.root}`")
        return ""

    def _errors(self, doing: str) -> Any:
        return tracking.mlflow_errors(self.tracking_uri, doing)


def _champion(aliases: Any) -> int | None:
    """The champion's number from a registered model's aliases (a mapping alias -> version)."""
    value = dict(aliases or {}).get(CHAMPION)
    return None if value is None else int(value)


def _all_pages(search: Any) -> list[Any]:
    out: list[Any] = []
    token = None
    while True:
        page = search(token)
        out.extend(page)
        token = getattr(page, "token", None)
        if not token:
            return out
