"""Opening a campaign store (a DuckDB file written by the campaign engine) read-only for the reports.

The store must hold the tables of ``campaign.store_tables`` with at least their columns, and record only the
(state, reason) pairs of the outcome table (``campaign.outcomes``); anything else is an InventoryError naming
what is missing or unknown, so a wrong or half-written file never yields an empty report, and no device is
filed under a cause the table does not give it. While a campaign runs, its process holds the store: the
snapshot it publishes is read instead (``snapshot_at`` says when it was published; see campaign/snapshot.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..campaign import Reason, State, store_tables
from ..campaign.outcomes import state_pairs
from ..campaign.snapshot import is_locked_by_writer, published_at, readable_snapshot
from ..errors import InventoryError
from . import _duck

TABLES = {"campaigns": store_tables.CAMPAIGNS, "devices": store_tables.DEVICES, "events": store_tables.EVENTS,
          "transfers": store_tables.TRANSFERS}
CATALOG = "store"


@dataclass
class Store:
    """A store attached read-only to ``con`` as catalog ``store``: query ``store.events`` and so on."""

    con: duckdb.DuckDBPyConnection
    path: Path
    snapshot_at: dt.datetime | None = None     # read from a running campaign's snapshot published then

    def campaigns(self) -> list[dict]:
        rows = self.con.execute(
            f"SELECT campaign_id, name, status, target_version, started_at, created_at FROM {CATALOG}.campaigns "
            "ORDER BY coalesce(started_at, created_at), campaign_id").fetchall()
        keys = ("campaign_id", "name", "status", "target_version", "started_at", "created_at")
        return [dict(zip(keys, row)) for row in rows]

    def campaign_id(self, wanted: str | None = None) -> str:
        """``wanted`` if the store has it, else the campaign that started last."""
        known = [c["campaign_id"] for c in self.campaigns()]
        if not known:
            raise InventoryError(f"{self.path}: the campaign store holds no campaign")
        if wanted is None:
            return known[-1]
        if wanted not in known:
            raise InventoryError(f"{self.path}: no campaign {wanted!r} in the store (it has {', '.join(known)})")
        return wanted


def open_store(path: str | Path, con: duckdb.DuckDBPyConnection | None = None) -> Store:
    """Attach the DuckDB file at ``path`` read-only (to ``con``, or a new in-memory connection) and check
    that it has every table and column of campaign.store_tables."""
    path = Path(path)
    if not path.is_file():
        raise InventoryError(f"{path}: no such campaign store")
    con = con or _duck.connect()
    snapshot_at = None
    try:
        con.execute(f"ATTACH {_duck.quote(path)} AS {CATALOG} (READ_ONLY)")
    except duckdb.Error as exc:
        if not is_locked_by_writer(exc):
            raise InventoryError(f"{path}: cannot open as a DuckDB campaign store: {exc}") from None
        # a campaign is running on it: read the snapshot it publishes (campaign/snapshot.py)
        snapshot = readable_snapshot(path, exc)
        snapshot_at = published_at(snapshot)
        con.execute(f"ATTACH {_duck.quote(snapshot)} AS {CATALOG} (READ_ONLY)")
    found: dict[str, set[str]] = {}
    for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_catalog = ?",
            [CATALOG]).fetchall():
        found.setdefault(table, set()).add(column)
    problems = [f"table {name}" for name in TABLES if name not in found]
    for name, arrow_schema in TABLES.items():
        lacking = [c for c in arrow_schema.names if name in found and c not in found[name]]
        if lacking:
            problems.append(f"column(s) {', '.join(lacking)} of table {name}")
    if problems:
        con.execute(f"DETACH {CATALOG}")
        raise InventoryError(f"{path}: not a campaign store: missing {'; '.join(problems)}")
    unknown = _unknown_outcomes(con)
    if unknown:
        con.execute(f"DETACH {CATALOG}")
        raise InventoryError(f"{path}: the campaign store records outcomes the outcome table (campaign/outcomes.py) "
                             f"does not know: {'; '.join(unknown)}")
    return Store(con=con, path=path, snapshot_at=snapshot_at)


def _unknown_outcomes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Each (state, reason) in the store's devices and events that no outcome of the table records."""
    known = state_pairs()
    found = con.execute(f"""
        SELECT state, reason, sum(n)::BIGINT, min(example) FROM (
            SELECT state, reason, count(*) AS n, min(device_id) AS example FROM {CATALOG}.devices GROUP BY ALL
            UNION ALL
            SELECT state, reason, count(*), min(device_id) FROM {CATALOG}.events GROUP BY ALL)
        GROUP BY state, reason ORDER BY state, reason""").fetchall()
    return [f"state {_label(State, s)} with reason {_label(Reason, r)} ({n:,} rows, e.g. device {example})"
            for s, r, n, example in found if (s, r) not in known]


def _label(enum, code) -> str:
    try:
        return enum(code).label
    except ValueError:
        return f"code {code}"
