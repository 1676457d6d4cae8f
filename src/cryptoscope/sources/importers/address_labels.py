"""Forta's public labelled Ethereum addresses, mapped to the canonical `address_labels` table.

The files come from github.com/forta-network/labelled-datasets (MIT) and are kept under
``shared/data/address-labels/forta/``. Three layouts exist, told apart by their header:

* ``phishing_scams.csv`` — ``address, etherscan_tag, etherscan_labels, is_contract``;
* ``etherscan_malicious_labels.csv`` — ``banned_address, wallet_tag, data_source``
  (``etherscan-phish-hack-list``, ``etherscan-exploit-list``, ``etherscan-heist-list``);
* ``malicious_smart_contracts.csv`` — ``contract_address, contract_tag, ...,
  contract_creator_etherscan_label`` (contracts deployed for phishing or for exploits).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.errors import ValidationError
from cryptoscope.schema import get_table
from cryptoscope.sources.importers.readers import read_csv_text

#: The event time given to every Forta label. The files carry no dates at all; the newest incident
#: they mention is from 2022-10-21, so the labels are treated as learned on 2023-01-01 00:00 UTC.
#: Taking a date *after* the data keeps point-in-time training honest: a model trained with a
#: cut-off in 2022 never sees a label it could not have had.
FORTA_EVENT_TIME = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)

CHAIN = "ethereum"

#: Etherscan's label words → canonical categories. Exploits and heists drained funds from their
#: victims, so what those addresses hold or pass on is stolen funds.
_CATEGORIES = {"phish-hack": "phishing", "phishing": "phishing", "scam": "scam",
               "exploit": "stolen_funds", "heist": "stolen_funds"}


@dataclass(frozen=True)
class _Layout:
    """One of Forta's file layouts: which column holds what."""

    required: frozenset[str]
    address: str
    label: str  # the column with Etherscan's label word
    names: tuple[str, ...]  # first non-empty one is the entity name
    unlabelled: str  # category when the label column is empty or unknown


_LAYOUTS = (
    _Layout(frozenset({"address", "etherscan_tag", "etherscan_labels"}), "address", "etherscan_labels",
            ("etherscan_tag",), "other"),
    _Layout(frozenset({"banned_address", "wallet_tag", "data_source"}), "banned_address", "data_source",
            ("wallet_tag",), "other"),
    # Contracts without a creator label in this file are exploit contracts (DeFiHackLabs, evil-jar, ...).
    _Layout(frozenset({"contract_address", "contract_tag", "contract_creator_etherscan_label", "notes"}),
            "contract_address", "contract_creator_etherscan_label", ("contract_tag", "notes"), "stolen_funds"),
)


def _category(label: str | None, unlabelled: str) -> str:
    """``etherscan-phish-hack-list`` or ``phish-hack`` → ``phishing``; unknown words → ``unlabelled``."""
    word = (label or "").strip().lower().removeprefix("etherscan-").removesuffix("-list")
    return _CATEGORIES.get(word, unlabelled)


def forta_address_labels(path: str | os.PathLike[str]) -> pa.Table:
    """Map one Forta CSV to `address_labels` rows, one per (address, category).

    chain is ``ethereum``; the address is lower-cased (Etherscan lists some in checksum case);
    source is ``forta:<file stem>``; event_time is `FORTA_EVENT_TIME`, since the files carry no
    dates. A contract listed twice in the same file gives one row (the first); row numbers in
    later validation errors count these mapped rows.
    """
    path = Path(path)
    text = read_csv_text(path)
    layout = next((lay for lay in _LAYOUTS if lay.required <= set(text.column_names)), None)
    if layout is None:
        known = "; ".join(", ".join(sorted(lay.required)) for lay in _LAYOUTS)
        raise ValidationError(f"not a Forta labelled-datasets file: expected the columns of one of: {known}",
                              file=str(path))
    n = text.num_rows
    empty = pa.scalar(0, pa.int32())
    names = [pc.if_else(pc.equal(pc.utf8_length(text[c]), empty), None, text[c]) for c in layout.names]
    schema = get_table("address_labels").arrow_schema
    rows = pa.Table.from_arrays([
        pa.array([CHAIN] * n, pa.string()),
        pc.utf8_lower(pc.utf8_trim_whitespace(text[layout.address])),
        pa.array([FORTA_EVENT_TIME] * n, pa.timestamp("us", tz="UTC")),
        pa.array([_category(v, layout.unlabelled) for v in text[layout.label].to_pylist()], pa.string()),
        pc.coalesce(*names),
        pa.array([f"forta:{path.stem}"] * n, pa.string()),
    ], schema=schema)
    return _first_of_each_key(rows)


def _first_of_each_key(rows: pa.Table) -> pa.Table:
    """Keep the first row of each primary key, in file order."""
    key = list(get_table("address_labels").primary_key)
    indexed = rows.select(key).append_column("_i", pa.array(np.arange(rows.num_rows)))
    first = indexed.group_by(key, use_threads=False).aggregate([("_i", "min")]).column("_i_min")
    return rows.take(np.sort(first.to_numpy()))
