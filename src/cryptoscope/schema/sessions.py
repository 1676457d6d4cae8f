"""Logins and security-relevant account changes."""

import pyarrow as pa

from cryptoscope.schema._table import Table, col, event_time

S, INT, B = pa.string(), pa.int64(), pa.bool_()

SESSIONS = Table(
    name="sessions",
    domain="sessions & account changes",
    doc="Every login attempt, successful or not.",
    columns=(
        col("session_id", INT, "Login attempt id."),
        col("user_id", INT, "Account the login was for."),
        event_time("When the login was attempted (UTC)."),
        col("device_id", S, "Device fingerprint."),
        col("ip", S, "Client IP address."),
        col("ip_country", S, "ISO-3166 alpha-2 country of the IP."),
        col("user_agent", S, "Client user agent string."),
        col("channel", S, "web, ios, android or api."),
        col("success", B, "Whether the login succeeded."),
        col("used_2fa", B, "Whether a second factor was presented."),
    ),
    primary_key=("session_id",),
)

ACCOUNT_CHANGES = Table(
    name="account_changes",
    domain="sessions & account changes",
    doc="Changes to credentials and security settings.",
    columns=(
        col("change_id", INT, "Change id."),
        col("user_id", INT, "Account that changed."),
        event_time("When the change was made (UTC)."),
        col("change_type", S, "password, email, phone, 2fa_enabled, 2fa_disabled, api_key_created or "
            "withdrawal_whitelist_added."),
        col("session_id", INT, "Session the change was made in.", nullable=True),
        col("device_id", S, "Device the change was made from."),
        col("ip", S, "IP address the change was made from."),
        col("new_value_hash", S, "Hash of the new value (e-mail, key, address).", nullable=True),
    ),
    primary_key=("change_id",),
)

TABLES = (SESSIONS, ACCOUNT_CHANGES)
