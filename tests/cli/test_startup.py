"""What a `cryptoscope` process imports before it runs a command: only the group it names, and none of the
heavy libraries (each module's imports load when one of its commands runs)."""

from __future__ import annotations

import subprocess
import sys

from cryptoscope.cli import GROUPS

HEAVY = ("pandas", "numpy", "pyarrow", "numba", "duckdb", "sklearn", "scipy", "torch", "ibis", "asyncio")


def imported_after(code: str) -> list[str]:
    """The modules of `HEAVY` and of the CLI's groups that a fresh interpreter holds after running ``code``."""
    watched = (*HEAVY, *(f"cryptoscope.cli.{module}" for module, _ in GROUPS))
    done = subprocess.run([sys.executable, "-c", f"import sys\n{code}\nprint(*[m for m in {watched!r} "
                           "if m in sys.modules])"], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.split()


def test_a_command_imports_only_its_group_and_no_heavy_library() -> None:
    assert imported_after("import cryptoscope.cli as cli\ncli.for_args(['chain', 'ingest', 'bitcoin'])") == [
        "cryptoscope.cli.chain"]
    assert imported_after("import cryptoscope.cli as cli\ncli.for_args(['lake', 'status'])") == ["cryptoscope.cli.lake"]


def test_help_and_root_commands_get_every_group() -> None:
    whole = imported_after("import cryptoscope.cli as cli\ncli.for_args(['--help'])")
    assert set(whole) >= {f"cryptoscope.cli.{module}" for module, _ in GROUPS}
    from cryptoscope.cli import app

    assert {group.name for group in app.registered_groups} == {name for _, name in GROUPS}  # root ones: None


def test_a_group_alone_says_what_it_says_in_the_whole_command() -> None:
    def out(args: list[str]) -> str:
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120, check=True).stdout

    alone = out(["-m", "cryptoscope.cli", "chain", "ingest", "--help"])
    whole = out(["-c", "import sys; from cryptoscope.cli import app; sys.argv[0] = 'cryptoscope'; "
                       "app(['chain', 'ingest', '--help'], prog_name='python -m cryptoscope.cli')"])
    assert "--rpc" in alone and alone == whole
