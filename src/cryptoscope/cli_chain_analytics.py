"""`cryptoscope chain cluster|cluster-of|exposure|score-transfers|classify|backtest|recommend`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cryptoscope.errors import CryptoscopeError

if TYPE_CHECKING:
    from cryptoscope.chain.exposure import Exposure

LakeOpt = Annotated[Path, typer.Option("--lake", help="Lake folder.")]
ChainOpt = Annotated[str | None, typer.Option("--chain", help="bitcoin, ethereum, tron, ...; guessed from the "
                                              "address (or every chain in the lake) when left out.")]
FRAUD_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "ethereum-fraud" / "transaction_dataset.csv"


def _console() -> Console:
    from cryptoscope.cli import console

    return console


def register(chain_app: typer.Typer) -> None:
    """Add the analytics commands to the `chain` group (ingest lives in `cli_chain`)."""
    chain_app.command("cluster")(chain_cluster)
    chain_app.command("cluster-of")(chain_cluster_of)
    chain_app.command("exposure")(chain_exposure)
    chain_app.command("score-transfers")(chain_score_transfers)
    chain_app.command("classify")(chain_classify)
    chain_app.command("backtest")(chain_backtest)
    chain_app.command("recommend")(chain_recommend)


def normalise(address: str) -> str:
    """Account-chain addresses are stored lower-case (as ethereum-etl writes them); users paste checksummed ones."""
    return address.lower() if address.startswith(("0x", "0X")) else address


def guess_chain(address: str) -> str:
    if address.startswith("0x"):
        return "ethereum"
    if address.startswith("T"):
        return "tron"
    return "bitcoin"


def chain_cluster(lake: LakeOpt = Path("./demo-lake"), chain: ChainOpt = None,
                  change: Annotated[bool, typer.Option(help="Use the change-address heuristics.")] = True,
                  coinjoin_min_equal: Annotated[int, typer.Option(help="Equal-valued outputs that mark a CoinJoin.")
                                                ] = 3) -> None:
    """Cluster addresses (multi-input, change, deposit reuse) into `address_clusters` and print the statistics."""
    from cryptoscope.chain.clustering import ClusterConfig
    from cryptoscope.chain.flows import chains_in_lake
    from cryptoscope.chain.store import cluster_lake, write_clusters
    from cryptoscope.cli import table_view

    chains = [chain] if chain else chains_in_lake(lake)
    if not chains:
        raise CryptoscopeError(f"lake {lake} holds no chain data; run `cryptoscope chain ingest` or `simulate`")
    cfg = ClusterConfig(change=change, coinjoin_min_equal_outputs=coinjoin_min_equal)
    view = table_view(f"address clusters → lake {lake} (address_clusters)", ("chain",),
                      ("addresses", "clusters", "multi-address", "mean size", "largest", "multi-input links",
                       "change links", "deposit links", "CoinJoins skipped"))
    for name in chains:
        with _console().status(f"clustering {name}"):
            clustering = cluster_lake(lake, name, cfg)
            write_clusters(lake, clustering)
        s = clustering.stats()
        view.add_row(name, f"{s.addresses:,}", f"{s.clusters:,}", f"{s.multi_address_clusters:,}",
                     f"{s.mean_size_multi:.2f}", f"{s.largest:,}", f"{s.links.get('multi_input', 0):,}",
                     f"{s.links.get('change', 0):,}", f"{s.links.get('deposit_reuse', 0):,}",
                     f"{s.coinjoins_skipped:,}")
    _console().print(view)


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
    out = _console()
    out.print(f"{address} on {name}: cluster {cluster} with {len(members):,} address(es)", highlight=False)
    for m in members[:limit]:
        out.print(f"  {m}", highlight=False)
    if len(members) > limit:
        out.print(f"  … {len(members) - limit:,} more", highlight=False)


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
    cutoff = _us(as_of) if as_of else None
    cfg = ExposureConfig(max_hops=max_hops, decay=decay)
    directions = (UPSTREAM, DOWNSTREAM) if direction == "both" else (direction,)
    results = [trace(tracer.graph, tracer.labels, target, direction=d, until_us=cutoff, label_cutoff_us=cutoff,
                     config=cfg) for d in directions]
    if tracer.graph.node(target) is None:
        _console().print(f"{address} never moved funds on {name} in lake {lake}", highlight=False)
    for exp in results:
        _print_exposure(exp)
    if report:
        from cryptoscope.chain.report import write_report

        out = write_report(report, f"Exposure of {address} on {name}",
                           [(f"{e.direction} of {'cluster ' if cluster else ''}{target}", e) for e in results],
                           subtitle=f"lake {lake}; max {max_hops} hops, decay {decay}"
                                    + (f"; as of {as_of}" if as_of else ""))
        _console().print(f"report {out}")


def _us(day: str) -> int:
    try:
        when = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
    except ValueError:
        raise CryptoscopeError(f"--as-of must look like 2025-03-01 (got {day!r})") from None
    return int(when.timestamp() * 1_000_000)


def _print_exposure(exp: Exposure) -> None:
    out = _console()
    cats = ", ".join(f"{k} {v:.3f}" for k, v in sorted(exp.by_category.items(), key=lambda kv: -kv[1])) or "none"
    out.print(f"[bold]{exp.direction}[/]: haircut {exp.haircut:.4f}  poison {exp.poison:.4f}  "
              f"fewest hops {'—' if exp.hops is None else exp.hops}  categories: {cats}", highlight=False)
    for i, p in enumerate(exp.paths, 1):
        out.print(f"  path {i}: {p.category} source {p.source_address} ({p.label_source}), {p.hops} hop(s), "
                  f"share {p.share:.4f}", highlight=False)
        for h in p.payments:
            when = dt.datetime.fromtimestamp(h.time_us / 1e6, dt.UTC).strftime("%Y-%m-%d %H:%M")
            out.print(f"    {when}  {h.txid}  {h.sender} → {h.receiver}  {h.amount:.6g}", highlight=False)


def chain_score_transfers(lake: LakeOpt = Path("./demo-lake")) -> None:
    """Score every deposit and withdrawal in `chain_transfers` into `chain_exposure` (both modes)."""
    from rich.progress import Progress

    from cryptoscope.chain.scoring import evaluate, score_transfers, write_scores
    from cryptoscope.cli import err_console

    with Progress(console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        task = bar.add_task("tracing transfers", total=None)
        rows = score_transfers(lake, progress=lambda done, total: bar.update(task, completed=done, total=total))
    added = write_scores(lake, rows)
    out = _console()
    out.print(f"scored {rows.num_rows:,} (transfer, mode) pairs; added {added:,} rows to chain_exposure")
    for e in evaluate(lake, rows):
        out.print(f"{e.mode}: planted {e.planted:,} vs clean {e.clean:,}: ROC-AUC haircut {e.auc_haircut:.4f} "
                  f"poison {e.auc_poison:.4f}, AP {e.ap_haircut:.4f}, recall by hops {e.recall_by_hops}, "
                  f"false-positive rate {e.false_positive_rate:.5f}", highlight=False)


def chain_classify(data: Annotated[Path, typer.Option("--data", help="Ethereum fraud dataset CSV.")] = FRAUD_CSV,
                   lake: Annotated[Path | None, typer.Option("--lake", help="Also classify the simulated world's "
                                                             "labelled Ethereum addresses in this lake.")] = None,
                   folds: Annotated[int, typer.Option(help="Cross-validation folds, grouped by address.")] = 5) -> None:
    """Illicit-account classification on the labelled Ethereum accounts, compared with the published figures."""
    from cryptoscope.chain.classify import classify_fraud_dataset, classify_simulated

    with _console().status("classifying the Ethereum fraud dataset"):
        result = classify_fraud_dataset(data, folds=folds)
    _console().print(result.summary(), highlight=False)
    if lake is not None:
        with _console().status("classifying simulated addresses"):
            sim = classify_simulated(lake)
        _console().print(sim.summary(), highlight=False)


def chain_backtest(lake: LakeOpt = Path("./demo-lake"),
                   symbol: Annotated[str, typer.Option(help="Market whose volatility to forecast.")] = "BTC-USDT",
                   min_train_days: Annotated[int, typer.Option(help="Days before the first forecast.")] = 30) -> None:
    """Walk-forward backtest: next-day volatility from net flows and chain activity vs naive baselines."""
    from cryptoscope.chain.forecast import backtest

    with _console().status(f"backtesting {symbol}"):
        result = backtest(lake, symbol, min_train_days=min_train_days)
    _console().print(result.summary(), highlight=False)


def chain_recommend(user_id: Annotated[int, typer.Argument(help="Account to recommend tokens to.")],
                    lake: LakeOpt = Path("./demo-lake"),
                    k: Annotated[int, typer.Option(help="Tokens to recommend.")] = 5) -> None:
    """Tokens held or used by wallets similar to the user's linked wallets."""
    from cryptoscope.chain.reco import WalletTokenRecommender

    reco = WalletTokenRecommender().fit_lake(lake)
    items = reco.recommend_user(lake, user_id, k=k)
    if not items:
        _console().print(f"no recommendation for user {user_id}: no linked wallet moved tokens, or the tokens "
                         "on their chains are all ones they already moved")
    for token, score in items:
        why = "similar wallets" if score >= 1e-3 else "popular (no similar wallet used it)"
        _console().print(f"{token}  {score:.4g}  {why}", highlight=False)
