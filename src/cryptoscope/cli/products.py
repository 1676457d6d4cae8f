"""`cryptoscope products`: the product lines of the registry, what each reads and writes, and its command."""

from __future__ import annotations

import typer

from cryptoscope.cli._shared import console

app = typer.Typer(help="The product lines: one registry that demo, serve, the CLI and the tests loop over.",
                  no_args_is_help=True)


@app.command("list")
def products_list() -> None:
    """One line per product line (each risk kind on its own), in the order `demo` runs them: batch or online,
    what it reads, what it writes, the command that works it by hand."""
    from cryptoscope.products import online, ordered

    served = set(online())
    for line in ordered():
        runs = "batch+online" if line.name in served else "batch"
        after = f" after {','.join(line.after)}" if line.after else ""
        console.print(f"{line.name:<16} {runs:<13} reads {','.join(line.reads)} -> writes {','.join(line.writes)}"
                      f"{after}  ({line.command}): {line.purpose}", highlight=False, soft_wrap=True)
