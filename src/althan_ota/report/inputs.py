"""What the reports read besides a campaign store: the fleet inventory, report-shaped listings (a DCC
fleet report, supplier reports, the Alt HAN Inventory) and a pair-compatibility table.

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
                            STATUS_LOOKUP, VARIANT_LOOKUP, VARIANTS, canonical_header, normalise_key)
from ..fleet.sources import _read_csv, _read_parquet
from . import _duck

# --- the fleet inventory ---------------------------------------------------------------------------------

FLEET_COLUMNS = [c for c in COLUMNS if c not in ("device_type", "hardware_version")]
_EUI64 = r"[0-9A-F]{2}(-[0-9A-F]{2}){7}"


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
        con.execute(f"CREATE OR REPLACE TEMP TABLE fleet AS SELECT {', '.join(FLEET_COLUMNS)} "
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
    return all(name in schema.names and schema.field(name).type == COLUMNS[name] for name in FLEET_COLUMNS)


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


# --- report-shaped listings: DCC fleet report, supplier reports, the AHI -------------------------------

# The Alt HAN Inventory's columns are the fleet report's: a report written by ``althan-ota report fleet``
# is a valid AHI. Only the first three are required; the others are null when a file lacks them.
# Identifiers are kept in canonical text form (EUI-64 ``70-B3-D5-...``, versions ``0x0102A0B3``), which
# compares exactly as the identifiers do.
LISTING_REQUIRED = ("device_id", "firmware_version", "smi_status")
LISTING_SCHEMA = pa.schema([
    ("device_id", pa.string()), ("firmware_version", pa.string()), ("smi_status", pa.string()),
    ("ppmid_variant", pa.string()), ("manufacturer", pa.string()), ("model", pa.string()), ("ch_id", pa.string()),
    ("mpan", pa.string()), ("mprn", pa.string()), ("installation_id", pa.string()), ("supplier", pa.string()),
    ("join_mode", pa.string()), ("last_confirmed", pa.timestamp("s", tz="UTC")), ("line", pa.int64()),
])
# header spellings the fleet importer does not know, for report-only columns
_REPORT_HEADERS = {normalise_key(k): v for k, v in {
    "last confirmed": "last_confirmed", "last_confirmed_at": "last_confirmed", "confirmed at": "last_confirmed",
    "version confirmed": "last_confirmed", "firmware confirmed": "last_confirmed", "last read": "last_confirmed",
}.items()}
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
_CANONICAL_EUI64 = "^" + _EUI64 + "$"
_CANONICAL_VERSION = r"^0x[0-9A-F]{8}$"


def read_listing(path: str | Path) -> pa.Table:
    """A DCC fleet report, supplier report or AHI extract (CSV or Parquet) as LISTING_SCHEMA, one row per
    file row (duplicates kept: reconciliation reports them). Raises InventoryError on the first bad value."""
    path = Path(path)
    raw, lines, originals = _read_raw(path)
    return _parse_listing(raw, lines, originals, path)


def listing_from_table(table: pa.Table, name: str = "<table>") -> pa.Table:
    """An in-memory report (e.g. ``Session.fleet_report()``) as LISTING_SCHEMA."""
    raw, originals = _canonical_columns(table, name)
    return _parse_listing(raw, np.arange(1, table.num_rows + 1, dtype=np.int64), originals, name)


def _parse_listing(raw: pa.Table, lines: np.ndarray, originals: dict[str, str], path) -> pa.Table:
    missing = [c for c in LISTING_REQUIRED if c not in raw.column_names]
    if missing:
        raise InventoryError(f"{path}: missing required column(s) {', '.join(missing)}; "
                             f"found {', '.join(originals.values()) or 'none'}")
    n = raw.num_rows

    def fail(mask: np.ndarray, column: str, what: str) -> None:
        bad = np.flatnonzero(mask)
        if len(bad):
            value = raw[column][int(bad[0])].as_py()
            more = f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""
            raise InventoryError(f"{path}, line {lines[bad[0]]}, column {originals[column]}: {what}, "
                                 f"got {value!r}{more}")

    col = {name: raw[name].combine_chunks() for name in raw.column_names}
    out: dict[str, pa.Array] = {}
    eui64_error = "malformed EUI-64 {} (expected 16 hex digits, e.g. 00-DB-12-34-56-78-90-A0)"
    out["device_id"] = _canonical(col["device_id"], _CANONICAL_EUI64, _parse_eui64,
                                  lambda mask: fail(mask, "device_id", eui64_error.format("device ID")))
    fail(~pc.is_valid(out["device_id"]).to_numpy(zero_copy_only=False), "device_id", "empty device ID")
    fw = col["firmware_version"]
    if pa.types.is_integer(fw.type):
        values = pc.fill_null(fw.cast(pa.int64()), -1).to_numpy()
        fail((values < 0) | (values > 0xFFFFFFFF), "firmware_version", "firmware version out of range")
        out["firmware_version"] = ids.format_firmware_version(values.astype(np.uint32))
    else:
        version_error = "malformed firmware version (expected 8 hex digits, e.g. 0x0102A0B3)"
        out["firmware_version"] = _canonical(fw, _CANONICAL_VERSION, _parse_version,
                                             lambda mask: fail(mask, "firmware_version", version_error))
        fail(~pc.is_valid(out["firmware_version"]).to_numpy(zero_copy_only=False), "firmware_version",
             "empty firmware version")
    for name, mapping, what in (("smi_status", STATUS_LOOKUP, "unknown SMI status"),
                                ("ppmid_variant", VARIANT_LOOKUP, "unknown PPMID variant"),
                                ("join_mode", {normalise_key(m): m for m in JOIN_MODES}, "unknown HAN join mode")):
        if name not in col:
            continue
        mapped, present = _lookup(col[name], mapping)
        fail(present & ~pc.is_valid(mapped).to_numpy(zero_copy_only=False), name,
             f"{what} (known: {', '.join(sorted(set(mapping.values())))})")
        if name in LISTING_REQUIRED:
            fail(~present, name, "empty SMI status")
        out[name] = mapped
    if "ch_id" in col:
        out["ch_id"] = _canonical(col["ch_id"], _CANONICAL_EUI64, _parse_eui64,
                                  lambda mask: fail(mask, "ch_id", eui64_error.format("Communications Hub ID")))
    if "mpan" in col:
        out["mpan"] = _mpan_cores(col["mpan"], lambda mask: fail(
            mask, "mpan", "malformed MPAN (13-digit core or 21 digits, with a valid check digit)"))
    if "mprn" in col:
        out["mprn"] = _text(col["mprn"])
        if not pc.all(pc.fill_null(pc.match_substring_regex(out["mprn"], r"^[0-9]{6,10}$"), True)).as_py():
            present, ok = ids.validate_mprn(col["mprn"])
            fail(~ok, "mprn", "malformed MPRN (expected 6 to 10 digits)")
    for name in ("manufacturer", "model", "installation_id", "supplier"):
        if name in col:
            out[name] = _text(col[name])
    if "last_confirmed" in col:
        out["last_confirmed"] = _timestamps(col["last_confirmed"], fail)
    out["line"] = pa.array(lines)
    return pa.table({f.name: out.get(f.name, pa.nulls(n, f.type)) for f in LISTING_SCHEMA}).cast(LISTING_SCHEMA)


def _canonical(values: pa.Array, pattern: str, parse, fail) -> pa.Array:
    """Trimmed text of ``values`` (empty: null). Values already in canonical form (``pattern``) are kept as
    they are; only the others go through the fleet parser (``parse``: text -> (canonical text, valid)),
    which keeps millions of rows from our own reports fast. ``fail(mask)`` reports the invalid ones."""
    text = _text(values)
    if _all_fixed_shape(text, pattern):
        return text
    odd = pc.invert(pc.fill_null(pc.match_substring_regex(text, pattern), True))
    if not pc.any(odd).as_py():
        return text
    rows = pc.indices_nonzero(odd)
    parsed, valid = parse(pc.take(text, rows))
    bad = np.zeros(len(text), dtype=bool)
    bad[rows.to_numpy()[~valid]] = True
    fail(bad)
    return pc.replace_with_mask(text, odd, parsed)


# the canonical forms byte by byte: "H" an upper-case hex digit, any other character itself
_SHAPES = {_CANONICAL_EUI64: "HH-HH-HH-HH-HH-HH-HH-HH", _CANONICAL_VERSION: "0xHHHHHHHH"}
_UPPER_HEX = np.zeros(256, dtype=bool)
_UPPER_HEX[np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)] = True
_HEX_AS_H = np.where(_UPPER_HEX, np.uint8(ord("H")), np.arange(256, dtype=np.uint8)).astype(np.uint8)


def _all_fixed_shape(text: pa.Array, pattern: str) -> bool:
    """Whether every non-null value of ``text`` matches ``pattern``, checked on the bytes as a fixed-width
    matrix (tens of times faster than the regex); False when that check cannot tell (then the regex decides)."""
    shape = _SHAPES.get(pattern)
    if shape is None or not isinstance(text, pa.StringArray) or text.buffers()[2] is None:
        return False
    width = len(shape)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32, count=len(text) + 1, offset=text.offset * 4)
    lengths = np.diff(offsets)
    if text.null_count:
        valid = text.is_valid().to_numpy(zero_copy_only=False)
        if not (lengths[valid] == width).all() or lengths[~valid].any():
            return False
    elif not (lengths == width).all():
        return False
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    if len(data) % width:
        return False
    # every upper-case hex digit becomes "H", so one look-up and one comparison check every byte; a literal
    # hex digit in the shape (the 0 of 0x) is then checked on its own
    template = _HEX_AS_H[np.frombuffer(shape.encode(), dtype=np.uint8)]
    if not (_HEX_AS_H[data].reshape(-1, width) == template).all():
        return False
    matrix = data.reshape(-1, width)
    return all((matrix[:, p] == ord(c)).all() for p, c in enumerate(shape) if c != "H" and _UPPER_HEX[ord(c)])


def _parse_eui64(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    value, valid = ids.parse_eui64(text)
    return ids.format_eui64(value), valid


def _parse_version(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    value, valid = ids.parse_firmware_version(text)
    return ids.format_firmware_version(value), valid


def _mpan_cores(values: pa.Array, fail) -> pa.Array:
    """13-digit MPAN cores, check digit verified; full 21-digit supply numbers reduced to their core."""
    text = _text(values)
    core = pc.fill_null(pc.match_substring_regex(text, r"^[0-9]{13}$"), False)
    if pc.all(pc.or_(core, pc.is_null(text))).as_py():
        cores = pc.filter(text, core)
        if len(cores):   # every value is 13 bytes: the digits form an (n, 13) matrix without copying
            data = np.frombuffer(cores.buffers()[2], np.uint8)
            start = np.frombuffer(cores.buffers()[1], np.int32, count=1, offset=cores.offset * 4)[0]
            digits = data[start:start + 13 * len(cores)].reshape(-1, 13) - np.uint8(ord("0"))
            bad = ids.mpan_check_digit(digits[:, :12]) != digits[:, 12]
            mask = np.zeros(len(text), dtype=bool)
            mask[pc.indices_nonzero(core).to_numpy()[bad]] = True
            fail(mask)
        return text
    cores, present, ok = ids.validate_mpan(text)
    fail(~ok)
    return cores


def _read_raw(path: Path) -> tuple[pa.Table, np.ndarray, dict[str, str]]:
    """The file's columns we know, renamed to ours; their line numbers; our name -> the file's header."""
    if not path.is_file():
        raise InventoryError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        table, lines, malformed = _read_parquet(path), None, []
    elif suffix in (".csv", ".txt", ".gz"):
        table, lines, malformed = _read_csv(path)
    else:
        raise InventoryError(f"{path}: unknown file type {suffix!r} (expected .csv, .csv.gz or .parquet)")
    if malformed:
        line, reason = malformed[0]
        raise InventoryError(f"{path}, line {line}: {reason}" + (
            f" (and {len(malformed) - 1} more malformed lines)" if len(malformed) > 1 else ""))
    if lines is None:
        lines = np.arange(1, table.num_rows + 1, dtype=np.int64)
    raw, originals = _canonical_columns(table, path)
    return raw, lines, originals


def _canonical_columns(table: pa.Table, path) -> tuple[pa.Table, dict[str, str]]:
    columns, originals = {}, {}
    for header in table.column_names:
        name = canonical_header(header) or _REPORT_HEADERS.get(normalise_key(header))
        if name is None:
            continue  # notes, dates and other columns that are not ours to judge
        if name in originals:
            raise InventoryError(f"{path}: columns {originals[name]!r} and {header!r} both mean {name}")
        columns[name], originals[name] = table[header], header
    return (pa.table(columns) if columns else pa.table({})), originals


def _text(values: pa.Array) -> pa.Array:
    text = values if pa.types.is_string(values.type) else values.cast(pa.string())
    ends = _end_bytes(text)
    if ends is None or _MAY_BE_SPACE[ends].any():
        text = pc.utf8_trim_whitespace(text)
    # most columns have no empty value: skip building a copy that would equal the input
    if len(text) and not pc.any(pc.equal(text, "")).as_py():
        return text
    return pc.if_else(pc.equal(text, ""), pa.nulls(len(text), pa.string()), text)


# bytes that may start or end a value utf8_trim_whitespace would change: ASCII controls, space, DEL and any
# non-ASCII byte (Unicode spaces); values whose ends are none of these need no trimming
_MAY_BE_SPACE = np.zeros(256, dtype=bool)
_MAY_BE_SPACE[:0x21] = _MAY_BE_SPACE[0x7F:] = True


def _end_bytes(text: pa.Array) -> np.ndarray | None:
    """First and last byte of every non-empty value of a string array, read from its buffers (None if the
    array is chunked or empty of data)."""
    if not isinstance(text, pa.StringArray) or text.buffers()[2] is None:
        return None
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32, count=len(text) + 1, offset=text.offset * 4)
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    starts, stops = offsets[:-1], offsets[1:]
    filled = stops > starts
    if filled.all():
        return np.concatenate([data[starts], data[stops - 1]])
    return np.concatenate([data[starts[filled]], data[stops[filled] - 1]])


def _lookup(values: pa.Array, mapping: dict[str, str]) -> tuple[pa.Array, np.ndarray]:
    """Free spellings -> canonical codes, normalising only the distinct values; (codes, present mask)."""
    text = _text(values)
    encoded = pc.dictionary_encode(text)
    codes = [mapping.get(normalise_key(v)) for v in encoded.dictionary.to_pylist()]
    mapped = pc.take(pa.array(codes, pa.string()), encoded.indices)
    return mapped, pc.is_valid(text).to_numpy(zero_copy_only=False)


def _timestamps(values: pa.Array, fail) -> pa.Array:
    if pa.types.is_timestamp(values.type):
        return values.cast(pa.timestamp("s", tz=values.type.tz or "UTC"), safe=False)
    if pa.types.is_date(values.type):
        return values.cast(pa.timestamp("s")).cast(pa.timestamp("s", tz="UTC"))
    text = _text(values)
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    shaped = pc.fill_null(pc.match_substring_regex(text, _TIMESTAMP), False).to_numpy(zero_copy_only=False)
    fail(present & ~shaped, "last_confirmed", "not an ISO 8601 date or time")
    # a zone-less time is UTC and a bare date its midnight; pyarrow wants an explicit zone for a zoned type
    zoned = pc.fill_null(pc.match_substring_regex(text, r"(Z|[+-]\d{2}(:?\d{2})?)$"), False)
    date_only = pc.fill_null(pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}$"), False)
    text = pc.if_else(date_only, pc.binary_join_element_wise(text, "T00:00:00Z", ""),
                      pc.if_else(zoned, text, pc.binary_join_element_wise(text, "Z", "")))
    try:
        return pc.cast(pc.cast(text, pa.timestamp("us", tz="UTC")), pa.timestamp("s", tz="UTC"), safe=False)
    except pa.ArrowInvalid:
        # shaped right but not a real time (month 13, 25 o'clock): find the first such row by halving
        lo, hi = 0, len(text)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                pc.cast(text.slice(lo, mid - lo), pa.timestamp("us", tz="UTC"))
                lo = mid
            except pa.ArrowInvalid:
                hi = mid
        mask = np.zeros(len(text), bool)
        mask[lo] = True
        fail(mask, "last_confirmed", "not a valid date or time")
        raise


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
        table = _read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else _read_csv(path)[0]
        lines = np.arange(1, table.num_rows + 1) if path.suffix.lower() in (".parquet", ".pq") else \
            np.arange(2, table.num_rows + 2)
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
        words = pc.utf8_lower(_text(flag.cast(pa.string())))
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
