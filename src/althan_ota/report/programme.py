"""The programme view: every campaign of one or more campaign stores, per energy supplier, per manufacturer and
model, and per month: devices targeted and where they ended, and the site visits avoided or still needed.

A campaign store records devices by EUI-64 only; who supplies a device and what it is come from the fleet: the
extract given (``fleet``: the latest one), else the file each campaign was planned on (its ``run_state``). When
both are there and a device's supplier differs, the device moved supplier during the programme: it is counted
under its new supplier (its requests continue under that supplier's plan) and listed in ``supplier_changes``.
Site visits follow the one definition (``campaign.site_visits``), one per premises per campaign.

Requests are charged to the supplier that requested them: the one the store's request records name (the
supplier the request book charged when the wave ran, against the plan's ``supplier_quotas``); for a store
written before those were kept, the one the campaign's own fleet file names; whatever a later extract says. ``quota_days`` gives, per campaign, day and requesting supplier, the SRV 11.4 requests sent
(first requests and retries) beside the supplier's quota and the fleet-wide cap; ``supplier_changes`` gives,
for each device that moved, the supplier its requests were charged to (``requested_by``) and how many.
A device a resumed run withdrew because it left the plan's scope (state ``withdrawn``) is counted in the
``withdrawn`` column (part of ``cancelled``) and listed in ``withdrawn`` with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import json

import duckdb
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from ..campaign.outcomes import CATEGORIES, STATE_CATEGORY, Reason
from ..campaign.site_visits import SITE_VISIT_COLUMNS, site_visits_query
from ..campaign.states import State
from ..errors import InventoryError
from . import _duck
from .inputs import load_fleet
from .store_reader import CATALOG, open_store

DEFAULT_VISIT_COST = 150.0   # GBP per site visit, as the campaign views (a parameter: contracts differ)
# each view: its name and the columns it groups by
GROUPINGS = {"suppliers": ("supplier",), "models": ("manufacturer", "model"), "months": ("month",)}
UNKNOWN = "unknown"          # a device the fleet does not list (or lists without that attribute)


@dataclass
class Programme:
    campaigns: pa.Table          # store, campaign_id, name, status, started_at, devices, fleet_path
    suppliers: pa.Table          # supplier, then the counts below
    models: pa.Table             # manufacturer, model, then the counts
    months: pa.Table             # month (YYYY-MM of the device's last state change), then the counts
    supplier_changes: pa.Table   # store, campaign_id, device_id, planned_supplier, supplier, requested_by, requests
    quota_days: pa.Table         # store, campaign_id, day, date, supplier (requesting), requests, retries, quota, cap
    withdrawn: pa.Table          # store, campaign_id, device_id, planned_supplier, supplier, reason, month
    summary: dict
    tables: dict = field(init=False)

    def __post_init__(self):
        self.tables = {"campaigns": self.campaigns, "suppliers": self.suppliers, "models": self.models,
                       "months": self.months, "supplier_changes": self.supplier_changes,
                       "quota_days": self.quota_days, "withdrawn": self.withdrawn}

    def quota_use(self) -> pa.Table:
        """Per campaign and requesting supplier: days with requests, requests and retries in all, the busiest
        day's requests, the supplier's daily quota (null: none) and the fleet-wide cap."""
        grouped = self.quota_days.group_by(["campaign_id", "supplier"], use_threads=False).aggregate(
            [("day", "count"), ("requests", "sum"), ("retries", "sum"), ("requests", "max"), ("quota", "max"),
             ("cap", "max")])
        # the aggregates' names (and where pyarrow puts the keys) vary between versions: rename by name
        names = {"day_count": "days", "requests_sum": "requests", "retries_sum": "retries",
                 "requests_max": "busiest_day", "quota_max": "quota", "cap_max": "cap"}
        grouped = grouped.rename_columns([names.get(c, c) for c in grouped.column_names])
        order = pa.compute.sort_indices(grouped, [("campaign_id", "ascending"), ("supplier", "ascending")])
        return grouped.take(order).select(["campaign_id", "supplier", "days", "requests", "retries", "busiest_day",
                                           "quota", "cap"])


def programme_views(stores, fleet=None, *, visit_cost: float = DEFAULT_VISIT_COST) -> Programme:
    """The programme across ``stores`` (campaign store paths); ``fleet``: the latest fleet extract (a file, a
    Fleet or an Arrow table), else each campaign's own fleet file."""
    stores = [Path(s) for s in stores]
    if not stores:
        raise InventoryError("the programme view needs at least one campaign store")
    con = _duck.connect()
    try:
        _load_stores(con, stores)
        _load_fleets(con, fleet)
        return _views(con, visit_cost)
    finally:
        con.close()


def _load_stores(con: duckdb.DuckDBPyConnection, stores: list[Path]) -> None:
    con.execute("""CREATE TEMP TABLE programme_campaigns (store VARCHAR, campaign_id VARCHAR, name VARCHAR,
                   status VARCHAR, started_at TIMESTAMPTZ, devices BIGINT, fleet_path VARCHAR)""")
    con.execute("""CREATE TEMP TABLE programme_devices (store VARCHAR, campaign_id VARCHAR, device_id VARCHAR,
                   installation_id VARCHAR, wave INTEGER, state UTINYINT, reason UTINYINT, entered_at TIMESTAMPTZ)""")
    # every SRV 11.4 request sent: its campaign day (the request book's: day 0 starts 00:00 UTC of the start)
    # recorded: the store's request record names the supplier it was charged to (recorded_supplier)
    con.execute("""CREATE TEMP TABLE programme_requests (store VARCHAR, campaign_id VARCHAR, device_id VARCHAR,
                   day BIGINT, date DATE, attempt INTEGER, recorded BOOLEAN, recorded_supplier VARCHAR)""")
    con.execute("""CREATE TEMP TABLE programme_caps (store VARCHAR, campaign_id VARCHAR, supplier VARCHAR,
                   quota BIGINT, cap BIGINT)""")
    for path in stores:
        open_store(path, con)      # attaches it as CATALOG, checking its tables and the outcomes they record
        try:
            has_run_state, has_requests = (bool(con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_catalog = ? AND table_name = ?",
                [CATALOG, table]).fetchall()[0][0]) for table in ("run_state", "requests"))
            fleet_path = (f"(SELECT r.fleet_path FROM {CATALOG}.run_state r WHERE r.campaign_id = c.campaign_id)"
                          if has_run_state else "NULL")
            name = _duck.quote(str(path))
            con.execute(f"""INSERT INTO programme_campaigns
                SELECT {name}, c.campaign_id, c.name, c.status, coalesce(c.started_at, c.created_at),
                       (SELECT count(*) FROM {CATALOG}.devices d WHERE d.campaign_id = c.campaign_id), {fleet_path}
                FROM {CATALOG}.campaigns c""")
            # a device's month is when it entered its current state: the campaign's start plus its t
            con.execute(f"""INSERT INTO programme_devices
                SELECT {name}, d.campaign_id, d.device_id, d.installation_id, d.wave, d.state, d.reason,
                       coalesce(c.started_at, c.created_at) + to_seconds(d.t)
                FROM {CATALOG}.devices d JOIN {CATALOG}.campaigns c USING (campaign_id)""")
            records = (f"""LEFT JOIN {CATALOG}.requests r ON r.campaign_id = e.campaign_id AND r.device_id = e.device_id
                           AND r.t = e.t AND r.attempt = e.attempt""" if has_requests else "")
            recorded = ("r.campaign_id IS NOT NULL, r.supplier" if has_requests else "false, NULL")
            con.execute(f"""INSERT INTO programme_requests
                SELECT {name}, e.campaign_id, e.device_id, floor(e.t / 86400)::BIGINT,
                       coalesce(c.started_at, c.created_at)::DATE + floor(e.t / 86400)::INTEGER, e.attempt, {recorded}
                FROM {CATALOG}.events e JOIN {CATALOG}.campaigns c USING (campaign_id) {records}
                WHERE e.state = {int(State.REQUESTED)}""")
            for campaign_id, plan_json in con.execute(f"SELECT campaign_id, plan_json FROM {CATALOG}.campaigns").fetchall():
                _load_caps(con, str(path), campaign_id, plan_json)
        finally:
            con.execute(f"DETACH {CATALOG}")


def _load_caps(con: duckdb.DuckDBPyConnection, store: str, campaign_id: str, plan_json: str) -> None:
    """The campaign's fleet-wide cap and supplier quotas, from its plan (NULL supplier: the cap alone)."""
    try:
        plan = json.loads(plan_json)
    except (TypeError, json.JSONDecodeError) as exc:
        raise InventoryError(f"{store}: campaign {campaign_id!r} holds a plan that is not JSON: {exc}") from None
    cap = plan.get("requests_per_day")
    rows = [(store, campaign_id, None, None, cap)]
    rows += [(store, campaign_id, name, quota, cap) for name, quota in (plan.get("supplier_quotas") or {}).items()]
    con.executemany("INSERT INTO programme_caps VALUES (?, ?, ?, ?, ?)", rows)


def _load_fleets(con: duckdb.DuckDBPyConnection, fleet) -> None:
    """Table ``planned`` (fleet_path, device_id, supplier, manufacturer, model) from each campaign's fleet file
    that is still there, and table ``latest`` from ``fleet``. A campaign whose fleet file is gone needs
    ``fleet``; without it that is an error naming the campaign and the file."""
    con.execute("""CREATE TEMP TABLE planned (fleet_path VARCHAR, device_id VARCHAR, supplier VARCHAR,
                   manufacturer VARCHAR, model VARCHAR)""")
    missing = []
    for (path, campaigns) in con.execute("""SELECT fleet_path, string_agg(campaign_id, ', ' ORDER BY campaign_id)
                                            FROM programme_campaigns GROUP BY fleet_path ORDER BY fleet_path""").fetchall():
        if path is None or not Path(path).is_file():
            missing.append(f"campaign(s) {campaigns} (planned on {path or 'a fleet the store does not name'})")
            continue
        load_fleet(con, Path(path))
        con.execute(f"""INSERT INTO planned SELECT {_duck.quote(path)}, device_id, supplier, manufacturer, model
                        FROM fleet""")
    if fleet is None:
        if missing:
            raise InventoryError("the programme view cannot tell the suppliers of " + "; ".join(missing)
                                 + ": the fleet file is not there; give the latest fleet extract with --fleet")
        con.execute("CREATE TEMP TABLE latest AS SELECT device_id, supplier, manufacturer, model FROM planned LIMIT 0")
    else:
        con.execute("DROP VIEW IF EXISTS fleet")    # the last planned file's: a Fleet or table registers its own
        load_fleet(con, fleet)
        con.execute("CREATE TEMP TABLE latest AS SELECT device_id, supplier, manufacturer, model FROM fleet")


def _views(con: duckdb.DuckDBPyConnection, visit_cost: float) -> Programme:
    category = ", ".join(f"({int(s)}, '{c}')" for s, c in STATE_CATEGORY.items())
    con.execute(f"""CREATE TEMP TABLE programme AS
        SELECT d.store, d.campaign_id, d.device_id, d.installation_id, d.wave, d.state, d.reason,
               k.category, strftime(d.entered_at, '%Y-%m') AS month,
               coalesce(l.supplier, p.supplier, '{UNKNOWN}') AS supplier, p.supplier AS planned_supplier,
               coalesce(l.manufacturer, p.manufacturer, '{UNKNOWN}') AS manufacturer,
               coalesce(l.model, p.model, '{UNKNOWN}') AS model
        FROM programme_devices d JOIN programme_campaigns c USING (store, campaign_id)
        JOIN (VALUES {category}) AS k(state, category) ON k.state = d.state
        LEFT JOIN planned p ON p.fleet_path = c.fleet_path AND p.device_id = d.device_id
        LEFT JOIN latest l ON l.device_id = d.device_id""")
    counts = ", ".join(f"count(*) FILTER (WHERE category = '{c}')::BIGINT AS {c}" for c in CATEGORIES)
    counts += f", count(*) FILTER (WHERE state = {int(State.WITHDRAWN)})::BIGINT AS withdrawn"
    views = {}
    for name, groups in GROUPINGS.items():
        keys = ", ".join(groups)
        visits = site_visits_query("programme", "true", groups, scope=("store", "campaign_id"))
        views[name] = _duck.arrow(con, f"""
            WITH devices AS (SELECT {keys}, count(*)::BIGINT AS devices,
                                    count(*) FILTER (WHERE wave >= 0)::BIGINT AS targeted, {counts}
                             FROM programme GROUP BY ALL),
                 visits AS ({visits})
            SELECT devices.*, {", ".join(f"coalesce(visits.{c}, 0)::BIGINT AS visits_{c}" for c in SITE_VISIT_COLUMNS)},
                   round(coalesce(visits.avoided, 0) * {float(visit_cost)}, 2) AS cost_avoided
            FROM devices LEFT JOIN visits USING ({keys}) ORDER BY {keys}""")
    # the supplier each request was charged to: its request record's; for a store without them, the campaign's
    # fleet file's (else the latest extract's)
    con.execute(f"""CREATE TEMP TABLE charged AS
        SELECT r.*, CASE WHEN r.recorded THEN coalesce(r.recorded_supplier, '{UNKNOWN}')
                         ELSE coalesce(p.supplier, l.supplier, '{UNKNOWN}') END AS supplier
        FROM programme_requests r JOIN programme_campaigns c USING (store, campaign_id)
        LEFT JOIN planned p ON p.fleet_path = c.fleet_path AND p.device_id = r.device_id
        LEFT JOIN latest l ON l.device_id = r.device_id""")
    changes = _duck.arrow(con, """
        SELECT p.store, p.campaign_id, p.device_id, p.planned_supplier, p.supplier,
               min(r.supplier) AS requested_by,
               count(r.device_id)::BIGINT AS requests
        FROM programme p LEFT JOIN charged r USING (store, campaign_id, device_id)
        WHERE p.planned_supplier IS NOT NULL AND p.supplier <> p.planned_supplier
        GROUP BY p.store, p.campaign_id, p.device_id, p.planned_supplier, p.supplier
        ORDER BY p.store, p.campaign_id, p.device_id""")
    quota_days = _duck.arrow(con, """
        WITH caps AS (SELECT store, campaign_id, cap FROM programme_caps WHERE supplier IS NULL)
        SELECT r.store, r.campaign_id, r.day, r.date, r.supplier, count(*)::BIGINT AS requests,
               count(*) FILTER (WHERE r.attempt > 1)::BIGINT AS retries, q.quota, k.cap
        FROM charged r JOIN caps k USING (store, campaign_id)
        LEFT JOIN programme_caps q ON q.store = r.store AND q.campaign_id = r.campaign_id AND q.supplier = r.supplier
        GROUP BY r.store, r.campaign_id, r.day, r.date, r.supplier, q.quota, k.cap
        ORDER BY r.store, r.campaign_id, r.day, r.supplier""")
    reasons = ", ".join(f"({int(r)}, '{r.label}')" for r in Reason)
    withdrawn = _duck.arrow(con, f"""
        SELECT p.store, p.campaign_id, p.device_id, p.planned_supplier, p.supplier, k.reason, p.month
        FROM programme p JOIN (VALUES {reasons}) AS k(code, reason) ON k.code = p.reason
        WHERE p.state = {int(State.WITHDRAWN)} ORDER BY p.store, p.campaign_id, p.device_id""")
    campaigns = _duck.arrow(con, "SELECT * FROM programme_campaigns ORDER BY started_at, store, campaign_id")
    totals = {c: int(sum(views["suppliers"][c].to_pylist())) for c in ("devices", "targeted", *CATEGORIES,
                                                                       "withdrawn", "visits_avoided",
                                                                       "visits_still_needed")}
    summary = {"stores": campaigns["store"].unique().to_pylist(), "campaigns": campaigns.num_rows, **totals,
               "visit_cost": visit_cost, "cost_avoided": round(totals["visits_avoided"] * visit_cost, 2),
               "suppliers": views["suppliers"].num_rows, "supplier_changes": changes.num_rows,
               "requests": int(sum(quota_days["requests"].to_pylist())),
               # days a supplier sent more than its quota: none for a store its plans paced
               "quota_days_over": int(sum(q is not None and n > q for n, q in zip(
                   quota_days["requests"].to_pylist(), quota_days["quota"].to_pylist())))}
    return Programme(campaigns=campaigns, suppliers=views["suppliers"], models=views["models"],
                     months=views["months"], supplier_changes=changes, quota_days=quota_days, withdrawn=withdrawn,
                     summary=summary)
