"""Reconciling the DCC's fleet firmware report, the supplier reports and the Alt HAN Inventory (AHI).

Every device in any source gets one class, the first that applies of: ``duplicate`` (listed more than once
in one source, or by two suppliers), ``missing`` (absent from a source that should list it; ``missing_from``
says which), ``version_mismatch``, ``status_mismatch``, ``stale`` (last confirmed, in any source, longer ago
than the threshold) and ``agree``; ``issues`` lists every problem found, not just the first.

The proposed AHI updates take the DCC report as the reference, since it reflects the SMI and the versions
the devices report: a device missing from the AHI is added, an AHI row that differs is updated; anything
the DCC and a supplier disagree on, AHI rows the DCC does not list, and duplicates are left for review.
A supplier report is expected to list a device when it covers the device's supplier.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from . import _duck
from .inputs import LISTING_SCHEMA, listing_from_table, read_listing

CLASSES = ("duplicate", "missing", "version_mismatch", "status_mismatch", "stale", "agree")
RECONCILE_SCHEMA = pa.schema([
    ("device_id", pa.string()), ("class", pa.string()), ("issues", pa.string()), ("missing_from", pa.string()),
    ("dcc_version", pa.string()), ("supplier_version", pa.string()), ("ahi_version", pa.string()),
    ("dcc_status", pa.string()), ("supplier_status", pa.string()), ("ahi_status", pa.string()),
    ("supplier", pa.string()), ("last_confirmed", pa.timestamp("s", tz="UTC")),
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
        issues = pc.list_flatten(pc.split_pattern(pc.fill_null(self.devices["issues"], ""), ","))
        return {"devices": self.devices.num_rows, "as_of": self.as_of.isoformat(), "stale_days": self.stale_days,
                "class": {c: by_class.get(c, 0) for c in CLASSES},
                "issues": {k: v for k, v in counts(issues).items() if k},
                "missing_from": counts(self.devices["missing_from"]),
                "ahi_updates": counts(self.updates["action"]), "sources": self.sources}


def _listing(source) -> pa.Table:
    if not isinstance(source, pa.Table):
        return read_listing(source)
    return source if source.schema.equals(LISTING_SCHEMA) else listing_from_table(source)


def reconcile(dcc, ahi, suppliers=(), *, stale_days: int = 365, as_of: dt.datetime | None = None) -> Reconciliation:
    """``dcc``, ``ahi``: listing files (or tables from ``read_listing``); ``suppliers``: supplier report
    files or tables (none: the supplier side is not checked)."""
    as_of = as_of or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.timezone.utc)
    # only these columns of the supplier reports are compared (the AHI's other columns come from the DCC's)
    kept = ["device_id", "line", "firmware_version", "smi_status", "last_confirmed", "supplier"]
    supplier_tables = [_listing(source).select(kept) for source in suppliers]
    con = _duck.connect()
    con.register("dcc", _listing(dcc))
    con.register("ahi", _listing(ahi))
    con.register("sup", pa.concat_tables(supplier_tables) if supplier_tables else
                 LISTING_SCHEMA.empty_table().select(kept))
    covered = [r[0] for r in con.execute("SELECT DISTINCT supplier FROM sup WHERE supplier IS NOT NULL").fetchall()]
    has_suppliers = bool(supplier_tables)
    supplier_expected = "true" if has_suppliers and not covered else \
        "false" if not has_suppliers else \
        f"coalesce(coalesce(supplier_dcc, supplier_ahi) IN {_duck.in_list(covered)}, true)"

    # per device and source: how many rows, the first row's line (the other columns are fetched from it only
    # for the few devices in the AHI updates) and any row's values; a device listed twice in one source is a
    # duplicate whichever values "any row" picks. Each source is grouped on its own and the three joined: one
    # grouped pass over the stacked sources with a FILTER per source and column is several times slower.
    def grouped(source: str, sfx: str) -> str:
        return (f"(SELECT device_id, count(*) AS n_{sfx}, min(line) AS line_{sfx}, "
                f"any_value(firmware_version) AS v_{sfx}, any_value(smi_status) AS s_{sfx}, "
                f"max(last_confirmed) AS lc_{sfx}, any_value(supplier) AS supplier_{sfx} "
                f"FROM {source} GROUP BY device_id)")
    counts = (f"SELECT * FROM {grouped('dcc', 'dcc')} FULL JOIN {grouped('sup', 'sup')} USING (device_id) "
              f"FULL JOIN {grouped('ahi', 'ahi')} USING (device_id)")

    def differ(column: str) -> str:
        a, b, c = (f"{column}_{sfx}" for sfx in ("dcc", "sup", "ahi"))
        return f"coalesce({a} <> {b}, false) OR coalesce({a} <> {c}, false) OR coalesce({b} <> {c}, false)"

    as_of_sql = f"TIMESTAMPTZ {_duck.quote(as_of.isoformat())}"
    stale_before = f"{as_of_sql} - INTERVAL {int(stale_days)} DAY"
    con.execute(f"""
        CREATE TEMP TABLE rec AS
        WITH j AS ({counts})
        SELECT *,
               greatest(lc_dcc, lc_sup, lc_ahi) AS confirmed,
               coalesce(n_dcc > 1, false) OR coalesce(n_sup > 1, false) OR coalesce(n_ahi > 1, false) AS duplicate,
               concat_ws(',', CASE WHEN n_dcc IS NULL THEN 'dcc' END,
                              CASE WHEN n_sup IS NULL AND {supplier_expected} THEN 'supplier' END,
                              CASE WHEN n_ahi IS NULL THEN 'ahi' END) AS missing_from,
               {differ('v')} AS version_mismatch,
               {differ('s')} AS status_mismatch,
               coalesce(greatest(lc_dcc, lc_sup, lc_ahi) < {stale_before}, false) AS stale,
               coalesce(lc_ahi < {stale_before}, true) AND lc_dcc >= {stale_before} AS ahi_stale_fixed
        FROM j""")
    devices = _duck.arrow(con, f"""
        SELECT device_id,
               CASE WHEN duplicate THEN 'duplicate' WHEN missing_from <> '' THEN 'missing'
                    WHEN version_mismatch THEN 'version_mismatch' WHEN status_mismatch THEN 'status_mismatch'
                    WHEN stale THEN 'stale' ELSE 'agree' END AS class,
               nullif(concat_ws(',', CASE WHEN duplicate THEN 'duplicate' END,
                                     CASE WHEN missing_from <> '' THEN 'missing' END,
                                     CASE WHEN version_mismatch THEN 'version_mismatch' END,
                                     CASE WHEN status_mismatch THEN 'status_mismatch' END,
                                     CASE WHEN stale THEN 'stale' END), '') AS issues,
               nullif(missing_from, '') AS missing_from,
               v_dcc AS dcc_version, v_sup AS supplier_version,
               v_ahi AS ahi_version, s_dcc AS dcc_status, s_sup AS supplier_status,
               s_ahi AS ahi_status, coalesce(supplier_dcc, supplier_ahi, supplier_sup) AS supplier,
               confirmed AS last_confirmed, date_diff('day', confirmed, {as_of_sql}) AS days_since_confirmed,
               coalesce(n_dcc, 0) AS dcc_rows, coalesce(n_sup, 0) AS supplier_rows, coalesce(n_ahi, 0) AS ahi_rows
        FROM rec ORDER BY device_id""").cast(RECONCILE_SCHEMA)
    # the proposed value of each AHI column: the DCC's for add/update, the AHI's (else the DCC's) for review
    proposed = ", ".join(f"CASE WHEN action = 'review' THEN coalesce({c}_ahi, {c}_dcc) "
                         f"ELSE coalesce({c}_dcc, {c}_ahi) END AS {c}" for c in _ATTRIBUTES)
    updates = _duck.arrow(con, f"""
        WITH u0 AS (
            SELECT *, CASE
                WHEN duplicate THEN 'review'
                WHEN n_dcc IS NOT NULL AND n_ahi IS NULL THEN 'add'
                WHEN n_dcc IS NULL THEN 'review'
                WHEN n_sup IS NOT NULL AND (v_sup <> v_dcc OR s_sup <> s_dcc) THEN 'review'
                WHEN v_ahi <> v_dcc OR s_ahi <> s_dcc OR ahi_stale_fixed THEN 'update' END AS action
            FROM rec),
        x AS MATERIALIZED (SELECT * FROM u0 WHERE action IS NOT NULL),
        -- a source's lines are unique, so its line alone finds the row; the few rows needed are picked out
        -- of the sources first (a semi-join) rather than joining the updates to millions of rows
        d AS (SELECT * FROM dcc WHERE line IN (SELECT line_dcc FROM x)),
        a AS (SELECT * FROM ahi WHERE line IN (SELECT line_ahi FROM x)),
        u AS (SELECT x.*, {', '.join(f"d.{c} AS {c}_dcc, a.{c} AS {c}_ahi" for c in _ATTRIBUTES if c != 'supplier')}
              FROM x LEFT JOIN d ON d.line = x.line_dcc LEFT JOIN a ON a.line = x.line_ahi)
        SELECT device_id, action, CASE
                   WHEN duplicate THEN 'listed more than once: ' || coalesce(n_dcc, 0) || ' rows in the DCC report, '
                        || coalesce(n_sup, 0) || ' in supplier reports, ' || coalesce(n_ahi, 0) || ' in the AHI'
                   WHEN action = 'add' THEN 'in the DCC report, not in the AHI'
                   WHEN n_dcc IS NULL AND n_ahi IS NULL THEN 'only in a supplier report: not in the DCC report '
                        || 'nor in the AHI'
                   WHEN n_dcc IS NULL THEN 'in the AHI but not in the DCC report: decommissioned, withdrawn, or '
                        || 'missing from the DCC report?'
                   WHEN action = 'review' THEN 'the DCC and the supplier disagree: ' || concat_ws('; ',
                        CASE WHEN v_sup <> v_dcc THEN 'firmware ' || v_dcc || ' (DCC) vs '
                             || v_sup || ' (supplier)' END,
                        CASE WHEN s_sup <> s_dcc THEN 'status ' || s_dcc || ' (DCC) vs ' || s_sup || ' (supplier)' END)
                   ELSE concat_ws('; ',
                        CASE WHEN v_ahi <> v_dcc THEN 'firmware ' || v_ahi || ' -> '
                             || v_dcc END,
                        CASE WHEN s_ahi <> s_dcc THEN 'status ' || s_ahi || ' -> ' || s_dcc END,
                        CASE WHEN ahi_stale_fixed THEN 'last confirmed '
                             || coalesce(strftime(lc_ahi, '%Y-%m-%d'), 'never') || ' -> '
                             || strftime(lc_dcc, '%Y-%m-%d') END) END AS reason,
               CASE WHEN action = 'review' THEN coalesce(s_ahi, s_dcc) ELSE s_dcc END AS status,
               CASE WHEN action = 'review' THEN coalesce(v_ahi, v_dcc) ELSE v_dcc END AS firmware_version,
               {proposed},
               CASE WHEN action = 'review' THEN coalesce(lc_ahi, lc_dcc) ELSE greatest(lc_dcc, lc_ahi) END
                   AS last_confirmed
        FROM u
        ORDER BY CASE action WHEN 'add' THEN 0 WHEN 'update' THEN 1 ELSE 2 END, device_id""").cast(UPDATES_SCHEMA)
    sources = {"dcc": _name(dcc), "suppliers": [_name(s) for s in suppliers], "ahi": _name(ahi)}
    return Reconciliation(devices=devices, updates=updates, sources=sources, as_of=as_of, stale_days=stale_days)


def _name(source) -> str:
    return str(Path(source)) if not isinstance(source, pa.Table) else "<table>"
