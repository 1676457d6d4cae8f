"""Exposure scores for the exchange's own deposits and withdrawals, written to `chain_exposure`.

Two modes per transfer. ``point_in_time`` sees only labels published and payments made by the
transfer's time: what the exchange could have known when it credited the deposit, so a risk model
may use it as a feature at that decision. ``retrospective`` sees everything in the lake: the
monitoring view (withdrawals can only be traced downstream after the fact). ``known_at`` says when
each score became knowable; models join on ``known_at <= decision time``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

import ibis
import pandas as pd
import pyarrow as pa

from cryptoscope.chain.backend import LakeLike, Source, backend_of, epoch_us, lake_table
from cryptoscope.chain.exposure import DOWNSTREAM, UPSTREAM, ExposureConfig, Labels, trace
from cryptoscope.chain.flows import NATIVE, FlowGraph, read_flows
from cryptoscope.chain.planted import planted_paths
from cryptoscope.chain.store import exchange_addresses, read_labels
from cryptoscope.lake import Lake
from cryptoscope.schema import get_table

MODES = ("point_in_time", "retrospective")
NATIVE_SYMBOLS = {"bitcoin": "BTC", "ethereum": "ETH", "tron": "TRX"}
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ScoringRun:
    scored: int
    added: int
    exposed: dict[str, int]  # mode -> transfers with any exposure
    rows: pa.Table


@dataclass
class ChainTracer:
    """A flow graph with its labels and stop nodes: everything needed to trace one chain."""

    chain: str
    graph: FlowGraph
    labels: Labels

    @classmethod
    def from_lake(cls, source: Source, chain: str, node_of: dict[str, str] | None = None) -> ChainTracer:
        backend = backend_of(source)
        graph = FlowGraph.build(read_flows(backend, chain), node_of)
        hot, deposits = exchange_addresses(backend, chain)
        labels = Labels.build(graph, read_labels(backend, chain), stop_addresses=hot | deposits, node_of=node_of)
        return cls(chain, graph, labels)


def score_transfers(source: Source, *, modes: tuple[str, ...] = MODES, config: ExposureConfig | None = None,
                    progress: Progress | None = None) -> pa.Table:
    """One `chain_exposure` row per transfer and mode (not written; see `write_scores`)."""
    backend = backend_of(source)
    chain_transfers = lake_table("chain_transfers")
    picked = chain_transfers.select("transfer_id", "user_id", "event_time", "direction", "chain", "asset", "address")
    read = backend.to_pyarrow(picked.order_by("transfer_id"))
    transfers = read.set_column(2, "t", epoch_us(read["event_time"])).to_pylist()
    now = dt.datetime.now(dt.UTC)
    rows: list[dict[str, object]] = []
    tracers: dict[str, ChainTracer] = {}
    for i, tr in enumerate(transfers):
        chain = str(tr["chain"])
        if chain not in tracers:
            tracers[chain] = ChainTracer.from_lake(backend, chain)
        tracer = tracers[chain]
        for mode in modes:
            rows.append(_score_one(tracer, tr, mode, config, now))
        if progress and (i % 500 == 0 or i == len(transfers) - 1):
            progress(i + 1, len(transfers))
    table = get_table("chain_exposure")
    if not rows:
        return table.empty()
    return pa.Table.from_pylist(rows, schema=table.arrow_schema)


def _score_one(tracer: ChainTracer, tr: dict[str, object], mode: str, config: ExposureConfig | None,
               now: dt.datetime) -> dict[str, object]:
    t = int(tr["t"])  # type: ignore[call-overload]
    pit = mode == "point_in_time"
    native = NATIVE_SYMBOLS.get(tracer.chain) == tr["asset"]
    exp = trace(tracer.graph, tracer.labels, str(tr["address"]),
                direction=UPSTREAM if tr["direction"] == "deposit" else DOWNSTREAM, at_us=t,
                until_us=t if pit else None, label_cutoff_us=t if pit else None,
                asset=NATIVE if native else None, config=config)
    known = t if exp.known_at_us is None else max(t, exp.known_at_us)
    return {"score_id": f"{tr['transfer_id']}:{mode}", "transfer_id": tr["transfer_id"], "user_id": tr["user_id"],
            "event_time": _ts(t), "direction": tr["direction"], "chain": tracer.chain, "address": tr["address"],
            "mode": mode, "haircut": exp.haircut, "poison": exp.poison, "hops": exp.hops, "category": exp.category,
            "evidence": json.dumps([p.to_dict() for p in exp.paths]), "known_at": _ts(known), "scored_at": now}


def _ts(us: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)


def write_scores(lake: LakeLike, rows: pa.Table) -> int:
    """Append to `chain_exposure`; a transfer already scored in a mode is kept as it was (idempotent)."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    with lake.transaction() as tx:
        return tx.append("chain_exposure", rows)


@dataclass(frozen=True)
class ExposureEvaluation:
    """How the scores find the simulator's planted exposure paths (ground truth, never used to score)."""

    mode: str
    planted: int
    clean: int
    auc_haircut: float
    auc_poison: float
    ap_haircut: float
    recall_by_hops: dict[int, float]
    false_positive_rate: float


def evaluate(source: Source, rows: pa.Table) -> list[ExposureEvaluation]:
    """Match scores to ground_truth's illicit_{deposit,withdrawal}_Nhop rows by user, time and direction;
    one result per mode over all transfers, then per mode and direction."""
    backend = backend_of(source)
    truth = planted_paths()
    scores = ibis.memtable(rows.select(["transfer_id", "user_id", "event_time", "direction", "mode", "haircut",
                                        "poison"]))
    matched = scores.left_join(truth, ["user_id", "event_time", "direction"])
    frame = backend.to_pandas(matched.select("mode", "direction", "haircut", "poison", "hops"))
    groups = [(str(m), part) for m, part in frame.groupby("mode")]
    groups += [(f"{m} {d}", part) for (m, d), part in frame.groupby(["mode", "direction"])]
    return [e for name, part in groups if (e := _judge(name, part)) is not None]


def _judge(name: str, part: pd.DataFrame) -> ExposureEvaluation | None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    planted = part["hops"].notna().to_numpy()
    if planted.all() or not planted.any():
        return None
    hops, poison = part["hops"].to_numpy(), part["poison"].to_numpy()
    recall = {int(h): round(float((poison[hops == h] > 0).mean()), 4)
              for h in sorted(set(hops[planted].astype(int).tolist()))}
    return ExposureEvaluation(
        name, int(planted.sum()), int((~planted).sum()), round(float(roc_auc_score(planted, part["haircut"])), 4),
        round(float(roc_auc_score(planted, poison)), 4),
        round(float(average_precision_score(planted, part["haircut"])), 4), recall,
        round(float((poison[~planted] > 0).mean()), 6))
