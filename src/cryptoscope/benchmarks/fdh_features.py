"""Card-payment features at decision time, as Ibis expressions over the lake: only the past counts.

For a payment at time ``t`` (its ``decision_time``):

* the transaction itself: amount, weekend, night;
* the customer's spending (a `FeatureView` over payments): number of payments, mean and max amount in
  the windows ``[t - w, t)`` for w = 1, 7 and 30 days, and the amount over each mean;
* the terminal's risk: among the terminal's payments whose label became known in ``[t - w, t)``, how
  many there were and the share that were fraud. Only labels known before ``t`` count, so with labels
  that arrive 7 days after the payment this is the handbook's delayed terminal risk.

>>> from cryptoscope.lake import connect                                 # doctest: +SKIP
>>> con = connect(lake)                                                  # doctest: +SKIP
>>> spine = payment_spine(con, start, end)                               # doctest: +SKIP
>>> card_features(con, spine).to_pyarrow()                               # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir

from cryptoscope.features.offline import point_in_time
from cryptoscope.features.spec import Agg, FeatureView, Source, eq, window_delta

WINDOWS = ("1d", "7d", "30d")
LABEL_TYPE = "card_fraud"

CUSTOMER_SPENDING = FeatureView(
    name="card_customer_spending", entity="user", key="user_id",
    sources=(Source("payments", where=(eq("method", "card"),)),), windows=WINDOWS,
    aggs=(Agg("customer_tx", "count"), Agg("customer_mean_amount", "mean", "amount"),
          Agg("customer_max_amount", "max", "amount")),
    doc="A card customer's number of payments, mean and largest amount before the decision.")

TRANSACTION = ("amount", "is_weekend", "is_night")
CUSTOMER = tuple(CUSTOMER_SPENDING.feature_names())
CUSTOMER_RATIOS = tuple(f"amount_over_mean_{w}" for w in WINDOWS)
TERMINAL = tuple(f"terminal_{name}_{w}" for name in ("known_tx", "risk") for w in WINDOWS)
#: Days from the terminal's first and last fraud (by payment time) among the labels known in the longest
#: window, to the decision: a compromise that began long ago may be over. Capped, and the cap when none.
TERMINAL_RUN = ("terminal_first_fraud_days", "terminal_last_fraud_days")
RUN_CAP_DAYS = 60.0

#: The handbook's 15 features: the transaction, the customer's counts and means, the terminal's.
BOOK_FEATURES = (*TRANSACTION, *(f"customer_{n}_{w}" for n in ("tx", "mean_amount") for w in WINDOWS), *TERMINAL)
#: Ours: the handbook's plus the customer's largest amount and the amount against the customer's means.
FEATURES = (*TRANSACTION, *CUSTOMER, *CUSTOMER_RATIOS, *TERMINAL, *TERMINAL_RUN)


def _ts(value: dt.datetime) -> ir.TimestampScalar:
    if value.tzinfo is None:
        raise ValueError(f"{value}: give a UTC datetime, not a naive one")
    return ibis.literal(value.astimezone(dt.UTC))


def payment_spine(con: Any, start: dt.datetime, end: dt.datetime) -> ir.Table:
    """Card payments with ``start <= event_time < end``: one decision per payment."""
    p = con.table("payments")
    p = p.filter(p.method == "card", p.event_time >= _ts(start), p.event_time < _ts(end))
    return p.select("payment_id", "user_id", "merchant_id", card=p.instrument_hash, decision_time=p.event_time,
                    amount=p.amount)


def card_labels(con: Any, *, known_before: dt.datetime | None = None) -> ir.Table:
    """(payment_id, label, known_time, decision_time) of card-fraud labels.

    Only those known before ``known_before`` when it is given; a payment with several labels keeps
    the latest one known.
    """
    lab = con.table("labels")
    lab = lab.filter(lab.entity_type == "payment", lab.label_type == LABEL_TYPE)
    if known_before is not None:
        lab = lab.filter(lab.event_time < _ts(known_before))
    latest = lab.mutate(_rn=ibis.row_number().over(group_by=lab.entity_id, order_by=ibis.desc(lab.event_time)))
    latest = latest.filter(latest._rn == 0)
    return latest.select(payment_id=latest.entity_id.cast("int64"), label=latest.label,
                         known_time=latest.event_time, decision_time=latest.decision_time)


def terminal_risk(con: Any, spine: ir.Table, windows: tuple[str, ...] = WINDOWS) -> ir.Table:
    """Per distinct (merchant_id, decision_time) of ``spine``: labels known in each window, and the fraud share."""
    payments = con.table("payments")
    labels = card_labels(con)
    known = payments.join(labels, payments.payment_id == labels.payment_id).select(
        _m=payments.merchant_id, _kt=labels.known_time, _label=labels.label, _pt=payments.event_time)
    pts = spine.select("merchant_id", "decision_time").distinct()
    longest = max(window_delta(w) for w in windows)
    span = ibis.interval(seconds=int(longest.total_seconds()))
    j = pts.left_join(known, [pts.merchant_id == known._m, known._kt < pts.decision_time,
                              known._kt >= pts.decision_time - span])
    aggs: dict[str, ir.Value] = {}
    for w in windows:
        inside = j._kt >= j.decision_time - ibis.interval(seconds=int(window_delta(w).total_seconds()))
        aggs[f"_n_{w}"] = j._m.count(where=inside)
        aggs[f"_f_{w}"] = j._label.sum(where=inside).coalesce(0)
    is_fraud = j._label == 1
    aggs["_first"] = j._pt.min(where=is_fraud)
    aggs["_last"] = j._pt.max(where=is_fraud)
    out = j.group_by(["merchant_id", "decision_time"]).aggregate(**aggs)

    def age(at: ir.TimestampValue) -> ir.FloatingValue:
        days = (out.decision_time.epoch_seconds() - at.epoch_seconds()).cast("float64") / 86_400.0
        return ibis.least(days, RUN_CAP_DAYS).coalesce(RUN_CAP_DAYS)

    # no known payment: no evidence of risk, as the handbook counts it (0, not null)
    return out.select("merchant_id", "decision_time",
                      **{f"terminal_known_tx_{w}": out[f"_n_{w}"] for w in windows},
                      **{f"terminal_risk_{w}": (out[f"_f_{w}"].cast("float64")
                                                / out[f"_n_{w}"].nullif(0).cast("float64")).coalesce(0.0)
                         for w in windows},
                      terminal_first_fraud_days=age(out._first), terminal_last_fraud_days=age(out._last))


def card_features(con: Any, spine: ir.Table) -> ir.Table:
    """``spine`` (user_id, merchant_id, decision_time, amount, ...) with every feature of `FEATURES`."""
    out = point_in_time(con, [CUSTOMER_SPENDING], spine)
    term = terminal_risk(con, spine).rename(_tm="merchant_id", _tt="decision_time")
    out = out.left_join(term, [out.merchant_id == term._tm, out.decision_time == term._tt]).drop("_tm", "_tt")
    return out.mutate(
        customer_mean_amount_1d=out.customer_mean_amount_1d.coalesce(0.0),
        customer_mean_amount_7d=out.customer_mean_amount_7d.coalesce(0.0),
        customer_mean_amount_30d=out.customer_mean_amount_30d.coalesce(0.0),
        **{f"amount_over_mean_{w}": out.amount / out[f"customer_mean_amount_{w}"].nullif(0) for w in WINDOWS},
        is_weekend=(out.decision_time.day_of_week.index() >= 5).cast("int8"),
        is_night=(out.decision_time.hour() < 6).cast("int8"),
    )
