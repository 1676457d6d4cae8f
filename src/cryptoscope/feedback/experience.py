"""What each user went through, read from the lake and joined to their feedback by time.

For every ticket, flags of what happened to its author in the days before it was opened (withdrawals
left pending, funds held, deposits not credited, KYC rejected, loans liquidated or defaulted, cards
declined) and controls (channel, language, segment, account age, how much they deposit). For every NPS
answer, the same flags over the 30 days before the answer. This is the evidence side of the drivers:
the text says what users complain about, the lake says what really happened to them.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake
from cryptoscope.lake.sql import parquet_source

TICKET_WINDOW_DAYS = 7
SURVEY_WINDOW_DAYS = 30

#: experience flag -> (what it means in words, SQL for its events: user_id, t)
EXPERIENCES: dict[str, tuple[str, str]] = {
    "withdrawal_pending": ("a crypto withdrawal left pending",
                           "select user_id, event_time as t from chain_transfers "
                           "where direction = 'withdrawal' and status = 'pending'"),
    "funds_held": ("a withdrawal held (funds frozen)",
                   "select user_id, event_time as t from chain_transfers "
                   "where direction = 'withdrawal' and status = 'held'"),
    "deposit_missing": ("a crypto deposit not credited (pending or held)",
                        "select user_id, event_time as t from chain_transfers "
                        "where direction = 'deposit' and status in ('pending', 'held')"),
    "kyc_rejected": ("KYC rejected", "select user_id, decision_time as t from kyc_submissions "
                     "where decision = 'rejected' and decision_time is not null"),
    "loan_loss": ("a loan or margin position liquidated or defaulted",
                  "select user_id, outcome_time as t from loans "
                  "where outcome in ('liquidated', 'defaulted') and outcome_time is not null"),
    "card_declined": ("a card deposit declined",
                      "select user_id, event_time as t from payments where status = 'declined'"),
}
_NEEDED = ("tickets", "chain_transfers", "kyc_submissions", "loans", "payments", "accounts")


def _connect(lake: Lake, tables: tuple[str, ...]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per lake table; an empty view with the schema where a table is empty."""
    from cryptoscope.schema import get_table

    con = duckdb.connect()
    for name in tables:
        paths = lake.file_paths(name)
        if paths:
            con.execute(f"create view {name} as select * from {parquet_source(paths)}")
        else:
            con.register(f"_{name}_empty", get_table(name).empty())
            con.execute(f"create view {name} as select * from _{name}_empty")
    return con


def _flags(con: duckdb.DuckDBPyConnection, spine: str, days: int) -> str:
    """SQL adding one 0/1 column per experience: an event of that user in [t - days, t]."""
    cols = [f"cast(exists (select 1 from ({sql}) e where e.user_id = s.user_id and e.t <= s.t "
            f"and e.t >= s.t - interval {days} day) as integer) as {name}" for name, (_, sql) in EXPERIENCES.items()]
    return f"select s.*, {', '.join(cols)} from ({spine}) s"


_CONTROLS = """
select f.*, coalesce(a.segment, 'unknown') as segment,
       ln(1 + greatest(date_diff('day', a.event_time, f.t), 0)) as log_tenure_days,
       ln(1 + coalesce((select sum(amount_usd) from payments p where p.user_id = f.user_id
                        and p.direction = 'deposit' and p.status = 'completed' and p.event_time <= f.t), 0))
         as log_deposits_usd
from ({inner}) f left join accounts a using (user_id)
"""


def ticket_experience(lake: Lake) -> pd.DataFrame:
    """One row per ticket: its CSAT, resolution time, category and the experience flags and controls."""
    if not lake.file_paths("tickets"):
        raise CryptoscopeError(f"the lake {lake.root} has no tickets; simulate or import some first")
    con = _connect(lake, _NEEDED)
    spine = ("select ticket_id, user_id, event_time as t, channel, language, category, status, csat, "
             "case when isnan(resolution_hours) then null else resolution_hours end as resolution_hours from tickets")
    frame = con.execute(_CONTROLS.format(inner=_flags(con, spine, TICKET_WINDOW_DAYS))).df()
    return frame.sort_values("t", kind="stable").reset_index(drop=True)


def survey_experience(lake: Lake) -> pd.DataFrame:
    """One row per NPS answer with the author's experiences in the 30 days before, and controls."""
    con = _connect(lake, (*_NEEDED, "surveys"))
    spine = ("select survey_id, user_id, event_time as t, channel, language, nps, comment, "
             "cast(exists (select 1 from tickets k where k.user_id = v.user_id and k.event_time <= v.event_time) "
             "as integer) as ticket_before from surveys v where nps is not null")
    frame = con.execute(_CONTROLS.format(inner=_flags(con, spine, SURVEY_WINDOW_DAYS))).df()
    return frame.sort_values("t", kind="stable").reset_index(drop=True)


def describe(flag: str) -> str:
    if flag in EXPERIENCES:
        return EXPERIENCES[flag][0]
    words: dict[str, Any] = {"log_resolution_days": "slower ticket resolution (per +1 in log(1 + days))",
                             "ticket_before": "opened a support ticket before answering",
                             "log_deposits_usd": "deposits (per +1 in log(1 + USD))"}
    return str(words.get(flag, flag.replace("_", " ")))
