"""Ground-truth labels as the exchange learns them, late and incomplete, and the simulator's full truth.

A label judges a decision made at ``decision_time`` and became known at ``event_time``:
training may only use labels whose ``event_time`` is before its cut-off.
"""

import pyarrow as pa

from cryptoscope.schema._table import TIMESTAMP, Table, col, event_time

S, INT = pa.string(), pa.int64()

#: The label types the simulator writes and the products learn from.
LABEL_TYPES = (
    "kyc_fraud", "account_takeover", "card_fraud", "money_mule", "multi_accounting",
    "loan_default", "wash_trading", "spoofing", "pump_and_dump", "illicit_exposure", "abnormal_user",
)

LABELS = Table(
    name="labels",
    domain="labels",
    doc="Outcomes that judge earlier decisions: chargebacks, confirmed fraud, defaults, abuse findings.",
    columns=(
        col("label_id", INT, "Label id."),
        col("entity_type", S, "What is judged: user, payment, loan, order, transfer, address or kyc_submission."),
        col("entity_id", S, "Id of that entity, as text."),
        col("user_id", INT, "Account the entity belongs to, when it belongs to one.", nullable=True),
        col("label_type", S, "Kind of outcome, e.g. card_fraud, account_takeover, loan_default."),
        col("label", INT, "1 = bad (fraud, default, abuse), 0 = confirmed good."),
        col("decision_time", TIMESTAMP, "Time of the decision the label judges (UTC)."),
        event_time("When the label became known (UTC)."),
        col("source", S, "chargeback, investigation, loan_servicing, surveillance or user_report."),
    ),
    primary_key=("label_id",),
)

GROUND_TRUTH = Table(
    name="ground_truth",
    domain="labels",
    doc="The simulator's full truth (who really did what), for evaluation only, never for training.",
    columns=(
        col("truth_id", INT, "Row id."),
        col("user_id", INT, "Account involved."),
        event_time("When the behaviour started (UTC)."),
        col("typology", S, "Typology, e.g. account_takeover, card_testing, wash_trading."),
        col("role", S, "Role in it: fraudster, victim, mule, ring_member, insider, ..."),
        col("group_id", INT, "Ring or campaign id linking accounts that act together.", nullable=True),
        col("end_time", TIMESTAMP, "When the behaviour ended (UTC)."),
        col("labelled", pa.bool_(), "Whether the exchange ever learns of it through `labels`."),
    ),
    primary_key=("truth_id",),
)

USER_KINDS = Table(
    name="user_kinds",
    domain="labels",
    doc="The simulator's latent kind of every account, for evaluating segments only, never a feature.",
    columns=(
        col("user_id", INT, "Account."),
        event_time("Start of the simulated period, when the kind was drawn (UTC)."),
        col("kind", S, "retail, whale, market_maker, idle, traveller or household."),
    ),
    primary_key=("user_id",),
)

TABLES = (LABELS, GROUND_TRUTH, USER_KINDS)
