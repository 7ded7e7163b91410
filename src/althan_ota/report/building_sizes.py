"""Completion time by building size: how long a campaign took to finish each building, for buildings of
1, 2-5, ..., >200 installations (the planner's question for blocks of flats, issue 17).

A building is the inventory's ``building_id``; a premises without one is a building of its own. Its size is
the number of its installations (a plain PPMID counts as one) the campaign requested. Its completion time
runs from its first SRV 11.4 request to the last final state of its devices; a building with a device still
in progress has no completion time yet (it is counted, with ``in_progress`` buildings). The failure share is
failed devices over requested devices.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..campaign import State
from ..campaign.outcomes import STATE_CATEGORY
from ..errors import InventoryError
from . import _duck
from .store_reader import CATALOG

# (label, fewest, most installations; None: no upper bound)
BUILDING_SIZES = (("1", 1, 1), ("2-5", 2, 5), ("6-20", 6, 20), ("21-50", 21, 50), ("51-100", 51, 100),
                  ("101-200", 101, 200), (">200", 201, None))
SCHEMA = pa.schema([("building_size", pa.string()), ("buildings", pa.int64()), ("in_progress", pa.int64()),
                    ("installations", pa.int64()), ("devices", pa.int64()), ("median_s", pa.float64()),
                    ("p90_s", pa.float64()), ("max_s", pa.float64()), ("failure_share", pa.float64())])
_VIEW = "campaign_building_of_device"


def device_buildings(fleet) -> pa.Table:
    """(device_id, building_id) of a fleet: a Fleet, an Arrow table, or a fleet file (Parquet or CSV); an
    inventory without building references gives no rows (every premises is then a building of its own)."""
    from ..fleet import Fleet, read_fleet

    if isinstance(fleet, (str, Path)):
        path = Path(fleet)
        if not path.is_file():
            raise InventoryError(f"fleet file {path}: no such file")
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            try:
                names = pq.read_schema(path).names
                table = pq.read_table(path, columns=[c for c in ("device_id", "building_id") if c in names])
            except (pa.ArrowInvalid, OSError) as exc:
                raise InventoryError(f"fleet file {path}: not a readable Parquet file: {exc}") from None
            if "device_id" not in table.column_names:
                raise InventoryError(f"fleet file {path}: no device_id column")
        else:
            table = read_fleet(path).table
    else:
        table = fleet.table if isinstance(fleet, Fleet) else fleet
    if "building_id" not in table.column_names:
        return pa.table({"device_id": pa.array([], pa.string()), "building_id": pa.array([], pa.string())})
    return table.select(["device_id", "building_id"]).cast(
        pa.schema([("device_id", pa.string()), ("building_id", pa.string())]))


def completion_by_building_size(con, campaign_id: str, buildings: pa.Table) -> pa.Table:
    """One row per size bucket (all of BUILDING_SIZES, in order): SCHEMA."""
    failed = sorted(int(s) for s, category in STATE_CATEGORY.items() if category == "failed")
    open_ = sorted(int(s) for s, category in STATE_CATEGORY.items() if category == "in_progress")
    buckets = ", ".join(f"({i}, {_duck.quote(label)}, {low}, {'NULL' if high is None else high})"
                        for i, (label, low, high) in enumerate(BUILDING_SIZES))
    con.register(_VIEW, buildings)
    try:
        table = _duck.arrow(con, f"""
            WITH d AS (
                SELECT dev.device_id, dev.state, dev.t,
                       coalesce(nullif(trim(b.building_id), ''), dev.installation_id, dev.device_id) AS building,
                       coalesce(dev.installation_id, dev.device_id) AS unit
                FROM {CATALOG}.devices dev LEFT JOIN {_VIEW} b USING (device_id)
                WHERE dev.campaign_id = {_duck.quote(campaign_id)} AND dev.wave >= 0),
            requested AS (
                SELECT device_id, min(t) AS t FROM {CATALOG}.events
                WHERE campaign_id = {_duck.quote(campaign_id)} AND state = {int(State.REQUESTED)} GROUP BY device_id),
            per_building AS (
                SELECT building, count(DISTINCT unit) AS installations, count(*) AS devices,
                       count(*) FILTER (WHERE state IN ({', '.join(map(str, failed))})) AS failed,
                       bool_or(state IN ({', '.join(map(str, open_))})) AS open,
                       max(d.t) - min(r.t) AS completion_s
                FROM d LEFT JOIN requested r USING (device_id) GROUP BY building),
            sizes AS (SELECT * FROM (VALUES {buckets}) AS s(i, building_size, low, high))
            SELECT s.building_size, count(p.building)::BIGINT AS buildings,
                   count(p.building) FILTER (WHERE p.open)::BIGINT AS in_progress,
                   coalesce(sum(p.installations), 0)::BIGINT AS installations,
                   coalesce(sum(p.devices), 0)::BIGINT AS devices,
                   quantile_cont(p.completion_s, 0.5) FILTER (WHERE NOT p.open)::DOUBLE AS median_s,
                   quantile_cont(p.completion_s, 0.9) FILTER (WHERE NOT p.open)::DOUBLE AS p90_s,
                   max(p.completion_s) FILTER (WHERE NOT p.open)::DOUBLE AS max_s,
                   (sum(p.failed) / nullif(sum(p.devices), 0))::DOUBLE AS failure_share
            FROM sizes s LEFT JOIN per_building p
                 ON p.installations >= s.low AND (s.high IS NULL OR p.installations <= s.high)
            GROUP BY s.i, s.building_size ORDER BY s.i""")
    finally:
        con.unregister(_VIEW)
    return table.cast(SCHEMA)


def non_empty(table: pa.Table) -> pa.Table:
    """The buckets that hold at least one building."""
    return table.filter(pc.greater(table["buildings"], 0))
