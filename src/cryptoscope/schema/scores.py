"""What the risk models decided: one row per scored decision and model version."""

import pyarrow as pa

from cryptoscope.schema._table import TIMESTAMP, Table, col, event_time

S, INT, F = pa.string(), pa.int64(), pa.float64()

RISK_SCORES = Table(
    name="risk_scores",
    domain="risk scores",
    doc="Scores, decisions and reasons of the promoted risk models, one row per decision and model version.",
    columns=(
        col("score_id", S, "kind:entity_id:model_version, so scoring the same decision again adds nothing."),
        col("kind", S, "Risk product: kyc, payment, withdrawal or credit."),
        col("entity_type", S, "What was scored: kyc_submission, payment, transfer or loan."),
        col("entity_id", S, "Id of that entity, as text."),
        col("user_id", INT, "Account the decision is about."),
        event_time("The decision time: when the submission, payment, withdrawal or loan happened (UTC)."),
        col("score", F, "Calibrated probability that the decision turns out bad."),
        col("decision", S, "approve, review or block."),
        col("reasons", S, "The top reasons for the score in words, joined by '; '."),
        col("model_name", S, "Registry name of the model, e.g. risk_payment."),
        col("model_version", INT, "Registry version of the model."),
        col("scored_at", TIMESTAMP, "When the score was computed (UTC)."),
    ),
    primary_key=("score_id",),
)

TABLES = (RISK_SCORES,)
