"""The `cryptoscope` command: one Typer group per module, errors as one clear line.

Every module here exports ``app``; this one only puts them together. The root commands (`schema`,
`ingest`, `simulate`, `demo`, `run`) join without a name, the groups under theirs, in the order of the README.

A process imports only the group its command line names (`cryptoscope chain ingest ...` imports
``cli/chain.py`` and none of the others, whose imports, asyncio for the stream group among them, it would
not use); the root commands, ``--help`` and anything unknown get the whole command, as before.
``cryptoscope.cli.app`` is the whole command too (built on first use), for tests and embedding.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import sys
from collections.abc import Sequence
from typing import Any

import typer

from cryptoscope.cli._shared import err_console
from cryptoscope.errors import CryptoscopeError

HELP = "cryptoscope: risk, abnormal users, on-chain analytics, personalization and feedback for an exchange."
#: (module under cryptoscope.cli, group name or None for root commands), in the order of the README
GROUPS: tuple[tuple[str, str | None], ...] = (
    ("data", None), ("demo", None), ("run", None), ("products", "products"), ("lake", "lake"),
    ("features", "features"), ("risk", "risk"),
    ("models", "models"), ("graph", "graph"), ("anomaly", "anomaly"), ("cases", "cases"),
    ("chain", "chain"), ("reco", "reco"), ("feedback", "feedback"), ("surveillance", "surveillance"),
    ("behaviour", "behaviour"), ("serve", "serve"), ("stream", "stream"),
)
_NAMED = {name: module for module, name in GROUPS if name is not None}


def build(groups: Sequence[tuple[str, str | None]] = GROUPS) -> typer.Typer:
    """The command with these groups (importing their modules)."""
    command = typer.Typer(help=HELP, no_args_is_help=True, pretty_exceptions_enable=False)
    for module, name in groups:
        command.add_typer(importlib.import_module(f"cryptoscope.cli.{module}").app, name=name)
    return command


def for_args(args: Sequence[str]) -> typer.Typer:
    """The command a process with these arguments needs: only the named group when the first argument names one
    (its help, errors and completion are the group's own either way), else every group."""
    first = args[0] if args else None
    if first in _NAMED:
        return build([(_NAMED[first], first)])
    return build()


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole command, built once on first use
        globals()["app"] = whole = build()
        return whole
    raise AttributeError(f"module 'cryptoscope.cli' has no attribute {name!r}")


def main() -> None:
    """Entry point: user errors become exit code 2 and one line on stderr, never a traceback."""
    # At exit the interpreter's last collections walk every object the command left (Numba's registries alone are
    # enough to take 0.2-0.4 s); frozen, they are skipped. Finalizers, atexit handlers and thread joins still run,
    # and what refcounting frees is freed as before; only unreachable cycles left at exit are not collected.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    try:
        for_args(sys.argv[1:])()
    except CryptoscopeError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
