"""What the risk models decided: one row per scored decision and model version."""

import pyarrow as pa

from cryptoscope.schema._table import TIMESTAMP, Table, col, event_time

S, INT, F = pa.string(), pa.int64(), pa.float64()

RISK_SCORES = Table(
    name="risk_scores",
    domain="risk scores",
    doc="Scores, decisions and reasons of the promoted risk models, one row per decision and model version (the "
        "mule model's: one row per user not known bad and snapshot).",
    columns=(
        col("score_id", S, "kind:entity_id:model_version, so scoring the same decision again adds nothing."),
        col("kind", S, "Risk product: kyc, payment, withdrawal, credit, deposit, or mule (mules and ring members)."),
        col("entity_type", S, "What was scored: kyc_submission, payment, transfer, loan, or user (mule)."),
        col("entity_id", S, "Id of that entity, as text (mule: user_id@snapshot time)."),
        col("user_id", INT, "Account the decision is about."),
        event_time("The decision time: when the submission, payment, withdrawal or loan happened; for the mule "
                   "model, the snapshot's time (UTC)."),
        col("score", F, "Calibrated probability that the decision turns out bad."),
        col("decision", S, "approve, review or block."),
        col("reasons", S, "The top reasons for the score in words, joined by '; '."),
        col("model_name", S, "Registry name of the model, e.g. risk_payment."),
        col("model_version", INT, "Registry version of the model."),
        col("scored_at", TIMESTAMP, "When the score was computed (UTC)."),
    ),
    primary_key=("score_id",),
)

#: how many transactions upstream or downstream ``chain_exposure`` is traced by default: a source further away
#: leaves ``hops`` null (the chain line's tracing limit, and what the deposit risk product reads it against)
EXPOSURE_MAX_HOPS = 3

CHAIN_EXPOSURE = Table(
    name="chain_exposure",
    domain="risk scores",
    doc="Exposure of the exchange's deposits and withdrawals to labelled illicit addresses, traced on chain, "
        "with the evidence paths; a feature for the risk models.",
    columns=(
        col("score_id", S, "transfer_id:mode, so scoring the same transfer again adds nothing."),
        col("transfer_id", INT, "The chain transfer scored (chain_transfers.transfer_id)."),
        col("user_id", INT, "Account of the transfer."),
        event_time("Time of the transfer (UTC)."),
        col("direction", S, "deposit (traced upstream: source of funds) or withdrawal (downstream: destination)."),
        col("chain", S, "Chain of the transfer."),
        col("address", S, "Counterparty address traced."),
        col("mode", S, "point_in_time: only labels published and chain data mined by the transfer time; "
            "retrospective: everything in the lake when scored."),
        col("haircut", F, "Share of the value traced to illicit sources, proportional (haircut) method, "
            "hop-decayed, 0..1."),
        col("poison", F, "Poison method: 1 if any illicit source within the hop limit, hop-decayed, 0..1."),
        col("hops", INT, "Fewest transactions between the counterparty and an illicit source (0: it is one; "
            "null: none within the tracing limit).",
            nullable=True),
        col("category", S, "Category with the largest haircut share, e.g. mixer.", nullable=True),
        col("evidence", S, "JSON list of the strongest paths: category, label source, hops, share, "
            "transactions from the source to the counterparty."),
        col("known_at", TIMESTAMP, "Earliest time this score could have been computed: the transfer, the path's "
            "transactions and the labels all known. Join on known_at <= decision time."),
        col("scored_at", TIMESTAMP, "When the score was computed (UTC)."),
    ),
    primary_key=("score_id",),
    non_negative=("haircut", "poison"),
)

ADDRESS_CLUSTERS = Table(
    name="address_clusters",
    domain="risk scores",
    doc="Which entity (cluster) each chain address belongs to, from the clustering heuristics.",
    columns=(
        col("chain", S, "Chain name."),
        col("address", S, "Address."),
        event_time("First time the address was seen on chain (UTC)."),
        col("cluster", S, "Cluster id: the cluster's smallest address, so it is stable across runs on the same data."),
        col("cluster_size", INT, "Number of addresses in the cluster."),
        col("heuristics", S, "Heuristics that linked this address, joined by ',' (empty for a singleton)."),
        col("computed_at", TIMESTAMP, "When the clustering was computed (UTC)."),
    ),
    primary_key=("chain", "address"),
)

FEEDBACK_SCORES = Table(
    name="feedback_scores",
    domain="feedback scores",
    doc="Sentiment, topic and predicted category of every ticket and survey comment, one row per text.",
    columns=(
        col("feedback_id", S, "source:source_id, e.g. ticket:42, so scoring the same text again adds nothing."),
        col("source", S, "ticket or survey."),
        col("source_id", INT, "ticket_id or survey_id."),
        col("user_id", INT, "Account that wrote it."),
        event_time("When it was written (UTC)."),
        col("language", S, "ISO-639-1 language of the text."),
        col("sentiment", S, "negative, neutral or positive."),
        col("sentiment_score", F, "P(positive) - P(negative), from -1 to 1."),
        col("p_negative", F, "Probability that the text is negative."),
        col("topic_id", INT, "Topic cluster id; -1 when the text fits no topic."),
        col("topic_label", S, "The topic's top terms."),
        col("category", S, "Predicted ticket category (the classifier's, not the user's choice).", nullable=True),
        col("category_confidence", F, "Probability of the predicted category.", nullable=True),
        col("model_version", S, "Which fitted models scored it (date and data fingerprint)."),
        col("scored_at", TIMESTAMP, "When the score was computed (UTC)."),
    ),
    primary_key=("feedback_id",),
)

SURVEILLANCE_ALERTS = Table(
    name="surveillance_alerts",
    domain="risk scores",
    doc="Market-abuse alerts on the exchange's own books (wash trading, spoofing, pump-and-dump), with the "
        "accounts, the symbol, the time span and the orders and trades as evidence.",
    columns=(
        col("alert_id", S, "typology:symbol:accounts:start, so detecting the same abuse again adds nothing."),
        col("typology", S, "wash_trading, spoofing or pump_and_dump."),
        col("symbol", S, "Market, e.g. MOONX-USDT."),
        col("accounts", S, "Accounts involved, user ids joined by ','."),
        col("user_id", INT, "The lowest account id of the alert, for joins by user."),
        event_time("Start of the abusive activity: first order or trade in the evidence (UTC)."),
        col("end_time", TIMESTAMP, "End of the activity: last order, cancel or trade in the evidence (UTC)."),
        col("detected_at", TIMESTAMP, "Data time at which the evidence first met the rule (UTC)."),
        col("severity", F, "0..1 from the strength of the evidence."),
        col("level", S, "low, medium or high."),
        col("order_ids", S, "Evidence orders, ids joined by ',' (at most 200)."),
        col("trade_ids", S, "Evidence trades, ids joined by ',' (at most 200)."),
        col("evidence", S, "JSON of the figures behind the alert: counts, volumes, ratios, z-scores."),
        col("scored_at", TIMESTAMP, "When the alert was computed (UTC)."),
    ),
    primary_key=("alert_id",),
    non_negative=("severity",),
)

RECOMMENDATIONS = Table(
    name="recommendations",
    domain="recommendations",
    doc="Top-k product recommendations per user from the batch job, each suitable for the user and with a reason.",
    columns=(
        col("rec_id", S, "user_id:as_of_date:rank, so writing the same day's lists again adds nothing."),
        col("user_id", INT, "Account the list is for."),
        event_time("As-of time of the list: the model saw only data before it (UTC)."),
        col("rank", INT, "Position in the list, 1 = best."),
        col("product_type", S, "coin, earn, futures or article."),
        col("product_id", S, "Product id, as in product_events."),
        col("item_risk", INT, "Risk level of the product, 1-5."),
        col("suitability_level", INT, "The user's suitability level, 1-5; item_risk never exceeds it."),
        col("score", F, "Ranker score (higher is better; comparable within one list)."),
        col("reason", S, "Why it is recommended, in words."),
        col("model_version", S, "Which trained recommender made it (as-of date and training fingerprint)."),
        col("scored_at", TIMESTAMP, "When the list was computed (UTC)."),
    ),
    primary_key=("rec_id",),
)

BEHAVIOUR_SEGMENTS = Table(
    name="behaviour_segments",
    domain="behaviour scores",
    doc="Behavioural segment of every account at each monthly snapshot, from the fitted segment model.",
    columns=(
        col("membership_id", S, "user_id:snapshot date, so labelling the same month again adds nothing."),
        col("user_id", INT, "Account."),
        event_time("The snapshot time: features use the 30 days before it (UTC)."),
        col("segment_id", INT, "Segment number, matched across re-fits (Hungarian matching of centroids)."),
        col("segment_name", S, "The segment in words, e.g. travellers."),
        col("probability", F, "Mixture probability of that segment, 0..1."),
        col("model_version", S, "Which fitted segment model labelled it (fit time and seed)."),
        col("computed_at", TIMESTAMP, "When it was computed (UTC)."),
    ),
    primary_key=("membership_id",),
)

CHURN_SCORES = Table(
    name="churn_scores",
    domain="behaviour scores",
    doc="Churn probability, expected value and retention priority of every recently active account at a cut-off.",
    columns=(
        col("score_id", S, "user_id:cut-off date, so scoring the same cut-off again adds nothing."),
        col("user_id", INT, "Account."),
        event_time("The cut-off: features use events before it (UTC)."),
        col("p_churn", F, "Calibrated probability of no successful session in the horizon after the cut-off."),
        col("horizon_days", INT, "Days after the cut-off the churn label looks at."),
        col("segment_name", S, "Behavioural segment at the cut-off."),
        col("expected_value_usd", F, "Expected fee value over the next year if the user stays (survival model)."),
        col("value_at_risk_usd", F, "p_churn x expected_value_usd: what a successful retention action saves."),
        col("retention_rank", INT, "1 = the first user a retention action should target (by value at risk)."),
        col("reasons", S, "The top reasons for the churn score in words, joined by '; '."),
        col("model_version", S, "Which churn model scored it."),
        col("scored_at", TIMESTAMP, "When it was scored (UTC)."),
    ),
    primary_key=("score_id",),
    non_negative=("p_churn", "expected_value_usd", "value_at_risk_usd"),
)

TABLES = (RISK_SCORES, FEEDBACK_SCORES, CHAIN_EXPOSURE, ADDRESS_CLUSTERS, BEHAVIOUR_SEGMENTS, CHURN_SCORES,
          SURVEILLANCE_ALERTS, RECOMMENDATIONS)
