"""The catalog: the one file that says which Parquet files make up each table.

Readers see only files the catalog lists, and the catalog is replaced with a single
``os.replace``; so a writer killed at any instant leaves the lake exactly as it was.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from cryptoscope.errors import LakeError
from cryptoscope.fsio import fsync

CATALOG_FILE = "_catalog.json"
FORMAT = 1


@dataclass(frozen=True)
class FileEntry:
    """One committed Parquet file, with the facts `lake status` shows without opening it."""

    path: str  # relative to the lake root, POSIX separators
    rows: int
    min_time: str | None
    max_time: str | None
    bytes: int


@dataclass
class Catalog:
    version: int = 0
    tables: dict[str, list[FileEntry]] = field(default_factory=dict)
    #: how far each stream consumer's results are committed (its last message's stream sequence), saved in the
    #: same atomic swap as the files those results went to: see `cryptoscope.stream`
    cursors: dict[str, int] = field(default_factory=dict)
    #: files that left the tables (a replace, a compaction) with the UTC time they left: still on disk, so a
    #: reader that listed them before finishes its query; a later commit deletes them (`store.RETENTION`)
    retired: dict[str, str] = field(default_factory=dict)

    def files(self, table: str) -> list[FileEntry]:
        return self.tables.get(table, [])

    def all_paths(self) -> set[str]:
        """Every Parquet file the lake owns: the tables' and the retired ones'."""
        return {f.path for entries in self.tables.values() for f in entries} | set(self.retired)

    @classmethod
    def load(cls, root: Path) -> Catalog:
        path = root / CATALOG_FILE
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != FORMAT:
                raise LakeError(f"{path}: catalog format {raw.get('format')!r}, expected {FORMAT}")
            tables = {name: [FileEntry(**f) for f in files] for name, files in raw["tables"].items()}
            cursors = {str(k): int(v) for k, v in raw.get("cursors", {}).items()}
            retired = {str(k): str(v) for k, v in raw.get("retired", {}).items()}
            return cls(version=int(raw["version"]), tables=tables, cursors=cursors, retired=retired)
        except (ValueError, KeyError, TypeError) as exc:
            raise LakeError(f"{path}: unreadable catalog ({exc})") from exc

    def save(self, root: Path) -> None:
        """Write atomically: a temp file, fsync, then rename over the old catalog."""
        tmp = self.write_temp(root)
        fsync(tmp)
        publish(tmp, root)

    def write_temp(self, root: Path) -> Path:
        """The catalog in its temp file, not yet flushed: the caller flushes it (with other files, see
        `store.Transaction.commit`) before `publish`. Encoded with orjson: the standard library's encoder runs
        in Python once it indents, which a lake of thousands of files paid at every commit."""
        payload = {
            "format": FORMAT,
            "version": self.version,
            "tables": {name: [dict(vars(f)) for f in files] for name, files in sorted(self.tables.items())},
        }
        if self.cursors:
            payload["cursors"] = dict(sorted(self.cursors.items()))
        if self.retired:
            payload["retired"] = dict(sorted(self.retired.items()))
        tmp = root / f".{CATALOG_FILE}.{os.getpid()}.tmp"
        tmp.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
        return tmp


def publish(tmp: Path, root: Path) -> None:
    """Swap a flushed temp catalog in, and flush the rename: the one step that makes a commit visible."""
    os.replace(tmp, root / CATALOG_FILE)
    fsync(root)
