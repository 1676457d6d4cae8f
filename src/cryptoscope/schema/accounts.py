"""Accounts and KYC: who the users are and how their identity was checked."""

import pyarrow as pa

from cryptoscope.schema._table import TIMESTAMP, Table, col, event_time

S, INT, F, B = pa.string(), pa.int64(), pa.float64(), pa.bool_()

ACCOUNTS = Table(
    name="accounts",
    domain="accounts & KYC",
    doc="One row per exchange account, written when it is opened.",
    columns=(
        col("user_id", INT, "Exchange account id."),
        event_time("When the account was opened (UTC)."),
        col("full_name", S, "Legal name as entered (personal data)."),
        col("email_hash", S, "SHA-256 of the normalised e-mail address."),
        col("phone_hash", S, "SHA-256 of the phone number.", nullable=True),
        col("date_of_birth", pa.date32(), "Date of birth (personal data).", nullable=True),
        col("country", S, "ISO-3166 alpha-2 country of residence."),
        col("address", S, "Postal address (personal data).", nullable=True),
        col("signup_ip", S, "IP address the account was opened from."),
        col("signup_device_id", S, "Device fingerprint at sign-up."),
        col("referrer_user_id", INT, "Account that referred this one.", nullable=True),
        col("segment", S, "Customer tier: retail, vip, institutional."),
        col("kyc_level", INT, "Highest verified KYC level at sign-up (0 = none)."),
    ),
    primary_key=("user_id",),
)

KYC_SUBMISSIONS = Table(
    name="kyc_submissions",
    domain="accounts & KYC",
    doc="Each identity-verification attempt and its decision.",
    columns=(
        col("submission_id", INT, "Submission id."),
        col("user_id", INT, "Account that submitted."),
        event_time("When the documents were submitted (UTC)."),
        col("level", INT, "KYC level applied for (1 = ID, 2 = address, 3 = enhanced)."),
        col("document_type", S, "passport, id_card, driving_licence or residence_permit."),
        col("document_country", S, "ISO-3166 alpha-2 country that issued the document."),
        col("document_number", S, "Document number (personal data).", nullable=True),
        col("document_hash", S, "Perceptual hash of the document image."),
        col("selfie_hash", S, "Perceptual hash of the selfie."),
        col("ip_country", S, "Country of the IP the submission came from."),
        col("decision", S, "approved, rejected or manual_review."),
        col("decision_time", TIMESTAMP, "When the decision was made (UTC).", nullable=True),
        col("reject_reason", S, "Why it was rejected, if it was.", nullable=True),
    ),
    primary_key=("submission_id",),
)

TABLES = (ACCOUNTS, KYC_SUBMISSIONS)
