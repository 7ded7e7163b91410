"""The DCC-style fleet firmware report (one row per installed Alt HAN bridge) and the supplier reports (the
same rows, one file per supplier).

The running version is the inventory's, unless a campaign store shows a later SRV 11.2 read-back: then it
is that campaign's ``version_after`` and ``last_confirmed`` is when the device reached ``verified``.
Without a store, ``last_confirmed`` is the extract's date if given, else null.
"""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa

from ..campaign import State
from ..fleet.schema import BRIDGE_VARIANTS
from . import _duck
from .store_reader import CATALOG, Store

NOT_INSTALLED = ("Pending", "Whitelisted")   # SMI statuses of devices that were never installed
REPORT_SCHEMA = pa.schema([
    ("device_id", pa.string()), ("status", pa.string()), ("manufacturer", pa.string()), ("model", pa.string()),
    ("ppmid_variant", pa.string()), ("firmware_version", pa.string()), ("ch_id", pa.string()),
    ("mpan", pa.string()), ("mprn", pa.string()), ("installation_id", pa.string()), ("supplier", pa.string()),
    ("join_mode", pa.string()), ("last_confirmed", pa.timestamp("s", tz="UTC")), ("confirmed_by", pa.string()),
])


def verified_sql(store: Store | None) -> str:
    """Per device: the version its latest verified campaign read back, when, and which campaign."""
    if store is None:
        return ("SELECT NULL::VARCHAR AS device_id, NULL::UINTEGER AS version_after, "
                "NULL::TIMESTAMPTZ AS confirmed_at, NULL::VARCHAR AS campaign_id WHERE false")
    return f"""
        SELECT device_id, arg_max(version_after, confirmed_at) AS version_after, max(confirmed_at) AS confirmed_at,
               arg_max(campaign_id, confirmed_at) AS campaign_id
        FROM (SELECT e.campaign_id, e.device_id,
                     date_trunc('second', max(coalesce(c.started_at, c.created_at)
                                              + to_microseconds(CAST(e.t * 1e6 AS BIGINT)))) AS confirmed_at
              FROM {CATALOG}.events e JOIN {CATALOG}.campaigns c USING (campaign_id)
              WHERE e.state = {int(State.VERIFIED)}
              GROUP BY e.campaign_id, e.device_id) v
        JOIN {CATALOG}.devices d USING (campaign_id, device_id)
        GROUP BY device_id"""


def current_sql(store: Store | None, extract_date: dt.datetime | None) -> str:
    """Installed Alt HAN bridges of table ``fleet`` with their running ``version`` (uint32),
    ``last_confirmed`` and ``confirmed_by``."""
    extract = "NULL::TIMESTAMPTZ" if extract_date is None else \
        f"TIMESTAMPTZ {_duck.quote(_utc(extract_date).isoformat())}"
    return f"""
        SELECT f.*, coalesce(v.version_after, f.firmware_version) AS version,
               coalesce(v.confirmed_at, {extract}) AS last_confirmed,
               CASE WHEN v.campaign_id IS NOT NULL THEN 'campaign ' || v.campaign_id
                    WHEN {extract} IS NOT NULL THEN 'extract' END AS confirmed_by
        FROM fleet f LEFT JOIN ({verified_sql(store)}) v USING (device_id)
        WHERE f.ppmid_variant IN {_duck.in_list(BRIDGE_VARIANTS)} AND f.smi_status NOT IN {_duck.in_list(NOT_INSTALLED)}"""


# The device ID's 64 bits as a sort key: fleet device IDs are canonical EUI-64 text (upper-case hex, fixed
# width; checked when the fleet is loaded), which sorts as its value does, and sorting millions of 8-byte
# integers takes a fraction of sorting their 23-character text (which shares its first bytes across a
# manufacturer). The text breaks ties, so an ID that is not canonical (which loading refuses) still sorts
# deterministically, after the canonical ones.
DEVICE_SORT_KEY = "try_cast('0x' || replace(device_id, '-', '') AS UBIGINT), device_id"


def fleet_report_sql(session, order: bool = True) -> str:
    """The REPORT_SCHEMA rows as SQL over the session's connection (ordered by device ID when ``order``)."""
    return f"""
        SELECT device_id, smi_status AS status, manufacturer, model, ppmid_variant,
               printf('0x%08X', version) AS firmware_version, ch_id, mpan, mprn, installation_id, supplier,
               join_mode, last_confirmed, confirmed_by
        FROM ({current_sql(session.store, session.extract_date)})""" + (
        f" ORDER BY {DEVICE_SORT_KEY}" if order else "")


def fleet_report(session) -> pa.Table:
    """REPORT_SCHEMA rows for every installed Alt HAN bridge of the session's fleet, ordered by device ID."""
    return _duck.arrow(session.con, fleet_report_sql(session)).cast(REPORT_SCHEMA)


def fleet_overview(session) -> dict:
    """What the HTML page shows of the fleet report, aggregated in DuckDB (the rows are never materialised):
    ``cards`` (bridges, installations, commissioned, joined as CAD, confirmed by a campaign) and the device
    counts per ``model``/``firmware_version`` and per ``supplier``/``manufacturer``, largest first.

    One pass over the report's rows, grouped by all four columns at once (a few dozen groups), gives both
    tables and every card but the distinct installations (one count more): each pass joins the fleet with
    the store's verified read-backs, seconds at national scale, and grouping sets or a query per table
    would make one per grouping."""
    rows = fleet_report_sql(session, order=False)
    con = session.con
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE fleet_overview_groups AS
        SELECT model, firmware_version, supplier, manufacturer, count(*)::BIGINT AS devices,
               count(*) FILTER (WHERE status = 'Commissioned') AS commissioned,
               count(*) FILTER (WHERE join_mode = 'CAD') AS cad,
               count(*) FILTER (WHERE starts_with(coalesce(confirmed_by, ''), 'campaign')) AS confirmed
        FROM ({rows}) GROUP BY ALL""")
    try:
        bridges, commissioned, cad, confirmed = con.execute(
            "SELECT coalesce(sum(devices), 0)::BIGINT, coalesce(sum(commissioned), 0)::BIGINT, "
            "coalesce(sum(cad), 0)::BIGINT, coalesce(sum(confirmed), 0)::BIGINT FROM fleet_overview_groups"
        ).fetchall()[0]

        def counts(a: str, b: str) -> pa.Table:
            return _duck.arrow(con, f"""
                SELECT {a}, {b}, sum(devices)::BIGINT AS devices FROM fleet_overview_groups GROUP BY ALL
                ORDER BY devices DESC, {a} ASC NULLS LAST, {b} ASC NULLS LAST""")

        by_version, by_supplier = counts("model", "firmware_version"), counts("supplier", "manufacturer")
    finally:
        con.execute("DROP TABLE IF EXISTS fleet_overview_groups")
    installations = con.execute(f"SELECT count(DISTINCT installation_id) FROM ({rows})").fetchall()[0][0]
    return {"cards": [("Alt HAN bridges", bridges), ("installations", installations),
                      ("commissioned", commissioned), ("joined as CAD", cad),
                      ("confirmed by a campaign", confirmed)],
            "by_version": by_version, "by_supplier": by_supplier}


def supplier_reports(report: pa.Table) -> dict[str, pa.Table]:
    """The fleet report split by supplier: {supplier name: its rows}."""
    import pyarrow.compute as pc

    return {name: report.filter(pc.equal(report["supplier"], name))
            for name in sorted(pc.unique(report["supplier"].drop_null()).to_pylist())}


def supplier_file_stem(name: str) -> str:
    """'Pennine Gas & Electric' -> 'pennine-gas-electric'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "supplier"


def _utc(when: dt.datetime | dt.date) -> dt.datetime:
    if not isinstance(when, dt.datetime):
        when = dt.datetime(when.year, when.month, when.day)
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
