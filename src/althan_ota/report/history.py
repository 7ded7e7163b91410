"""The monthly history: each month's fleet report (``report fleet --snapshot HISTORY``) and proposed AHI
updates (``report reconcile --snapshot HISTORY``) kept in a Parquet dataset partitioned by month,
``HISTORY/<kind>/month=YYYY-MM/data.parquet``, and what it tells month on month (``report history``):

- ``deltas``: per month, devices listed, added, removed, upgraded, downgraded, status and supplier changes
  against the month before (the first month counts every device as added);
- ``out_of_sync``: the pairs out of sync in the latest month (hub-side and meter-side bridges of one
  installation on different firmware, as report/out_of_sync.py) and since which snapshot, without a break in
  the snapshots between (``months_out_of_sync`` counts calendar months, both ends included);
- ``ahi_updates``: every proposed AHI update with the month it was first proposed and whether a later
  reconciliation still proposes it (``still proposed``), no longer does (``applied``: the AHI now agrees) or
  none has run since (``pending``).

A month's snapshot replaces an earlier one of the same month, so re-running a month's report is harmless.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InventoryError, ParameterError
from ..fleet.schema import HUB_SIDE, METER_SIDE
from . import _duck
from .export import write_table

KINDS = ("fleet", "ahi_updates")
# the columns each kind's snapshots must have for the history to be read
NEEDED = {"fleet": ("device_id", "status", "firmware_version", "ppmid_variant", "installation_id", "supplier"),
          "ahi_updates": ("device_id", "action", "reason", "firmware_version", "status", "supplier")}
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def month_of(when: dt.date | dt.datetime | None) -> str:
    """YYYY-MM of ``when`` (UTC), or of today."""
    when = when or dt.datetime.now(dt.timezone.utc)
    if isinstance(when, dt.datetime) and when.tzinfo:
        when = when.astimezone(dt.timezone.utc)
    return f"{when.year:04d}-{when.month:02d}"


def append_snapshot(history: str | Path, kind: str, table: pa.Table, month: str) -> Path:
    """Write ``table`` as the ``kind`` snapshot of ``month`` (YYYY-MM), replacing one of that month."""
    if kind not in KINDS:
        raise ParameterError(f"unknown history kind {kind!r} (expected one of {', '.join(KINDS)})")
    if not _MONTH.fullmatch(month):
        raise ParameterError(f"history month {month!r}: expected YYYY-MM")
    return write_table(table, Path(history) / kind / f"month={month}" / "data.parquet", "parquet")


@dataclass
class History:
    months: list[str]
    deltas: pa.Table           # month, previous_month, devices, added, removed, upgraded, downgraded, ...
    out_of_sync: pa.Table      # installation_id, supplier, hub/meter device and version, since, months
    ahi_updates: pa.Table      # device_id, action, reason, firmware_version, first_proposed, last_proposed, outcome
    summary: dict
    tables: dict = field(init=False)

    def __post_init__(self):
        self.tables = {"deltas": self.deltas, "out_of_sync": self.out_of_sync, "ahi_updates": self.ahi_updates}


def snapshot_files(history: Path, kind: str) -> dict[str, Path]:
    """{month: file} of one kind, each checked to be a readable Parquet file with the columns needed."""
    found = {}
    for folder in sorted((history / kind).glob("month=*")):
        month = folder.name.removeprefix("month=")
        data = folder / "data.parquet"
        if not _MONTH.fullmatch(month) or not data.is_file():
            raise InventoryError(f"{folder}: not a month of the history (expected month=YYYY-MM/data.parquet)")
        try:
            names = pq.read_schema(data).names
        except (pa.ArrowInvalid, OSError) as exc:
            raise InventoryError(f"{data}: not a Parquet snapshot: {exc}") from None
        lacking = [c for c in NEEDED[kind] if c not in names]
        if lacking:
            raise InventoryError(f"{data}: the {kind} snapshot lacks column(s) {', '.join(lacking)}")
        found[month] = data
    return found


def history_views(history: str | Path) -> History:
    history = Path(history)
    files = {kind: snapshot_files(history, kind) for kind in KINDS}
    if not files["fleet"]:
        raise InventoryError(f"{history}: no monthly fleet snapshot (write one with "
                             "'althan-ota report fleet --snapshot HISTORY')")
    con = _duck.connect()
    try:
        for kind in KINDS:
            _register(con, kind, files[kind])
        return History(months=sorted(files["fleet"]), deltas=_deltas(con), out_of_sync=_out_of_sync(con),
                       ahi_updates=_ahi_trail(con), summary=_summary(con, files))
    finally:
        con.close()


def _register(con: duckdb.DuckDBPyConnection, kind: str, files: dict[str, Path]) -> None:
    """Table ``kind``: every month's snapshot with its month, read by pyarrow (in parallel, only the columns
    needed) and scanned by DuckDB in place."""
    schema = pa.schema([("month", pa.string())] + [(c, pa.string()) for c in NEEDED[kind]])
    parts = []
    for month, path in files.items():
        try:
            table = pq.read_table(path, columns=list(NEEDED[kind]))
        except (pa.ArrowInvalid, OSError) as exc:
            raise InventoryError(f"{path}: not a Parquet snapshot: {exc}") from None
        try:
            table = table.cast(pa.schema([(c, pa.string()) for c in NEEDED[kind]]))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InventoryError(f"{path}: a column of the {kind} snapshot is not text: {exc}") from None
        parts.append(table.add_column(0, "month", pa.array([month] * table.num_rows, pa.string())))
    con.register(kind, pa.concat_tables(parts) if parts else schema.empty_table())


def _deltas(con) -> pa.Table:
    return _duck.arrow(con, """
        WITH months AS (SELECT month, lead(month) OVER (ORDER BY month) AS next_month,
                               lag(month) OVER (ORDER BY month) AS previous_month
                        FROM (SELECT DISTINCT month FROM fleet)),
             cur AS (SELECT f.*, m.previous_month FROM fleet f JOIN months m USING (month)),
             prev AS (SELECT f.*, m.next_month FROM fleet f JOIN months m USING (month) WHERE m.next_month IS NOT NULL),
             j AS (SELECT coalesce(cur.month, prev.next_month) AS month, cur.device_id AS now_id,
                          prev.device_id AS before_id, cur.firmware_version AS now_v, prev.firmware_version AS before_v,
                          cur.status AS now_s, prev.status AS before_s, cur.supplier AS now_sup,
                          prev.supplier AS before_sup
                   FROM cur FULL JOIN prev ON prev.next_month = cur.month AND prev.device_id = cur.device_id)
        SELECT j.month, any_value(m.previous_month) AS previous_month, count(now_id)::BIGINT AS devices,
               count(*) FILTER (WHERE before_id IS NULL)::BIGINT AS added,
               count(*) FILTER (WHERE now_id IS NULL)::BIGINT AS removed,
               -- versions are 0x-prefixed 8-digit upper-case hex: text order is numeric order
               count(*) FILTER (WHERE now_v > before_v)::BIGINT AS upgraded,
               count(*) FILTER (WHERE now_v < before_v)::BIGINT AS downgraded,
               count(*) FILTER (WHERE now_s <> before_s)::BIGINT AS status_changes,
               count(*) FILTER (WHERE now_sup IS DISTINCT FROM before_sup AND now_id IS NOT NULL
                                AND before_id IS NOT NULL)::BIGINT AS supplier_changes
        FROM j JOIN months m USING (month) GROUP BY j.month ORDER BY j.month""")


def _out_of_sync(con) -> pa.Table:
    return _duck.arrow(con, f"""
        WITH months AS (SELECT month, row_number() OVER (ORDER BY month) AS n FROM (SELECT DISTINCT month FROM fleet)),
             apart AS (
                 SELECT h.month, mo.n, h.installation_id, h.supplier, h.device_id AS hub_device_id,
                        m.device_id AS meter_device_id, h.firmware_version AS hub_version,
                        m.firmware_version AS meter_version
                 FROM fleet h JOIN fleet m ON m.month = h.month AND m.installation_id = h.installation_id
                 JOIN months mo ON mo.month = h.month
                 WHERE h.ppmid_variant = '{HUB_SIDE}' AND m.ppmid_variant = '{METER_SIDE}'
                   AND h.firmware_version <> m.firmware_version),
             -- consecutive snapshots a pair was apart share n - row_number(): the run that reaches the latest
             -- snapshot is the current one (a snapshot in sync, or without the pair, breaks a run)
             runs AS (SELECT *, n - row_number() OVER (PARTITION BY installation_id ORDER BY n) AS run FROM apart),
             latest AS (SELECT max(n) AS n FROM months),
             current AS (SELECT installation_id, run FROM runs WHERE n = (SELECT n FROM latest)),
             since AS (SELECT r.installation_id, min(r.n) AS first_n FROM runs r JOIN current c USING (installation_id, run)
                       GROUP BY r.installation_id)
        SELECT r.installation_id, r.supplier, r.hub_device_id, r.meter_device_id, r.hub_version, r.meter_version,
               s.month AS out_of_sync_since,
               -- calendar months from the first out-of-sync snapshot to the latest, both counted
               (12 * left(r.month, 4)::INTEGER + right(r.month, 2)::INTEGER)
               - (12 * left(s.month, 4)::INTEGER + right(s.month, 2)::INTEGER) + 1 AS months_out_of_sync
        FROM runs r JOIN since USING (installation_id) JOIN months s ON s.n = since.first_n
        WHERE r.n = (SELECT n FROM latest)
        ORDER BY months_out_of_sync DESC, r.installation_id""")


def _ahi_trail(con) -> pa.Table:
    return _duck.arrow(con, """
        WITH runs AS (SELECT DISTINCT month FROM ahi_updates),
             proposed AS (SELECT device_id, action, firmware_version, status, month,
                                 arg_max(reason, month) OVER (PARTITION BY device_id, action, firmware_version,
                                                                          status) AS reason
                          FROM ahi_updates WHERE action IN ('add', 'update')),
             trail AS (SELECT device_id, action, any_value(reason) AS reason, firmware_version, status,
                              min(month) AS first_proposed, max(month) AS last_proposed
                       FROM proposed GROUP BY device_id, action, firmware_version, status)
        SELECT t.*, CASE WHEN t.last_proposed = (SELECT max(month) FROM runs)
                              THEN CASE WHEN t.first_proposed = t.last_proposed THEN 'pending' ELSE 'still proposed' END
                         ELSE 'applied' END AS outcome,
               (SELECT min(r.month) FROM runs r WHERE r.month > t.last_proposed) AS applied_by
        FROM trail t ORDER BY t.first_proposed, t.device_id""")


def _summary(con, files) -> dict:
    latest = con.execute("SELECT max(month), count(DISTINCT month) FROM fleet").fetchall()[0]
    return {"months": len(files["fleet"]), "first_month": min(files["fleet"]), "latest_month": latest[0],
            "reconciliations": len(files["ahi_updates"])}
