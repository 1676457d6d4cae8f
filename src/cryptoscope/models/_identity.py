"""What a registry hands out, and when two registrations are the same model (shared by MLflow and the old folders).

Two cards describe the same model when they say the same but for their name, version, time stamp and artifact paths
and the timing of their scoring (``serving``): the same periods and rows, features, estimator and its parameters,
calibration, policy, and validation and test metrics equal to a relative 1e-9 (DuckDB sums floats in parallel, in
no fixed order, so the last bits of a split threshold can differ between two fits of the same data). Registering
such a card again returns the version that holds it, so re-running a stage adds nothing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models.bundle import ModelBundle
from cryptoscope.models.card import ModelCard

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class ModelVersion:
    """One line of ``Registry.list()``."""

    name: str
    version: int
    created: str
    promoted: bool


@dataclass(frozen=True)
class RegisteredModel:
    """A loaded model: its bundle to score with, its card, and the local folder holding its artifacts."""

    name: str
    version: int
    bundle: ModelBundle
    card: ModelCard
    path: Path


def comparable(card: ModelCard) -> dict[str, object]:
    """The card without what differs between two registrations of the same model."""
    out = card.to_dict()
    for key in ("name", "version", "created", "artifacts", "serving"):
        out.pop(key, None)
    return out


def same(a: object, b: object) -> bool:
    """Equal, numbers to a relative 1e-9 (the last bits of a parallel float sum)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (a != a and b != b)
    return a == b


def checked_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise CryptoscopeError(f"model name {name!r} must be letters, digits, '_', '.' or '-', "
                               "starting with a letter or digit")
    return name


def listing(versions: set[int]) -> str:
    return ", ".join(map(str, sorted(versions))) or "none registered"
