"""Status and reports of a campaign while it runs: the writer publishes a read-only snapshot of its store.

DuckDB lets one process open a database file for writing, and then no other process may open it at all, even
read-only. A campaign run holds its store for as long as it runs, which for a live DUIS campaign is days, so
``campaign status`` and every report would fail for days. Instead, after a committed write, the process that
writes the store checkpoints it and copies the file, which then holds one consistent state (or, if that
cannot be done, copies it with ``COPY FROM DATABASE`` inside DuckDB) to a file beside it and renames that over ``<store>.snapshot``; a reader that finds the store locked opens the
snapshot, read-only, with the same code it uses for a store, and says how old it is.

Why this and not the alternatives:

* a status server inside the runner would need a port, its discovery and its security, and every report would
  run in the campaign's own process, competing with it; a snapshot is a plain file every existing reader
  already understands, and readers never touch the writer;
* opening the store only while committing would make the writer wait for readers, so a long report could
  stall a live campaign; here the writer never waits for a reader, and a reader never blocks the writer (a
  reader holding an old snapshot open keeps that file; the rename gives the next reader the new one);
* a snapshot per wave would leave a days-long DUIS campaign with nothing between waves: snapshots follow
  committed transactions, so any writer of the store (the emulator's waves, a live campaign's batches of
  events) publishes without doing anything.

Copying costs time in proportion to the store, so publishing is paced: a snapshot is taken after a commit
only once ``(1 - BUDGET) / BUDGET`` times as long as the last copy took has passed since it, which keeps
copying under BUDGET (10%) of the writer's time however big the store grows. A commit that changes the
campaign's status (running, paused, aborted, finished) always publishes; a writer that goes quiet after a
paced-out commit calls ``publish_pending()`` from its idle loop. A process that holds the store for less
than FIRST_AFTER_S never publishes (nobody could have waited for it). The snapshot needs as much disk as the store; a
snapshot that cannot be written never stops the campaign (the next commit would report a full disk). When
the writer closes the store the snapshot is removed: readers open the store itself again.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from pathlib import Path

import duckdb

SUFFIX = ".snapshot"
BUDGET = 0.10
# A process holding the store for less than this never publishes: a command that writes a line and closes
# (a pause, a DUIS counter reservation) would copy the whole store for nobody.
FIRST_AFTER_S = 1.0


def snapshot_path(store_path: str | Path) -> Path | None:
    """Where the snapshot of the store at ``store_path`` lives (None for an in-memory store)."""
    text = str(store_path)
    return None if text in (":memory:", "") else Path(text + SUFFIX)


def is_locked_by_writer(exc: Exception) -> bool:
    """Whether an error opening a store (DuckDB's, or ours quoting it) says another process holds it."""
    return "Conflicting lock" in str(exc)


def published_at(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).replace(microsecond=0)


def readable_snapshot(store_path: str | Path, exc: Exception) -> Path:
    """The snapshot to read instead of a store that ``exc`` says is locked; re-raises ``exc`` when it is about
    something else, and explains when the writer has not published one yet."""
    from ..errors import CampaignError

    snapshot = snapshot_path(store_path)
    if not is_locked_by_writer(exc) or snapshot is None:
        raise exc
    if not snapshot.is_file():
        raise CampaignError(f"the campaign store {store_path} is in use by a running campaign, which has not "
                            f"published a snapshot ({snapshot.name}) yet; try again in a moment")
    return snapshot


class Publisher:
    """Publishes snapshots of the database ``db`` (open read-write on ``store_path``) after its commits."""

    def __init__(self, db: duckdb.DuckDBPyConnection, store_path: str | Path, budget: float = BUDGET):
        self.db = db
        self.path = snapshot_path(store_path)
        self.budget = budget
        self.pending = False
        self.last_error: str | None = None
        self._opened = time.monotonic()
        self._last_end = -float("inf")
        self._last_cost = 0.0

    def committed(self, force: bool = False) -> None:
        """Call after every committed write; publishes now if it is due (or ``force``), once the store has
        been held for FIRST_AFTER_S."""
        self.pending = True
        now = time.monotonic()
        if now - self._opened < FIRST_AFTER_S:
            return
        if force or now - self._last_end >= self._last_cost * (1 - self.budget) / self.budget:
            self.publish()

    def publish_pending(self) -> None:
        if self.pending:
            self.publish()

    def publish(self) -> None:
        if self.path is None:
            return
        start = time.monotonic()
        partial = self.path.with_name(f".{self.path.name}.partial")
        partial.unlink(missing_ok=True)
        try:
            if not self._copy_checkpointed_file(partial):
                partial.unlink(missing_ok=True)
                source = self.db.execute("SELECT current_database()").fetchall()[0][0]
                self.db.execute(f"ATTACH '{_sql_text(partial)}' AS althan_snapshot_out").fetchall()
                try:
                    self.db.execute(f'COPY FROM DATABASE "{source}" TO althan_snapshot_out').fetchall()
                finally:
                    self.db.execute("DETACH althan_snapshot_out").fetchall()
            os.replace(partial, self.path)
            self.pending, self.last_error = False, None
        except (duckdb.Error, OSError) as exc:
            self.last_error = str(exc)          # a snapshot is a convenience: the campaign goes on without it
        finally:
            partial.unlink(missing_ok=True)
            Path(str(partial) + ".wal").unlink(missing_ok=True)
            self._last_end = time.monotonic()
            self._last_cost = self._last_end - start


    def _copy_checkpointed_file(self, partial: Path) -> bool:
        """Once checkpointed, the database file alone holds every committed transaction (its WAL is empty),
        so a plain file copy is a consistent snapshot: a tenth of a second where COPY FROM DATABASE re-encodes
        every table for seconds (the store of a national campaign, after each wave). Nothing can write the
        file meanwhile -- DuckDB's lock keeps other processes out and this connection is busy publishing --
        and the copy is kept only if the file and its WAL are as they were before it; otherwise (or if the
        checkpoint is refused, or there is no ``cp``) False, and the caller copies through DuckDB."""
        store = self.path.with_name(self.path.name[:-len(SUFFIX)])
        wal = Path(str(store) + ".wal")
        try:
            self.db.execute("CHECKPOINT").fetchall()
        except duckdb.Error:
            return False
        before = _file_state(store, wal)
        if before is None or before[2]:
            return False
        # by another process: this one closing any descriptor of the store file would drop DuckDB's lock on it
        # (POSIX record locks belong to the process and the file, not to the descriptor that took them)
        try:
            subprocess.run(["cp", "--", str(store), str(partial)], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            return False
        return _file_state(store, wal) == before

    def discard(self) -> None:
        """The writer is closing the store: readers can open it again, so the snapshot has done its job."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def _file_state(store: Path, wal: Path) -> tuple[int, int, int] | None:
    """(size, modification time in ns, WAL size) of the store file, or None if it cannot be read."""
    try:
        stat = store.stat()
    except OSError:
        return None
    try:
        wal_size = wal.stat().st_size
    except FileNotFoundError:
        wal_size = 0
    return stat.st_size, stat.st_mtime_ns, wal_size


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")
