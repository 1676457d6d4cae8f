"""cryptoscope: one data platform for an exchange's risk, chain, personalization and feedback work.

The public Python API (``api.py``, listed in ``docs/api.md``) is importable from here: ``import cryptoscope as cs;
cs.open_lake("demo-lake")``. It loads on first use, so the CLI and the server do not pay for what they do not use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name.startswith("_") or name == "api":  # `from cryptoscope import api` asks here before importing it
        raise AttributeError(f"module 'cryptoscope' has no attribute {name!r}")
    api = importlib.import_module("cryptoscope.api")
    if name in api.__all__:
        return getattr(api, name)
    raise AttributeError(f"module 'cryptoscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    api = importlib.import_module("cryptoscope.api")
    return sorted([*globals(), *api.__all__])
