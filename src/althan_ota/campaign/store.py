"""The campaign store: an embedded DuckDB file (no server) holding, per campaign, the plan, every device's
current state, every state transition, the transfer costs, and which waves are committed.

Each wave is committed in one transaction, so an interrupted run (Ctrl-C, kill -9, power loss, a full disk)
loses at most the wave in flight, and resuming replays that wave deterministically: the result equals an
uninterrupted run. A write the disk refuses is a CampaignStoreError. While a process writes the store, it
publishes a read-only snapshot of it after its commits, for status and reports (see snapshot.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from ..errors import CampaignError, CampaignStoreError
from ..stage_profile import stage
from .snapshot import Publisher, published_at, readable_snapshot
from .store_tables import CAMPAIGNS, DEVICES, EVENTS, REQUESTS, TRANSFERS
from .states import State

WAVES = pa.schema([
    ("campaign_id", pa.string()),
    ("wave", pa.int32()),
    ("devices", pa.int64()),
    ("failed", pa.int64()),
    ("failure_rate", pa.float64()),
    ("t_start", pa.float64()),
    ("t_end", pa.float64()),
    ("decision", pa.string()),          # continue, pause, abort
])

RUN_STATE = pa.schema([
    ("campaign_id", pa.string()),
    ("seed", pa.uint64()),
    ("fleet_path", pa.string()),
    ("fleet_rows", pa.int64()),
    ("emulation_json", pa.string()),
])

# the fleet rows the plan made eligible when the campaign was created, one bit per row (numpy packbits): a
# resumed run plans its waves on them, so a device that left the plan's scope since does not reshuffle them
# (it is withdrawn instead). Stores written before it have no row: a resume there plans on the fleet given.
PLANNED_TARGETS = pa.schema([
    ("campaign_id", pa.string()),
    ("fleet_rows", pa.int64()),
    ("eligible_rows", pa.binary()),
])

# DUIS originator counters: the last counter each user (EUI-64) put in a RequestID. Not per campaign: the DCC
# requires a user's counters to increase strictly across everything it sends.
ORIGINATOR_COUNTERS = pa.schema([
    ("user_id", pa.string()),
    ("last_counter", pa.uint64()),
])

TABLES = {"campaigns": CAMPAIGNS, "devices": DEVICES, "events": EVENTS, "transfers": TRANSFERS,
          "waves": WAVES, "run_state": RUN_STATE, "requests": REQUESTS, "planned_targets": PLANNED_TARGETS}
STORE_TABLES = {"originator_counters": ORIGINATOR_COUNTERS}     # not per campaign
MAX_ORIGINATOR_COUNTER = 2**64 - 1

_DUCK_TYPES = {pa.string(): "VARCHAR", pa.uint8(): "UTINYINT", pa.int32(): "INTEGER", pa.int64(): "BIGINT",
               pa.uint32(): "UINTEGER", pa.uint64(): "UBIGINT", pa.float64(): "DOUBLE",
               pa.timestamp("s", tz="UTC"): "TIMESTAMPTZ", pa.binary(): "BLOB"}


def _ddl(name: str, schema: pa.Schema) -> str:
    cols = ", ".join(f"{f.name} {_DUCK_TYPES[f.type]}" for f in schema)
    return f"CREATE TABLE IF NOT EXISTS {name} ({cols})"


class CampaignStore:
    """One DuckDB file; many campaigns. Open it, use it, close it (or use ``with``)."""

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = str(path)
        self.snapshot_at: dt.datetime | None = None     # set when reading a running campaign's snapshot
        try:
            self.db = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise CampaignError(f"cannot open the campaign store {self.path}: {exc}") from None
        self.snapshots = None if read_only else Publisher(self.db, self.path)
        if not read_only:
            with self._writing():
                for name, schema in (TABLES | STORE_TABLES).items():
                    self._run(_ddl(name, schema))

    @classmethod
    def for_reading(cls, path: str | Path) -> "CampaignStore":
        """The store read-only or, while a campaign run holds it, its latest snapshot (``snapshot_at`` says
        when that was published)."""
        for _ in range(3):      # the writer may finish (and drop its snapshot) between two attempts
            try:
                return cls(path, read_only=True)
            except CampaignError as exc:
                snapshot = readable_snapshot(path, exc)
            try:
                store = cls(snapshot, read_only=True)
            except CampaignError:
                continue
            store.snapshot_at = published_at(snapshot)
            return store
        raise CampaignError(f"cannot open the campaign store {path} or its snapshot; try again")

    def close(self) -> None:
        if self.snapshots is not None:
            self.snapshots.discard()    # readers open the store itself again once this process lets go
        try:
            self.db.close()
        except duckdb.Error as exc:
            raise CampaignStoreError(f"cannot write the campaign store {self.path} on closing it: {exc}") from None

    def __enter__(self) -> "CampaignStore":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.close()
        except CampaignStoreError:
            if exc_type is None:
                raise           # else the error already on its way says what went wrong first

    # -- campaigns -------------------------------------------------------------------------------------
    def create(self, campaign_id: str, name: str, environment: str, target_version: int, image_sha256: str,
               plan_json: str, seed: int, fleet_path: str, fleet_rows: int, emulation_json: str,
               devices: pa.Table | None = None, events: pa.Table | None = None,
               eligible_rows: bytes | None = None) -> None:
        """Register a campaign, with the rows of ``devices`` it will never request (and their ``events``) in
        the same transaction: a campaign is in the store whole or not at all."""
        if self.campaign(campaign_id, missing_ok=True) is not None:
            raise CampaignError(f"campaign {campaign_id!r} already exists in {self.path}")
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        with self._transaction():
            self._run("INSERT INTO campaigns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [campaign_id, name, environment, target_version, image_sha256, now, now, "planned",
                             plan_json])
            self._run("INSERT INTO run_state VALUES (?, ?, ?, ?, ?)",
                      [campaign_id, seed, fleet_path, fleet_rows, emulation_json])
            if eligible_rows is not None:
                self._run("INSERT INTO planned_targets VALUES (?, ?, ?)", [campaign_id, fleet_rows, eligible_rows])
            if devices is not None:
                self._insert_rows(devices, events)

    def campaign(self, campaign_id: str, missing_ok: bool = False) -> dict | None:
        row = self._query("SELECT * FROM campaigns c JOIN run_state r USING (campaign_id) WHERE campaign_id = ?",
                          [campaign_id]).to_pylist()
        if not row:
            if missing_ok:
                return None
            known = [r[0] for r in self.db.execute("SELECT campaign_id FROM campaigns").fetchall()]
            raise CampaignError(f"no campaign {campaign_id!r} in {self.path}; known: {known or 'none'}")
        return row[0]

    def campaigns(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT campaign_id FROM campaigns ORDER BY created_at").fetchall()]

    def set_status(self, campaign_id: str, status: str) -> None:
        self.campaign(campaign_id)
        with self._transaction(publish_now=True):
            self._run("UPDATE campaigns SET status = ? WHERE campaign_id = ?", [status, campaign_id])

    def status(self, campaign_id: str) -> str:
        return self.campaign(campaign_id)["status"]

    # -- waves -----------------------------------------------------------------------------------------
    def committed_waves(self, campaign_id: str) -> list[dict]:
        return self._query("SELECT * FROM waves WHERE campaign_id = ? ORDER BY wave", [campaign_id]).to_pylist()

    def commit_wave(self, campaign_id: str, wave: dict, devices: pa.Table, events: pa.Table,
                    transfers: pa.Table, status: str, requests: pa.Table | None = None) -> None:
        """Everything one wave produced, atomically: its devices' final rows, events, transfer costs, the
        requests it sent with the supplier each was charged to, the wave record and the campaign status."""
        with stage(f"wave {wave['wave']} store"), self._transaction(publish_now=status != "running"):
            self.db.register("_devices", devices)
            self.db.register("_events", events)
            self.db.register("_transfers", transfers)
            self._run("DELETE FROM devices WHERE campaign_id = ? AND device_id IN "
                            "(SELECT device_id FROM _devices)", [campaign_id])
            self._run("INSERT INTO devices SELECT * FROM _devices")
            self._run("INSERT INTO events SELECT * FROM _events")
            self._run("INSERT INTO transfers SELECT * FROM _transfers")
            if requests is not None and requests.num_rows:
                self.db.register("_requests", requests)
                self._run("INSERT INTO requests SELECT * FROM _requests")
                self.db.unregister("_requests")
            self._run("INSERT INTO waves VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [campaign_id, wave["wave"], wave["devices"], wave["failed"], wave["failure_rate"],
                             wave["t_start"], wave["t_end"], wave["decision"]])
            self._run("UPDATE campaigns SET status = ? WHERE campaign_id = ?", [status, campaign_id])
            for name in ("_devices", "_events", "_transfers"):
                self.db.unregister(name)

    def insert_devices(self, campaign_id: str, devices: pa.Table, events: pa.Table) -> None:
        """Rows for devices the campaign will never request (not eligible), or cancelled ones."""
        with self._transaction():
            self._insert_rows(devices, events)

    def _insert_rows(self, devices: pa.Table, events: pa.Table) -> None:
        self.db.register("_devices", devices)
        self.db.register("_events", events)
        self._run("INSERT INTO devices SELECT * FROM _devices")
        self._run("INSERT INTO events SELECT * FROM _events")
        self.db.unregister("_devices")
        self.db.unregister("_events")

    # -- DUIS originator counters ----------------------------------------------------------------------
    def next_request_counters(self, user_id: str, n: int = 1, floor: int = 1) -> range:
        """Reserve ``n`` originator counters for ``user_id`` in one transaction and return them (ascending).
        Every reservation starts above everything reserved before, also across runs and processes that share
        the file; ``floor`` raises the start (e.g. above counters another tool already used)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise CampaignError(f"reserve at least one counter, not {n!r}")
        if isinstance(floor, bool) or not isinstance(floor, int) or floor < 0:
            raise CampaignError(f"floor must be a non-negative integer, not {floor!r}")
        with self._transaction():
            row = self._last_counter_row(user_id)
            first = max(int(row[0][0]) + 1 if row else 1, floor)
            last = first + n - 1
            if last > MAX_ORIGINATOR_COUNTER:
                raise CampaignError(f"originator counters for {user_id} would pass 2^64-1 (DUIS's limit)")
            if row:
                self._run("UPDATE originator_counters SET last_counter = ? WHERE user_id = ?", [last, user_id])
            else:
                self._run("INSERT INTO originator_counters VALUES (?, ?)", [user_id, last])
        return range(first, last + 1)

    def last_request_counter(self, user_id: str) -> int | None:
        row = self._last_counter_row(user_id)
        return int(row[0][0]) if row else None

    def _last_counter_row(self, user_id: str) -> list:
        try:
            return self.db.execute("SELECT last_counter FROM originator_counters WHERE user_id = ?",
                                   [user_id]).fetchall()
        except duckdb.Error as exc:     # e.g. a store from before DUIS, opened read-only
            raise CampaignError(f"{self.path} keeps no originator counters: {exc}") from None

    # -- reading ---------------------------------------------------------------------------------------
    def table(self, name: str, campaign_id: str) -> pa.Table:
        if name not in TABLES:
            raise CampaignError(f"unknown store table {name!r}; known: {sorted(TABLES)}")
        return self._query(f"SELECT * FROM {name} WHERE campaign_id = ?", [campaign_id])

    def requests_sent(self, campaign_id: str) -> pa.Table:
        """The SRV 11.4 requests of the committed waves, one row per (time, attempt) they went out at, with
        how many went together (a unit's requests share their time): what the request book is rebuilt from."""
        return self._query("SELECT t, attempt, count(*) AS requests FROM events WHERE campaign_id = ? AND "
                           "state = ? GROUP BY t, attempt ORDER BY t", [campaign_id, int(State.REQUESTED)])

    def requests_charged(self, campaign_id: str) -> pa.Table:
        """Every SRV 11.4 request of the committed waves (device_id, t, attempt) with the supplier the book
        charged it to (``supplier``) where the store keeps its request record (``recorded``); a store written
        before request records were kept has none."""
        where = f"e.campaign_id = ? AND e.state = {int(State.REQUESTED)}"
        if not self._has_table("requests"):
            return self._query("SELECT e.device_id, e.t, e.attempt, NULL::VARCHAR AS supplier, false AS recorded "
                               f"FROM events e WHERE {where} ORDER BY e.t, e.device_id", [campaign_id])
        return self._query("SELECT e.device_id, e.t, e.attempt, r.supplier, r.campaign_id IS NOT NULL AS recorded "
                           "FROM events e LEFT JOIN requests r ON r.campaign_id = e.campaign_id AND "
                           "r.device_id = e.device_id AND r.t = e.t AND r.attempt = e.attempt "
                           f"WHERE {where} ORDER BY e.t, e.device_id", [campaign_id])

    def request_suppliers(self, campaign_id: str) -> pa.Table:
        """The store's request records (REQUESTS) of the campaign: each request with the supplier it was charged
        to; empty for a store written before they were kept."""
        if not self._has_table("requests"):
            return REQUESTS.empty_table()
        return self._query("SELECT * FROM requests WHERE campaign_id = ?", [campaign_id])

    def planned_targets(self, campaign_id: str) -> bytes | None:
        """The packed eligible-row bits the campaign was planned with (PLANNED_TARGETS), or None for a campaign
        of a store written before they were kept."""
        if not self._has_table("planned_targets"):
            return None
        row = self.db.execute("SELECT eligible_rows FROM planned_targets WHERE campaign_id = ?",
                              [campaign_id]).fetchall()
        return bytes(row[0][0]) if row else None

    def _has_table(self, name: str) -> bool:
        return bool(self.db.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND "
                                    "table_catalog = current_database()", [name]).fetchall()[0][0])

    def state_counts(self, campaign_id: str) -> dict[int, int]:
        rows = self.db.execute("SELECT state, count(*) FROM devices WHERE campaign_id = ? GROUP BY state",
                               [campaign_id]).fetchall()
        return {int(s): int(c) for s, c in rows}

    def _run(self, sql: str, params: list | None = None) -> None:
        """A statement whose result nobody reads; DuckDB 2 wants every result consumed before the next."""
        self.db.execute(sql, params or []).fetchall()

    def _query(self, sql: str, params: list) -> pa.Table:
        relation = self.db.sql(sql, params=params)
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow   # DuckDB >= 1.4 / before
        return fetch()

    def _transaction(self, publish_now: bool = False):
        """A write transaction; once committed, the snapshot for readers is refreshed (when due, or now)."""
        return _Transaction(self, publish_now)

    def _writing(self):
        return _Writing(self.path)


class _Writing:
    """Turns DuckDB's I/O failures while writing (a full disk) into a CampaignStoreError naming the store."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and issubclass(exc_type, (duckdb.IOException, duckdb.TransactionException)):
            raise CampaignStoreError(f"cannot write the campaign store {self.path}: {exc}") from None
        return False


class _Transaction:
    def __init__(self, store: CampaignStore, publish_now: bool):
        self.store, self.publish_now = store, publish_now

    def __enter__(self):
        self.store.db.execute("BEGIN TRANSACTION").fetchall()

    def __exit__(self, exc_type, exc, tb):
        with self.store._writing():
            if exc_type is not None:
                try:
                    self.store.db.execute("ROLLBACK").fetchall()
                except duckdb.Error:
                    pass        # the transaction may be gone already (DuckDB aborts it on a failed write)
                if issubclass(exc_type, (duckdb.IOException, duckdb.TransactionException)):
                    raise exc
                return False
            self.store.db.execute("COMMIT").fetchall()
        if self.store.snapshots is not None:
            self.store.snapshots.committed(force=self.publish_now)
        return False
