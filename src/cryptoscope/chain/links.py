"""The clustering heuristics as Ibis expressions: which pairs of addresses one owner controls.

Each function returns a table of links ``a``, ``b``; `clustering` joins them into clusters. The
expressions name no engine: `clustering.cluster_tables` runs them in process over integer-coded
Arrow tables, and the same expressions run on Spark over tables of the same shape. Columns:

* ``inputs``: txid, address, stype; ``outputs``: txid, event_time, value, stype, address (UTXO chains;
  ``stype`` is a script-type code, see `clustering.SCRIPT_TYPES`);
* ``flows``: src, dst; ``exchange`` and ``deposits``: address (any chain).
"""

from __future__ import annotations

import ibis.expr.types as ir


def coinjoins(inputs: ir.Table, outputs: ir.Table, *, min_equal_outputs: int, max_inputs: int) -> ir.Table:
    """txid of each transaction whose inputs link nothing: several inputs and ``min_equal_outputs``
    outputs of one value (a CoinJoin), or more than ``max_inputs`` inputs."""
    n_in = inputs.group_by("txid").aggregate(n_in=inputs.count())
    n_in = n_in.filter(n_in.n_in >= 2)
    per_value = outputs.group_by(["txid", "value"]).aggregate(c=outputs.count())
    max_eq = per_value.group_by("txid").aggregate(max_eq=per_value.c.max())
    both = n_in.join(max_eq, "txid")
    return both.filter((both.max_eq >= min_equal_outputs) | (both.n_in > max_inputs)).select("txid")


def multi_input(inputs: ir.Table, coinjoins: ir.Table) -> ir.Table:
    """Every input address of a transaction linked to the transaction's smallest input address."""
    ins = inputs.filter(inputs.address.notnull(), ~inputs.txid.isin(coinjoins.txid))
    pairs = ins.select(a=ins.address.min().over(group_by=ins.txid), b=ins.address)
    return pairs.filter(pairs.a != pairs.b).distinct()


def change(inputs: ir.Table, outputs: ir.Table, coinjoins: ir.Table, *, round_unit: int,
           min_votes: int) -> ir.Table:
    """The change output of a payment linked to its smallest input address.

    An output gets a vote for each hint it alone satisfies among its transaction's outputs: fresh
    (the address is first seen in this transaction), the inputs' script type, a non-round amount.
    The one output with the most votes, at least ``min_votes``, is the change.
    """
    votes = _change_votes(inputs, outputs, coinjoins, round_unit)
    ranked = votes.mutate(top=votes.votes.max().over(group_by=votes.txid))
    best = ranked.filter(ranked.votes == ranked.top, ranked.votes >= min_votes)
    picked = best.group_by("txid").aggregate(a=best.rep.min(), b=best.address.min(), n=best.count())
    return picked.filter(picked.n == 1).select("a", "b")


def _change_votes(inputs: ir.Table, outputs: ir.Table, coinjoins: ir.Table, round_unit: int) -> ir.Table:
    """txid, rep (smallest input address), address and votes of each output of a candidate payment."""
    hints = _change_hints(inputs, outputs, coinjoins, round_unit)
    per_tx = hints.group_by("txid").aggregate(
        n_out=hints.count(), n_fresh=hints.fresh.cast("int32").sum(), n_same=hints.same_type.cast("int32").sum(),
        n_round=hints.is_round.cast("int32").sum())
    per_tx = per_tx.filter(per_tx.n_out >= 2)
    both = hints.join(per_tx, "txid")
    votes = ((both.fresh & (both.n_fresh == 1)).cast("int32") + (both.same_type & (both.n_same == 1)).cast("int32")
             + (~both.is_round & (both.n_round == both.n_out - 1)).cast("int32"))
    return both.select("txid", "rep", "address", votes=votes)


def _change_hints(inputs: ir.Table, outputs: ir.Table, coinjoins: ir.Table, round_unit: int) -> ir.Table:
    """Each output of a transaction that is no CoinJoin and pays none of its inputs, with its hints."""
    addressed = inputs.filter(inputs.address.notnull())
    ins = addressed.group_by("txid").aggregate(rep=addressed.address.min(), n_types=addressed.stype.nunique(),
                                               in_type=addressed.stype.min())
    seen = outputs.filter(outputs.address.notnull())
    first_time = seen.group_by("address").aggregate(t0=seen.event_time.min())
    at_first = outputs.join(first_time, ["address", outputs.event_time == first_time.t0])
    first_tx = at_first.group_by("address").aggregate(first_txid=at_first.txid.min(), n_first=at_first.txid.nunique())
    selfpay = outputs.join(inputs, ["txid", "address"]).select("txid").distinct()
    o = outputs.join(ins, "txid").join(first_tx, "address")
    o = o.filter(~o.txid.isin(coinjoins.txid), ~o.txid.isin(selfpay.txid))
    return o.select("txid", "rep", "address", fresh=(o.first_txid == o.txid) & (o.n_first == 1),
                    same_type=(o.n_types == 1) & (o.stype == o.in_type), is_round=o.value % round_unit == 0)


def deposit_reuse(flows: ir.Table, exchange: ir.Table, deposits: ir.Table, *, sweep_share: float,
                  max_targets: int) -> ir.Table:
    """Each address paying a deposit address linked to it (``a`` the deposit address, ``b`` the payer).

    Deposit addresses are ``deposits`` and every address outside ``exchange`` that forwards at least
    ``sweep_share`` of its payments to ``exchange``; a payer of more than ``max_targets`` deposit
    addresses links nothing (a service paying many customers).
    """
    outside = flows.filter(~flows.src.isin(exchange.address))
    outside = outside.mutate(to_exchange=outside.dst.isin(exchange.address).cast("int32"))
    sweepers = outside.group_by("src").aggregate(share=outside.to_exchange.mean())
    sweepers = sweepers.filter(sweepers.share >= sweep_share).select(address=sweepers.src)
    dep = deposits.select("address").union(sweepers, distinct=True)
    pay = flows.filter(flows.dst.isin(dep.address), ~flows.src.isin(exchange.address), ~flows.src.isin(dep.address))
    pay = pay.select("src", "dst").distinct()
    targets = pay.group_by("src").aggregate(n=pay.count())
    single = targets.filter(targets.n <= max_targets)
    linked = pay.filter(pay.src.isin(single.src))
    return linked.select(a=linked.dst, b=linked.src)
