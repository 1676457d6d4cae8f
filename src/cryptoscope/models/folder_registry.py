"""The registry's former format: a folder of versioned model artifacts, kept to read and migrate old registries.

MLflow is the registry of record now (``registry.py``); ``cryptoscope models migrate`` copies every version
of a folder registry into it (``migrate.py``). The format, as it was:

Layout (``root`` defaults to ``./models-registry``)::

    root/<name>/v0001/card.json        the ModelCard, readable without Python
    root/<name>/v0001/bundle.joblib    the ModelBundle (estimator, calibrator, thresholds, features)
    root/<name>/v0001/artifacts/...    the report and plots registered with it
    root/<name>/promoted.json          which version serves, written atomically

A registration is written into a hidden temporary folder and renamed into place in one step, so a
crash leaves only a hidden folder that listing and loading ignore; two registrations racing for the
same version number cannot both win the rename. Bundles are pickles: load only registries you trust.
Registering a model whose card says what a registered version's card says, but for its time stamp (the same
model trained again on the same data: periods and rows, features, estimator and its parameters, calibration,
policy, and validation and test metrics equal to 1e-9), returns that version instead of a new one, so
re-running a stage adds nothing. The bytes of two such models can differ in the last digits of a split
threshold: DuckDB sums floats in parallel, in no fixed order.

Example::

    registry = FolderRegistry("./models-registry")
    version = registry.register("card_fraud", bundle, card, files={"report": "report.html"})
    registry.promote("card_fraud", version)
    model = registry.load("card_fraud")          # the promoted version
    model.bundle.decide(frame)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

import joblib

from cryptoscope.errors import CryptoscopeError
from cryptoscope.fsio import atomic_write, fsync
from cryptoscope.models._identity import NAME, ModelVersion, RegisteredModel, checked_name, comparable, listing, same
from cryptoscope.models.bundle import ModelBundle
from cryptoscope.models.card import ModelCard

_VERSION = re.compile(r"v(\d+)")
CARD, BUNDLE, PROMOTED, ARTIFACTS = "card.json", "bundle.joblib", "promoted.json", "artifacts"


class FolderRegistry:
    """Versioned models in a folder; see the module doc for the layout and the atomicity it gives."""

    def __init__(self, root: str | Path = "./models-registry") -> None:
        self.root = Path(root)

    def register(self, name: str, bundle: ModelBundle, card: ModelCard, *,
                 files: Mapping[str, str | Path] | None = None) -> int:
        """Store ``bundle`` and ``card`` (plus ``files``, copied under ``artifacts/``) as the next version; the
        version already holding this very bundle when there is one (see the module doc)."""
        folder = self.root / checked_name(name)
        folder.mkdir(parents=True, exist_ok=True)
        same = self._holding(name, card)
        if same is not None:
            return same
        for _ in range(100):
            version = max(self._versions(name), default=0) + 1
            tmp = folder / f".tmp-{uuid.uuid4().hex}"
            try:
                self._write(tmp, name, version, bundle, card, files or {})
                os.rename(tmp, folder / f"v{version:04d}")  # fails if another writer took this version
            except FileExistsError:
                shutil.rmtree(tmp, ignore_errors=True)
                continue
            except OSError as exc:
                shutil.rmtree(tmp, ignore_errors=True)
                if (folder / f"v{version:04d}").exists():
                    continue
                raise CryptoscopeError(f"could not register {name!r} in {self.root}: {exc}") from exc
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            fsync(folder)
            return version
        raise CryptoscopeError(f"could not find a free version number for {name!r} in {self.root}")

    def list(self) -> list[ModelVersion]:
        """Every complete registration, by name then version."""
        if not self.root.is_dir():
            return []
        out = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and NAME.fullmatch(p.name)):
            promoted = self.promoted(folder.name)
            for version in sorted(self._versions(folder.name)):
                card = self.show(folder.name, version)
                out.append(ModelVersion(folder.name, version, card.created, version == promoted))
        return out

    def show(self, name: str, version: int | None = None) -> ModelCard:
        """The card of ``version`` (the promoted one by default)."""
        path = self.path(name, version)
        return ModelCard.from_json((path / CARD).read_text(encoding="utf-8"))

    def promote(self, name: str, version: int) -> None:
        """Make ``version`` the one ``load(name)`` returns; the switch is a single atomic rename."""
        self.path(name, version)  # refuses unknown versions
        record = {"version": version, "promoted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        atomic_write(self.root / name / PROMOTED, json.dumps(record).encode())

    def promoted(self, name: str) -> int | None:
        """The promoted version of ``name``, or None."""
        marker = self.root / checked_name(name) / PROMOTED
        if not marker.is_file():
            return None
        try:
            return int(json.loads(marker.read_text(encoding="utf-8"))["version"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CryptoscopeError(f"{marker} is damaged ({exc!r}); promote a version again") from exc

    def load(self, name: str, version: int | None = None) -> RegisteredModel:
        """The bundle and card of ``version``, by default the promoted one."""
        path = self.path(name, version)
        card = ModelCard.from_json((path / CARD).read_text(encoding="utf-8"))
        bundle = joblib.load(path / BUNDLE)
        if not isinstance(bundle, ModelBundle):
            raise CryptoscopeError(f"{path / BUNDLE} holds a {type(bundle).__name__}, not a ModelBundle")
        return RegisteredModel(name=name, version=card.version, bundle=bundle, card=card, path=path)

    def path(self, name: str, version: int | None = None) -> Path:
        """The folder of a complete registration (the promoted one by default)."""
        known = self._versions(name)
        if version is None:
            version = self.promoted(name)
            if version is None:
                raise CryptoscopeError(f"no version of {name!r} is promoted in {self.root}; "
                                       f"promote one of {listing(known)} or ask for a version")
        if version not in known:
            raise CryptoscopeError(f"no model {name!r} version {version} in {self.root}; "
                                   f"known versions: {listing(known)}")
        return self.root / name / f"v{version:04d}"

    def _holding(self, name: str, card: ModelCard) -> int | None:
        """The newest version whose card says the same as ``card`` (see the module doc)."""
        new = comparable(card)
        for version in sorted(self._versions(name), reverse=True):
            if same(comparable(self.show(name, version)), new):
                return version
        return None

    def _versions(self, name: str) -> set[int]:
        folder = self.root / checked_name(name)
        if not folder.is_dir():
            return set()
        return {int(m.group(1)) for p in folder.iterdir()
                if (m := _VERSION.fullmatch(p.name)) and (p / CARD).is_file() and (p / BUNDLE).is_file()}

    def _write(self, tmp: Path, name: str, version: int, bundle: ModelBundle, card: ModelCard,
               files: Mapping[str, str | Path]) -> None:
        tmp.mkdir()
        artifacts = dict(card.artifacts)
        if files:
            (tmp / ARTIFACTS).mkdir()
        for key, source in files.items():
            src = Path(source)
            if not src.is_file():
                raise CryptoscopeError(f"artifact {key!r}: no file at {src}")
            shutil.copy2(src, tmp / ARTIFACTS / src.name)
            artifacts[key] = f"{ARTIFACTS}/{src.name}"
        stamped = dataclasses.replace(card, name=name, version=version, artifacts=artifacts)
        joblib.dump(bundle, tmp / BUNDLE)
        (tmp / CARD).write_text(stamped.to_json(), encoding="utf-8")
        for path in (tmp / BUNDLE, tmp / CARD):
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
