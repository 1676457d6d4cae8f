"""`cryptoscope chain ...`: ingest real Bitcoin and Ethereum data (analytics commands join from `chain/`).

Errors in the data raise `ChainDataError` (a `CryptoscopeError`), which ``cryptoscope``'s entry point
prints as one line naming the file and byte offset or line, with exit code 2.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cryptoscope.errors import CryptoscopeError

chain_app = typer.Typer(help="Public-chain data: ingest Bitcoin blocks and Ethereum exports, then analyse them.",
                        no_args_is_help=True)

PathsArg = Annotated[list[Path], typer.Argument(help="Files to load (all of them, or none if one is bad); a folder "
                                                "stands for its blk*.dat files or its .csv/.json exports.")]
LakeOpt = Annotated[Path, typer.Option("--lake", help="Lake folder (created if missing).")]
CHAINS = ("bitcoin", "ethereum")


def _consoles() -> tuple[Console, Console]:
    from cryptoscope.cli import console, err_console

    return console, err_console


@chain_app.command("ingest")
def chain_ingest(
    chain: Annotated[str, typer.Argument(help="bitcoin or ethereum.")],
    paths: PathsArg,
    lake: LakeOpt = Path("./demo-lake"),
    utxo_store: Annotated[list[Path] | None, typer.Option(
        "--utxo-store", help="Bitcoin: btcd utxostore file(s) with the outputs the blocks spend, for input values "
        "whose creating blocks are not in the lake.")] = None,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Bitcoin: skip the merkle root, witness "
                                            "commitment and proof-of-work checks.")] = False,
) -> None:
    """Load Bitcoin blocks (raw or hex, blk*.dat framing, .bz2/.gz) or Ethereum exports and JSON-RPC responses.

    Bitcoin fills chain_blocks, chain_transactions, chain_inputs and chain_outputs; Ethereum fills
    eth_transactions and eth_token_transfers. Rows already in the lake are skipped.
    """
    if chain not in CHAINS:
        raise CryptoscopeError(f"unknown chain {chain!r}; use bitcoin or ethereum")
    paths = [f for path in paths for f in _expand(chain, path)]
    for path in [*paths, *(utxo_store or [])]:
        if not path.is_file():
            raise CryptoscopeError(f"file {path}: not found")
    out, err = _consoles()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("reading", total=len(paths))

        def show(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=stage)

        rows_read, rows_added, note = _run(chain, paths, lake, utxo_store or [], not no_verify, show)
    view = _view(f"{chain} → lake {lake}", rows_read, rows_added)
    out.print(view)
    out.print(note, highlight=False)


def _expand(chain: str, path: Path) -> list[Path]:
    """A folder stands for its block files (blk*.dat, in order) or its Ethereum exports (.csv, .json, .jsonl)."""
    if not path.is_dir():
        return [path]
    if chain == "bitcoin":
        found = sorted(path.glob("blk*.dat"))
    else:
        found = sorted(p for p in path.iterdir() if p.suffix in (".csv", ".json", ".jsonl") and p.is_file())
    if not found:
        raise CryptoscopeError(f"folder {path}: no {'blk*.dat' if chain == 'bitcoin' else '.csv/.json'} files in it")
    return found


def _run(chain: str, paths: list[Path], lake: Path, utxo: list[Path], verify: bool,
         show: Callable[[str, int, int], None]) -> tuple[dict[str, int], dict[str, int], str]:
    if chain == "bitcoin":
        from cryptoscope.sources.chain.bitcoin.ingest import ingest_bitcoin

        btc = ingest_bitcoin(lake, paths, utxo_stores=utxo, verify=verify, progress=show)
        checked = "hashes, merkle roots, witness commitments and proof of work verified" if verify else "not verified"
        return btc.rows_read, btc.rows_added, (f"{btc.blocks:,} blocks ({btc.bytes / 1e6:,.1f} MB) from "
                                               f"{btc.files} files, {checked}; {btc.unresolved_inputs:,} inputs "
                                               "spend outputs found neither in these files nor in the lake")
    from cryptoscope.sources.chain.ethereum.ingest import ingest_ethereum

    eth = ingest_ethereum(lake, paths, progress=show)
    kinds = ", ".join(f"{n:,} {kind}s" for kind, n in sorted(eth.records.items()))
    return eth.rows_read, eth.rows_added, f"read {kinds or 'nothing'} from {eth.files} files"


def _view(title: str, rows_read: dict[str, int], rows_added: dict[str, int]) -> object:
    from cryptoscope.cli import table_view

    view = table_view(title, ("table",), ("rows read", "added", "already present"))
    for name, n in rows_read.items():
        added = rows_added.get(name, 0)
        view.add_row(name, f"{n:,}", f"{added:,}", f"{n - added:,}")
    return view
