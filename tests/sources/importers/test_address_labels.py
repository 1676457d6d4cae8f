"""Forta's public address labels map onto `address_labels` and load idempotently."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pytest

from cryptoscope.errors import ValidationError
from cryptoscope.lake import Lake, connect
from cryptoscope.schema import ILLICIT_CATEGORIES, get_table
from cryptoscope.sources.importers import forta_address_labels, ingest_files
from cryptoscope.sources.importers.address_labels import FORTA_EVENT_TIME

FORTA = Path(__file__).resolve().parents[4] / "shared" / "data" / "address-labels" / "forta"
FILES = sorted(FORTA.glob("*.csv"))
# outside CI a checkout without ../shared skips; CI always has it, so there the tests must run
pytestmark = pytest.mark.skipif(len(FILES) != 3 and "CI" not in os.environ,
                                reason=f"Forta labels not found under {FORTA}")


def test_phishing_scams_map_to_phishing_with_lower_case_addresses() -> None:
    rows = forta_address_labels(FORTA / "phishing_scams.csv")
    assert rows.schema == get_table("address_labels").arrow_schema
    # 6,726 lines, but 521 addresses appear twice: once in checksum case, once lower-case.
    assert rows.num_rows == 6_205
    got = rows.to_pylist()
    assert {r["category"] for r in got} == {"phishing"}
    assert {r["chain"] for r in got} == {"ethereum"}
    assert {r["source"] for r in got} == {"forta:phishing_scams"}
    assert {r["event_time"] for r in got} == {FORTA_EVENT_TIME}
    assert all(r["address"] == r["address"].lower() and len(r["address"]) == 42 for r in got)
    assert got[0]["name"] == "Fake_Phishing3901"


def test_etherscan_lists_split_into_phishing_and_stolen_funds() -> None:
    rows = forta_address_labels(FORTA / "etherscan_malicious_labels.csv")
    categories = Counter(rows["category"].to_pylist())
    assert set(categories) == {"phishing", "stolen_funds"}
    assert categories["stolen_funds"] > 100  # exploit and heist lists
    assert pc.all(pc.equal(rows["address"], pc.utf8_lower(rows["address"]))).as_py()


def test_malicious_contracts_keep_one_row_per_contract() -> None:
    rows = forta_address_labels(FORTA / "malicious_smart_contracts.csv")
    assert rows.num_rows == 719  # 753 lines, 34 repeats of the same contract
    assert set(rows["category"].to_pylist()) == {"phishing", "stolen_funds"}
    assert set(rows["category"].to_pylist()) <= set(ILLICIT_CATEGORIES)


def test_ingest_all_forta_files_then_again_adds_nothing(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    first = ingest_files(lake, "address_labels", FILES, fmt="forta")
    assert first.rows_added == first.rows_read == 6_205 + 7_259 + 719
    counts = connect(lake).con.sql("SELECT source, count(*) FROM address_labels GROUP BY 1 ORDER BY 1").fetchall()
    assert counts == [("forta:etherscan_malicious_labels", 7_259), ("forta:malicious_smart_contracts", 719),
                      ("forta:phishing_scams", 6_205)]

    again = ingest_files(lake, "address_labels", FILES, fmt="forta")
    assert (again.rows_added, again.already_present) == (0, first.rows_read)
    assert connect(lake).con.sql("SELECT count(*) FROM address_labels").fetchall() == [(first.rows_read,)]


def test_forta_format_refuses_other_files_and_other_tables(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("wallet,label\n0xabc,scam\n")
    with pytest.raises(ValidationError, match="not a Forta labelled-datasets file") as info:
        ingest_files(tmp_path / "lake", "address_labels", [other], fmt="forta")
    assert info.value.file == str(other)
    with pytest.raises(ValidationError, match="loads the address_labels table, not payments"):
        ingest_files(tmp_path / "lake", "payments", FILES[:1], fmt="forta")
