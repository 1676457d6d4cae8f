"""Copy a folder registry of the former format into MLflow's registry (``cryptoscope models migrate``).

Every version of every model is registered in order, with its card, bundle and artifacts, and the promoted one
becomes the champion. Registration returns the version already holding the same card, so migrating twice adds
nothing; MLflow numbers the versions itself, so a folder with gaps (v1, v3) gets consecutive numbers, and the
returned mapping says which is which. The folders are left as they were.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from cryptoscope.models.folder_registry import ARTIFACTS, FolderRegistry
from cryptoscope.models.registry import Registry


@dataclass(frozen=True)
class Migrated:
    """One folder version and the MLflow version that holds it now."""

    name: str
    old_version: int
    new_version: int
    champion: bool


def migrate(folders: FolderRegistry, registry: Registry,
            progress: Callable[[Migrated], None] | None = None) -> list[Migrated]:
    """Register every version of ``folders`` in ``registry``, in order; promote what was promoted."""
    out: list[Migrated] = []
    for entry in folders.list():
        model = folders.load(entry.name, entry.version)
        files = {key: model.path / rel for key, rel in model.card.artifacts.items()
                 if rel.startswith(f"{ARTIFACTS}/") and (model.path / rel).is_file()}
        card = dataclasses.replace(model.card, artifacts={})  # registering copies the files in and points at them
        new = registry.register(entry.name, model.bundle, card, files=files)
        if entry.promoted:
            registry.promote(entry.name, new, force=True)  # it served before: the old registry had no gate
        done = Migrated(entry.name, entry.version, new, entry.promoted)
        out.append(done)
        if progress is not None:
            progress(done)
    return out

