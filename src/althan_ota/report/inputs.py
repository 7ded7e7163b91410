"""What the reports read besides a campaign store and the listings (report/listing.py): the fleet inventory
and a pair-compatibility table.

Reports never drop a row they cannot read: a bad input file is an InventoryError naming the file, the line
(the row, for Parquet) and the column. Header spellings and identifier parsing are the fleet importer's
(``fleet.schema.canonical_header``, ``fleet.ids``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import InventoryError
from ..fleet import ids
from ..fleet.inventory import Fleet, read_fleet
from ..fleet.schema import (BRIDGE_VARIANTS, COLUMNS, HUB_SIDE, JOIN_MODES, METER_SIDE, REQUIRED, SMI_STATUSES,
                            VARIANTS, normalise_key)
from ..fleet.sources import _read_csv, _read_parquet
from . import _duck
from ..fleet.columns import text_values

# --- the fleet inventory ---------------------------------------------------------------------------------

FLEET_COLUMNS = [c for c in COLUMNS if c not in ("device_type", "hardware_version")]
_EUI64 = r"[0-9A-F]{2}(-[0-9A-F]{2}){7}"
_VERSION = r"0x[0-9A-F]{8}"


def load_fleet(con: duckdb.DuckDBPyConnection, fleet) -> int:
    """Make table ``fleet`` (FLEET_COLUMNS) in ``con`` from a Fleet, an Arrow table of validated rows, or a
    file. A Parquet file written by ``althan-ota fleet generate|import`` is checked in SQL (seconds for
    millions of rows); any other file, or one failing those checks, goes through the fleet importer's full
    validation and every row it would quarantine is an error. Returns the number of devices."""
    if isinstance(fleet, Fleet):
        fleet = fleet.table
    if isinstance(fleet, pa.Table):
        # queried in place: DuckDB scans Arrow memory directly, so there is nothing to copy
        con.register("fleet", fleet.select(FLEET_COLUMNS))
        return fleet.num_rows
    path = Path(fleet)
    if _is_fleet_parquet(path):
        # fleet files store versions as canonical 0x text (older ones as integers); anything else is NULL
        # here, which the checks below count as a problem
        columns = [c if c != "firmware_version" else
                   "CASE WHEN typeof(firmware_version) <> 'VARCHAR' THEN try_cast(firmware_version AS UINTEGER) "
                   f"WHEN regexp_full_match(firmware_version::VARCHAR, {_duck.quote(_VERSION)}) "
                   "THEN try_cast(firmware_version AS UINTEGER) END AS firmware_version" for c in FLEET_COLUMNS]
        # a view, not a copy: each report scans the file again (in parallel, only the columns it needs),
        # which costs far less than holding every column of millions of devices in memory for the session
        con.execute(f"CREATE OR REPLACE TEMP VIEW fleet AS SELECT {', '.join(columns)} "
                    f"FROM read_parquet({_duck.quote(path)})")
        if not _fleet_problems(con):
            return con.execute("SELECT count(*) FROM fleet").fetchall()[0][0]
    validated = read_fleet(path)
    if validated.quarantine.num_rows:
        raise InventoryError(_describe_quarantine(path, validated.quarantine))
    return load_fleet(con, validated.table)


def _is_fleet_parquet(path: Path) -> bool:
    if path.suffix.lower() not in (".parquet", ".pq") or not path.is_file():
        return False
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError):
        return False
    return all(name in schema.names and (schema.field(name).type == COLUMNS[name] or (
        name == "firmware_version" and schema.field(name).type == pa.string())) for name in FLEET_COLUMNS)


def _fleet_problems(con: duckdb.DuckDBPyConnection) -> int:
    """Rows of table ``fleet`` that the importer would have quarantined (0 for a file it wrote)."""
    q = _duck.quote
    bad_value = " OR ".join([
        f"NOT regexp_full_match(coalesce(device_id, ''), {q(_EUI64)})",
        f"NOT regexp_full_match(coalesce(ch_id, ''), {q(_EUI64)})",
        f"coalesce(ppmid_variant NOT IN {_duck.in_list(VARIANTS)}, true)",
        f"coalesce(smi_status NOT IN {_duck.in_list(SMI_STATUSES)}, true)",
        f"coalesce(join_mode NOT IN {_duck.in_list(JOIN_MODES)}, true)",
        *(f"{c} IS NULL" for c in REQUIRED if c in FLEET_COLUMNS),
        f"(ppmid_variant IN {_duck.in_list(BRIDGE_VARIANTS)} AND installation_id IS NULL)",
    ])
    bad_rows, duplicates = con.execute(
        f"SELECT count(*) FILTER (WHERE {bad_value}), count(*) - count(DISTINCT device_id) FROM fleet").fetchall()[0]
    bad_pairs = con.execute(f"""
        SELECT count(*) FROM (
            SELECT installation_id FROM fleet WHERE ppmid_variant IN {_duck.in_list(BRIDGE_VARIANTS)}
            GROUP BY installation_id
            HAVING count(*) FILTER (WHERE ppmid_variant = {q(HUB_SIDE)}) <> 1
                OR count(*) FILTER (WHERE ppmid_variant = {q(METER_SIDE)}) <> 1
                OR min(ch_id) <> max(ch_id))""").fetchall()[0][0]
    return bad_rows + duplicates + bad_pairs


def _describe_quarantine(path: Path, quarantine: pa.Table, shown: int = 5) -> str:
    rows = quarantine.slice(0, shown).to_pylist()
    text = "; ".join(f"line {r['line']}, column {r['column'] or '-'}: {r['reason']}" for r in rows)
    more = quarantine.num_rows - len(rows)
    return f"{path}: {quarantine.num_rows} problem(s) in the fleet file: {text}" + (f"; and {more} more" if more else "")


# --- pair compatibility ----------------------------------------------------------------------------------

COMPAT_SCHEMA = pa.schema([("hub_version", pa.uint32()), ("meter_version", pa.uint32()),
                           ("compatible", pa.bool_())])
_COMPAT_HEADERS = {normalise_key(k): v for k, v in {
    "hub_version": "hub_version", "hub side version": "hub_version", "hub": "hub_version",
    "meter_version": "meter_version", "meter side version": "meter_version", "meter": "meter_version",
    "compatible": "compatible", "compatibility": "compatible"}.items()}
_TRUE, _FALSE = ("true", "yes", "y", "1", "compatible"), ("false", "no", "n", "0", "incompatible")


def read_compatibility(source) -> pa.Table:
    """A release bundle's pair-compatibility table (hub version, meter version, compatible) from a CSV or
    Parquet file or an Arrow table with those columns; versions as 0x-hex text or integers."""
    if isinstance(source, pa.Table):
        table, lines, originals, path = source, np.arange(1, source.num_rows + 1), {}, "<compatibility table>"
    else:
        path = Path(source)
        if not path.is_file():
            raise InventoryError(f"{path}: no such file")
        if path.suffix.lower() in (".parquet", ".pq"):
            table = _read_parquet(path)
            lines = np.arange(1, table.num_rows + 1)
        else:
            table, lines, malformed = _read_csv(path)
            if malformed:
                raise InventoryError(f"{path}, line {malformed[0][0]}: {malformed[0][1]}")
        originals = {}
    columns = {}
    for header in table.column_names:
        name = _COMPAT_HEADERS.get(normalise_key(header))
        if name:
            columns[name], originals[name] = table[header].combine_chunks(), header
    missing = [c for c in COMPAT_SCHEMA.names if c not in columns]
    if missing:
        raise InventoryError(f"{path}: missing required column(s) {', '.join(missing)}; "
                             f"found {', '.join(table.column_names) or 'none'}")
    out = {}
    for name in ("hub_version", "meter_version"):
        values = columns[name]
        if pa.types.is_integer(values.type):
            v = pc.fill_null(values.cast(pa.int64()), -1).to_numpy()
            ok = (v >= 0) & (v <= 0xFFFFFFFF)
        else:
            v, ok = ids.parse_firmware_version(values)
        _compat_fail(path, lines, originals.get(name, name), values, ~ok, "malformed firmware version")
        out[name] = pa.array(np.asarray(v).astype(np.uint32))
    flag = columns["compatible"]
    if pa.types.is_boolean(flag.type):
        _compat_fail(path, lines, originals.get("compatible", "compatible"), flag,
                     ~pc.is_valid(flag).to_numpy(zero_copy_only=False), "expected true or false")
        out["compatible"] = flag
    else:
        words = pc.utf8_lower(text_values(flag.cast(pa.string())))
        yes = pc.fill_null(pc.is_in(words, pa.array(_TRUE)), False).to_numpy(zero_copy_only=False)
        no = pc.fill_null(pc.is_in(words, pa.array(_FALSE)), False).to_numpy(zero_copy_only=False)
        _compat_fail(path, lines, originals.get("compatible", "compatible"), flag, ~(yes | no),
                     "expected true or false")
        out["compatible"] = pa.array(yes)
    return pa.table(out, schema=COMPAT_SCHEMA)


def _compat_fail(path, lines, column, values, mask, what) -> None:
    bad = np.flatnonzero(mask)
    if len(bad):
        raise InventoryError(f"{path}, line {lines[bad[0]]}, column {column}: {what}, got {values[int(bad[0])].as_py()!r}")
