"""`cryptoscope chain ...`: ingest real Bitcoin and Ethereum data, then cluster, trace, score and learn on it.

Errors in the data raise `ChainDataError` (a `CryptoscopeError`), which ``cryptoscope``'s entry point
prints as one line naming the file and byte offset or line, with exit code 2.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table as RichTable

from cryptoscope.cli._shared import (
    EngineOpt,
    LakeOpt,
    NewLakeOpt,
    console,
    progress_bar,
    progress_task,
    table_view,
    utc_time,
)
from cryptoscope.errors import CryptoscopeError

if TYPE_CHECKING:
    from cryptoscope.chain.exposure import Exposure

app = typer.Typer(help="Public-chain data: ingest Bitcoin blocks and Ethereum exports, then analyse them.",
                  no_args_is_help=True)

PathsArg = Annotated[list[Path], typer.Argument(help="Files to load (all of them, or none if one is bad); a folder "
                                                "stands for its blk*.dat files or its .csv/.json exports.")]
ChainOpt = Annotated[str | None, typer.Option("--chain", help="bitcoin, ethereum, tron, ...; guessed from the "
                                              "address (or every chain in the lake) when left out.")]
CHAINS = ("bitcoin", "ethereum")
FRAUD_CSV = Path(__file__).resolve().parents[4] / "shared" / "data" / "ethereum-fraud" / "transaction_dataset.csv"


@app.command("ingest")
def chain_ingest(
    chain: Annotated[str, typer.Argument(help="bitcoin or ethereum.")],
    paths: PathsArg,
    lake: NewLakeOpt = Path("./demo-lake"),
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
    with progress_bar() as bar:
        task = bar.add_task("reading", total=len(paths))

        def show(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=stage)

        rows_read, rows_added, note = _ingest(chain, paths, lake, utxo_store or [], not no_verify, show)
    console.print(_ingest_view(f"{chain} → lake {lake}", rows_read, rows_added))
    console.print(note, highlight=False)


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


def _ingest(chain: str, paths: list[Path], lake: Path, utxo: list[Path], verify: bool,
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


def _ingest_view(title: str, rows_read: dict[str, int], rows_added: dict[str, int]) -> RichTable:
    view = table_view(title, ("table",), ("rows read", "added", "already present"))
    for name, n in rows_read.items():
        added = rows_added.get(name, 0)
        view.add_row(name, f"{n:,}", f"{added:,}", f"{n - added:,}")
    return view


def normalise(address: str) -> str:
    """Account-chain addresses are stored lower-case (as ethereum-etl writes them); users paste checksummed ones."""
    return address.lower() if address.startswith(("0x", "0X")) else address


def guess_chain(address: str) -> str:
    if address.startswith("0x"):
        return "ethereum"
    if address.startswith("T"):
        return "tron"
    return "bitcoin"


@app.command("cluster")
def chain_cluster(lake: LakeOpt = Path("./demo-lake"), chain: ChainOpt = None,
                  change: Annotated[bool, typer.Option(help="Use the change-address heuristics.")] = True,
                  coinjoin_min_equal: Annotated[int, typer.Option(help="Equal-valued outputs that mark a CoinJoin.")
                                                ] = 3, engine: EngineOpt = "duckdb") -> None:
    """Cluster addresses (multi-input, change, deposit reuse) into `address_clusters` and print the statistics.

    On DuckDB the chain is clustered in this process (scipy's union-find); on Spark as iterated connected
    components on the cluster, only one row per address coming back: the same rows either way."""
    from cryptoscope.chain.clustering import ClusterConfig
    from cryptoscope.chain.flows import chains_in_lake
    from cryptoscope.chain.store import cluster_lake, write_clusters
    from cryptoscope.features.engines import connect, engine_name

    spark = engine_name(engine) == "spark"
    source = connect(lake, "spark") if spark else lake

    chains = [chain] if chain else chains_in_lake(lake)
    if not chains:
        raise CryptoscopeError(f"lake {lake} holds no chain data; run `cryptoscope chain ingest` or `simulate`")
    cfg = ClusterConfig(change=change, coinjoin_min_equal_outputs=coinjoin_min_equal)
    view = table_view(f"address clusters → lake {lake} (address_clusters)", ("chain",),
                      ("addresses", "clusters", "multi-address", "mean size", "largest", "multi-input links",
                       "change links", "deposit links", "CoinJoins skipped"))
    for name in chains:
        with console.status(f"clustering {name}"):
            clustering = cluster_lake(source, name, cfg, on_engine=spark)
            write_clusters(lake, clustering, source=source)
        s = clustering.stats()
        view.add_row(name, f"{s.addresses:,}", f"{s.clusters:,}", f"{s.multi_address_clusters:,}",
                     f"{s.mean_size_multi:.2f}", f"{s.largest:,}", f"{s.links.get('multi_input', 0):,}",
                     f"{s.links.get('change', 0):,}", f"{s.links.get('deposit_reuse', 0):,}",
                     f"{s.coinjoins_skipped:,}")
    console.print(view)


@app.command("cluster-of")
def chain_cluster_of(address: Annotated[str, typer.Argument(help="Address to look up.")],
                     lake: LakeOpt = Path("./demo-lake"), chain: ChainOpt = None,
                     limit: Annotated[int, typer.Option(help="Members to print at most.")] = 50) -> None:
    """The cluster an address belongs to (from `chain cluster`'s table) and its members."""
    from cryptoscope.chain.store import stored_cluster_of

    address = normalise(address)
    found = stored_cluster_of(lake, address, chain)
    if found is None:
        raise CryptoscopeError(f"{address} is not in address_clusters of lake {lake}; run `cryptoscope chain "
                               "cluster` first (or the address never appeared on chain)")
    name, cluster, members = found
    console.print(f"{address} on {name}: cluster {cluster} with {len(members):,} address(es)", highlight=False)
    for m in members[:limit]:
        console.print(f"  {m}", highlight=False)
    if len(members) > limit:
        console.print(f"  … {len(members) - limit:,} more", highlight=False)


@app.command("exposure")
def chain_exposure(address: Annotated[str, typer.Argument(help="Address (or, with --cluster, its cluster).")],
                   lake: LakeOpt = Path("./demo-lake"), chain: ChainOpt = None,
                   direction: Annotated[str, typer.Option(help="upstream (source of funds), downstream or both.")
                                        ] = "both",
                   max_hops: Annotated[int, typer.Option(help="Hop limit.")] = 3,
                   decay: Annotated[float, typer.Option(help="Weight of a path k hops away: decay**k.")] = 0.5,
                   cluster: Annotated[bool, typer.Option("--cluster", help="Trace the address's whole cluster "
                                                         "(from `chain cluster`).")] = False,
                   as_of: Annotated[str | None, typer.Option(help="Only labels and payments up to this UTC date.")
                                    ] = None,
                   report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report with the "
                                                               "flow graph.")] = None) -> None:
    """Exposure of an address to sanctioned, mixer, scam, darknet, ... sources: haircut and poison, with paths."""
    from cryptoscope.chain.exposure import DOWNSTREAM, UPSTREAM, ExposureConfig, trace
    from cryptoscope.chain.scoring import ChainTracer
    from cryptoscope.chain.store import stored_clusters

    address = normalise(address)
    if direction not in (UPSTREAM, DOWNSTREAM, "both"):
        raise CryptoscopeError(f"--direction must be upstream, downstream or both, not {direction!r}")
    name = chain or guess_chain(address)
    node_of = stored_clusters(lake, name) if cluster else None
    tracer = ChainTracer.from_lake(lake, name, node_of)
    target = (node_of or {}).get(address, address)
    cutoff = int(utc_time(as_of, "--as-of", "2025-03-01").timestamp() * 1_000_000) if as_of else None
    cfg = ExposureConfig(max_hops=max_hops, decay=decay)
    directions = (UPSTREAM, DOWNSTREAM) if direction == "both" else (direction,)
    results = [trace(tracer.graph, tracer.labels, target, direction=d, until_us=cutoff, label_cutoff_us=cutoff,
                     config=cfg) for d in directions]
    if tracer.graph.node(target) is None:
        console.print(f"{address} never moved funds on {name} in lake {lake}", highlight=False)
    for exp in results:
        _print_exposure(exp)
    if report:
        from cryptoscope.chain.report import write_report

        out = write_report(report, f"Exposure of {address} on {name}",
                           [(f"{e.direction} of {'cluster ' if cluster else ''}{target}", e) for e in results],
                           subtitle=f"lake {lake}; max {max_hops} hops, decay {decay}"
                                    + (f"; as of {as_of}" if as_of else ""))
        console.print(f"report {out}")


def _print_exposure(exp: Exposure) -> None:
    cats = ", ".join(f"{k} {v:.3f}" for k, v in sorted(exp.by_category.items(), key=lambda kv: -kv[1])) or "none"
    console.print(f"[bold]{exp.direction}[/]: haircut {exp.haircut:.4f}  poison {exp.poison:.4f}  "
                  f"fewest hops {'—' if exp.hops is None else exp.hops}  categories: {cats}", highlight=False)
    for i, p in enumerate(exp.paths, 1):
        console.print(f"  path {i}: {p.category} source {p.source_address} ({p.label_source}), {p.hops} hop(s), "
                      f"share {p.share:.4f}", highlight=False)
        for h in p.payments:
            when = dt.datetime.fromtimestamp(h.time_us / 1e6, dt.UTC).strftime("%Y-%m-%d %H:%M")
            console.print(f"    {when}  {h.txid}  {h.sender} → {h.receiver}  {h.amount:.6g}", highlight=False)


@app.command("score-transfers")
def chain_score_transfers(lake: LakeOpt = Path("./demo-lake")) -> None:
    """Score every deposit and withdrawal in `chain_transfers` into `chain_exposure` (both modes)."""
    from cryptoscope.chain.scoring import evaluate, score_transfers, write_scores

    with progress_task("tracing transfers") as show:
        rows = score_transfers(lake, progress=show)
    added = write_scores(lake, rows)
    console.print(f"scored {rows.num_rows:,} (transfer, mode) pairs; added {added:,} rows to chain_exposure")
    for e in evaluate(lake, rows):
        console.print(f"{e.mode}: planted {e.planted:,} vs clean {e.clean:,}: ROC-AUC haircut {e.auc_haircut:.4f} "
                      f"poison {e.auc_poison:.4f}, AP {e.ap_haircut:.4f}, recall by hops {e.recall_by_hops}, "
                      f"false-positive rate {e.false_positive_rate:.5f}", highlight=False)


@app.command("classify")
def chain_classify(data: Annotated[Path, typer.Option("--data", help="Ethereum fraud dataset CSV.")] = FRAUD_CSV,
                   lake: Annotated[Path | None, typer.Option("--lake", help="Also classify the simulated world's "
                                                             "labelled Ethereum addresses in this lake.")] = None,
                   folds: Annotated[int, typer.Option(help="Cross-validation folds, grouped by address.")] = 5) -> None:
    """Illicit-account classification on the labelled Ethereum accounts, compared with the published figures."""
    from cryptoscope.chain.classify import classify_fraud_dataset, classify_simulated

    with console.status("classifying the Ethereum fraud dataset"):
        result = classify_fraud_dataset(data, folds=folds)
    console.print(result.summary(), highlight=False)
    if lake is not None:
        with console.status("classifying simulated addresses"):
            sim = classify_simulated(lake)
        console.print(sim.summary(), highlight=False)


@app.command("backtest")
def chain_backtest(lake: LakeOpt = Path("./demo-lake"),
                   symbol: Annotated[str, typer.Option(help="Market whose volatility to forecast.")] = "BTC-USDT",
                   min_train_days: Annotated[int, typer.Option(help="Days before the first forecast.")] = 30) -> None:
    """Walk-forward backtest: next-day volatility from net flows and chain activity vs naive baselines."""
    from cryptoscope.chain.forecast import backtest

    with console.status(f"backtesting {symbol}"):
        result = backtest(lake, symbol, min_train_days=min_train_days)
    console.print(result.summary(), highlight=False)


@app.command("recommend")
def chain_recommend(user_id: Annotated[int, typer.Argument(help="Account to recommend tokens to.")],
                    lake: LakeOpt = Path("./demo-lake"),
                    k: Annotated[int, typer.Option(help="Tokens to recommend.")] = 5) -> None:
    """Tokens held or used by wallets similar to the user's linked wallets."""
    from cryptoscope.chain.reco import WalletTokenRecommender

    reco = WalletTokenRecommender().fit_lake(lake)
    items = reco.recommend_user(lake, user_id, k=k)
    if not items:
        console.print(f"no recommendation for user {user_id}: no linked wallet moved tokens, or the tokens "
                      "on their chains are all ones they already moved")
    for token, score in items:
        why = "similar wallets" if score >= 1e-3 else "popular (no similar wallet used it)"
        console.print(f"{token}  {score:.4g}  {why}", highlight=False)
