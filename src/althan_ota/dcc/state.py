"""The stand-in's durable state in one SQLite file: each user's last originator counter, how many SRV 11.4s
have named each device (its next emulator attempt), the DSP's own response counter, the alerts each accepted
11.4 still has to sign (its signing job), and the outbox of signed messages not yet acknowledged by the user's
endpoint. A request's effects (counter, attempts, activations, its alerts with their ResponseIDs reserved) are
committed in one transaction before its acknowledgement goes out, so a kill -9 loses nothing it answered; the
alerts are then signed off the request path, a chunk at a time, each chunk's outbox rows and the job's
progress in one transaction, so a restart carries on where signing stopped and signs nothing twice."""

from __future__ import annotations

import pickle
import sqlite3
import time
from pathlib import Path

from ..errors import ParameterError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (user_id TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (device_id TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    message_id TEXT PRIMARY KEY,      -- the DUIS ResponseID: the receiver de-duplicates on it
    due REAL NOT NULL,                -- emulated seconds from the campaign start
    body BLOB NOT NULL,               -- signed once; a redelivery sends the same bytes
    tries INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,   -- wall-clock time of the next try after a failed one (back-off)
    delivered INTEGER NOT NULL DEFAULT 0);
-- a device's firmware after an emulated activation, from that emulated time on (what 8.2 reads back)
CREATE TABLE IF NOT EXISTS versions (device_id TEXT PRIMARY KEY, version INTEGER NOT NULL, since REAL NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (delivered, due);
CREATE INDEX IF NOT EXISTS outbox_retrying ON outbox (not_before) WHERE delivered = 0 AND tries > 0;
-- an accepted 11.4's alerts still to sign: alert i gets the DSP response counter first + i
CREATE TABLE IF NOT EXISTS jobs (
    job_id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    first INTEGER NOT NULL,
    n INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,  -- alerts 0 .. done-1 are in the outbox
    alerts BLOB NOT NULL);            -- pickle of [(due, kind, fields)], written and read by this stand-in only
"""


class StandInState:
    def __init__(self, path: str | Path):
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            # the counts /status gives, kept here as messages move (a scan of a big outbox per status is slow)
            pending, done = self._db.execute(
                "SELECT coalesce(sum(delivered = 0), 0), coalesce(sum(delivered), 0) FROM outbox").fetchone()
            unsigned = self._db.execute("SELECT coalesce(sum(n - done), 0) FROM jobs").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise ParameterError(f"{self.path}: not a DCC stand-in state file ({exc})") from None
        self._counts = {"signed_pending": int(pending), "unsigned": int(unsigned), "delivered": int(done)}

    def close(self) -> None:
        self._db.close()

    # -- the clock's origin, kept across restarts so wall-clock emulated time carries on
    def wall_origin(self) -> float:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'wall_origin'").fetchone()
        if row is not None:
            return float(row[0])
        now = time.time()
        self._db.execute("INSERT INTO meta VALUES ('wall_origin', ?)", (repr(now),))
        return now

    def last_counter(self, user_id: str) -> int | None:
        row = self._db.execute("SELECT last FROM counters WHERE user_id = ?", (user_id,)).fetchone()
        return None if row is None else int(row[0])

    def attempts(self, device_ids) -> dict[str, int]:
        """How many SRV 11.4s named each device before (0 when none)."""
        out = dict.fromkeys(device_ids, 0)
        ids = list(out)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            marks = ",".join("?" * len(part))
            out.update(self._db.execute(f"SELECT device_id, n FROM attempts WHERE device_id IN ({marks})", part))
        return out

    def _reserve_responses(self, n: int) -> int:
        """The first of ``n`` fresh DSP response counters (for the ResponseIDs of alerts), inside a transaction."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'response_counter'").fetchone()
        first = int(row[0]) if row else 1
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('response_counter', ?)", (str(first + n),))
        return first

    def version(self, device_id: str, at: float) -> int | None:
        """The firmware an emulated activation gave the device at or before emulated time ``at``, if any."""
        row = self._db.execute("SELECT version FROM versions WHERE device_id = ? AND since <= ?",
                               (device_id, at)).fetchone()
        return None if row is None else int(row[0])

    def accept(self, user_id: str, counter: int, devices=(), versions=(), alerts=()) -> None:
        """One accepted request: its counter, the devices its 11.4 named, their activations ``(device_id,
        version, since)`` and the alerts ``(due, kind, fields)`` to sign for it (a job), in one transaction."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT INTO counters VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE SET last = excluded.last",
                       (user_id, counter))
            db.executemany("INSERT INTO attempts VALUES (?, 1) ON CONFLICT(device_id) DO UPDATE SET n = n + 1",
                           ((d,) for d in devices))
            db.executemany("INSERT OR REPLACE INTO versions VALUES (?, ?, ?)", versions)
            alerts = list(alerts)
            if alerts:
                first = self._reserve_responses(len(alerts))
                db.execute("INSERT INTO jobs (user_id, first, n, alerts) VALUES (?, ?, ?, ?)",
                           (user_id, first, len(alerts), pickle.dumps(alerts, protocol=pickle.HIGHEST_PROTOCOL)))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._counts["unsigned"] += len(alerts)

    def next_job(self) -> tuple[int, str, int, int, list] | None:
        """The oldest job with alerts left to sign: (job_id, user_id, first counter, done, alerts)."""
        row = self._db.execute("SELECT job_id, user_id, first, done, alerts FROM jobs WHERE done < n "
                               "ORDER BY job_id LIMIT 1").fetchone()
        if row is None:
            return None
        return int(row[0]), row[1], int(row[2]), int(row[3]), pickle.loads(row[4])

    def signed(self, job_id: int, done: int, messages, finished: bool) -> None:
        """Alerts of a job signed up to ``done``: their outbox rows ``(message_id, due, body)`` and the job's
        progress in one transaction (a finished job is dropped)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT INTO outbox (message_id, due, body) VALUES (?, ?, ?)", messages)
            if finished:
                db.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))
            else:
                db.execute("UPDATE jobs SET done = ? WHERE job_id = ?", (done, job_id))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._counts["unsigned"] -= len(messages)
        self._counts["signed_pending"] += len(messages)

    def due(self, until: float, wall_now: float, limit: int) -> list[tuple[str, float, bytes, int]]:
        """Undelivered messages due at or before ``until`` (emulated seconds) and out of their back-off,
        earliest first."""
        return self._db.execute(
            "SELECT message_id, due, body, tries FROM outbox WHERE delivered = 0 AND due <= ? AND not_before <= ? "
            "ORDER BY due, message_id LIMIT ?", (until, wall_now, limit)).fetchall()

    def next_due(self) -> tuple[float, float] | None:
        """(emulated due of the earliest undelivered message, wall-clock end of the earliest back-off, or 0 when
        none is backing off), both read from an index."""
        due = self._db.execute("SELECT min(due) FROM outbox WHERE delivered = 0").fetchone()[0]
        if due is None:
            return None
        retry = self._db.execute("SELECT min(not_before) FROM outbox WHERE delivered = 0 AND tries > 0").fetchone()[0]
        return float(due), float(retry or 0.0)

    def delivered(self, message_ids) -> None:
        changed = self._in_one_transaction("UPDATE outbox SET delivered = 1 WHERE message_id = ? AND delivered = 0",
                                           [(m,) for m in message_ids])
        self._counts["signed_pending"] -= changed
        self._counts["delivered"] += changed

    def failed(self, retries) -> None:
        """``retries``: (message_id, wall-clock time of its next try)."""
        self._in_one_transaction("UPDATE outbox SET tries = tries + 1, not_before = ? WHERE message_id = ?",
                                 [(t, m) for m, t in retries])

    def _in_one_transaction(self, sql: str, rows: list) -> int:
        """Run ``sql`` for each of ``rows`` in one transaction; the number of rows changed."""
        if not rows:
            return 0
        self._db.execute("BEGIN IMMEDIATE")
        try:
            changed = self._db.executemany(sql, rows).rowcount
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return changed

    def counts(self) -> dict[str, int]:
        """pending: scheduled and not yet delivered (``unsigned`` of them not yet signed); delivered."""
        c = self._counts
        return {"pending": c["signed_pending"] + c["unsigned"], "unsigned": c["unsigned"], "delivered": c["delivered"]}
