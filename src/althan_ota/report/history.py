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

Versions compare as numbers and device IDs as EUI-64s where they are ones (``_MonthlySnapshots``): each
snapshot is read once into a compact table of integers, so 24 months of a national fleet stay in memory and
each month joins the one before as integers.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import InventoryError, ParameterError
from ..fleet.ids import format_eui64, parse_eui64_column, parse_version_column
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
    months = sorted(files["fleet"])
    con = _duck.connect()
    try:
        snapshots = _MonthlySnapshots(con, months, [files["fleet"][m] for m in months])
        _register(con, "ahi_updates", files["ahi_updates"])
        return History(months=months, deltas=_deltas(con, snapshots), out_of_sync=_out_of_sync(con, snapshots),
                       ahi_updates=_ahi_trail(con), summary=_summary(months, files))
    finally:
        con.close()


def _register(con: duckdb.DuckDBPyConnection, kind: str, files: dict[str, Path]) -> None:
    """Table ``kind``: every month's snapshot with its month, read by pyarrow (only the columns needed) and
    scanned by DuckDB in place. (The AHI updates: a few rows a month.)"""
    schema = pa.schema([("month", pa.string())] + [(c, pa.string()) for c in NEEDED[kind]])
    parts = []
    for month, path in files.items():
        table = _read(path, NEEDED[kind])
        try:
            table = table.cast(pa.schema([(c, pa.string()) for c in NEEDED[kind]]))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InventoryError(f"{path}: a column of the {kind} snapshot is not text: {exc}") from None
        parts.append(table.add_column(0, "month", pa.array([month] * table.num_rows, pa.string())))
    con.register(kind, pa.concat_tables(parts) if parts else schema.empty_table())


def _read(path: Path, columns, dictionary=()) -> pa.Table:
    try:
        return pq.read_table(path, columns=list(columns), read_dictionary=list(dictionary))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InventoryError(f"{path}: not a Parquet snapshot: {exc}") from None


# the columns a fleet snapshot's deltas compare, as dictionary codes shared by every month
_CODED = ("status", "supplier")
# read as Parquet dictionaries: few distinct values, never decoded into one string per row (a version is
# parsed once per distinct value)
_DICTIONARY = (*_CODED, "ppmid_variant", "firmware_version")


class _MonthlySnapshots:
    """The fleet snapshots, each file read once, months in parallel (pyarrow and the ID kernel release the GIL):

    - ``tables``: one compact table per month: ``device`` (the EUI-64 as uint64 when every snapshot's IDs are
      EUI-64s, else their text, canonical where they parse), ``version`` (uint32, null where the text is no
      version), status and supplier as codes into one dictionary per column shared by every month, so months
      compare as integers;
    - ``apart_now``: the pairs apart in the latest month, as its text gives them (installation, supplier, both
      devices and versions), and ``apart`` their installations;
    - ``pair_codes``: every month's hub-side and meter-side bridges of those installations only, as integers
      (month index n, the installation's index in ``apart``, hub side or not, version): all an age needs.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, months: list[str], paths: list[Path]):
        from concurrent.futures import ThreadPoolExecutor

        self.months, self.paths = months, paths
        self.dictionaries: dict[str, list] = {c: [] for c in _CODED}
        latest = len(paths) - 1
        table, latest_pairs = self._read_month(latest, None)
        con.register("latest_pairs", latest_pairs)
        self.apart_now = _duck.arrow(con, f"""
            SELECT h.installation_id, h.supplier, h.device_id AS hub_device_id, m.device_id AS meter_device_id,
                   h.firmware_version AS hub_version, m.firmware_version AS meter_version
            FROM latest_pairs h JOIN latest_pairs m USING (installation_id)
            WHERE h.ppmid_variant = '{HUB_SIDE}' AND m.ppmid_variant = '{METER_SIDE}' AND h.version <> m.version""")
        con.unregister("latest_pairs")
        self.apart = pc.unique(self.apart_now["installation_id"].combine_chunks())
        with ThreadPoolExecutor() as pool:
            earlier = list(pool.map(lambda n: self._read_month(n, self.apart), range(latest)))
        compact = [t for t, _ in earlier] + [table]
        self.pair_codes = pa.concat_tables([*(codes for _, codes in earlier),
                                            _pair_codes(latest_pairs, latest, self.apart)])
        self.tables = [self._coded(t) for t in compact]
        if not all(pa.types.is_uint64(t["device"].type) for t in self.tables):
            self.tables = [t.set_column(t.schema.get_field_index("device"), "device", _as_text_ids(t["device"]))
                           for t in self.tables]

    def _read_month(self, n: int, apart: pa.Array | None) -> tuple[pa.Table, pa.Table]:
        """Month n's compact table, and its pair codes for the installations in ``apart``; for the latest month
        (``apart`` None: not known yet) every hub-side and meter-side row as text instead."""
        path = self.paths[n]
        table = _read(path, ("device_id", "installation_id", *_DICTIONARY), dictionary=_DICTIONARY)
        for name in table.column_names:
            kind = table[name].type.value_type if pa.types.is_dictionary(table[name].type) else table[name].type
            if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
                raise InventoryError(f"{path}: column {name} of the fleet snapshot is not text ({kind})")
        device = parse_eui64_column(table["device_id"])
        versions = table["firmware_version"].combine_chunks()
        parsed = parse_version_column(versions.dictionary, strict=False)
        version = pc.take(pa.array(parsed.values, mask=~parsed.valid), versions.indices)
        compact = pa.table({
            "device": (pa.array(device.values) if device.valid.all()
                       else _canonical_where_valid(table["device_id"], device)),
            "version": version, **{name: table[name] for name in _CODED}})
        variant = table["ppmid_variant"].cast(pa.string())
        rows = pa.table({"installation_id": table["installation_id"], "ppmid_variant": variant, "version": version})
        bridge = pc.is_in(variant, value_set=pa.array([HUB_SIDE, METER_SIDE]))
        if apart is not None:
            return compact, _pair_codes(rows.filter(bridge), n, apart)
        text = table.select(("supplier", "device_id", "firmware_version")).cast(
            pa.schema([(c, pa.string()) for c in ("supplier", "device_id", "firmware_version")]))
        for name in text.column_names:
            rows = rows.append_column(name, text[name])
        return compact, rows.set_column(0, "installation_id", rows["installation_id"].cast(pa.string())).filter(bridge)

    def _coded(self, table: pa.Table) -> pa.Table:
        """Status and supplier as int32 codes into the shared dictionaries (null stays null)."""
        for name in _CODED:
            column = table[name].combine_chunks()
            if not pa.types.is_dictionary(column.type):
                column = column.dictionary_encode()
            values = self.dictionaries[name]
            known = {v: i for i, v in enumerate(values)}
            codes = []
            for value in column.dictionary.to_pylist():
                if value not in known:
                    known[value] = len(values)
                    values.append(value)
                codes.append(known[value])
            coded = pc.take(pa.array(codes, pa.int32()), column.indices) if codes else \
                pa.nulls(len(column), pa.int32())
            table = table.set_column(table.schema.get_field_index(name), name, coded)
        return table


def _pair_codes(rows: pa.Table, n: int, apart: pa.Array) -> pa.Table:
    """Hub-side and meter-side ``rows`` of the installations in ``apart``, as (n, installation index, hub,
    version)."""
    inst = pc.index_in(rows["installation_id"], value_set=apart) if len(apart) else \
        pa.nulls(rows.num_rows, pa.int32())
    rows = pa.table({"n": pa.array(np.full(rows.num_rows, n, np.int32)), "inst": inst,
                     "hub": pc.equal(rows["ppmid_variant"], HUB_SIDE), "version": rows["version"]})
    return rows.filter(pc.is_valid(rows["inst"]))


def _canonical_where_valid(text: pa.ChunkedArray, parsed) -> pa.Array:
    """Device IDs as text: the canonical EUI-64 where the text is one, else the text as given."""
    canonical = format_eui64(parsed.values, parsed.valid)
    return pc.if_else(pa.array(parsed.valid), canonical, text.combine_chunks().cast(pa.string()))


def _as_text_ids(device: pa.ChunkedArray) -> pa.Array:
    if pa.types.is_uint64(device.type):
        return format_eui64(device.to_numpy(), None)
    return device.combine_chunks()


def _deltas(con: duckdb.DuckDBPyConnection, snapshots: _MonthlySnapshots) -> pa.Table:
    """Each month against the one before, one month pair at a time (a hash join of two compact tables)."""
    rows = []
    for n, month in enumerate(snapshots.months):
        if n == 0:
            devices = snapshots.tables[0].num_rows
            rows.append({"month": month, "previous_month": None, "devices": devices, "added": devices, "removed": 0,
                         "upgraded": 0, "downgraded": 0, "status_changes": 0, "supplier_changes": 0})
            continue
        con.register("now", snapshots.tables[n])
        con.register("before", snapshots.tables[n - 1])
        counts = con.execute("""
            SELECT count(now.device)::BIGINT, count(*) FILTER (WHERE before.device IS NULL)::BIGINT,
                   count(*) FILTER (WHERE now.device IS NULL)::BIGINT,
                   count(*) FILTER (WHERE now.version > before.version)::BIGINT,
                   count(*) FILTER (WHERE now.version < before.version)::BIGINT,
                   count(*) FILTER (WHERE now.status <> before.status)::BIGINT,
                   count(*) FILTER (WHERE now.supplier IS DISTINCT FROM before.supplier AND now.device IS NOT NULL
                                    AND before.device IS NOT NULL)::BIGINT
            FROM now FULL JOIN before ON now.device = before.device""").fetchall()[0]
        rows.append(dict(zip(DELTAS.names, (month, snapshots.months[n - 1], *counts))))
        con.unregister("now")
        con.unregister("before")
    return pa.Table.from_pylist(rows, schema=DELTAS)


DELTAS = pa.schema([("month", pa.string()), ("previous_month", pa.string())]
                   + [(c, pa.int64()) for c in ("devices", "added", "removed", "upgraded", "downgraded",
                                                "status_changes", "supplier_changes")])


def _out_of_sync(con: duckdb.DuckDBPyConnection, snapshots: _MonthlySnapshots) -> pa.Table:
    """The pairs apart in the latest snapshot (as its text gives them), and since which snapshot without a
    break (a snapshot in sync, or without the pair, breaks a run)."""
    latest = len(snapshots.months) - 1
    con.register("pair_codes", snapshots.pair_codes)
    # apart: some hub-side and some meter-side version differ (as the latest month's pair join); versions
    # missing or not versions do not count
    apart = con.execute("""
        SELECT n, inst FROM pair_codes GROUP BY n, inst
        HAVING count(version) FILTER (WHERE hub) > 0 AND count(version) FILTER (WHERE NOT hub) > 0
           AND NOT (min(version) FILTER (WHERE hub) = max(version) FILTER (WHERE hub)
                    AND min(version) FILTER (WHERE NOT hub) = max(version) FILTER (WHERE NOT hub)
                    AND min(version) FILTER (WHERE hub) = min(version) FILTER (WHERE NOT hub))""").fetchnumpy()
    con.unregister("pair_codes")
    was_apart = np.zeros((latest + 1, len(snapshots.apart)), dtype=bool)
    was_apart[apart["n"].astype(np.int64), apart["inst"].astype(np.int64)] = True
    since = np.full(len(snapshots.apart), latest)
    still = was_apart[latest].copy()
    for k in range(latest - 1, -1, -1):
        still &= was_apart[k]
        since[still] = k
    first = since[pc.index_in(snapshots.apart_now["installation_id"], value_set=snapshots.apart).to_numpy()]

    def calendar(month: str) -> int:
        return 12 * int(month[:4]) + int(month[5:7])

    calendars = np.array([calendar(m) for m in snapshots.months])
    table = snapshots.apart_now.append_column(
        "out_of_sync_since", pa.array(np.asarray(snapshots.months, dtype=object)[first], pa.string())).append_column(
        # calendar months from the first out-of-sync snapshot to the latest, both counted
        "months_out_of_sync", pa.array((calendars[latest] - calendars[first] + 1).astype(np.int32)))
    return table.sort_by([("months_out_of_sync", "descending"), ("installation_id", "ascending")])


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


def _summary(months: list[str], files) -> dict:
    return {"months": len(months), "first_month": months[0], "latest_month": months[-1],
            "reconciliations": len(files["ahi_updates"])}
