"""What users tell us: support tickets and satisfaction surveys."""

import pyarrow as pa

from cryptoscope.schema._table import TIMESTAMP, Table, col, event_time

S, INT, F = pa.string(), pa.int64(), pa.float64()

TICKETS = Table(
    name="tickets",
    domain="feedback",
    doc="Support tickets with their text and how they were resolved.",
    columns=(
        col("ticket_id", INT, "Ticket id."),
        col("user_id", INT, "Account that opened it."),
        event_time("When the ticket was opened (UTC)."),
        col("channel", S, "chat, email, app or social."),
        col("language", S, "ISO-639-1 language of the text."),
        col("category", S, "Category chosen by the user or the first agent."),
        col("subject", S, "Subject line."),
        col("text", S, "The user's message."),
        col("status", S, "open, resolved or escalated."),
        col("resolved_time", TIMESTAMP, "When it was resolved (UTC).", nullable=True),
        col("resolution_hours", F, "Hours from opening to resolution.", nullable=True),
        col("csat", INT, "Satisfaction score 1-5 given after resolution.", nullable=True),
    ),
    primary_key=("ticket_id",),
)

SURVEYS = Table(
    name="surveys",
    domain="feedback",
    doc="Answers to relationship and transactional satisfaction surveys.",
    columns=(
        col("survey_id", INT, "Response id."),
        col("user_id", INT, "Account that answered."),
        event_time("When the answer was given (UTC)."),
        col("survey_type", S, "nps (relationship) or csat (after an interaction)."),
        col("channel", S, "app, email or web."),
        col("language", S, "ISO-639-1 language of the comment."),
        col("nps", INT, "Likelihood to recommend 0-10, for NPS surveys.", nullable=True),
        col("csat", INT, "Satisfaction 1-5, for CSAT surveys.", nullable=True),
        col("comment", S, "Free-text comment.", nullable=True),
    ),
    primary_key=("survey_id",),
)

TABLES = (TICKETS, SURVEYS)
