"""The live executor's journal in the campaign store: every DUIS request before it goes out (and the DCC's
acknowledgement once it came), every message received (idempotently, by its message identity) and every
message refused with the reason. A request is journalled in its own transaction BEFORE it is sent, and a
message is stored BEFORE the listener answers 2xx, so a runner killed at any moment loses nothing: on resume
a journalled request is re-sent with the same RequestID (the DCC treats it as a duplicate) and a message
already stored is not applied twice (the DCC redelivers what was not answered).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from .store import _DUCK_TYPES, CampaignStore, _ddl

DUIS_REQUESTS = pa.schema([
    ("campaign_id", pa.string()),
    ("request_id", pa.string()),            # user:target:counter
    ("counter", pa.uint64()),
    ("srv", pa.string()),                   # 11.4 or 8.2
    ("wave", pa.int32()),
    ("attempt", pa.int32()),
    ("t", pa.float64()),                    # emulated seconds since the campaign start
    ("device_ids", pa.string()),            # comma separated
    ("response_code", pa.string()),         # the DCC's synchronous answer; NULL until it came
    ("sent_t", pa.float64()),               # wall-clock mode: when it went out, on the run's clock (NULL else)
])

# one row per (message, device it moves); a message that moves no device keeps one row with device_id ''
DUIS_MESSAGES = pa.schema([
    ("campaign_id", pa.string()),
    ("message_id", pa.string()),            # ResponseID (alerts) or RequestID (answers to our requests)
    ("device_id", pa.string()),
    ("outcome", pa.string()),               # a key of the outcome table (campaign/outcomes.py)
    ("t", pa.float64()),
    ("received_at", pa.timestamp("s", tz="UTC")),
])

DUIS_REFUSED = pa.schema([
    ("campaign_id", pa.string()),
    ("received_at", pa.timestamp("s", tz="UTC")),
    ("bytes", pa.int64()),
    ("reason", pa.string()),
])

# wall-clock mode: the run's clock (live/clock.py), kept so that a resumed run carries on the same clock; no row
# for a campaign run in deterministic mode
DUIS_CLOCK = pa.schema([
    ("campaign_id", pa.string()),
    ("origin", pa.float64()),               # POSIX seconds at emulated second 0
    ("time_scale", pa.float64()),           # emulated seconds per wall second
])

JOURNAL_TABLES = {"duis_requests": DUIS_REQUESTS, "duis_messages": DUIS_MESSAGES, "duis_refused": DUIS_REFUSED,
                  "duis_clock": DUIS_CLOCK}
assert all(f.type in _DUCK_TYPES for s in JOURNAL_TABLES.values() for f in s)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


class Journal:
    """The journal of one campaign in ``store`` (its tables are created on first use)."""

    def __init__(self, store: CampaignStore, campaign_id: str):
        self.store, self.campaign_id = store, campaign_id
        with store._writing():
            for name, schema in JOURNAL_TABLES.items():
                store._run(_ddl(name, schema))
            # a journal written before wall-clock mode existed lacks the column: every request was deterministic
            store._run("ALTER TABLE duis_requests ADD COLUMN IF NOT EXISTS sent_t DOUBLE")

    # -- the clock -------------------------------------------------------------------------------------
    def clock(self) -> tuple[float, float] | None:
        """(origin, time_scale) of the campaign's wall clock, or None (deterministic, or not run live yet)."""
        rows = self.store.db.execute("SELECT origin, time_scale FROM duis_clock WHERE campaign_id = ?",
                                     [self.campaign_id]).fetchall()
        return (float(rows[0][0]), float(rows[0][1])) if rows else None

    def start_clock(self, origin: float, time_scale: float) -> None:
        with self.store._transaction():
            self.store._run("INSERT INTO duis_clock VALUES (?, ?, ?)", [self.campaign_id, origin, time_scale])

    def has_requests(self) -> bool:
        return bool(self.store.db.execute("SELECT 1 FROM duis_requests WHERE campaign_id = ? LIMIT 1",
                                          [self.campaign_id]).fetchall())

    # -- requests --------------------------------------------------------------------------------------
    def request_for(self, srv: str, wave: int, attempt: int, t: float, device_ids: str) -> dict | None:
        """The journalled request for these devices at this point of the campaign, if one was made."""
        rows = self.store._query(
            "SELECT * FROM duis_requests WHERE campaign_id = ? AND srv = ? AND wave = ? AND attempt = ? AND t = ? "
            "AND device_ids = ?", [self.campaign_id, srv, wave, attempt, t, device_ids]).to_pylist()
        return rows[0] if rows else None

    def record_request(self, request_id: str, counter: int, srv: str, wave: int, attempt: int, t: float,
                       device_ids: str) -> None:
        with self.store._transaction():
            self.store._run("INSERT INTO duis_requests (campaign_id, request_id, counter, srv, wave, attempt, t, "
                            "device_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [self.campaign_id, request_id, counter, srv, wave, attempt, t, device_ids])

    def renumber(self, request_id: str, new_request_id: str, counter: int) -> None:
        """A journalled request that is sent again under a new counter (a read: see the DCC executor)."""
        with self.store._transaction():
            self.store._run("UPDATE duis_requests SET request_id = ?, counter = ? WHERE campaign_id = ? AND "
                            "request_id = ?", [new_request_id, counter, self.campaign_id, request_id])

    def record_answer(self, request_id: str, response_code: str, outcomes: list[tuple[str, str]], t: float,
                      sent_t: float | None = None) -> None:
        """The DCC's synchronous answer to a request (``sent_t``: when the request went out, on the wall clock),
        and what it says of each device, in one transaction."""
        with self.store._transaction():
            self.store._run("UPDATE duis_requests SET response_code = ?, sent_t = ? WHERE campaign_id = ? AND "
                            "request_id = ?", [response_code, sent_t, self.campaign_id, request_id])
            self._insert_message(request_id, outcomes, t)

    # -- messages --------------------------------------------------------------------------------------
    def store_message(self, message_id: str, outcomes: list[tuple[str, str]], t: float) -> bool:
        """Store a received message's outcomes; False (and nothing written) if it was stored before."""
        with self.store._transaction():
            if self.store.db.execute("SELECT 1 FROM duis_messages WHERE campaign_id = ? AND message_id = ? LIMIT 1",
                                     [self.campaign_id, message_id]).fetchall():
                return False
            self._insert_message(message_id, outcomes, t)
        return True

    def _insert_message(self, message_id: str, outcomes: list[tuple[str, str]], t: float) -> None:
        now = _now()
        for device_id, key in outcomes or [("", "")]:
            self.store._run("INSERT INTO duis_messages VALUES (?, ?, ?, ?, ?, ?)",
                            [self.campaign_id, message_id, device_id, key, t, now])

    def messages(self) -> list[tuple[str, str, float]]:
        """(device, outcome, t) of every stored message that moves a device, in arrival order."""
        return self.store.db.execute(
            "SELECT device_id, outcome, t FROM duis_messages WHERE campaign_id = ? AND device_id <> '' "
            "ORDER BY rowid", [self.campaign_id]).fetchall()

    def refuse(self, size: int, reason: str) -> None:
        with self.store._transaction():
            self.store._run("INSERT INTO duis_refused VALUES (?, ?, ?, ?)", [self.campaign_id, _now(), size, reason])

    def refused(self) -> list[str]:
        return [r[0] for r in self.store.db.execute(
            "SELECT reason FROM duis_refused WHERE campaign_id = ? ORDER BY rowid", [self.campaign_id]).fetchall()]

    def requests(self) -> pa.Table:
        return self.store._query("SELECT * FROM duis_requests WHERE campaign_id = ? ORDER BY counter",
                                 [self.campaign_id])
