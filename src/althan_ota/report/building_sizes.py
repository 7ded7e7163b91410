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

import duckdb
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
_NO_BUILDINGS = pa.schema([("device_id", pa.string()), ("building_id", pa.string())])


def device_buildings(fleet) -> pa.Table:
    """(device_id, building_id) of a fleet: a Fleet, an Arrow table, or a fleet file (Parquet or CSV); an
    inventory without building references gives no rows (every premises is then a building of its own)."""
    source = _building_source(fleet)
    if isinstance(source, pa.Table):
        return source
    with _duck.connect() as con:
        return _duck.arrow(con, _parquet_buildings_sql(source))


def _building_source(fleet) -> pa.Table | Path:
    """What device_buildings reads: an Arrow table of (device_id, building_id), or a Parquet fleet file that
    has both columns (checked here), which the completion query then reads itself: at national scale the
    file's 4 M device and building IDs copied into Python cost a second and 300 MB that DuckDB reading
    the file inside the query does not."""
    from ..fleet import Fleet, read_fleet

    if isinstance(fleet, (str, Path)):
        path = Path(fleet)
        if not path.is_file():
            raise InventoryError(f"fleet file {path}: no such file")
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            try:
                names = pq.read_schema(path).names
            except (pa.ArrowInvalid, OSError) as exc:
                raise InventoryError(f"fleet file {path}: not a readable Parquet file: {exc}") from None
            if "device_id" not in names:
                raise InventoryError(f"fleet file {path}: no device_id column")
            if "building_id" in names:
                return path
            return _NO_BUILDINGS.empty_table()
        table = read_fleet(path).table
    else:
        table = fleet.table if isinstance(fleet, Fleet) else fleet
    if "building_id" not in table.column_names:
        return _NO_BUILDINGS.empty_table()
    return table.select(["device_id", "building_id"]).cast(_NO_BUILDINGS)


def _parquet_buildings_sql(path: Path) -> str:
    return (f"SELECT device_id::VARCHAR AS device_id, building_id::VARCHAR AS building_id "
            f"FROM read_parquet({_duck.quote(path)})")


def completion_by_building_size(con, campaign_id: str, buildings) -> pa.Table:
    """One row per size bucket (all of BUILDING_SIZES, in order): SCHEMA. ``buildings``: what
    device_buildings takes (a fleet, its table or file), or its result."""
    failed = sorted(int(s) for s, category in STATE_CATEGORY.items() if category == "failed")
    open_ = sorted(int(s) for s, category in STATE_CATEGORY.items() if category == "in_progress")
    buckets = ", ".join(f"({i}, {_duck.quote(label)}, {low}, {'NULL' if high is None else high})"
                        for i, (label, low, high) in enumerate(BUILDING_SIZES))
    source = _building_source(buildings)
    if isinstance(source, pa.Table):
        con.register(_VIEW, source)
        relation = _VIEW
    else:
        relation = f"({_parquet_buildings_sql(source)})"
    try:
        table = _duck.arrow(con, f"""
            WITH d AS (
                SELECT dev.device_id, dev.state, dev.t,
                       coalesce(nullif(trim(b.building_id), ''), dev.installation_id, dev.device_id) AS building,
                       coalesce(dev.installation_id, dev.device_id) AS unit
                FROM {CATALOG}.devices dev LEFT JOIN {relation} b USING (device_id)
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
    except duckdb.Error as exc:
        if isinstance(source, pa.Table):
            raise
        raise InventoryError(f"fleet file {source}: cannot read its building references: {exc}") from None
    finally:
        if isinstance(source, pa.Table):
            con.unregister(_VIEW)
    return table.cast(SCHEMA)


def non_empty(table: pa.Table) -> pa.Table:
    """The buckets that hold at least one building."""
    return table.filter(pc.greater(table["buildings"], 0))
