"""The canonical schema: every table is well-formed, and docs/schema.md is what the code says."""

from pathlib import Path

import pyarrow as pa
import pytest

from cryptoscope.errors import UnknownTableError
from cryptoscope.schema import TABLES, get_table
from cryptoscope.schema._markdown import schema_markdown

REQUIRED = ["accounts", "kyc_submissions", "sessions", "account_changes", "payments", "chain_transfers",
            "orders", "trades", "loans", "product_events", "tickets", "surveys", "address_labels", "labels",
            "product_catalog", "simulation_runs", "user_kinds"]


@pytest.mark.parametrize("name", REQUIRED)
def test_required_tables_have_utc_event_time_and_a_key(name: str) -> None:
    table = get_table(name)
    assert table.event_time == "event_time"
    assert table.arrow_schema.field("event_time").type == pa.timestamp("us", tz="UTC")
    assert table.primary_key and all(not table.column(k).nullable for k in table.primary_key)
    assert all(c.doc.strip() for c in table.columns)


def test_labels_carry_type_decision_time_and_known_time() -> None:
    labels = get_table("labels")
    assert {"label_type", "decision_time", "event_time", "entity_id"} <= set(labels.column_names)


def test_public_chain_tables_cover_utxo_and_account_chains() -> None:
    assert {"chain_blocks", "chain_transactions", "chain_inputs", "chain_outputs",
            "eth_transactions", "eth_token_transfers"} <= set(TABLES)


def test_unknown_table_lists_the_known_ones() -> None:
    with pytest.raises(UnknownTableError, match="known tables: accounts"):
        get_table("paymnets")


def test_docs_schema_md_is_current() -> None:
    doc = Path(__file__).parents[2] / "docs" / "schema.md"
    assert doc.read_text(encoding="utf-8") == schema_markdown(list(TABLES.values())), (
        "docs/schema.md is stale: run `make docs`")
