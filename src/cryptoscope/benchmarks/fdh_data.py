"""The Fraud Detection Handbook's transactions, loaded into a lake through the normal ingest path.

The file goes in twice, through the two shipped mapping files: as `payments` (one card payment per
transaction, the terminal as ``merchant_id``) and as `labels` (one label per transaction, known 7 days
after it: the handbook's feedback delay). Ingest is idempotent anyway; a marker in the lake records
which file (by content hash) and mappings went in, so a second run does not even read the file.

>>> lake = fdh_lake("../shared/data/fdh/transactions.parquet")   # doctest: +SKIP
>>> [s.name for s in lake.status()]                               # doctest: +SKIP
['labels', 'payments']
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake
from cryptoscope.sources.importers import ingest_files

#: The mapping files shipped at the root of the repository.
MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"
MAPPING_FILES = {"payments": "fdh_payments.json", "labels": "fdh_labels.json"}
MARKER = "_fdh_ingested.json"


def fingerprint(data: Path, mappings: Path = MAPPINGS) -> str:
    """Hash of the data file and both mapping files: what the lake's content depends on."""
    digest = hashlib.sha256()
    for path in (data, *(mappings / name for name in MAPPING_FILES.values())):
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def default_lake(data: Path, mappings: Path = MAPPINGS) -> Path:
    """A lake per data file in the user's cache folder (``$XDG_CACHE_HOME``, else ``~/.cache``)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "cryptoscope" / f"fdh-lake-{fingerprint(data, mappings)}"


def fdh_lake(data: str | os.PathLike[str], lake: str | os.PathLike[str] | None = None, *,
             mappings: str | os.PathLike[str] = MAPPINGS) -> Lake:
    """A lake holding ``data`` as payments and labels; ingests only when this file has not gone in yet."""
    data, mappings = Path(data), Path(mappings)
    if not data.is_file():
        raise CryptoscopeError(f"no such data file: {data}")
    missing = [name for name in MAPPING_FILES.values() if not (mappings / name).is_file()]
    if missing:
        raise CryptoscopeError(f"mapping files {', '.join(missing)} not found in {mappings}")
    key = fingerprint(data, mappings)
    target = Lake(lake if lake is not None else default_lake(data, mappings))
    marker = target.root / MARKER
    done = json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else {}
    if key in done:
        return target
    for table, name in MAPPING_FILES.items():
        ingest_files(target, table, [data], mapping=mappings / name)
    done[key] = {"data": str(data.resolve())}
    tmp = marker.with_name(f".{MARKER}.tmp")
    tmp.write_text(json.dumps(done, indent=1), encoding="utf-8")
    os.replace(tmp, marker)
    return target
