"""SMI hygiene: Alt HAN bridges the Smart Metering Inventory records wrongly or incompletely, per supplier.

Devices installed as PPMIDs before the DCC change carry no PPMID variant, or the plain ``PPMID`` one; a
campaign cannot target them until the supplier amends the SMI. A device is a known Alt HAN bridge when its
manufacturer and model are those of an image in a release manifest (which also says the side) or its model
is that of a CPL entry (no side: the other bridge of its installation tells it, when recorded). From an SMI
extract (read as the reports read listings, so a bad value names the file, line and column):

- ``amendments``: installed known bridges recorded as plain PPMID or with no variant, joined as PPMID, and
  the variant to set;
- ``prenotifications``: known bridges (or rows with a bridge variant) not yet installed (Pending or
  Whitelisted): the SRV 12.2 Device Pre-notifications a supplier sends before installing them;
- ``site_visits``: premises needing an engineer, one visit per premises (an installation, else the device) at
  ``visit_cost``: a bridge joined as CAD (it cannot take firmware over the air), or an installation with one
  side missing from the SMI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ..errors import ParameterError
from ..fleet.schema import BRIDGE_VARIANTS, HUB_SIDE, JOINED_AS_CAD, METER_SIDE, PPMID
from . import _duck
from .firmware import NOT_INSTALLED

KNOWN_SCHEMA = pa.schema([("manufacturer", pa.string()), ("model", pa.string()), ("side", pa.string()),
                          ("source", pa.string())])
GONE = ("Decommissioned", "Withdrawn")


@dataclass
class SmiHygiene:
    amendments: pa.Table        # supplier, device_id, installation_id, manufacturer, model, recorded_variant, variant_to_set, known_from
    prenotifications: pa.Table  # supplier, device_id, manufacturer, model, device_type, smi_status, variant
    site_visits: pa.Table       # supplier, premises, devices, reason, cost
    summary: dict
    tables: dict = field(init=False)

    def __post_init__(self):
        self.tables = {"smi-amendments": self.amendments, "prenotifications": self.prenotifications,
                       "site-visits": self.site_visits}


def known_bridges(releases=(), cpl_files=()) -> pa.Table:
    """KNOWN_SCHEMA rows: each release bundle's images (manufacturer, model, side; read with release.show,
    which checks the archive and manifest strictly but needs no key: only the model list is taken) and each
    CPL file's models."""
    from ..image import load_cpl
    from ..release import show

    rows = []
    for path in releases:
        manifest = show(path)["manifest"]
        rows += [(image.manufacturer, image.model, image.side, f"release {manifest.release_id}")
                 for image in manifest.images]
        rows += [(None, entry.model, None, f"release {manifest.release_id} CPL") for entry in manifest.cpl
                 if entry.model]
    for path in cpl_files:
        rows += [(None, entry.model, None, f"CPL {Path(path).name}") for entry in load_cpl(path) if entry.model]
    return pa.table({name: [r[i] for r in rows] for i, name in enumerate(KNOWN_SCHEMA.names)}, schema=KNOWN_SCHEMA)


def smi_hygiene(smi: pa.Table, known: pa.Table, *, visit_cost: float) -> SmiHygiene:
    """``smi``: an SMI extract as a listing (report.listing.read_listing); ``known``: known_bridges()."""
    con = _duck.connect()
    try:
        con.register("smi", smi)
        con.register("known_rows", known)
        q = _duck.quote
        con.execute(f"""CREATE TEMP TABLE s AS
            WITH known AS (
                -- one row per model (and maker, when the source names it); the side only if every source agrees
                SELECT lower(manufacturer) AS maker, lower(model) AS model,
                       CASE WHEN count(DISTINCT side) = 1 THEN any_value(side) END AS side,
                       string_agg(DISTINCT source, '; ' ORDER BY source) AS source
                FROM known_rows GROUP BY ALL),
            matched AS (
                SELECT x.*, k.side AS known_side, k.source AS known_from,
                       row_number() OVER (PARTITION BY x.line ORDER BY k.maker NULLS LAST) AS pick
                FROM smi x LEFT JOIN known k
                  ON k.model = lower(x.model) AND (k.maker IS NULL OR k.maker = lower(x.manufacturer)))
            SELECT * EXCLUDE (pick), known_from IS NOT NULL AS known,
                   known_from IS NOT NULL OR coalesce(ppmid_variant IN {_duck.in_list(BRIDGE_VARIANTS)}, false)
                       AS bridge,
                   smi_status NOT IN {_duck.in_list(NOT_INSTALLED + GONE)} AS installed
            FROM matched WHERE pick = 1""")
        amendments = _duck.arrow(con, f"""
            WITH partner AS (
                SELECT installation_id, any_value(ppmid_variant) AS variant FROM s
                WHERE installed AND ppmid_variant IN {_duck.in_list(BRIDGE_VARIANTS)} GROUP BY installation_id
                HAVING count(*) = 1)
            SELECT s.supplier, s.device_id, s.installation_id, s.manufacturer, s.model,
                   s.ppmid_variant AS recorded_variant,
                   coalesce(s.known_side, CASE p.variant WHEN {q(HUB_SIDE)} THEN {q(METER_SIDE)}
                                                         WHEN {q(METER_SIDE)} THEN {q(HUB_SIDE)} END) AS variant_to_set,
                   s.known_from, s.line
            FROM s LEFT JOIN partner p USING (installation_id)
            WHERE s.known AND s.installed AND coalesce(s.ppmid_variant, {q(PPMID)}) = {q(PPMID)}
              AND coalesce(s.join_mode, '') <> {q(JOINED_AS_CAD)}
            ORDER BY s.supplier, s.device_id""")
        prenotifications = _duck.arrow(con, f"""
            SELECT supplier, device_id, manufacturer, model, 'PPMID' AS device_type, smi_status,
                   coalesce(nullif(ppmid_variant, {q(PPMID)}), known_side) AS variant, line
            FROM s WHERE bridge AND smi_status IN {_duck.in_list(NOT_INSTALLED)} ORDER BY supplier, device_id""")
        site_visits = _duck.arrow(con, f"""
            WITH one_sided AS (
                SELECT installation_id FROM s WHERE bridge AND installed AND installation_id IS NOT NULL
                GROUP BY installation_id HAVING count(*) = 1),
            reasons AS (
                SELECT supplier, coalesce(installation_id, device_id) AS premises, device_id,
                       'joined the HAN as CAD' AS reason FROM s
                WHERE bridge AND installed AND join_mode = {q(JOINED_AS_CAD)}
                UNION ALL
                SELECT supplier, installation_id, device_id, 'one side of the installation is missing from the SMI'
                FROM s JOIN one_sided USING (installation_id) WHERE bridge AND installed)
            SELECT any_value(supplier) AS supplier, premises,
                   string_agg(DISTINCT device_id, ' ' ORDER BY device_id) AS devices,
                   string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reason, {float(visit_cost)} AS cost
            FROM reasons GROUP BY premises ORDER BY supplier, premises""")
    finally:
        con.close()
    summary = {"amendments": amendments.num_rows, "prenotifications": prenotifications.num_rows,
               "site_visits": site_visits.num_rows, "visit_cost": visit_cost,
               "site_visit_cost": round(site_visits.num_rows * visit_cost, 2),
               "known_models": known.num_rows}
    return SmiHygiene(amendments=amendments, prenotifications=prenotifications, site_visits=site_visits,
                      summary=summary)


def by_supplier(table: pa.Table) -> dict[str, pa.Table]:
    """{supplier: its rows}; rows without a supplier under ``unknown``."""
    import pyarrow.compute as pc

    names = pc.fill_null(table["supplier"], "unknown")
    table = table.set_column(table.schema.get_field_index("supplier"), "supplier", names)
    return {name: table.filter(pc.equal(names, name)) for name in sorted(pc.unique(names).to_pylist())}


def prenotification_requests(prenotifications: pa.Table, *, user_id: str, dsp_id: str, counters) -> list:
    """(supplier, device_id, request) for each row of the pre-notification list: an SRV 12.2 Device
    Pre-notification built by duis.requests, each with its own originator counter from ``counters`` (one per
    row, in order, strictly increasing as the DCC requires)."""
    from ..duis.requests import device_prenotification

    rows = prenotifications.to_pylist()
    counters = [int(c) for c in counters]
    if len(counters) != len(rows) or any(b <= a for a, b in zip(counters, counters[1:])):
        raise ParameterError(f"pre-notifications: {len(rows)} requests need as many strictly increasing "
                             f"originator counters, got {len(counters)}")
    return [(r["supplier"], r["device_id"], device_prenotification(
        r["device_id"], manufacturer=r["manufacturer"], model=r["model"], device_type=r["device_type"],
        user_id=user_id, dsp_id=dsp_id, counter=counter)) for r, counter in zip(rows, counters)]
