"""Writing to the lake: transactions that stage Parquet files, then commit them in one step.

Files are written under ``_staging/`` (flat, their names carrying the transaction's id: one folder to make
and remove per commit, and a folder's removal waits on the disk for most of a millisecond), renamed into
``<table>/event_date=<day>/`` (or ``event_month=<month>/`` for a compaction's merged files, see `compact.py`) and
only then listed in the catalog. A writer killed before the catalog swap leaves only unlisted files, which readers
never see and the next writer removes. Every file is on disk before any is renamed, the folders renamed into and
the new catalog before the catalog swap, the swap itself after: the flushes of one step go together on a few
threads (`fsio.SyncBatch`), a staged file's from the moment it is written. Files that leave a table (replaced or
merged) are retired: kept for ``RETENTION`` so that a reader holding the old list finishes, then deleted by a later
commit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cryptoscope import fsio
from cryptoscope.errors import LakeError
from cryptoscope.fsio import SyncBatch
from cryptoscope.lake.catalog import CATALOG_FILE, Catalog, FileEntry, publish
from cryptoscope.lake.partition import split_by_date, split_by_month
from cryptoscope.lake.sql import local_duckdb, parquet_source
from cryptoscope.schema import Table, get_table

STAGING = "_staging"
_ROW_GROUP_BYTES = 8 << 20
LOCK_FILE = ".lock"
#: present while a commit moves files in: only then can a killed writer leave unlisted files in the partitions
COMMITTING = ".committing"
#: how long a file that left its table stays on disk for readers that listed it before (Delta's VACUUM keeps 7 days)
RETENTION = dt.timedelta(hours=1)
#: the most expired files one commit deletes, oldest first (the rest stay listed as retired for the next commits):
#: an hour after a compaction, the stream's next commit deleted 4,004 files and held its feed for 1.8 s
DELETE_PER_COMMIT = 256


@dataclass(frozen=True)
class TableStatus:
    name: str
    files: int
    rows: int
    bytes: int
    min_time: str | None
    max_time: str | None


class Lake:
    """A folder of Parquet tables, one sub-folder per canonical table."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def catalog(self) -> Catalog:
        return Catalog.load(self.root)

    def file_paths(self, table: str) -> list[str]:
        """Absolute paths of the committed files of ``table`` (empty when it has none)."""
        return [str(self.root / f.path) for f in self.catalog().files(table)]

    def status(self) -> list[TableStatus]:
        cat = self.catalog()
        out = []
        for name, files in sorted(cat.tables.items()):
            times = [t for f in files for t in (f.min_time, f.max_time) if t is not None]
            out.append(TableStatus(name, len(files), sum(f.rows for f in files), sum(f.bytes for f in files),
                                   min(times) if times else None, max(times) if times else None))
        return out

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One writer at a time; commits on a clean exit, leaves the lake untouched otherwise."""
        with self._locked():
            self._remove_orphans()
            tx = Transaction(self)
            try:
                yield tx
            except BaseException:
                tx.abort()
                raise
            tx.commit()

    def _remove_orphans(self) -> None:
        """Delete what killed writers left: staging folders, catalog temp files and, when a commit was cut off
        while moving files in (its marker is still there), unlisted Parquet files."""
        shutil.rmtree(self.root / STAGING, ignore_errors=True)
        for tmp in self.root.glob(f".{CATALOG_FILE}.*.tmp"):
            tmp.unlink(missing_ok=True)
        marker = self.root / COMMITTING
        if not marker.exists():
            return  # no commit was cut off: every file in the partitions is listed (no need to list them all)
        listed = self.catalog().all_paths()
        for path in self.root.glob("*/event_*=*/*.parquet"):
            if path.relative_to(self.root).as_posix() not in listed:
                path.unlink()
        marker.unlink()


class Transaction:
    """Appends, replaces, merges or deletes rows of tables; nothing is visible until `commit`."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.txid = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        self.staging = lake.root / STAGING
        self._catalog = lake.catalog()
        self._staged: dict[str, list[tuple[Path, FileEntry]]] = {}
        self._replace: set[str] = set()
        self._cursors: dict[str, int] = {}
        self._writers: dict[tuple[str, dt.date], _Stream] = {}
        self._merges: dict[str, list[_Merge]] = {}
        self._seq = 0
        self._sync = SyncBatch()  # staged files start their flush once written
        self._encoding: dict[str, list[Future[tuple[Path, FileEntry]]]] = {}

    # -- writing -----------------------------------------------------------------------------
    def replace(self, name: str) -> None:
        """Drop the table's current contents at commit; what this transaction appends replaces it."""
        get_table(name)
        self._replace.add(name)

    def merge(self, name: str, entries: Sequence[FileEntry]) -> FileEntry:
        """Rewrite the committed files ``entries`` of ``name`` (rows of one calendar month) as one file, rows in
        (event time, key) order. At commit the new file takes the first one's place in the table and the
        others retire; the rows a reader sees do not change."""
        table = get_table(name)
        if name in self._replace:
            raise LakeError(f"{name}: a transaction cannot both replace and merge a table")
        parts = [_conform(pq.read_table(self.lake.root / e.path), table) for e in entries]
        order = [(table.event_time, "ascending"), *((k, "ascending") for k in table.primary_key)]
        rows = pa.concat_tables(parts).sort_by(order)
        month = (entries[0].min_time or "")[:7]
        return self._rewrite(table, entries, rows, Path(table.name) / f"event_month={month}")

    def delete(self, name: str, keys: pa.Table, *, since: dt.datetime | None = None,
               until: dt.datetime | None = None) -> int:
        """Remove the committed rows of ``name`` whose primary key is a row of ``keys``; return how many.

        Why: rows can stop being true (a block that left the best chain in a re-organisation), and a reader must
        never see them again. Each committed file holding such rows is rewritten without them (an emptied file is
        dropped); at commit the new file takes the old one's place and the old one retires, as a compaction's
        merged files do, so the rows go at the same moment as the rest of the transaction appears. ``since`` and
        ``until`` narrow the search to files whose time range meets them.
        """
        table = get_table(name)
        if name in self._replace:
            raise LakeError(f"{name}: a transaction cannot both replace and delete from a table")
        key = list(table.primary_key)
        keys = keys.select(key).cast(pa.schema([table.arrow_schema.field(k) for k in key]))
        removed = 0
        for entry in self._live_entries(table, since, until):
            rows = _conform(pq.read_table(self.lake.root / entry.path), table)
            kept = rows.join(keys, keys=key, join_type="left anti")
            if kept.num_rows == rows.num_rows:
                continue
            removed += rows.num_rows - kept.num_rows
            self._rewrite(table, [entry], kept.select(table.column_names), Path(entry.path).parent)
        return removed

    def _rewrite(self, table: Table, replaced: Sequence[FileEntry], rows: pa.Table, folder: Path) -> FileEntry:
        """Stage ``rows`` as the one file that takes the place of ``replaced`` at commit (the first one's place;
        no file when ``rows`` is empty, so the place goes) and return its entry: a merge and a delete alike."""
        path, rel = self._next_path(folder)
        staged, entry = None, FileEntry(rel, 0, None, None, 0)
        if rows.num_rows:
            staged = path
            pq.write_table(rows, staged, compression="zstd")
            self._sync.add(staged)
            entry = FileEntry(rel, rows.num_rows, *_time_range(rows, table.event_time), staged.stat().st_size)
        self._merges.setdefault(table.name, []).append(
            _Merge(replaced[0].path, frozenset(e.path for e in replaced), staged, entry))
        return entry

    def _live_entries(self, table: Table, since: dt.datetime | None, until: dt.datetime | None) -> list[FileEntry]:
        """The committed files of ``table`` not yet rewritten by this transaction, meeting [since, until]."""
        gone = set().union(*(m.paths for m in self._merges.get(table.name, [])))
        entries = [f for f in self._catalog.files(table.name) if f.path not in gone]
        if since is not None and until is not None:
            entries = [f for f in entries if f.min_time is None or f.max_time is None
                       or (dt.datetime.fromisoformat(f.min_time) <= until
                           and dt.datetime.fromisoformat(f.max_time) >= since)]
        return entries

    def set_cursor(self, consumer: str, position: int) -> None:
        """Record at commit that ``consumer`` has committed its results up to ``position`` (a stream sequence):
        the files and the position become visible together, or neither does."""
        self._cursors[consumer] = position

    def append(self, name: str, rows: pa.Table, *, dedupe: bool = True, same_time: bool = False,
               monthly: bool = False) -> int:
        """Stage ``rows`` for ``name`` and return how many are new.

        With ``dedupe`` rows whose primary key is already in the table (or staged earlier in this
        transaction) are dropped, so re-running an import adds nothing; with ``same_time`` too, only the
        committed files whose time range meets the rows' are searched: for producers whose repeated rows
        repeat their event time as well (the stream's micro-batches, which would otherwise read every key
        of the table at each commit). Without ``dedupe``, rows go to long-lived per-day writers: the fast
        path for producers that guarantee unique keys. With ``monthly`` (and ``dedupe``), one file per calendar
        month (``event_month=YYYY-MM/``, the layout compaction leaves) instead of one per day: for producers whose
        commits span many days of old data (a node ingest of early blocks), whose day files would be tiny.
        Files are encoded on the shared `fsio.io_pool` (Arrow releases the GIL) while the caller goes on; `commit`
        waits for them.
        """
        table = get_table(name)
        rows = rows.select(table.column_names).cast(table.arrow_schema)
        if dedupe:
            rows = self._new_rows(table, rows, same_time)
            if monthly:
                for month, part in split_by_month(rows, table.event_time):
                    self._write_file(table, Path(table.name) / f"event_month={month}", part)
            else:
                for day, part in split_by_date(rows, table.event_time):
                    self._write_file(table, _day_folder(table, day), part)
        else:
            for day, part in split_by_date(rows, table.event_time):
                self._write_stream(table, day, part)
        return rows.num_rows

    def _new_rows(self, table: Table, rows: pa.Table, same_time: bool = False) -> pa.Table:
        if rows.num_rows == 0:
            return rows
        files = [] if table.name in self._replace else self._files(table, rows if same_time else None)
        self._settle(table.name)
        files += [str(p) for p, _ in self._staged.get(table.name, [])]
        keyed = rows.select(list(table.primary_key)).append_column("_i", pa.array(np.arange(rows.num_rows)))
        if not files:  # only duplicates within the rows: Arrow alone, without a query
            first = keyed.group_by(list(table.primary_key), use_threads=False).aggregate([("_i", "min")])
            if first.num_rows == rows.num_rows:
                return rows  # every key once: no copy of the rows
            return rows.take(np.sort(first["_i_min"].to_numpy()))
        import duckdb  # only here: a node ingest's appends rarely meet committed files, and DuckDB loads slowly

        key = ", ".join(f'"{k}"' for k in table.primary_key)
        source = "keyed"
        if files:
            source = f"keyed ANTI JOIN (SELECT {key} FROM {parquet_source(files)}) USING ({key})"
        query = f"SELECT min(_i) AS _i FROM {source} GROUP BY {key}"  # first of in-batch duplicates
        with local_duckdb() as con:  # closed on the error path too, not left to the garbage collector
            con.register("keyed", keyed)
            try:
                keep = con.sql(f"SELECT _i FROM ({query}) ORDER BY _i").to_arrow_table().column("_i")
            except (duckdb.IOException, duckdb.InvalidInputException) as exc:
                raise LakeError(f"{self.lake.root}: a committed file of {table.name} is missing or unreadable, "
                                f"so new rows cannot be told from old ones; restore it from a backup ({exc})") from None
        return rows if len(keep) == rows.num_rows else rows.take(keep)  # sorted, unique: all of them, in order

    def _files(self, table: Table, meeting: pa.Table | None) -> list[str]:
        """The committed files of ``table`` as this transaction leaves them (a file it rewrote counts as its new
        version); with ``meeting``, only those whose time range meets its rows'."""
        lo, hi = _time_range(meeting, table.event_time) if meeting is not None else (None, None)
        first = dt.datetime.fromisoformat(lo) if lo is not None else None
        last = dt.datetime.fromisoformat(hi) if hi is not None else None
        rewritten = [str(m.staged) for m in self._merges.get(table.name, []) if m.staged is not None]
        return [str(self.lake.root / f.path) for f in self._live_entries(table, first, last)] + rewritten

    def _next_path(self, folder: Path) -> tuple[Path, str]:
        """A new file's staged path and its path in the lake (in ``folder``, relative to the root)."""
        self._seq += 1
        name = f"part-{self.txid}-{self._seq:05d}.parquet"
        if self._seq == 1:
            self.staging.mkdir(parents=True, exist_ok=True)
        return self.staging / name, (folder / name).as_posix()

    def _write_file(self, table: Table, folder: Path, part: pa.Table) -> None:
        """Stage ``part`` as one file of ``folder``, encoded on a thread (`_settle` collects it)."""
        path, rel = self._next_path(folder)
        lo, hi = _time_range(part, table.event_time)
        job = fsio.io_pool().submit(_encode, part, path, FileEntry(rel, part.num_rows, lo, hi, 0))
        self._encoding.setdefault(table.name, []).append(job)

    def _settle(self, name: str | None = None) -> None:
        """Wait for the files being encoded (of table ``name``, or all) and list them as staged, in the order
        they were appended; raise the first encoding's error."""
        for table in [name] if name is not None else list(self._encoding):
            jobs = self._encoding.get(table, [])
            while jobs:  # a job leaves the list once collected: after an error, `_stop_encoders` sees the rest
                self._staged.setdefault(table, []).append(jobs[0].result())
                jobs.pop(0)

    def _stop_encoders(self) -> None:
        """Drop the encodings not collected (after those under way end, their outcome unread)."""
        fsio.drop(job for jobs in self._encoding.values() for job in jobs)
        self._encoding.clear()

    def _write_stream(self, table: Table, day: dt.date, part: pa.Table) -> None:
        """Buffer rows per (table, day) and write a row group once ~8 MB have gathered, so many
        small appends become a few healthy row groups in one file per partition."""
        key = (table.name, day)
        if key not in self._writers:
            path, rel = self._next_path(_day_folder(table, day))
            self._writers[key] = _Stream(pq.ParquetWriter(path, table.arrow_schema, compression="zstd"), path, rel)
        stream = self._writers[key]
        stream.add(part, table.event_time)
        if stream.buffered_bytes >= _ROW_GROUP_BYTES:
            stream.flush()

    def _record(self, table: Table, path: Path, rel: str, rows: int, lo: str | None, hi: str | None) -> None:
        entry = FileEntry(rel, rows, lo, hi, path.stat().st_size)
        self._staged.setdefault(table.name, []).append((path, entry))

    def _close_writers(self) -> None:
        for (name, _), stream in self._writers.items():
            stream.close()
            self._sync.add(stream.path)
            self._record(get_table(name), stream.path, stream.rel, stream.rows, stream.min_time, stream.max_time)
        self._writers.clear()

    # -- finishing ---------------------------------------------------------------------------
    def commit(self) -> None:
        try:
            self._commit()
        finally:
            self._stop_encoders()
            self._sync.close()

    def _commit(self) -> None:
        self._close_writers()
        self._settle()
        if not self._staged and not self._replace and not self._cursors and not self._merges:
            self._remove_staging()
            return  # nothing new: the catalog version stays, readers' caches stay valid
        root = self.lake.root
        catalog = self._catalog
        if self.lake.catalog().version != catalog.version:
            raise LakeError(f"{root}: the catalog changed during the transaction")
        marker = root / COMMITTING
        marker.write_text(self.txid)
        self._sync.sync([root])  # the marker, with every staged file (their flushes began as they were written)
        dropped: list[str] = []
        for name in self._replace:
            dropped += [f.path for f in catalog.files(name)]
            catalog.tables[name] = []
        folders: set[Path] = set()
        for name, merges in self._merges.items():
            folders |= {_move_in(m.staged, root / m.entry.path) for m in merges if m.staged is not None}
            catalog.tables[name] = _merged(catalog.files(name), merges)
            dropped += [p for m in merges for p in sorted(m.paths)]
        for name, staged in self._staged.items():
            folders |= {_move_in(path, root / entry.path) for path, entry in staged}
            catalog.tables.setdefault(name, []).extend(entry for _, entry in staged if entry.rows > 0)
        catalog.cursors.update(self._cursors)
        expired = _retire(catalog, dropped)
        catalog.version += 1
        tmp = catalog.write_temp(root)
        self._sync.sync([*folders, tmp])  # the renames and the new catalog on disk before it is swapped in
        publish(tmp, root)
        for rel in expired:
            (root / rel).unlink(missing_ok=True)
        marker.unlink()
        self._remove_staging()

    def abort(self) -> None:
        for stream in self._writers.values():
            stream.writer.close()
        self._writers.clear()
        self._stop_encoders()
        self._sync.close()
        self._remove_staging()

    def _remove_staging(self) -> None:
        """Remove this transaction's staged files left (an abort's), then ``_staging`` itself (writers take
        turns, so no other writer's files are there)."""
        if self._seq == 0:
            return  # nothing was staged: no folder was made
        for path in self.staging.glob(f"part-{self.txid}-*.parquet"):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.staging.rmdir()


@dataclass(frozen=True)
class _Merge:
    """A merged file staged by `Transaction.merge`: where it goes in the table, and the files it replaces."""

    first: str
    paths: frozenset[str]
    staged: Path | None  # None: the files' rows were all deleted
    entry: FileEntry


def _day_folder(table: Table, day: dt.date) -> Path:
    return Path(table.name) / f"event_date={day.isoformat()}"


def _encode(part: pa.Table, path: Path, entry: FileEntry) -> tuple[Path, FileEntry]:
    """Write a staged file and flush it (on an encoder thread): its entry with its size."""
    pq.write_table(part, path, compression="zstd")
    fsio.fsync(path)
    return path, FileEntry(entry.path, entry.rows, entry.min_time, entry.max_time, path.stat().st_size)


def _move_in(staged: Path, target: Path) -> Path:
    """Move a staged file (already on disk: power loss, not just a kill) to its place; return its folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)
    return target.parent


def _merged(entries: list[FileEntry], merges: list[_Merge]) -> list[FileEntry]:
    """The table's file list with each merge's files replaced by its new file, at the first one's place."""
    placed = {m.first: m.entry for m in merges if m.staged is not None}
    gone = set().union(*(m.paths for m in merges))
    return [placed.get(f.path, f) for f in entries if f.path in placed or f.path not in gone]


def _retire(catalog: Catalog, dropped: list[str]) -> list[str]:
    """Record ``dropped`` as retired now; take the files retired longer than ``RETENTION`` (the oldest
    ``DELETE_PER_COMMIT`` of them) out of the catalog and return them (deleted once the catalog no longer names
    them)."""
    now = dt.datetime.now(dt.UTC)
    catalog.retired.update(dict.fromkeys(dropped, now.isoformat()))
    due = sorted((dt.datetime.fromisoformat(at), p) for p, at in catalog.retired.items())
    expired = [p for at, p in due if now - at >= RETENTION][:DELETE_PER_COMMIT]
    for path in expired:
        del catalog.retired[path]
    return expired


def _conform(part: pa.Table, table: Table) -> pa.Table:
    """A file's rows with exactly the table's columns: a column added after the file was written reads as null."""
    for f in table.arrow_schema:
        if f.name not in part.column_names:
            part = part.append_column(f.name, pa.nulls(part.num_rows, f.type))
    return part.select(table.column_names).cast(table.arrow_schema)


def _time_range(part: pa.Table, column: str) -> tuple[str | None, str | None]:
    if part.num_rows == 0:
        return None, None
    lo, hi = pc.min_max(part[column]).values()
    return lo.as_py().isoformat(), hi.as_py().isoformat()


class _Stream:
    """One partition file being written by a long-running producer."""

    def __init__(self, writer: pq.ParquetWriter, path: Path, rel: str) -> None:
        self.writer, self.path, self.rel = writer, path, rel
        self.buffer: list[pa.Table] = []
        self.buffered_bytes = 0
        self.rows = 0
        self.min_time: str | None = None
        self.max_time: str | None = None

    def add(self, part: pa.Table, time_column: str) -> None:
        self.buffer.append(part)
        self.buffered_bytes += part.nbytes
        self.rows += part.num_rows
        lo, hi = _time_range(part, time_column)
        if lo is not None and hi is not None:
            self.min_time = lo if self.min_time is None else min(self.min_time, lo)
            self.max_time = hi if self.max_time is None else max(self.max_time, hi)

    def flush(self) -> None:
        if self.buffer:
            self.writer.write_table(pa.concat_tables(self.buffer))
        self.buffer, self.buffered_bytes = [], 0

    def close(self) -> None:
        self.flush()
        self.writer.close()
