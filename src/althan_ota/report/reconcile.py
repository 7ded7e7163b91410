"""Reconciling the DCC's fleet firmware report, the supplier reports and the Alt HAN Inventory (AHI).

Every device in any source gets one class, the first that applies of: ``duplicate`` (listed more than once
in one source, or by two suppliers), ``missing`` (absent from a source that should list it; ``missing_from``
says which), ``version_mismatch``, ``status_mismatch``, ``stale`` (last confirmed, in any source, longer ago
than the threshold) and ``agree``; ``issues`` lists every problem found, not just the first.

The proposed AHI updates take the DCC report as the reference, since it reflects the SMI and the versions
the devices report: a device missing from the AHI is added, an AHI row that differs is updated; anything
the DCC and a supplier disagree on, AHI rows the DCC does not list, and duplicates are left for review.
A supplier report is expected to list a device when it covers the device's supplier.

How: every source's rows are keyed by the device ID as a 64-bit integer (parsed in C when the listing is
read); one stable sort of all keys (a merge of sorted runs when the files are sorted by device, as reports
are) lines the sources up device by device, and every comparison is a numpy operation over the devices. A
device's values in a source are those of its first row there (duplicates are reported, not resolved).
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..fleet import ids
from ..fleet.schema import SMI_STATUSES
from . import _duck
from .listing import Listing, listing_keyed, read_listing_keyed

CLASSES = ("duplicate", "missing", "version_mismatch", "status_mismatch", "stale", "agree")
# columns with few distinct values are dictionary-encoded (pandas: categorical)
_CATEGORY = pa.dictionary(pa.int32(), pa.string())
RECONCILE_SCHEMA = pa.schema([
    ("device_id", pa.string()), ("class", _CATEGORY), ("issues", _CATEGORY), ("missing_from", _CATEGORY),
    ("dcc_version", pa.string()), ("supplier_version", pa.string()), ("ahi_version", pa.string()),
    ("dcc_status", _CATEGORY), ("supplier_status", _CATEGORY), ("ahi_status", _CATEGORY),
    ("supplier", _CATEGORY), ("last_confirmed", pa.timestamp("s", tz="UTC")),
    ("days_since_confirmed", pa.int64()), ("dcc_rows", pa.int64()), ("supplier_rows", pa.int64()),
    ("ahi_rows", pa.int64()),
])
UPDATES_SCHEMA = pa.schema([
    ("device_id", pa.string()), ("action", pa.string()), ("reason", pa.string()),
    ("status", pa.string()), ("firmware_version", pa.string()), ("ppmid_variant", pa.string()),
    ("manufacturer", pa.string()), ("model", pa.string()), ("ch_id", pa.string()), ("mpan", pa.string()),
    ("mprn", pa.string()), ("installation_id", pa.string()), ("supplier", pa.string()),
    ("join_mode", pa.string()), ("last_confirmed", pa.timestamp("s", tz="UTC")),
])
_ATTRIBUTES = ("ppmid_variant", "manufacturer", "model", "ch_id", "mpan", "mprn", "installation_id", "supplier",
               "join_mode")
# only these columns of supplier reports are compared (the AHI's other columns come from the DCC's)
_SUPPLIER_COLUMNS = ("device_id", "firmware_version", "smi_status", "last_confirmed", "supplier")
_ISSUES = ("duplicate", "missing", "version_mismatch", "status_mismatch", "stale")
_SIDES = ("dcc", "sup", "ahi")
_MISSING_NAMES = ("dcc", "supplier", "ahi")
_NEVER = np.iinfo(np.int64).min       # "never confirmed" in the seconds arrays


@dataclass
class Reconciliation:
    devices: pa.Table       # RECONCILE_SCHEMA, one row per device seen in any source
    updates: pa.Table       # UPDATES_SCHEMA, the proposed AHI changes
    sources: dict           # what was read: {"dcc": path, "suppliers": [paths], "ahi": path}
    as_of: dt.datetime
    stale_days: int

    def summary(self) -> dict:
        def counts(column) -> dict:
            rows = pc.value_counts(column.drop_null()).to_pylist()
            return {r["values"]: r["counts"] for r in sorted(rows, key=lambda r: (-r["counts"], r["values"]))}

        by_class = counts(self.devices["class"])
        issues: dict[str, int] = {}
        for combination, n in counts(self.devices["issues"]).items():
            for issue in combination.split(","):
                issues[issue] = issues.get(issue, 0) + n
        return {"devices": self.devices.num_rows, "as_of": self.as_of.isoformat(), "stale_days": self.stale_days,
                "class": {c: by_class.get(c, 0) for c in CLASSES},
                "issues": dict(sorted(issues.items(), key=lambda kv: (-kv[1], kv[0]))),
                "missing_from": counts(self.devices["missing_from"]),
                "ahi_updates": counts(self.updates["action"]), "sources": self.sources}


@dataclass
class _Read:
    """A listing as read, with its supplier column dictionary-encoded (done on the reading thread)."""
    listing: Listing
    suppliers: list[str]        # the distinct supplier names
    supplier: np.ndarray        # int32 index into suppliers per row, -1 for none


def _read(source, columns=None) -> _Read:
    listing = listing_keyed(source) if isinstance(source, pa.Table) else read_listing_keyed(source, columns)
    encoded = pc.dictionary_encode(listing.table["supplier"])
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries()     # one dictionary for every chunk
    chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    names = chunks[0].dictionary.to_pylist() if chunks else []
    index = np.concatenate([pc.fill_null(c.indices, -1).to_numpy() for c in chunks]).astype(np.int32) \
        if chunks else np.zeros(0, np.int32)
    return _Read(listing, names, index)


def _codes(read: _Read, names: list[str]) -> np.ndarray:
    """A listing's supplier indices into ``names`` (extended with the names it lacks), -1 for none."""
    for value in read.suppliers:
        if value not in names:
            names.append(value)
    remap = np.array([names.index(v) for v in read.suppliers] + [-1], dtype=np.int32)
    return remap[read.supplier]


def _seconds(column) -> np.ndarray:
    return pc.fill_null(column.cast(pa.int64()), _NEVER).to_numpy()


@dataclass
class _Side:
    """One side (dcc, sup or ahi) lined up by device: for each device, its rows there and first row's values."""
    rows: np.ndarray        # int64 count of rows
    first: np.ndarray       # int64 index of the first row into the side's concatenated rows, -1 if none
    version: np.ndarray     # uint32
    status: np.ndarray      # int32 index into SMI_STATUSES
    supplier: np.ndarray    # int32 index into the supplier names, -1 if none
    confirmed: np.ndarray   # int64 seconds, latest of the device's rows, _NEVER if none

    @property
    def listed(self) -> np.ndarray:
        return self.rows > 0


def _line_up(keys: list[np.ndarray], values: list[dict]) -> tuple[np.ndarray, list[_Side]]:
    """Device keys (sorted) and, per side, each device's rows and values there. ``keys`` and ``values`` hold
    one entry per side: the side's keys and its arrays "version", "status", "supplier", "confirmed"."""
    runs = []        # per side: its keys sorted and the order that sorts them (None: already sorted)
    for k in keys:
        order = None if _is_sorted(k) else np.argsort(k, kind="stable")
        runs.append((k if order is None else k[order], order))
    # the sorted runs concatenated: a stable sort of them is a merge (timsort finds the runs)
    stacked = np.concatenate([run for run, _ in runs])
    merge = np.argsort(stacked, kind="stable")
    merged = stacked[merge]
    new = np.ones(len(merged), dtype=bool)
    new[1:] = merged[1:] != merged[:-1]
    devices = merged[new]
    n = len(devices)
    device_of = np.empty(len(merged), dtype=np.int64)       # device index of each stacked row
    device_of[merge] = np.cumsum(new) - 1
    sides, base = [], 0
    for (run, order), v in zip(runs, values):
        device = device_of[base:base + len(run)]
        base += len(run)
        first_of_device = np.ones(len(run), dtype=bool)
        first_of_device[1:] = device[1:] != device[:-1]
        starts = np.flatnonzero(first_of_device)
        listed = device[starts]
        if order is None:
            first_row = starts
        else:    # the sort need not be stable: a device's first row is the lowest of its rows
            first_row = order[starts] if len(starts) == len(run) else np.minimum.reduceat(order, starts)
        rows = np.zeros(n, dtype=np.int64)
        rows[listed] = np.diff(starts, append=len(run))
        first = np.full(n, -1, dtype=np.int64)
        first[listed] = first_row
        confirmed = np.full(n, _NEVER, dtype=np.int64)
        if len(run):
            seconds = v["confirmed"] if order is None else v["confirmed"][order]
            confirmed[listed] = seconds[starts] if len(starts) == len(run) else \
                np.maximum.reduceat(seconds, starts)

        def pick(array, empty):
            out = np.full(n, empty, dtype=array.dtype)
            out[listed] = array[first_row]
            return out

        sides.append(_Side(rows=rows, first=first, version=pick(v["version"], 0), status=pick(v["status"], -1),
                           supplier=pick(v["supplier"], -1), confirmed=confirmed))
    return devices, sides


def _is_sorted(keys: np.ndarray) -> bool:
    return bool((keys[1:] >= keys[:-1]).all()) if len(keys) > 1 else True


def reconcile(dcc, ahi, suppliers=(), *, stale_days: int = 365, as_of: dt.datetime | None = None) -> Reconciliation:
    """``dcc``, ``ahi``: listing files (or tables from ``read_listing``); ``suppliers``: supplier report
    files or tables (none: the supplier side is not checked)."""
    as_of = as_of or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.timezone.utc)
    # the listings are read and checked side by side: the C kernels, Arrow and Parquet release the GIL
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        dcc_job, ahi_job = pool.submit(_read, dcc), pool.submit(_read, ahi)
        supplier_jobs = [pool.submit(_read, s, _SUPPLIER_COLUMNS) for s in suppliers]
        dcc_read, ahi_read = dcc_job.result(), ahi_job.result()
        supplier_reads = [job.result() for job in supplier_jobs]
    dcc_listing, ahi_listing = dcc_read.listing, ahi_read.listing
    supplier_names: list[str] = []

    def side_values(reads: list[_Read]) -> dict:
        if not reads:
            return {"version": np.zeros(0, np.uint32), "status": np.zeros(0, np.int32),
                    "supplier": np.zeros(0, np.int32), "confirmed": np.zeros(0, np.int64)}
        return {"version": np.concatenate([x.listing.version for x in reads]),
                "status": np.concatenate([x.listing.status for x in reads]),
                "supplier": np.concatenate([_codes(x, supplier_names) for x in reads]),
                "confirmed": np.concatenate([_seconds(x.listing.table["last_confirmed"]) for x in reads])}

    sup_values = side_values(supplier_reads)
    keys, (d, s, a) = _line_up(
        [dcc_listing.device_key,
         np.concatenate([x.listing.device_key for x in supplier_reads]) if supplier_reads
         else np.zeros(0, np.uint64),
         ahi_listing.device_key],
        [side_values([dcc_read]), sup_values, side_values([ahi_read])])

    # a supplier report is expected to list a device whose supplier (the DCC's, else the AHI's) it covers
    covered = np.flatnonzero(np.bincount(sup_values["supplier"][sup_values["supplier"] >= 0],
                                         minlength=len(supplier_names)))
    if not supplier_reads:
        expected = np.zeros(len(keys), dtype=bool)
    elif not len(covered):
        expected = np.ones(len(keys), dtype=bool)
    else:
        owner = np.where(d.supplier >= 0, d.supplier, a.supplier)
        expected = (owner < 0) | np.isin(owner, covered)

    def differ(name: str) -> np.ndarray:
        x, y, z = (getattr(side, name) for side in (d, s, a))
        return ((d.listed & s.listed & (x != y)) | (d.listed & a.listed & (x != z)) |
                (s.listed & a.listed & (y != z)))

    as_of_s = int(as_of.timestamp())
    cutoff = as_of_s - int(stale_days) * 86400
    confirmed = np.maximum(np.maximum(d.confirmed, s.confirmed), a.confirmed)
    ever = confirmed != _NEVER
    duplicate = (d.rows > 1) | (s.rows > 1) | (a.rows > 1)
    missing_bits = (~d.listed).astype(np.int8) | ((~s.listed & expected) << 1).astype(np.int8) | \
        ((~a.listed) << 2).astype(np.int8)
    flags = [duplicate, missing_bits > 0, differ("version"), differ("status"), ever & (confirmed < cutoff)]
    issue_bits = sum((f.astype(np.int8) << k for k, f in enumerate(flags)), np.zeros(len(keys), np.int8))
    first_issue = np.select(flags, range(len(_ISSUES)), len(_ISSUES))    # the class: the first issue, else agree

    devices = pa.table({
        "device_id": ids.format_eui64(keys),
        "class": _names(first_issue, CLASSES),
        "issues": _names(issue_bits, [_joined(_ISSUES, b) for b in range(1 << len(_ISSUES))]),
        "missing_from": _names(missing_bits, [_joined(_MISSING_NAMES, b) for b in range(1 << 3)]),
        "dcc_version": ids.format_firmware_version(d.version, d.listed),
        "supplier_version": ids.format_firmware_version(s.version, s.listed),
        "ahi_version": ids.format_firmware_version(a.version, a.listed),
        "dcc_status": _names(d.status, SMI_STATUSES),
        "supplier_status": _names(s.status, SMI_STATUSES),
        "ahi_status": _names(a.status, SMI_STATUSES),
        "supplier": _names(np.where(d.supplier >= 0, d.supplier, np.where(a.supplier >= 0, a.supplier, s.supplier)),
                           supplier_names),
        "last_confirmed": pa.array(np.where(ever, confirmed, 0), pa.int64(), mask=~ever).cast(
            pa.timestamp("s", tz="UTC")),
        "days_since_confirmed": pa.array(as_of_s // 86400 - np.where(ever, confirmed, 0) // 86400, pa.int64(),
                                         mask=~ever),
        "dcc_rows": d.rows, "supplier_rows": s.rows, "ahi_rows": a.rows,
    }, schema=RECONCILE_SCHEMA)

    # AHI actions; the DCC's stale-or-newer confirmation fixes an AHI row confirmed before the cutoff
    ahi_stale_fixed = ((a.confirmed == _NEVER) | (a.confirmed < cutoff)) & (d.confirmed != _NEVER) & \
        (d.confirmed >= cutoff)
    supplier_disagrees = s.listed & d.listed & ((s.version != d.version) | (s.status != d.status))
    ahi_differs = a.listed & d.listed & ((a.version != d.version) | (a.status != d.status) | ahi_stale_fixed)
    action = np.select([duplicate, d.listed & ~a.listed, ~d.listed, supplier_disagrees, ahi_differs],
                       [3, 1, 3, 3, 2], 0)       # 1 add, 2 update, 3 review
    chosen = np.flatnonzero(action > 0)
    chosen = chosen[np.argsort(action[chosen], kind="stable")]    # add, update, review; by device within
    updates = _updates(devices.take(pa.array(chosen)), action[chosen], ahi_stale_fixed[chosen],
                       [dcc_listing.table, ahi_listing.table], [d.first[chosen], a.first[chosen]],
                       [d.confirmed[chosen], a.confirmed[chosen]])
    sources = {"dcc": _name(dcc), "suppliers": [_name(x) for x in suppliers], "ahi": _name(ahi)}
    return Reconciliation(devices=devices, updates=updates, sources=sources, as_of=as_of, stale_days=stale_days)


def _joined(names, bits: int) -> str | None:
    return ",".join(n for k, n in enumerate(names) if bits >> k & 1) or None


def _names(codes: np.ndarray, names) -> pa.DictionaryArray:
    """Small integer codes as a dictionary array of ``names``; null where the code is negative or its name
    is None."""
    names = list(names)
    nameless = [k for k, name in enumerate(names) if name is None]
    null = codes < 0
    if nameless:
        null |= np.isin(codes, nameless)
    dictionary = pa.array([name or "" for name in names], pa.string())
    indices = pa.array(codes.astype(np.int32), mask=null if null.any() else None)
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def _updates(rows: pa.Table, action: np.ndarray, ahi_stale_fixed: np.ndarray, tables: list[pa.Table],
             firsts: list[np.ndarray], confirmed: list[np.ndarray]) -> pa.Table:
    """The proposed AHI rows: the DCC's values for add/update, the AHI's (else the DCC's) for review, with
    the reason in words. ``rows``: the devices' reconciliation rows, in output order."""
    x = rows.select(["device_id", "dcc_version", "supplier_version", "ahi_version", "dcc_status",
                     "supplier_status", "ahi_status", "dcc_rows", "supplier_rows", "ahi_rows"])
    x = x.cast(pa.schema([f.with_type(pa.string()) if pa.types.is_dictionary(f.type) else f for f in x.schema]))
    x = x.append_column("action", pa.array(np.array(["", "add", "update", "review"])[action], pa.string()))
    x = x.append_column("duplicate", pa.array((rows["dcc_rows"].to_numpy() > 1) |
                                              (rows["supplier_rows"].to_numpy() > 1) |
                                              (rows["ahi_rows"].to_numpy() > 1)))
    x = x.append_column("ahi_stale_fixed", pa.array(ahi_stale_fixed))
    for side, table, first, seconds in zip(("dcc", "ahi"), tables, firsts, confirmed):
        taken = _take_rows(table.select(list(_ATTRIBUTES)), first)
        for c in _ATTRIBUTES:
            x = x.append_column(f"{c}_{side}", taken[c])
        never = seconds == _NEVER
        x = x.append_column(f"lc_{side}", pa.array(np.where(never, 0, seconds), pa.int64(), mask=never).cast(
            pa.timestamp("s", tz="UTC")))
    con = _duck.connect()
    con.register("u", x)
    proposed = ", ".join(f"CASE WHEN action = 'review' THEN coalesce({c}_ahi, {c}_dcc) "
                         f"ELSE coalesce({c}_dcc, {c}_ahi) END AS {c}" for c in _ATTRIBUTES)
    return _duck.arrow(con, f"""
        SELECT device_id, action, CASE
                   WHEN duplicate THEN 'listed more than once: ' || dcc_rows || ' rows in the DCC report, '
                        || supplier_rows || ' in supplier reports, ' || ahi_rows || ' in the AHI'
                   WHEN action = 'add' THEN 'in the DCC report, not in the AHI'
                   WHEN dcc_rows = 0 AND ahi_rows = 0 THEN 'only in a supplier report: not in the DCC report '
                        || 'nor in the AHI'
                   WHEN dcc_rows = 0 THEN 'in the AHI but not in the DCC report: decommissioned, withdrawn, or '
                        || 'missing from the DCC report?'
                   WHEN action = 'review' THEN 'the DCC and the supplier disagree: ' || concat_ws('; ',
                        CASE WHEN supplier_version <> dcc_version THEN 'firmware ' || dcc_version || ' (DCC) vs '
                             || supplier_version || ' (supplier)' END,
                        CASE WHEN supplier_status <> dcc_status THEN 'status ' || dcc_status || ' (DCC) vs '
                             || supplier_status || ' (supplier)' END)
                   ELSE concat_ws('; ',
                        CASE WHEN ahi_version <> dcc_version THEN 'firmware ' || ahi_version || ' -> '
                             || dcc_version END,
                        CASE WHEN ahi_status <> dcc_status THEN 'status ' || ahi_status || ' -> ' || dcc_status END,
                        CASE WHEN ahi_stale_fixed THEN 'last confirmed '
                             || coalesce(strftime(lc_ahi, '%Y-%m-%d'), 'never') || ' -> '
                             || strftime(lc_dcc, '%Y-%m-%d') END) END AS reason,
               CASE WHEN action = 'review' THEN coalesce(ahi_status, dcc_status) ELSE dcc_status END AS status,
               CASE WHEN action = 'review' THEN coalesce(ahi_version, dcc_version) ELSE dcc_version END
                   AS firmware_version,
               {proposed},
               CASE WHEN action = 'review' THEN coalesce(lc_ahi, lc_dcc) ELSE greatest(lc_dcc, lc_ahi) END
                   AS last_confirmed
        FROM u""").cast(UPDATES_SCHEMA)


def _take_rows(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """``table``'s rows at ``rows`` (-1: a row of nulls). A take over a chunked table concatenates every
    chunk of every column first; filtering keeps the chunks, so the few rows wanted are picked out first."""
    wanted = np.unique(rows[rows >= 0])
    keep = np.zeros(table.num_rows, dtype=bool)
    keep[wanted] = True
    picked = table.filter(pa.array(keep)).combine_chunks()
    return picked.take(pa.array(np.searchsorted(wanted, rows), mask=rows < 0))


def _name(source) -> str:
    return str(Path(source)) if not isinstance(source, pa.Table) else "<table>"
