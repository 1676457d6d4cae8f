"""Make the audit log append-only in the database itself, not only in our code.

Triggers reject every UPDATE and DELETE on ``audit_log`` (and TRUNCATE on PostgreSQL), so even a
person with a SQL prompt and the application's credentials cannot rewrite what analysts decided.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from cryptoscope.cases.errors import CaseError

MESSAGE = "audit_log is append-only"

_SQLITE = (
    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
)

_POSTGRES = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$",
    "DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def install_append_only(engine: Engine) -> None:
    """Create the triggers for the engine's dialect (idempotent)."""
    statements = {"sqlite": _SQLITE, "postgresql": _POSTGRES}.get(engine.dialect.name)
    if statements is None:
        raise CaseError(f"the case store supports SQLite and PostgreSQL URLs, not {engine.dialect.name}")
    with engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql))
