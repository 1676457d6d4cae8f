"""`cryptoscope chain ...`: ingest real Bitcoin and Ethereum data, then cluster, trace, score and learn on it.

Errors in the data raise `ChainDataError` (a `CryptoscopeError`), which ``cryptoscope``'s entry point
prints as one line naming the file and byte offset or line, with exit code 2.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table as RichTable

from cryptoscope.cli._shared import (
    EngineOpt,
    LakeOpt,
    NewLakeOpt,
    console,
    err_console,
    progress_bar,
    progress_task,
    rate_task,
    table_view,
    utc_time,
)
from cryptoscope.errors import CryptoscopeError

if TYPE_CHECKING:
    from cryptoscope.chain.exposure import Exposure
    from cryptoscope.sources.chain.bitcoin.ingest import BitcoinIngestResult
    from cryptoscope.sources.chain.bitcoin.node import BitcoinNode
    from cryptoscope.sources.chain.ethereum.ingest import EthereumIngestResult
    from cryptoscope.sources.chain.rpc import RpcClient

app = typer.Typer(help="Public-chain data: ingest Bitcoin blocks and Ethereum exports, then analyse them.",
                  no_args_is_help=True)

PathsArg = Annotated[list[Path] | None, typer.Argument(help="Files to load (all of them, or none if one is bad); a "
                                                       "folder stands for its blk*.dat files or its .csv/.json "
                                                       "exports.", show_default=False)]
ChainOpt = Annotated[str | None, typer.Option("--chain", help="bitcoin, ethereum, tron, ...; guessed from the "
                                              "address (or every chain in the lake) when left out.")]
CHAINS = ("bitcoin", "ethereum")
FRAUD_CSV = Path(__file__).resolve().parents[4] / "shared" / "data" / "ethereum-fraud" / "transaction_dataset.csv"


@app.command("ingest")
def chain_ingest(
    chain: Annotated[str, typer.Argument(help="bitcoin or ethereum.")],
    paths: PathsArg = None,
    lake: NewLakeOpt = Path("./demo-lake"),
    utxo_store: Annotated[list[Path] | None, typer.Option(
        "--utxo-store", help="Bitcoin: btcd utxostore file(s) with the outputs the blocks spend, for input values "
        "whose creating blocks are not in the lake.")] = None,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Bitcoin: skip the merkle root, witness "
                                            "commitment and proof-of-work checks.")] = False,
    height: Annotated[int | None, typer.Option("--height", help="Files: the height of the first block, when its "
                                               "parent is nowhere and it predates BIP-34 (the others chain from "
                                               "it); checked against any height the blocks tell.")] = None,
    rpc: Annotated[str | None, typer.Option("--rpc", help="Read from a node's JSON-RPC instead of files: "
                                            "http://user:password@host:8332 (Bitcoin Core) or an Ethereum node's "
                                            "URL.")] = None,
    rpc_cookie: Annotated[Path | None, typer.Option("--rpc-cookie", help="Bitcoin Core's .cookie file for the "
                                                    "credentials (instead of putting them in the URL).")] = None,
    from_height: Annotated[int | None, typer.Option("--from", help="--rpc: the first height to load.", min=0)
                           ] = None,
    to_height: Annotated[int | None, typer.Option("--to", help="--rpc: the last height (default: the node's "
                                                  "tip).", min=0)] = None,
    workers: Annotated[int, typer.Option("--workers", help="--rpc: requests in flight.", min=1, max=64)] = 4,
    follow: Annotated[bool, typer.Option("--follow", help="--rpc: keep polling the tip and load new blocks; "
                                         "blocks that leave the node's chain (a re-organisation, up to 100 deep) "
                                         "are removed and replaced (Ctrl-C stops).")] = False,
    poll: Annotated[float, typer.Option("--poll", help="--follow: seconds between looks at the tip.", min=0.05)
                    ] = 10.0,
    timeout: Annotated[float, typer.Option("--timeout", help="--rpc: seconds to wait for an answer.", min=0.05)
                       ] = 60.0,
    retries: Annotated[int, typer.Option("--retries", help="--rpc: times a failed request is sent again.", min=0)
                       ] = 5,
) -> None:
    """Load Bitcoin blocks (raw or hex, blk*.dat framing, saved getblock answers, .bz2/.gz) or Ethereum exports
    and JSON-RPC responses, or read either from a node with --rpc.

    Bitcoin fills chain_blocks, chain_transactions, chain_inputs and chain_outputs; Ethereum fills
    eth_transactions and eth_token_transfers. Rows already in the lake are skipped; with --rpc, heights already
    in the lake are not asked for again, so a cut-off ingest resumes.

    \b
    cryptoscope chain ingest bitcoin --rpc http://user:pass@127.0.0.1:8332 --from 800000 --to 800100 --workers 8
    cryptoscope chain ingest bitcoin --rpc http://127.0.0.1:8332 --rpc-cookie ~/.bitcoin/.cookie --from 840000 \\
        --follow
    cryptoscope chain ingest ethereum --rpc https://mainnet.example/KEY --from 17173049 --to 17173050
    cryptoscope chain ingest ethereum --rpc http://127.0.0.1:8545 --from 21000000 --follow --poll 6
    """
    if chain not in CHAINS:
        raise CryptoscopeError(f"unknown chain {chain!r}; use bitcoin or ethereum")
    if rpc is not None:
        _check_rpc_options(paths, height, from_height, to_height, follow, utxo_store)
        from cryptoscope.sources.chain.rpc import connect

        client = connect(rpc, rpc_cookie, timeout=timeout, retries=retries)
        _ingest_from_node(chain, client, lake, int(from_height or 0), to_height, workers, follow, poll,
                          not no_verify)
        return
    used = [name for name, given in (("--rpc-cookie", rpc_cookie), ("--from", from_height), ("--to", to_height),
                                     ("--follow", follow)) if given]
    if used:
        raise CryptoscopeError(f"{', '.join(used)} only go with --rpc URL")
    if not paths:
        raise CryptoscopeError("give the files to load, or --rpc URL --from HEIGHT to read from a node")
    paths = [f for path in paths for f in _expand(chain, path)]
    for path in [*paths, *(utxo_store or [])]:
        if not path.is_file():
            raise CryptoscopeError(f"file {path}: not found")
    if height is not None and chain != "bitcoin":
        raise CryptoscopeError("--height is for Bitcoin blocks (Ethereum blocks carry their number)")
    with progress_bar() as bar:
        task = bar.add_task("reading", total=len(paths))

        def show(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=stage)

        rows_read, rows_added, note = _ingest(chain, paths, lake, utxo_store or [], not no_verify, height, show)
    console.print(_ingest_view(f"{chain} → lake {lake}", rows_read, rows_added))
    console.print(note, highlight=False)


def _check_rpc_options(paths: list[Path] | None, height: int | None, from_height: int | None,
                       to_height: int | None, follow: bool, utxo_store: list[Path] | None) -> None:
    """What --rpc does not combine with, said before anything is asked of the node."""
    if paths:
        raise CryptoscopeError("--rpc reads the blocks from the node: give no files with it")
    if height is not None:
        raise CryptoscopeError("--height is for files: with --rpc the node tells every block's height")
    if from_height is None:
        raise CryptoscopeError("--rpc needs --from HEIGHT (and --to HEIGHT, or --follow)")
    if to_height is not None and (follow or to_height < from_height):
        raise CryptoscopeError("--follow goes on past any height: leave --to out" if follow
                               else f"--to {to_height:,} is below --from {from_height:,}")
    if utxo_store:
        raise CryptoscopeError("--utxo-store goes with files; from a node, inputs resolve through the lake")


def _ingest_from_node(chain: str, client: RpcClient, lake: Path, lo: int, hi: int | None, workers: int,
                      follow: bool, poll: float, verify: bool) -> None:
    """A node ingest with a rate bar; with --follow a line per pass, until Ctrl-C."""
    if chain == "ethereum":
        from cryptoscope.sources.chain.ethereum.node_ingest import ingest_ethereum_node

        started = time.perf_counter()
        with rate_task("blocks", "blocks") as show:
            if not follow:
                eth = ingest_ethereum_node(lake, client, lo, hi, workers=workers, progress=show)
            else:
                eth = _follow_ethereum(lake, client, lo, workers, poll, show)
        console.print(_ingest_view(f"ethereum from {client.node.shown} → lake {lake}", eth.rows_read, eth.rows_added))
        kinds = ", ".join(f"{n:,} {kind}s" for kind, n in sorted(eth.records.items()))
        seconds = time.perf_counter() - started
        removed = f"; {len(eth.removed):,} blocks that left the node's chain removed" if eth.removed else ""
        console.print(f"read {kinds or 'nothing new'} in {seconds:,.1f} s ({eth.records.get('block', 0) / seconds:,.1f}"
                      f" blocks/s, {client.received / 1e6 / seconds:,.2f} MB/s of answers); latest block "
                      f"{eth.tip or 0:,}{removed}; {client.retried:,} requests retried", highlight=False,
                      soft_wrap=True)
        return
    from cryptoscope.cli._lean import start_for_blocks
    from cryptoscope.sources.chain.bitcoin.node import BitcoinNode
    from cryptoscope.sources.chain.bitcoin.node_ingest import ingest_from_node

    start_for_blocks()  # pyarrow and the kernels, without the pandas, SciPy and CFFI they never use
    node = BitcoinNode(client)
    started = time.perf_counter()
    with rate_task("blocks", "blocks") as show:
        if not follow:
            btc = ingest_from_node(lake, node, lo, hi, workers=workers, verify=verify, progress=show)
        else:
            btc = _follow(lake, node, lo, workers, poll, verify, show)
    console.print(_ingest_view(f"bitcoin from {node.url} → lake {lake}", btc.rows_read, btc.rows_added))
    console.print(_node_summary(btc, time.perf_counter() - started, client.retried), highlight=False,
                  soft_wrap=True)


def _follow(lake: Path, node: BitcoinNode, lo: int, workers: int, poll: float, verify: bool,
            show: Callable[[int, int, int], None]) -> BitcoinIngestResult:
    """`follow_node` until Ctrl-C (or SIGTERM), a line per pass that found something."""
    from cryptoscope.sources.chain.bitcoin.ingest import BitcoinIngestResult
    from cryptoscope.sources.chain.bitcoin.node_ingest import follow_node

    result = BitcoinIngestResult()
    passed = _pass_lines(lambda: (result.tip, result.blocks, result.removed), "left the best chain")
    _until_stopped(lambda stop: follow_node(lake, node, lo, stop=stop, poll=poll, workers=workers, verify=verify,
                                            progress=show, on_pass=lambda _: passed(), result=result), passed)
    return result


def _follow_ethereum(lake: Path, client: RpcClient, lo: int, workers: int, poll: float,
                     show: Callable[[int, int, int], None]) -> EthereumIngestResult:
    """`follow_ethereum_node` until Ctrl-C (or SIGTERM), a line per pass that found something."""
    from cryptoscope.sources.chain.ethereum.ingest import EthereumIngestResult
    from cryptoscope.sources.chain.ethereum.node_ingest import follow_ethereum_node

    result = EthereumIngestResult()
    passed = _pass_lines(lambda: (result.tip, result.records.get("block", 0), result.removed),
                         "left the node's chain")
    _until_stopped(lambda stop: follow_ethereum_node(lake, client, lo, stop=stop, poll=poll, workers=workers,
                                                     progress=show, on_pass=lambda _: passed(), result=result),
                   passed)
    return result


def _pass_lines(state: Callable[[], tuple[int | None, int, list[tuple[int, str]]]], gone_words: str
                ) -> Callable[[], None]:
    """What a follower prints after a pass: the tip, the blocks loaded and those removed since the last line."""
    seen = {"blocks": 0, "removed": 0}

    def passed() -> None:
        tip, blocks, removed = state()
        new, gone = blocks - seen["blocks"], removed[seen["removed"]:]
        seen.update(blocks=blocks, removed=len(removed))
        if new or gone:
            left = ", ".join(f"{h:,} {x[:16]}…" for h, x in gone)
            err_console.print(f"tip {tip or 0:,}: +{new:,} blocks" + (f"; {gone_words}: {left}" if gone else ""),
                              highlight=False, soft_wrap=True)

    return passed


def _until_stopped(follow: Callable[[threading.Event], object], passed: Callable[[], None]) -> None:
    """Run a follower until Ctrl-C (or SIGTERM); then the line of its interrupted pass."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: what is committed stays, the rest is rolled back
        follow(stop)
    passed()  # what the interrupted pass did
    err_console.print("stopped; the lake holds every block committed so far (run again to resume)")


def _node_summary(btc: BitcoinIngestResult, seconds: float, retried: int) -> str:
    rate = f"{btc.blocks / seconds:,.1f} blocks/s, {btc.bytes / 1e6 / seconds:,.2f} MB/s" if seconds > 0 else ""
    removed = f"; {len(btc.removed):,} blocks that left the best chain removed" if btc.removed else ""
    return (f"{btc.blocks:,} blocks ({btc.bytes / 1e6:,.2f} MB) in {seconds:,.1f} s ({rate}); tip {btc.tip or 0:,}; "
            f"{btc.skipped:,} heights already in the lake skipped{removed}; {retried:,} requests retried; "
            f"{btc.unresolved_inputs:,} inputs spend outputs not in the lake")


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


def _ingest(chain: str, paths: list[Path], lake: Path, utxo: list[Path], verify: bool, height: int | None,
            show: Callable[[str, int, int], None]) -> tuple[dict[str, int], dict[str, int], str]:
    if chain == "bitcoin":
        from cryptoscope.cli._lean import start_for_blocks
        from cryptoscope.sources.chain.bitcoin.ingest import ingest_bitcoin

        start_for_blocks()
        btc = ingest_bitcoin(lake, paths, utxo_stores=utxo, verify=verify, first_height=height, progress=show)
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


@app.command("replay-node")
def chain_replay_node(
    bitcoin: Annotated[list[Path] | None, typer.Option("--bitcoin", help="Block files to serve as Bitcoin Core "
                                                       "would (any format `chain ingest` reads).")] = None,
    ethereum: Annotated[list[Path] | None, typer.Option("--ethereum", help="Recorded Ethereum JSON-RPC answers: "
                                                        "files, or folders of web3_response.*.json.")] = None,
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 18443,
    user: Annotated[str | None, typer.Option("--user", help="Require HTTP basic auth with this user.")] = None,
    password: Annotated[str, typer.Option("--password", help="... and this password.")] = "",
    height: Annotated[int | None, typer.Option("--height", help="Height of the first Bitcoin block, when it "
                                               "cannot be derived.")] = None,
    decode: Annotated[bool, typer.Option("--decode", help="Decode every Bitcoin block for getblock verbosity 1 "
                                         "and 2 before serving (else on first request).")] = False,
) -> None:
    """Serve blocks over JSON-RPC as a node would, to try `chain ingest --rpc` without a node (Ctrl-C stops).

    A real HTTP server on 127.0.0.1: Bitcoin Core's getblockcount, getbestblockhash, getblockhash, getblock
    (verbosity 0, 1, 2) and getblockheader over the given blocks; an Ethereum node's eth_blockNumber,
    eth_getBlockByNumber, eth_getTransactionReceipt and eth_getLogs from recorded answers.
    """
    from cryptoscope.sources.chain.replay import BitcoinReplay, EthereumReplay, ReplayServer, RpcFault
    from cryptoscope.sources.chain.replay.bitcoin import blocks_from_files

    if not bitcoin and not ethereum:
        raise CryptoscopeError("give --bitcoin FILE... and/or --ethereum FILE_OR_FOLDER...")
    btc = BitcoinReplay(blocks_from_files(bitcoin, height)) if bitcoin else None
    if btc and decode:
        with console.status("decoding the blocks"):
            btc.prepare()
    answers = [f for p in ethereum or [] for f in (sorted(p.rglob("web3_response.*.json")) if p.is_dir() else [p])
               if "latest" not in f.name]  # an answer for "latest" does not say which block it was
    eth = EthereumReplay(answers) if answers else None

    def methods(method: str, params: list[Any]) -> Any:
        handler = eth if method.startswith("eth_") else btc
        if handler is None:
            raise RpcFault(-32601, "Method not found")
        return handler(method, params)

    try:
        server = ReplayServer(methods, user=user, password=password, port=port)
    except OSError as exc:
        raise CryptoscopeError(f"port {port}: {exc.strerror or exc}") from None
    with server:
        shown = server.url(user, "***" if user else None)
        if btc:
            console.print(f"bitcoin: {len(btc.best):,} blocks, heights {min(btc.best):,}-{max(btc.best):,}",
                          highlight=False)
        if eth:
            console.print(f"ethereum: blocks {', '.join(f'{n:,}' for n in sorted(eth.blocks))}", highlight=False)
        console.print(f"serving at {shown} (Ctrl-C stops)", highlight=False)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
